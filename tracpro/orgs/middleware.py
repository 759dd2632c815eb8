import zoneinfo

from redis.exceptions import RedisError

from django.conf import settings
from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone, translation

from tracpro.orgs.access import can_enter, get_membership
from tracpro.orgs.models import Org
from tracpro.orgs.requests import OrgRequest

# Failures of a service TracPro depends on, shown as a "temporarily unavailable"
# page rather than a traceback.
DEPENDENCY_ERRORS = (DatabaseError, RedisError)


def remember_subdomain(request: OrgRequest, subdomain: str) -> None:
    """django-hosts callback for org hosts; OrgMiddleware then looks the org up."""
    request.subdomain = subdomain


def service_unavailable(request: HttpRequest) -> HttpResponse:
    response = TemplateResponse(request, "503.html", status=503)
    response.render()
    return response


class OrgMiddleware:
    """Sets `request.org` and `request.membership` on org hosts, keeps non-members
    out (404), and activates the org's language and time zone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: OrgRequest) -> HttpResponse:
        request.org = None
        request.membership = None
        try:
            subdomain = getattr(request, "subdomain", None)
            if subdomain is not None:
                request.org = Org.objects.filter(subdomain=subdomain, is_active=True).first()
                if request.org is None:
                    raise Http404("No such organization.")
                request.membership = get_membership(request.user, request.org)
            self.activate_locale(request)
        except DEPENDENCY_ERRORS:
            return service_unavailable(request)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()

    def process_view(self, request: OrgRequest, view_func, view_args, view_kwargs):
        if request.org is None or not getattr(view_func, "login_required", True):
            return None
        if request.user.is_authenticated and not can_enter(request.user, request.membership):
            raise Http404
        return None

    def process_exception(self, request: HttpRequest, exception: Exception):
        if isinstance(exception, DEPENDENCY_ERRORS):
            return service_unavailable(request)
        return None

    @staticmethod
    def activate_locale(request: OrgRequest) -> None:
        """The user's own language wins, then the language cookie, then the org's."""
        org = request.org
        candidates = [
            getattr(request.user, "language", "") if request.user.is_authenticated else "",
            request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, ""),
            org.language if org else "",
        ]
        supported = dict(settings.LANGUAGES)
        language = next((c for c in candidates if c in supported), settings.LANGUAGE_CODE)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        timezone.activate(zoneinfo.ZoneInfo(org.timezone if org else settings.TIME_ZONE))
