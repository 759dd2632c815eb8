"""Reconciliation: each selected poll's runs in the mirror against RapidPro's own count.

RapidPro's flows endpoint counts every run a flow ever had (`runs`: waiting,
completed, interrupted, expired, failed): its delete trigger only takes back runs
that were still active or waiting, so archived and deleted runs stay counted
(temba/sql/current_functions.sql). The mirror keeps every run it has seen, live or
from an archive. A difference means runs TracPro never saw (deleted in RapidPro
before a sync read them, gone from the API without an archive) or runs it has that
RapidPro no longer counts; the sync reports it per poll and per poll date it can
attribute, and changes nothing: the counts alone cannot say which runs.

Weekly (CELERY_BEAT_SCHEDULE "sync-reconcile"); two requests for most orgs: the
flows list and one page of flow starts.
"""

from collections import Counter

from django.db.models import Count

from tracpro.orgs.models import SyncKind
from tracpro.polls.models import Poll, PollRun, Response
from tracpro.rapidpro.syncers.base import Syncer
from tracpro.rapidpro.syncers.flows import needs_backfill

RUN_STATES = ("active", "waiting", "completed", "interrupted", "expired", "failed")


class ReconcileSyncer(Syncer):
    kind = SyncKind.RECONCILE

    def sync(self) -> None:
        polls = [
            poll
            for poll in Poll.objects.for_org(self.org).filter(is_active=True)
            if not needs_backfill(poll)  # a history still being fetched is not a drift
        ]
        flows = {flow.uuid: flow for flow in self.fetch_all(self.client.get_flows, "flow")}
        mirrored = dict(
            Response.objects.filter(org=self.org, pollrun__poll__in=polls)
            .values_list("pollrun__poll")
            .annotate(n=Count("pk"))
        )
        started = self.runs_per_start(polls)
        report = []
        for poll in polls:
            flow = flows.get(poll.flow_uuid)
            if flow is None or flow.runs is None:
                continue
            remote = sum(getattr(flow.runs, state, 0) or 0 for state in RUN_STATES)
            local = mirrored.get(poll.pk, 0)
            entry = {"poll": poll.display_name, "rapidpro": remote, "mirror": local}
            entry["drift"] = remote - local
            entry["dates"] = self.date_drifts(poll, started) if entry["drift"] else []
            report.append(entry)
        drifted = sum(1 for entry in report if entry["drift"])
        self.context.result.extra = {"polls": report, "drifted": drifted}
        self.context.report(len(report), len(report), "Reconciliation")

    def runs_per_start(self, polls: list[Poll]) -> Counter:
        """Runs per flow start as RapidPro counts them (`progress.started`, which the
        client leaves out), for the starts of these polls' flows."""
        flows = {poll.flow_uuid for poll in polls}
        started: Counter = Counter()

        def keep_progress(item: dict) -> dict:
            if (item.get("flow") or {}).get("uuid") in flows:
                started[item.get("uuid")] = (item.get("progress") or {}).get("started") or 0
            return item

        self.fetch_all(self.client.get_flow_starts, "flow start", trim=keep_progress)
        return started

    def date_drifts(self, poll: Poll, started: Counter) -> list[dict]:
        """The poll's dates of flow starts whose run counts differ."""
        pollruns = (
            PollRun.objects.filter(poll=poll, kind=PollRun.Kind.START, start_uuid__in=started)
            .annotate(n=Count("responses"))
            .order_by("-conducted_on")
            .values_list("local_date", "start_uuid", "n")
        )
        return [
            {"date": local_date.isoformat(), "rapidpro": started[start_uuid], "mirror": n}
            for local_date, start_uuid, n in pollruns
            if started[start_uuid] != n
        ]
