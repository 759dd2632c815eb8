from django.conf import settings
from django.http import HttpRequest
from django.shortcuts import redirect

ALLOWED_WHILE_CHANGING = {
    "accounts:password_change",
    "accounts:password_change_done",
    "accounts:logout",
    "accounts:set_language",
}


class PasswordChangeRequiredMiddleware:
    """Sends users whose password must change to the password change page first."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        user = request.user
        if not (user.is_authenticated and user.must_change_password):
            return None
        if not getattr(view_func, "login_required", True):
            return None
        if request.resolver_match.view_name in ALLOWED_WHILE_CHANGING:
            return None
        return redirect("accounts:password_change")


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or behind a trusted proxy (BEHIND_PROXY)
    the last address it appended to X-Forwarded-For; earlier ones are the client's
    own claims and could be anything."""
    if settings.BEHIND_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[-1].strip()
        if forwarded:
            return forwarded
    return request.META.get("REMOTE_ADDR", "")
