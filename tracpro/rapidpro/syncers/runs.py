"""Runs -> PollRun, Response and Answer, for the polls admins selected.

- A PollRun is a date the poll was conducted: one per flow start (TracPro's or
  RapidPro's, by the run's start uuid) and one per org-local day for runs that
  came without a start.
- A Response is one run: complete (it exited completed), partial (the contact
  answered something) or empty. Only each contact's latest response per PollRun
  is active.
- An Answer is one result of the run whose key is a question of the poll: value,
  category, `number` when the value is a number, and `value_to_use`, the number
  after the org's same-day rule (per contact, question and org-local day: the
  latest answer's number, or the sum of that day's numbers). A timed-out wait
  ("No Response") is not an answer.
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
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation

from temba_client.v2.types import Run

from django.db import transaction

from tracpro.orgs.models import SyncKind
from tracpro.polls.models import Poll, Question, QuestionType, ResponseStatus
from tracpro.rapidpro.models import SyncStream
from tracpro.rapidpro.sql import analyze, clean_text
from tracpro.rapidpro.syncers.base import Counts, Syncer, SyncResult
from tracpro.rapidpro.syncers.flows import FlowsSyncer, backfill_name
from tracpro.rapidpro.syncers.run_writer import MIRROR_TABLES, RunWriter, recompute_values

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class QuestionInfo:
    pk: int
    numeric: bool
    categories: frozenset[str]


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
        self.apply_value_rules(main)
        self.forget_deselected(main)
        # What changed first, so a long backfill never holds back the polls already mirrored.
        finished = self.pull(
            main,
            lambda s: self.client.get_runs(after=s.after, reverse=True),
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
        self.context.result.complete = finished

    def fetch_window(self, since: datetime) -> list[tuple[Poll, Counts]]:
        """Fetch again every run of the selected polls modified since `since`
        (`manage.py fetchruns`); a one-off pass, not resumed if interrupted.
        Returns each poll's counts."""
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
            per_poll.append((poll, self.counts.minus(before)))
        return per_poll

    # Polls and their streams ------------------------------------------------------------

    def load_questions(self) -> None:
        self.questions: dict[tuple[int, str], QuestionInfo] = {}
        rows = Question.objects.filter(poll__in=self.polls).values_list(
            "pk", "poll_id", "result_key", "question_type", "categories"
        )
        for pk, poll_id, key, question_type, categories in rows:
            numeric = question_type == QuestionType.NUMERIC
            self.questions[(poll_id, key)] = QuestionInfo(pk, numeric, frozenset(categories or []))

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
        answers = []
        answered_times = []
        for key, value in (run.values or {}).items():
            if value is None:
                continue
            text = clean_text(value.value) or ""
            category = clean_text(value.category, 255) or ""
            question = self.questions.get((poll.pk, key))
            if not text and (question is None or category not in question.categories):
                continue  # the wait timed out: no answer
            answered_times.append(value.time or run.modified_on)
            if question is None:
                continue
            if not question.categories:
                category = ""  # "All Responses" of an open-ended question
            submitted = value.time or run.modified_on
            number = parse_number(text)
            answers.append(
                (run.uuid, question.pk, text, category, number, submitted, question.numeric)
            )
        if run.exit_type == "completed":
            status = ResponseStatus.COMPLETE
        elif answered_times:
            status = ResponseStatus.PARTIAL
        else:
            status = ResponseStatus.EMPTY
        row = (
            run.uuid,
            poll.pk,
            run.start.uuid if run.start and run.start.uuid else None,
            run.contact.uuid,
            clean_text(run.contact.name, 128),
            status,
            run.created_on,
            max(answered_times, default=run.created_on),
            run.modified_on,
        )
        return row, answers


def parse_number(text: str) -> float | None:
    try:
        number = Decimal(text.strip())
    except (InvalidOperation, ValueError):
        return None
    return float(number) if number.is_finite() else None


def without_path(item: dict) -> dict:
    """A run without the nodes it visited (TracPro does not use them; parsing their
    times is a third of the client's work)."""
    return {**item, "path": [], "exited_on": None}


def modified_on(run: Run) -> datetime | None:
    return run.modified_on
