"""What the sync status pages show: each kind's state, schedule and the mirror's size."""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from tracpro.contacts.models import Contact
from tracpro.msgs.models import InboxMessage
from tracpro.orgs.models import Org, SyncKind, SyncState, SyncStatus
from tracpro.polls.models import Answer, Poll, PollRun, Question, Response
from tracpro.rapidpro.models import SyncStream
from tracpro.rapidpro.syncers import ORDER
from tracpro.rapidpro.tasks import TIME_LIMITS

WHAT = {
    SyncKind.FIELDS: _("Contact fields, for contact pages and chart filters."),
    SyncKind.GROUPS: _("Contact groups, to choose regions and reporter groups from."),
    SyncKind.BOUNDARIES: _("Country, state and district boundaries, for maps."),
    SyncKind.FLOWS: _("Flows, and the questions of the selected polls."),
    SyncKind.CONTACTS: _("Contacts of the chosen regions and reporter groups."),
    SyncKind.RUNS: _("Runs of the selected polls: poll dates, responses and answers."),
    SyncKind.INBOX: _("Messages contacts sent outside any flow."),
    SyncKind.RECONCILE: _(
        "Each poll's runs counted against RapidPro's own count, to find runs that "
        "disappeared from RapidPro or never reached TracPro."
    ),
}
RUNNING = (SyncStatus.RUNNING, SyncStatus.RETRYING)
STALE_AFTER = timedelta(minutes=5)  # past a task's time limit, a "running" sync has died


@dataclass
class KindStatus:
    kind: str
    label: str
    what: str
    schedule: str
    state: SyncState | None
    backfills: list[dict]

    @property
    def status(self) -> str:
        return self.state.status if self.state else SyncStatus.NEVER

    @property
    def is_running(self) -> bool:
        return self.status in RUNNING and not self.is_stale

    @property
    def is_stale(self) -> bool:
        """Marked running, but for longer than its task may run: the worker died."""
        state = self.state
        if state is None or state.status not in RUNNING or state.started_on is None:
            return False
        limit = timedelta(seconds=TIME_LIMITS[self.kind]) + STALE_AFTER
        return state.started_on < timezone.now() - limit

    @property
    def is_failing(self) -> bool:
        return bool(self.state and self.state.failures)

    @property
    def percent(self) -> int | None:
        state = self.state
        if not state or not state.progress_total:
            return None
        return min(100, 100 * state.progress_done // state.progress_total)

    @property
    def counts(self) -> dict:
        return self.state.counts if self.state else {}


def kind_statuses(org: Org) -> list[KindStatus]:
    states = {state.kind: state for state in SyncState.objects.filter(org=org)}
    return [
        KindStatus(
            kind=kind,
            label=SyncKind(kind).label,
            what=WHAT[kind],
            schedule=schedule_for(kind),
            state=states.get(kind),
            backfills=backfills(org) if kind == SyncKind.RUNS else [],
        )
        for kind in ORDER
    ]


def backfills(org: Org) -> list[dict]:
    """Polls whose history is still being fetched."""
    streams = SyncStream.objects.filter(
        org=org, kind=SyncKind.RUNS, name__startswith="flow:", finished_on__isnull=True
    )
    names = dict(
        Poll.objects.for_org(org).filter(is_active=True).values_list("flow_uuid", "rapidpro_name")
    )
    found = []
    for stream in streams:
        flow_uuid = stream.name.removeprefix("flow:")
        if flow_uuid in names:
            found.append(
                {"poll": names[flow_uuid], "since": stream.after, "resuming": bool(stream.cursor)}
            )
    return found


def schedule_for(kind: str) -> str:
    """How often beat runs a kind, from CELERY_BEAT_SCHEDULE."""
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        if entry.get("task") == "tracpro.orgs.tasks.fan_out" and list(entry.get("args", [])) == [
            kind
        ]:
            return every(entry["schedule"])
    return str(_("on demand"))


def every(schedule: object) -> str:
    seconds = int(schedule.total_seconds()) if isinstance(schedule, timedelta) else int(schedule)
    if seconds % 86400 == 0:
        days = seconds // 86400
        return ngettext("every day", "every %(count)d days", days) % {"count": days}
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return ngettext("every hour", "every %(count)d hours", hours) % {"count": hours}
    minutes = max(1, seconds // 60)
    return ngettext("every minute", "every %(count)d minutes", minutes) % {"count": minutes}


TOTAL_LABELS = {
    "flows": _("Flows"),
    "polls": _("Selected polls"),
    "questions": _("Questions"),
    "poll_dates": _("Poll dates"),
    "responses": _("Responses"),
    "answers": _("Answers"),
    "contacts": _("Contacts"),
    "active_contacts": _("Active contacts"),
    "regions": _("Regions"),
    "reporter_groups": _("Reporter groups"),
    "boundaries": _("Boundaries"),
    "inbox_messages": _("Inbox messages"),
}


def mirror_totals(org: Org) -> dict[str, int]:
    """What the org's mirror holds now."""
    contacts = Contact.objects.for_org(org).aggregate(
        total=Count("pk"), active=Count("pk", filter=Q(is_active=True))
    )
    polls = Poll.objects.for_org(org).aggregate(
        flows=Count("pk"), selected=Count("pk", filter=Q(is_active=True))
    )
    return {
        "flows": polls["flows"],
        "polls": polls["selected"],
        "questions": Question.objects.filter(poll__org=org).count(),
        "poll_dates": PollRun.objects.filter(poll__org=org).count(),
        "responses": Response.objects.for_org(org).count(),
        "answers": Answer.objects.filter(response__org=org).count(),
        "contacts": contacts["total"],
        "active_contacts": contacts["active"],
        "regions": org.regions.filter(is_active=True).count(),
        "reporter_groups": org.reporter_groups.filter(is_active=True).count(),
        "boundaries": org.boundaries.count(),
        "inbox_messages": InboxMessage.objects.for_org(org).count(),
    }


def labelled_totals(org: Org) -> list[tuple[str, int]]:
    return [(TOTAL_LABELS[key], value) for key, value in mirror_totals(org).items()]
