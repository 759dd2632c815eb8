"""How runs become poll dates, responses and answers (unit tests, RapidPro faked at
the seam with exactly the runs each test needs)."""

from datetime import UTC, datetime, timedelta

import pytest

from tracpro.contacts.models import Contact
from tracpro.orgs.models import SameDayRule
from tracpro.polls import rollups, spoof
from tracpro.polls.models import (
    Answer,
    Poll,
    PollRun,
    Question,
    QuestionType,
    Response,
    ResponseRollup,
)
from tracpro.rapidpro.tests import fakes
from tracpro.rapidpro.tests.sync_helpers import state, sync

KAMPALA_EVENING = fakes.KAMPALA_EVENING


def absent(number: str, at: datetime, category: str = "1 - 49") -> dict:
    return {"absent": (number, category, at)}


def test_it_makes_a_poll_date_per_flow_start_and_per_org_local_day_without_one(
    acme, poll, rapidpro, reporter
):
    start = fakes.new_uuid()
    flow = rapidpro.flows[0]
    rapidpro.runs += [
        fakes.run(
            flow,
            (reporter.uuid, "Grace"),
            KAMPALA_EVENING,
            absent("3", KAMPALA_EVENING),
            start=start,
        ),
        fakes.run(
            flow, (reporter.uuid, "Grace"), KAMPALA_EVENING - timedelta(hours=2), start=start
        ),
        # 21:30 UTC is already the next day in Kampala.
        fakes.run(flow, (reporter.uuid, "Grace"), KAMPALA_EVENING + timedelta(hours=2, minutes=30)),
        fakes.run(flow, (reporter.uuid, "Grace"), KAMPALA_EVENING + timedelta(hours=3)),
    ]

    assert sync(acme, "runs") == {"runs": "succeeded"}

    started = PollRun.objects.get(poll=poll, kind=PollRun.Kind.START)
    assert started.start_uuid == start
    assert started.conducted_on == KAMPALA_EVENING - timedelta(hours=2)  # its earliest run
    day = PollRun.objects.get(poll=poll, kind=PollRun.Kind.DAY)
    assert day.local_date == datetime(2025, 3, 4).date()
    assert day.responses.count() == 2


def test_it_sets_each_responses_status_and_keeps_only_the_latest_per_poll_date_active(
    acme, poll, rapidpro, reporter
):
    flow = rapidpro.flows[0]
    contact = (reporter.uuid, "Grace")
    rapidpro.runs += [
        fakes.run(flow, contact, KAMPALA_EVENING, absent("3", KAMPALA_EVENING), uuid="r-complete"),
        fakes.run(
            flow,
            contact,
            KAMPALA_EVENING + timedelta(minutes=5),
            absent("4", KAMPALA_EVENING),
            exit_type="interrupted",
            uuid="r-partial",
        ),
        fakes.run(
            flow,
            contact,
            KAMPALA_EVENING + timedelta(minutes=9),
            exit_type="expired",
            uuid="r-empty",
        ),
        # A timed-out wait is no answer: still empty.
        fakes.run(
            flow,
            contact,
            KAMPALA_EVENING + timedelta(minutes=7),
            {"absent": ("", "No Response", KAMPALA_EVENING)},
            exit_type="interrupted",
            uuid="r-timeout",
        ),
    ]

    assert sync(acme, "runs") == {"runs": "succeeded"}

    statuses = dict(Response.objects.values_list("run_uuid", "status"))
    assert statuses == {
        "r-complete": "complete",
        "r-partial": "partial",
        "r-empty": "empty",
        "r-timeout": "empty",
    }
    assert list(Response.objects.filter(is_active=True).values_list("run_uuid", flat=True)) == [
        "r-empty"
    ]
    assert not Answer.objects.filter(response__run_uuid="r-timeout").exists()
    answer = Answer.objects.get(response__run_uuid="r-complete")
    assert (answer.value, answer.category, answer.number) == ("3", "1 - 49", 3.0)


@pytest.mark.parametrize(("rule", "expected"), [(SameDayRule.LAST, 7.0), (SameDayRule.SUM, 12.0)])
def test_it_applies_the_same_day_rule_per_contact_and_org_local_day(
    acme, poll, rapidpro, reporter, rule, expected
):
    acme.same_day_rule = rule
    acme.save()
    flow = rapidpro.flows[0]
    contact = (reporter.uuid, "Grace")
    morning = datetime(2025, 3, 3, 6, 0, tzinfo=UTC)
    rapidpro.runs += [
        fakes.run(flow, contact, morning, absent("5", morning)),
        fakes.run(flow, contact, KAMPALA_EVENING, absent("7", KAMPALA_EVENING)),
        fakes.run(flow, contact, KAMPALA_EVENING, absent("not sure", KAMPALA_EVENING, "Other")),
        # 21:30 UTC: the next day in Kampala, so not part of the sum.
        fakes.run(
            flow,
            contact,
            KAMPALA_EVENING + timedelta(hours=2, minutes=30),
            absent("40", KAMPALA_EVENING + timedelta(hours=2, minutes=30)),
        ),
    ]

    assert sync(acme, "runs") == {"runs": "succeeded"}

    on_the_day = Answer.objects.filter(local_date=datetime(2025, 3, 3).date()).exclude(number=None)
    assert set(on_the_day.values_list("value_to_use", flat=True)) == {expected}
    assert Answer.objects.get(value="not sure").value_to_use is None
    assert Answer.objects.get(value="40").value_to_use == 40.0


def test_it_recomputes_values_and_rollups_when_the_same_day_rule_changes(
    acme, poll, rapidpro, reporter
):
    flow = rapidpro.flows[0]
    contact = (reporter.uuid, "Grace")
    rapidpro.runs += [
        fakes.run(
            flow, contact, KAMPALA_EVENING, absent(str(n), KAMPALA_EVENING + timedelta(minutes=n))
        )
        for n in (2, 3)
    ]
    assert sync(acme, "runs") == {"runs": "succeeded"}
    assert set(Answer.objects.values_list("value_to_use", flat=True)) == {3.0}

    acme.same_day_rule = SameDayRule.SUM
    acme.save()
    assert sync(acme, "runs") == {"runs": "succeeded"}

    assert set(Answer.objects.values_list("value_to_use", flat=True)) == {5.0}
    incremental = list(ResponseRollup.objects.values_list("count", flat=True))
    rollups.rebuild(acme)
    assert list(ResponseRollup.objects.values_list("count", flat=True)) == incremental


def test_spoofed_answers_never_join_a_real_answers_day(acme, poll, rapidpro, reporter):
    acme.same_day_rule = SameDayRule.SUM
    acme.save()
    question = poll.questions.get()
    day = KAMPALA_EVENING.astimezone(acme.tz).date()
    plan = spoof.SpoofPlan(question, question, day - timedelta(days=1), day, 1, 100, 100)
    spoof.generate(acme, plan, [reporter.pk], None)
    flow = rapidpro.flows[0]
    rapidpro.runs += [
        fakes.run(flow, (reporter.uuid, "Grace"), KAMPALA_EVENING, absent("7", KAMPALA_EVENING))
    ]

    assert sync(acme, "runs") == {"runs": "succeeded"}  # the same day, by the sync's groups
    real = Answer.objects.exclude(response__pollrun__kind=PollRun.Kind.SPOOF).get()
    assert real.value_to_use == 7.0
    assert set(
        Answer.objects.filter(response__pollrun__kind=PollRun.Kind.SPOOF).values_list(
            "value_to_use", flat=True
        )
    ) == {100.0}

    acme.same_day_rule = SameDayRule.LAST
    acme.save()
    assert sync(acme, "runs") == {"runs": "succeeded"}  # every answer, by the rule change
    real.refresh_from_db()
    assert real.value_to_use == 7.0
    spoofed = Answer.objects.filter(response__pollrun__kind=PollRun.Kind.SPOOF)
    assert set(spoofed.values_list("value_to_use", flat=True)) == {100.0}


def test_it_keeps_a_run_of_an_unknown_contact_with_an_inactive_contact_until_synced(
    acme, poll, rapidpro
):
    rapidpro.runs.append(
        fakes.run(
            rapidpro.flows[0],
            ("c0ffee00-0000-4000-8000-000000000001", "Newcomer"),
            KAMPALA_EVENING,
            absent("9", KAMPALA_EVENING),
        )
    )

    assert sync(acme, "runs") == {"runs": "succeeded"}

    newcomer = Contact.objects.get(org=acme, uuid="c0ffee00-0000-4000-8000-000000000001")
    assert newcomer.name == "Newcomer"
    assert not newcomer.is_active
    assert newcomer.responses.count() == 1
    assert not ResponseRollup.objects.exists()  # inactive contacts are not counted


def test_a_newer_stored_version_of_a_run_is_never_replaced_by_an_older_one(
    acme, poll, rapidpro, reporter
):
    flow = rapidpro.flows[0]
    contact = (reporter.uuid, "Grace")
    newer = fakes.run(
        flow,
        contact,
        KAMPALA_EVENING,
        absent("8", KAMPALA_EVENING + timedelta(hours=1)),
        uuid="run-1",
    )
    rapidpro.runs.append(newer)
    assert sync(acme, "runs") == {"runs": "succeeded"}

    older = fakes.run(flow, contact, KAMPALA_EVENING, absent("2", KAMPALA_EVENING), uuid="run-1")
    rapidpro.runs[:] = [older]
    rapidpro.runs.append(
        {
            **older,
            "modified_on": fakes.stamp(KAMPALA_EVENING + timedelta(days=2)),
            "uuid": "run-2",
            "id": older["id"] + 1,
        }
    )
    main = acme.sync_streams.get(kind="runs", name="")
    main.after = None  # page through everything again, the old version included
    main.save()
    assert sync(acme, "runs") == {"runs": "succeeded"}

    assert Answer.objects.get(response__run_uuid="run-1").value == "8"
    assert state(acme, "runs").counts["skipped"] >= 1


def test_it_fetches_the_questions_of_results_it_does_not_know_before_storing_answers(
    acme, poll, rapidpro, reporter
):
    Question.objects.filter(poll=poll).delete()  # as if the flows sync had not run yet
    rapidpro.requests.clear()
    rapidpro.runs.append(
        fakes.run(
            rapidpro.flows[0],
            (reporter.uuid, "Grace"),
            KAMPALA_EVENING,
            absent("6", KAMPALA_EVENING),
        )
    )

    assert sync(acme, "runs") == {"runs": "succeeded"}

    question = Question.objects.get(poll=poll)
    assert question.question_type == QuestionType.NUMERIC
    assert Answer.objects.get(question=question).number == 6.0
    assert sum(1 for endpoint, _ in rapidpro.requests if endpoint == "definitions") == 1


def test_a_poll_selected_again_gets_the_runs_it_missed_meanwhile(acme, poll, rapidpro, reporter):
    flow = rapidpro.flows[0]
    contact = (reporter.uuid, "Grace")
    rapidpro.runs.append(fakes.run(flow, contact, KAMPALA_EVENING, absent("1", KAMPALA_EVENING)))
    assert sync(acme, "runs") == {"runs": "succeeded"}

    Poll.objects.filter(pk=poll.pk).update(is_active=False)
    later = KAMPALA_EVENING + timedelta(days=1)
    rapidpro.runs.append(fakes.run(flow, contact, later, absent("2", later)))
    assert sync(acme, "runs") == {"runs": "succeeded"}
    assert Response.objects.count() == 1  # not mirrored while deselected

    Poll.objects.filter(pk=poll.pk).update(is_active=True)
    assert sync(acme, "runs") == {"runs": "succeeded"}

    assert Response.objects.count() == 2
    runs_requests = [query for endpoint, query in rapidpro.requests if endpoint == "runs"]
    assert runs_requests[-1].get("flow") == poll.flow_uuid  # the gap, fetched for that poll only
