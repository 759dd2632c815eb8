"""The org's own settings (org admins), and "Test connection" on the superusers' org form."""

from django.contrib import messages
from django.db import transaction
from django.shortcuts import render
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.generic import FormView, UpdateView

from tracpro.groups.views import AdminRequiredMixin
from tracpro.manage.forms import ConnectionForm, OrgSettingsForm
from tracpro.orgs import tasks
from tracpro.orgs.models import SyncKind
from tracpro.orgs.views import SuperuserRequiredMixin
from tracpro.rapidpro.connection import check_connection


class OrgSettingsView(AdminRequiredMixin, UpdateView):
    """An org admin's settings page (org host)."""

    form_class = OrgSettingsForm
    template_name = "manage/org_settings.html"
    success_url = reverse_lazy("orgs:settings")

    def get_object(self, queryset=None):
        return self.scope.org

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            title=_("Organization settings"),
            workspace_timezone=self.scope.org.workspace_timezone,
            **kwargs,
        )

    def form_valid(self, form):
        recount = {"same_day_rule", "timezone"} & set(form.changed_data)
        with transaction.atomic():
            response = super().form_valid(form)
            if recount:
                # The runs sync recomputes local days, poll dates and every answer's
                # value_to_use under the new rules.
                org = self.object
                transaction.on_commit(lambda: tasks.trigger(org, SyncKind.RUNS), robust=True)
        if recount:
            messages.success(
                self.request,
                _("Settings saved. Charts are being recounted with the new settings."),
            )
        else:
            messages.success(self.request, _("Settings saved."))
        workspace = self.object.workspace_timezone
        if workspace and self.object.timezone != workspace:
            messages.warning(
                self.request,
                _(
                    "The RapidPro workspace uses the time zone %(workspace)s; poll dates here "
                    "are counted in %(chosen)s, so a run may fall on another day than in "
                    "RapidPro."
                )
                % {"workspace": workspace, "chosen": self.object.timezone},
            )
        return response


@method_decorator(sensitive_post_parameters("api_token"), name="dispatch")
class TestConnectionView(SuperuserRequiredMixin, FormView):
    """POST the form's API URL and token; answers with what RapidPro said (an
    htmx fragment under the form's "Test connection" button). A blank token on an
    existing org's form means its saved one, which the page does not hold."""

    form_class = ConnectionForm
    http_method_names = ["post"]
    template_name = "manage/_connection_result.html"

    def form_valid(self, form):
        report = check_connection(form.cleaned_data["api_url"], form.cleaned_data["api_token"])
        return render(self.request, self.template_name, {"report": report})

    def form_invalid(self, form):
        return render(self.request, self.template_name, {"form": form}, status=400)
