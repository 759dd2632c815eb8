"""Spoofed (sample) poll data: poll dates, responses and answers made up in TracPro
so a comparison can be tried before real data arrives.

They are ordinary rows marked by their poll date's kind (`PollRun.Kind.SPOOF`):
pages show them only while the org's `show_spoof_data` is on
(`PollRun.objects.visible_to`), exports only when asked, and nothing here or
anywhere else sends them to RapidPro. Generating and clearing each run in one
transaction, under the org's ingest lock, and keep the rollups equal to a
rebuild (`tracpro.polls.rollups`).
"""

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import connection, transaction

from tracpro.accounts.models import User
from tracpro.orgs.models import Org
from tracpro.polls import rollups
from tracpro.polls.models import Answer, PollRun, Question, Response, ResponseStatus
from tracpro.polls.rules import categorize

# Spoofed dates are conducted at noon, org time, so no time zone moves them to another day.
CONDUCTED_AT = time(12, 0)
RUN_UUID_PREFIX = "spoof-"
BATCH = 2000


@dataclass(frozen=True)
class SpoofPlan:
    """What to make up: one baseline date at `start`, then a follow-up date every
    `every_days` after it up to `end`; one answer per contact and date, drawn
    from `low` to `high` (both included). No two dates share a day, so the
    same-day rule never combines spoofed answers."""

    baseline: Question
    follow_up: Question
    start: date
    end: date
    every_days: int
    low: int
    high: int

    def follow_up_days(self) -> list[date]:
        count = (self.end - self.start).days // self.every_days
        return [self.start + timedelta(days=self.every_days * n) for n in range(1, count + 1)]


@dataclass(frozen=True)
class SpoofResult:
    poll_dates: int
    responses: int


def generate(
    org: Org,
    plan: SpoofPlan,
    contact_ids: Sequence[int],
    user: User | None,
    rng: random.Random | None = None,
) -> SpoofResult:
    """Make up the plan's poll dates with one complete response per contact each."""
    rng = rng or random.Random()
    dates = [(plan.baseline, plan.start)] + [(plan.follow_up, day) for day in plan.follow_up_days()]
    with transaction.atomic():
        tracker = rollups.RollupTracker(org)
        tracker.before()  # nothing existing changes: the scope is the new responses below
        pollruns = PollRun.objects.bulk_create(
            PollRun(
                poll=question.poll,
                kind=PollRun.Kind.SPOOF,
                conducted_on=datetime.combine(day, CONDUCTED_AT, tzinfo=org.tz),
                local_date=day,
                created_by=user,
            )
            for question, day in dates
        )
        for (question, _), pollrun in zip(dates, pollruns, strict=True):
            _respond(org, pollrun, question, contact_ids, plan, rng)
        tracker.add_responses(
            "SELECT id FROM polls_response WHERE pollrun_id = ANY(%(ids)s)",
            {"ids": [pollrun.pk for pollrun in pollruns]},
        )
        tracker.after()
    return SpoofResult(len(pollruns), len(pollruns) * len(contact_ids))


def _respond(org, pollrun, question, contact_ids, plan, rng) -> None:
    moment = pollrun.conducted_on
    for start in range(0, len(contact_ids), BATCH):
        batch = contact_ids[start : start + BATCH]
        responses = Response.objects.bulk_create(
            Response(
                org=org,
                run_uuid=f"{RUN_UUID_PREFIX}{uuid.uuid4().hex[:30]}",
                pollrun=pollrun,
                contact_id=contact_id,
                status=ResponseStatus.COMPLETE,
                created_on=moment,
                updated_on=moment,
                remote_modified_on=moment,
            )
            for contact_id in batch
        )
        numbers = [rng.randint(plan.low, plan.high) for _ in responses]
        Answer.objects.bulk_create(
            Answer(
                response=response,
                question=question,
                contact_id=response.contact_id,
                value=str(number),
                category=categorize(number, question.rules),
                number=number,
                value_to_use=number,
                submitted_on=moment,
                local_date=pollrun.local_date,
            )
            for response, number in zip(responses, numbers, strict=True)
        )


def clear(org: Org) -> int:
    """Delete every spoofed poll date of the org with its responses, answers and
    rollups; the number of poll dates deleted."""
    with transaction.atomic(), connection.cursor() as cursor:
        rollups.lock_org(cursor, org.pk)
        pollruns = PollRun.objects.for_org(org).spoofed()
        ids = list(pollruns.values_list("pk", flat=True))
        if not ids:
            return 0
        # The rollups are kept per poll date, so dropping these dates' rows takes
        # exactly their share out; raw SQL spares loading every response.
        cursor.execute(
            "DELETE FROM polls_answer a USING polls_response r "
            "WHERE a.response_id = r.id AND r.org_id = %s AND r.pollrun_id = ANY(%s)",
            [org.pk, ids],
        )
        cursor.execute(
            "DELETE FROM polls_response WHERE org_id = %s AND pollrun_id = ANY(%s)", [org.pk, ids]
        )
        pollruns.delete()  # their rollups, and anything else tied to the dates, go with them
    return len(ids)
