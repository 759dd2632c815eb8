from smartmin.views import SmartCreateView, SmartCRUDL, SmartListView, SmartUpdateView

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from tracpro.orgs.access import SuperuserRequiredMixin
from tracpro.orgs.forms import OrgForm
from tracpro.orgs.models import Org

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


def chooser(request: HttpRequest) -> HttpResponse:
    """The root host's home: the orgs this user can enter."""
    orgs = Org.objects.for_user(request.user).order_by("name")
    return render(request, "orgs/chooser.html", {"orgs": orgs})


class OrgCRUDL(SmartCRUDL):
    """Organizations, on the root host, for superusers."""

    model = Org
    actions = ("list", "create", "update")
    path = "org"

    class List(SuperuserRequiredMixin, SmartListView):
        fields = ("name", "subdomain", "timezone", "language", "is_active")
        search_fields = ("name__icontains", "subdomain__icontains")
        default_order = ("name",)
        paginate_by = 50
        title = _("Organizations")

    class Create(SuperuserRequiredMixin, SmartCreateView):
        form_class = OrgForm
        fields = ORG_FORM_FIELDS
        success_message = _("Organization created.")

    class Update(SuperuserRequiredMixin, SmartUpdateView):
        form_class = OrgForm
        fields = ORG_FORM_FIELDS
        success_message = _("Organization updated.")
