"""Who may do what in an org. Views call these instead of checking roles themselves."""

from collections.abc import Callable
from functools import wraps

from django.http import Http404, HttpRequest, HttpResponse

from tracpro.orgs.models import Membership, Org, Role


def get_membership(user, org: Org) -> Membership | None:
    if not user.is_authenticated:
        return None
    return Membership.objects.filter(user=user, org=org).first()


def can_enter(request: HttpRequest) -> bool:
    """Superusers enter every org; other users only the orgs they are members of."""
    return request.user.is_superuser or request.membership is not None


def is_org_admin(request: HttpRequest) -> bool:
    if request.org is None or not request.user.is_authenticated:
        return False
    if request.user.is_superuser:
        return True
    return request.membership is not None and request.membership.role == Role.ADMIN


def admin_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Org admins only; everyone else gets a 404, never a hint that the page exists."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not is_org_admin(request):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapped


class AdminRequiredMixin:
    """Class-based equivalent of `admin_required`."""

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not is_org_admin(request):
            raise Http404
        return super().dispatch(request, *args, **kwargs)


class SuperuserRequiredMixin:
    """For the root host's management pages: superusers only, 404 for everyone else."""

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_superuser:
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def has_permission(self, request: HttpRequest, *args, **kwargs) -> bool:
        return request.user.is_superuser
