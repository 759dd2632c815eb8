"""Runs -> PollRun, Response and Answer, for the polls admins selected.

- A PollRun is a date the poll was conducted: one per flow start (TracPro's or
  RapidPro's, by the run's start uuid) and one per org-local day for runs that
  came without a start.
- A Response is one run, with a status from what the contact did
  (`ResponseStatus.of`): empty if they never replied, complete if the run reached
  its end with no question timed out, partial otherwise. Only each contact's latest
  response per PollRun is active.
- An Answer is one result of the run whose key is a question of the poll: value,
  category, `number` when the value is a number, and `value_to_use`, the number
  after the org's same-day rule (per contact, question and org-local day: the
  latest answer's number, or the sum of that day's numbers). A timed-out wait (its
  timeout category, whose value goflow sets to the time it timed out) is never an
  answer.
- A run's contact not yet in the mirror gets a minimal inactive contact (uuid and
  name from the run), so the run is kept; the contacts sync fills it in, and it
  counts in charts once it is active.

A newly selected poll's runs are pulled from the beginning ("flow:<uuid>"
streams); after that one org-wide stream pulls every run modified since its
watermark and keeps the runs of selected polls. A poll that is deselected and
later selected again gets the runs it missed in between.

Each batch is written set-based by `RunWriter` (run_writer.py).
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from temba_client.v2.types import Run

from django.db import transaction

from tracpro.orgs.models import SyncKind
from tracpro.polls.models import Poll, Question, QuestionType, ResponseStatus
from tracpro.polls.rules import NUMBER
from tracpro.rapidpro.definitions import NO_RESPONSE
from tracpro.rapidpro.models import SyncStream
from tracpro.rapidpro.sql import analyze, clean_text
from tracpro.rapidpro.syncers.archives import ArchiveImporter
from tracpro.rapidpro.syncers.base import Counts, Syncer, SyncResult
from tracpro.rapidpro.syncers.flows import FlowsSyncer, backfill_name
from tracpro.rapidpro.syncers.run_writer import (
    MIRROR_TABLES,
    RunWriter,
    recompute_values,
    relocate_local_dates,
)

logger = logging.getLogger(__name__)

ARCHIVES_LABEL = "Archives (all polls)"


@dataclass(frozen=True)
class QuestionInfo:
    pk: int
    numeric: bool
    categories: frozenset[str]
    timeouts: frozenset[str]  # its waits' timeout categories

    def timed_out(self, text: str, category: str) -> bool:
        if self.timeouts:
            return category in self.timeouts
        return is_timeout(text, category, self.categories)


def is_timeout(text: str, category: str, categories: frozenset[str] = frozenset()) -> bool:
    """A timed-out wait where the definition's timeout category is not known: RapidPro's
    default name, or no value in a category the question does not have."""
    return category == NO_RESPONSE or (not text and category not in categories)


class RunsSyncer(Syncer):
    kind = SyncKind.RUNS

    def __init__(self, context) -> None:
        super().__init__(context)
        self.polls = list(Poll.objects.for_org(self.org).filter(is_active=True))
        self.by_flow = {poll.flow_uuid: poll for poll in self.polls}
        self.load_questions()
        self.refreshed: set[int] = set()  # polls whose questions were refreshed this sync
        self.created = 0  # responses created by this sync

    def sync(self) -> None:
        main = self.stream_from_newest("", self.client.get_runs, modified_on)
        self.apply_local_rules(main)
        self.forget_deselected(main)
        # What changed first, so a long backfill never holds back the polls already mirrored.
        finished = self.pull(
            main,
            lambda s: self.client.get_runs(after=self.incremental_after(s), reverse=True),
            self.ingest,
            modified_on,
            label="Runs",
            what="run",
            prepare=self.prepare,
            trim=without_path,
        )
        for poll in self.polls:
            if not finished:
                break
            finished = self.backfill(poll)
        if finished:
            self.read_archives()
        self.context.result.complete = finished

    def fetch_window(self, since: datetime) -> list[tuple[str, Counts]]:
        """Fetch again every run of the selected polls modified since `since`
        (`manage.py fetchruns`), and RapidPro's archives that end after it; a one-off
        pass, not resumed if interrupted. Returns the counts of each poll, then of the
        archives."""
        per_poll = []
        for poll in self.polls:
            before = replace(self.counts)
            window = SyncStream(
                org=self.org, kind=self.kind, name=f"window:{poll.flow_uuid}", after=since
            )
            self.pull(
                window,
                lambda s, poll=poll: self.client.get_runs(
                    flow=poll.flow_uuid, after=s.after, reverse=True
                ),
                self.ingest,
                modified_on,
                label=poll.display_name,
                what="run",
                prepare=self.prepare,
                trim=without_path,
            )
            per_poll.append((poll.display_name, self.counts.minus(before)))
        # What the API no longer serves may be in RapidPro's archives.
        before = replace(self.counts)
        ArchiveImporter(self).import_for(self.polls, since=since.date())
        per_poll.append((ARCHIVES_LABEL, self.counts.minus(before)))
        return per_poll

    # Polls and their streams ------------------------------------------------------------

    def load_questions(self) -> None:
        self.questions: dict[tuple[int, str], QuestionInfo] = {}
        rows = Question.objects.filter(poll__in=self.polls).values_list(
            "pk", "poll_id", "result_key", "question_type", "categories", "timeout_categories"
        )
        for pk, poll_id, key, question_type, categories, timeouts in rows:
            self.questions[(poll_id, key)] = QuestionInfo(
                pk,
                question_type == QuestionType.NUMERIC,
                frozenset(categories or []),
                frozenset(timeouts or []),
            )

    def backfill(self, poll: Poll) -> bool:
        """Pull a selected poll's runs from the beginning (or from when it was
        deselected), oldest first, up to the newest."""
        stream = self.stream(backfill_name(poll))
        if stream.finished_on is not None:
            return True
        if "total" not in stream.params:
            stream.params = {**stream.params, "total": self.count_runs(poll)}
            stream.save(update_fields=["params", "updated_on"])
        return self.pull(
            stream,
            lambda s: self.client.get_runs(flow=poll.flow_uuid, after=s.after, reverse=True),
            self.ingest,
            modified_on,
            label=f"Runs of {poll.display_name}",
            total=stream.params.get("total"),
            what="run",
            prepare=self.prepare,
            trim=without_path,
        )

    def read_archives(self) -> None:
        """Once a poll's backfill through the API is done, the runs RapidPro archived
        (and may have deleted) before it (ArchiveImporter)."""
        streams = {
            stream.name: stream
            for stream in SyncStream.objects.filter(
                org=self.org, kind=self.kind, name__in=[backfill_name(p) for p in self.polls]
            )
        }
        waiting = [
            poll
            for poll in self.polls
            if (stream := streams.get(backfill_name(poll))) is not None
            and stream.finished_on is not None
            and not stream.params.get("archives")
        ]
        if not waiting:
            return
        ArchiveImporter(self).import_for(waiting)
        for poll in waiting:
            stream = streams[backfill_name(poll)]
            stream.params = {**stream.params, "archives": True}
            stream.save(update_fields=["params", "updated_on"])

    def count_runs(self, poll: Poll) -> int | None:
        """How many runs the flow has, for the progress bar of its backfill."""
        flow = self.fetcher.call(self.client.get_flows(uuid=poll.flow_uuid).first)
        if flow is None or flow.runs is None:
            return None
        kinds = ("active", "waiting", "completed", "interrupted", "expired", "failed")
        return sum(getattr(flow.runs, kind) or 0 for kind in kinds)

    def forget_deselected(self, main: SyncStream) -> None:
        """A poll no longer selected stops being mirrored; remember from when, so
        selecting it again fetches just what it missed."""
        selected = {backfill_name(poll) for poll in self.polls}
        streams = SyncStream.objects.filter(org=self.org, kind=self.kind, name__startswith="flow:")
        for stream in streams.exclude(name__in=selected):
            if stream.finished_on is None and not stream.cursor and stream.high_water is None:
                continue  # already waiting for the poll to come back
            if stream.finished_on is not None:
                stream.after = main.after  # this pass of the main stream leaves it out
            stream.cursor = ""
            stream.high_water = None
            stream.finished_on = None
            stream.params = {}
            stream.save()

    def prepare(self, runs: list[Run]) -> None:
        """Runs may carry results of a question we do not know yet (the flow was
        edited since the last flows sync): fetch those polls' questions first."""
        unknown = set()
        for run in runs:
            poll = self.by_flow.get(run.flow.uuid if run.flow else None)
            if poll is None or poll.pk in self.refreshed:
                continue
            if any((poll.pk, key) not in self.questions for key in run.values or {}):
                unknown.add(poll.pk)
        if unknown:
            polls = [poll for poll in self.polls if poll.pk in unknown]
            # Its own counts: questions are not runs.
            FlowsSyncer(replace(self.context, result=SyncResult())).refresh_questions(polls)
            self.refreshed |= unknown
            self.load_questions()

    # Value rules --------------------------------------------------------------------

    def apply_local_rules(self, main: SyncStream) -> None:
        """Recompute what the mirror derives locally where its rules changed since the
        rows were written: local days and poll dates after a new time zone, value_to_use
        after a new same-day rule or a question's new type."""
        zone = main.params.get("timezone")
        if zone is not None and zone != self.org.timezone:
            with transaction.atomic():
                relocate_local_dates(self.org)
                main.params = {**main.params, "timezone": self.org.timezone}
                main.save(update_fields=["params", "updated_on"])
        elif zone is None:  # written under the time zone the org has
            main.params = {**main.params, "timezone": self.org.timezone}
            main.save(update_fields=["params", "updated_on"])
        self.apply_value_rules(main)

    def apply_value_rules(self, main: SyncStream) -> None:
        """Recompute value_to_use where the org's same-day rule or a question's type
        changed since the answers were written."""
        numeric = sorted(
            Question.objects.filter(
                poll__org=self.org, question_type=QuestionType.NUMERIC
            ).values_list("pk", flat=True)
        )
        rule = self.org.same_day_rule
        before = set(main.params.get("numeric_questions", []))
        if main.params.get("same_day_rule") == rule and before == set(numeric):
            return
        changed = (
            set(numeric) ^ before
            if main.params.get("same_day_rule") == rule
            else set(numeric) | before
        )
        with transaction.atomic():
            if changed:
                recompute_values(self.org, sorted(changed))
            main.params = {**main.params, "same_day_rule": rule, "numeric_questions": numeric}
            main.save(update_fields=["params", "updated_on"])

    # Writing ------------------------------------------------------------------------

    def ingest(self, runs: list[Run]) -> Counts:
        counts = Counts()
        latest: dict[str, tuple[Poll, Run]] = {}
        for run in runs:
            poll = self.by_flow.get(run.flow.uuid if run.flow else None)
            if poll is None:
                counts.skipped += 1  # not a selected poll
                continue
            if not (
                run.uuid and run.contact and run.contact.uuid and run.created_on and run.modified_on
            ):
                logger.warning(
                    "org %s: skipped run %s without contact or dates", self.org.subdomain, run.uuid
                )
                counts.failed += 1
                continue
            known = latest.get(run.uuid)
            if known is not None:
                counts.skipped += 1
                if known[1].modified_on >= run.modified_on:
                    continue
            latest[run.uuid] = (poll, run)
        if not latest:
            return counts
        run_rows, answer_rows = [], []
        for poll, run in latest.values():
            run_row, answers = self.rows_for(poll, run)
            run_rows.append(run_row)
            answer_rows.extend(answers)
        written = RunWriter(self.org).write(run_rows, answer_rows)
        written.skipped += counts.skipped
        written.failed += counts.failed
        self.keep_statistics_fresh(written.created)
        return written

    def keep_statistics_fresh(self, created: int) -> None:
        """Refresh the planner's statistics as a backfill grows the tables tenfold
        (1k, 10k, 100k... new rows): the statements above depend on good plans, and
        autovacuum may be minutes behind a large first sync."""
        before = self.created
        self.created += created
        if created and len(str(self.created)) > len(str(before)) and self.created >= 1000:
            analyze(*MIRROR_TABLES)

    def rows_for(self, poll: Poll, run: Run) -> tuple[tuple, list[tuple]]:
        values = (
            (key, value.value, value.category, value.time)
            for key, value in (run.values or {}).items()
            if value is not None
        )
        return self.staged_rows(
            poll.pk,
            run.uuid,
            run.start.uuid if run.start and run.start.uuid else None,
            run.contact.uuid,
            run.contact.name,
            bool(run.responded),
            run.exit_type == "completed",
            run.created_on,
            run.modified_on,
            values,
        )

    def staged_rows(
        self,
        poll_id: int,
        uuid: str,
        start_uuid: str | None,
        contact_uuid: str,
        contact_name: object,
        responded: bool,
        completed: bool,
        created_on: datetime,
        modified_on: datetime,
        values: Iterable[tuple[str, object, object, datetime | None]],
    ) -> tuple[tuple, list[tuple]]:
        """A run's row (`RUN_COLUMNS`) and its answers' rows (`ANSWER_COLUMNS`), from
        the run's facts and its results as (key, value, category, time): what the
        runs endpoint's pages and the archives' lines both become."""
        answers = []
        answered_times = []
        timed_out = False
        for key, value, raw_category, time in values:
            text = clean_text(value) or ""
            category = clean_text(raw_category, 255) or ""
            question = self.questions.get((poll_id, key))
            if question.timed_out(text, category) if question else is_timeout(text, category):
                timed_out = True
                continue  # a timeout is never an answer
            submitted = time or modified_on
            answered_times.append(submitted)
            if question is None:
                continue
            if not question.categories:
                category = ""  # "All Responses" of an open-ended question
            number = parse_number(text)
            answers.append((uuid, question.pk, text, category, number, submitted, question.numeric))
        status = ResponseStatus.of(responded, completed, timed_out)
        row = (
            uuid,
            poll_id,
            start_uuid,
            contact_uuid,
            clean_text(contact_name, 128),
            status,
            created_on,
            max(answered_times, default=created_on),
            modified_on,
        )
        return row, answers


def parse_number(text: str) -> float | None:
    return float(text) if NUMBER.match(text) else None


def without_path(item: dict) -> dict:
    """A run without the nodes it visited (TracPro does not use them; parsing their
    times is a third of the client's work)."""
    return {**item, "path": [], "exited_on": None}


def modified_on(run: Run) -> datetime | None:
    return run.modified_on
