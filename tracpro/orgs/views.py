"""The root host's pages: the org chooser, and organizations for superusers."""

from smartmin.views import SmartCreateView, SmartCRUDL, SmartListView, SmartUpdateView

from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_post_parameters

from tracpro.orgs.forms import OrgForm
from tracpro.orgs.models import Org, SyncKind
from tracpro.orgs.tasks import trigger

ORG_FORM_FIELDS = (
    "name",
    "subdomain",
    "timezone",
    "language",
    "languages",
    "api_url",
    "api_token",
    "administrators",
    "same_day_rule",
    "show_spoof_data",
    "is_active",
)


class SuperuserRequiredMixin:
    """For the root host's management pages: superusers only, 404 for everyone else."""

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_superuser:
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def has_permission(self, request: HttpRequest, *args, **kwargs) -> bool:
        return request.user.is_superuser


class OrderedListMixin:
    """smartmin ignores an `_order` that names no column, leaving the list
    unordered (pages that shift under the reader); fall back to `default_order`."""

    def order_queryset(self, queryset):
        queryset = super().order_queryset(queryset)
        return queryset if queryset.ordered else queryset.order_by(*self.default_order)


def chooser(request: HttpRequest) -> HttpResponse:
    """The root host's home: the orgs this user can enter."""
    orgs = Org.objects.for_user(request.user).order_by("name")
    return render(request, "orgs/chooser.html", {"orgs": orgs})


class OrgCRUDL(SmartCRUDL):
    """Organizations, on the root host, for superusers."""

    model = Org
    actions = ("list", "create", "update")
    path = "org"

    class List(SuperuserRequiredMixin, OrderedListMixin, SmartListView):
        fields = ("name", "subdomain", "timezone", "language", "is_active")
        search_fields = ("name__icontains", "subdomain__icontains")
        default_order = ("name",)
        paginate_by = 50
        title = gettext_lazy("Organizations")

    @method_decorator(sensitive_post_parameters("api_token"), name="dispatch")
    class Create(SuperuserRequiredMixin, SmartCreateView):
        form_class = OrgForm
        fields = ORG_FORM_FIELDS
        success_message = gettext_lazy("Organization created.")

        def post_save(self, obj: Org) -> Org:
            # Flows, and the workspace's time zone, from RapidPro (in the background).
            if obj.api_url and obj.api_token:
                transaction.on_commit(lambda: trigger(obj, SyncKind.FLOWS), robust=True)
            return super().post_save(obj)

    @method_decorator(sensitive_post_parameters("api_token"), name="dispatch")
    class Update(SuperuserRequiredMixin, SmartUpdateView):
        form_class = OrgForm
        fields = ORG_FORM_FIELDS
        success_message = gettext_lazy("Organization updated.")
