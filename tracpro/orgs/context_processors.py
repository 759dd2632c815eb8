from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from tracpro.groups.scope import get_scope
from tracpro.orgs.access import can_enter, is_org_admin


def org(request: HttpRequest) -> dict:
    current = getattr(request, "org", None)
    inside = current is not None and request.user.is_authenticated and can_enter(request)
    return {
        "org": current,
        "is_org_admin": inside and is_org_admin(request),
        "region_scope": SimpleLazyObject(lambda: get_scope(request)) if inside else None,
        "language_choices": current.available_languages if current else settings.LANGUAGES,
    }
