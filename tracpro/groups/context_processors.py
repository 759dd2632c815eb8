from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from tracpro.groups.views import get_scope
from tracpro.orgs.access import can_enter


def region_scope(request: HttpRequest) -> dict:
    """The scope for the region switcher, computed only if a template asks for it."""
    org = getattr(request, "org", None)
    if org is None or not can_enter(request.user, getattr(request, "membership", None)):
        return {"region_scope": None}
    return {"region_scope": SimpleLazyObject(lambda: get_scope(request))}
