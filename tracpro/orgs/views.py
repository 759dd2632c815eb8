from smartmin.views import (
    SmartCreateView,
    SmartCRUDL,
    SmartFormView,
    SmartListView,
    SmartUpdateView,
)

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import UpdateView

from tracpro.orgs import tasks
from tracpro.orgs.access import AdminRequiredMixin, SuperuserRequiredMixin
from tracpro.orgs.forms import ConnectionForm, OrgForm, OrgSettingsForm
from tracpro.orgs.models import Org, SyncKind
from tracpro.rapidpro.connection import check_connection

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
    actions = ("list", "create", "update", "test_connection")
    path = "org"

    class List(SuperuserRequiredMixin, SmartListView):
        fields = ("name", "subdomain", "timezone", "language", "is_active")
        search_fields = ("name__icontains", "subdomain__icontains")
        default_order = ("name",)
        paginate_by = 50
        title = gettext_lazy("Organizations")

    class Create(SuperuserRequiredMixin, SmartCreateView):
        form_class = OrgForm
        fields = ORG_FORM_FIELDS
        success_message = gettext_lazy("Organization created.")

    class Update(SuperuserRequiredMixin, SmartUpdateView):
        form_class = OrgForm
        fields = ORG_FORM_FIELDS
        success_message = gettext_lazy("Organization updated.")

    class TestConnection(SuperuserRequiredMixin, SmartFormView):
        """POST the form's API URL and token; answers with what RapidPro said (an
        htmx fragment under the form's "Test connection" button)."""

        form_class = ConnectionForm
        http_method_names = ["post"]
        template_name = "orgs/_connection_result.html"

        def form_valid(self, form):
            report = check_connection(form.cleaned_data["api_url"], form.cleaned_data["api_token"])
            return render(self.request, self.template_name, {"report": report})

        def form_invalid(self, form):
            return render(self.request, self.template_name, {"form": form}, status=400)


class OrgSettingsView(AdminRequiredMixin, UpdateView):
    """An org admin's settings page (org host)."""

    form_class = OrgSettingsForm
    template_name = "orgs/org_settings.html"
    success_url = reverse_lazy("orgs:settings")

    def get_object(self, queryset=None):
        return self.request.org

    def get_context_data(self, **kwargs):
        return super().get_context_data(title=_("Organization settings"), **kwargs)

    def form_valid(self, form):
        rule_changed = "same_day_rule" in form.changed_data
        with transaction.atomic():
            response = super().form_valid(form)
            if rule_changed:
                # The sync recomputes every answer's value_to_use under the new rule.
                org = self.object
                transaction.on_commit(lambda: tasks.trigger(org, SyncKind.RUNS), robust=True)
        if rule_changed:
            messages.success(
                self.request,
                _("Settings saved. Charts are being recounted with the new same-day rule."),
            )
        else:
            messages.success(self.request, _("Settings saved."))
        return response
