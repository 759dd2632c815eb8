"""Sync health: the org's "Sync status" page for admins, and every org's at a glance
for superusers on the root host. "Sync now" only queues work; it never calls
RapidPro in the request."""

from django_hosts.resolvers import reverse as reverse_host

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView

from tracpro.groups.views import admin_required, get_scope
from tracpro.orgs.models import Org, SyncKind
from tracpro.orgs.tasks import trigger
from tracpro.orgs.views import SuperuserRequiredMixin
from tracpro.rapidpro.summary import kind_statuses, labelled_totals
from tracpro.rapidpro.syncers import ORDER

POLL_WHILE_RUNNING = 3  # seconds between refreshes of the status table
POLL_WHILE_IDLE = 15


def status(request: HttpRequest) -> HttpResponse:
    org = get_scope(request, admin=True).org
    kinds = kind_statuses(org)
    running = any(kind.is_running for kind in kinds)
    context = {
        "title": _("Sync status"),
        "kinds": kinds,
        "running": running,
        "refresh_seconds": POLL_WHILE_RUNNING if running else POLL_WHILE_IDLE,
        "totals": labelled_totals(org),
        "can_sync": org.api_token != "",
    }
    template = "manage/_sync_table.html" if request.htmx else "manage/sync_status.html"
    return render(request, template, context)


@admin_required
@require_POST
def sync_now(request: HttpRequest) -> HttpResponse:
    org = get_scope(request, admin=True).org
    choice = request.POST.get("kind", "all")
    if choice != "all" and choice not in ORDER:
        return HttpResponseBadRequest("Unknown kind.")
    if not org.api_token:
        messages.error(request, _("This organization has no RapidPro API token yet."))
        return redirect("rapidpro:status")
    kinds = ORDER if choice == "all" else [choice]
    for kind in kinds:
        trigger(org, kind)
    if choice == "all":
        messages.success(request, _("Every sync is queued and starts within moments."))
    else:
        messages.success(
            request,
            _("The %(kind)s sync is queued and starts within moments.")
            % {"kind": SyncKind(choice).label.lower()},
        )
    return redirect("rapidpro:status")


class OrgHealthView(SuperuserRequiredMixin, TemplateView):
    """Root host: every org's sync state at a glance, failing orgs first."""

    template_name = "manage/sync_health.html"

    def get_context_data(self, **kwargs) -> dict:
        orgs = [org_health(org) for org in Org.objects.active().order_by("name")]
        orgs.sort(key=lambda entry: (not entry["failing"], entry["org"].name.lower()))
        return {
            **super().get_context_data(**kwargs),
            "title": _("Sync health"),
            "orgs": orgs,
            "kind_labels": [SyncKind(kind).label for kind in ORDER],
        }


def org_health(org: Org) -> dict:
    kinds = kind_statuses(org)
    return {
        "org": org,
        "kinds": kinds,
        "failing": [kind for kind in kinds if kind.is_failing or kind.is_stale],
        "running": any(kind.is_running for kind in kinds),
        "url": reverse_host("rapidpro:status", host="org", host_args=(org.subdomain,)),
        "syncable": bool(org.api_token and org.api_url),
    }
