"""The region scope of a request, and the region switcher.

Every org page starts with `get_scope(request)` (or `ScopedMixin` /
`AdminRequiredMixin` on a class-based view): it answers 404 when the user may
not see the page, and returns the `RegionScope` that everything below the
view takes instead of the request.
"""

from collections.abc import Callable
from functools import wraps
from typing import cast

from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseBase,
    HttpResponseRedirect,
)
from django.utils.functional import cached_property
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.decorators.http import require_POST

from tracpro.groups.models import Region
from tracpro.groups.scope import RegionScope
from tracpro.orgs.access import can_enter, is_admin
from tracpro.orgs.models import Org
from tracpro.orgs.requests import OrgRequest

SESSION_KEY = "region:{org_id}"


def get_scope(request: HttpRequest, *, admin: bool = False) -> RegionScope:
    """The org and the regions this request may see (computed once per request);
    404 when `admin` is asked for and the user is not an admin of the org."""
    request = cast(OrgRequest, request)  # OrgMiddleware has set `org` and `membership`
    if request.org is None or not can_enter(request.user, request.membership):
        raise Http404
    scope = getattr(request, "_region_scope", None)
    if scope is None:
        scope = _build_scope(request, request.org)
        setattr(request, "_region_scope", scope)  # noqa: B010 (not declared on OrgRequest)
    if admin and not scope.is_admin:
        raise Http404
    return scope


def admin_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Function views of org admins: everyone else gets a 404 before anything else
    (even before a wrong method is refused)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        get_scope(request, admin=True)
        return view(request, *args, **kwargs)

    return wrapped


class ScopedMixin(View):
    """Class-based views: `self.scope` is ready before any handler runs."""

    admin_only = False

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponseBase:
        get_scope(request, admin=self.admin_only)
        return super().dispatch(request, *args, **kwargs)

    @cached_property
    def scope(self) -> RegionScope:
        return get_scope(self.request, admin=self.admin_only)


class AdminRequiredMixin(ScopedMixin):
    """Org admins only; everyone else gets a 404, never a hint that the page exists."""

    admin_only = True


def _build_scope(request: OrgRequest, org: Org) -> RegionScope:
    membership = request.membership
    admin = is_admin(request.user, membership)
    assigned = (
        [] if admin or membership is None else membership.regions.values_list("pk", flat=True)
    )
    current_id, include_subregions = _saved_choice(request, org)
    return RegionScope.build(
        org,
        is_admin=admin,
        assigned_ids=assigned,
        current_id=current_id,
        include_subregions=include_subregions,
    )


def _saved_choice(request: OrgRequest, org: Org) -> tuple[int | None, bool]:
    membership = request.membership
    if membership is not None:
        return membership.current_region_id, membership.include_subregions
    saved = request.session.get(SESSION_KEY.format(org_id=org.pk), {})
    return saved.get("region"), saved.get("include_subregions", True)


def _save_choice(
    request: OrgRequest, org: Org, region: Region | None, include_subregions: bool
) -> None:
    """Remember the switcher's choice per user and org (superusers without a
    membership keep it in their session)."""
    membership = request.membership
    if membership is not None:
        membership.current_region = region
        membership.include_subregions = include_subregions
        membership.save(update_fields=["current_region", "include_subregions"])
    else:
        request.session[SESSION_KEY.format(org_id=org.pk)] = {
            "region": region.pk if region else None,
            "include_subregions": include_subregions,
        }
    request.__dict__.pop("_region_scope", None)


@require_POST
def choose_region(request: OrgRequest) -> HttpResponse:
    """The region switcher: `region` is a region id, or "all" (all the user may see)."""
    scope = get_scope(request)
    choice = request.POST.get("region", "all")
    include_subregions = request.POST.get("include_subregions", "1") == "1"
    region = None
    if choice != "all":
        region = next((r for r in scope.choices() if str(r.pk) == choice), None)
        if region is None:
            return HttpResponseBadRequest("Unknown region.")
    _save_choice(request, scope.org, region, include_subregions)
    next_url = request.POST.get("next", "/")
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        next_url = "/"
    return HttpResponseRedirect(next_url)
