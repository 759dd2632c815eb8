from django.conf import settings
from django.http import HttpRequest

from tracpro.orgs.access import can_enter, is_admin


def org(request: HttpRequest) -> dict:
    current = getattr(request, "org", None)
    membership = getattr(request, "membership", None)
    inside = current is not None and can_enter(request.user, membership)
    return {
        "org": current,
        "is_org_admin": inside and is_admin(request.user, membership),
        "language_choices": current.available_languages if current else settings.LANGUAGES,
    }
