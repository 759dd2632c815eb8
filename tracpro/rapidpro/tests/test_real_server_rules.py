"""How TracPro reads what a real RapidPro sends (unit tests, RapidPro faked at the seam):
timeouts, result keys, results set by actions, voice waits, the workspace's time
zone, the overlap window and the reconciliation."""

import itertools
import time
from datetime import UTC, datetime, timedelta

import pytest

from tracpro.orgs.models import Org
from tracpro.polls import rollups
from tracpro.polls.models import Answer, Poll, PollRun, QuestionType, Response
from tracpro.polls.tests.test_rollups import every_rollup
from tracpro.rapidpro.definitions import questions_from_definition, result_key
from tracpro.rapidpro.tests import fakes
from tracpro.rapidpro.tests.fakes import KAMPALA_EVENING
from tracpro.rapidpro.tests.sync_helpers import state, sync
from tracpro.rapidpro.tests.test_sync_runs import absent

TIMED_OUT = "2025-05-01T18:30:00.000000Z"  # goflow's value for a wait that timed out


def test_a_timeout_is_never_an_answer_and_a_run_without_a_reply_is_empty(
    acme, poll, rapidpro, reporter
):
    flow = rapidpro.flows[0]
    contact = (reporter.uuid, "Grace")
    later = KAMPALA_EVENING + timedelta(hours=2)
    rapidpro.runs += [
        # completed through the timeout: the contact never replied
        fakes.run(
            flow,
            contact,
            KAMPALA_EVENING,
            {"absent": (TIMED_OUT, "No Response", later)},
            uuid="r-silent",
        ),
        # replied something unclear, then the wait timed out: partial
        fakes.run(
            flow,
            (fakes.new_uuid(), "Moses"),
            KAMPALA_EVENING,
            {"absent": (TIMED_OUT, "No Response", later)},
            uuid="r-unclear",
            responded=True,
        ),
        fakes.run(flow, (fakes.new_uuid(), "Ruth"), KAMPALA_EVENING, absent("3", later)),
    ]

    assert sync(acme, "runs") == {"runs": "succeeded"}

    statuses = dict(Response.objects.values_list("run_uuid", "status"))
    assert statuses["r-silent"] == "empty"
    assert statuses["r-unclear"] == "partial"
    assert list(Answer.objects.values_list("value", "number")) == [("3", 3.0)]


def test_a_renamed_timeout_category_is_a_timeout_too(acme, poll, rapidpro, reporter):
    poll.questions.update(timeout_categories=["Timed Out"])
    flow = rapidpro.flows[0]
    rapidpro.runs.append(
        fakes.run(
            flow,
            (reporter.uuid, "Grace"),
            KAMPALA_EVENING,
            {"absent": (TIMED_OUT, "Timed Out", KAMPALA_EVENING)},
            responded=False,
        )
    )

    assert sync(acme, "runs") == {"runs": "succeeded"}

    assert Response.objects.get().status == "empty"
    assert not Answer.objects.exists()


@pytest.mark.parametrize(
    "name, key",
    [("How many?", "how_many_"), ("Girls per 100 Boys", "girls_per_100_boys"), ("a _b", "a__b")],
)
def test_result_keys_are_goflows_snakify(name, key):
    assert result_key(name) == key


def wait(name: str, hint: dict | None = None, cases: list | None = None, timeout: str = "") -> dict:
    categories = [{"uuid": f"{name}-c{i}", "name": n, "exit_uuid": "x"} for i, n in enumerate(
        [*(case[2] for case in cases or []), "Other" if cases else "All Responses", timeout]
    ) if n]  # fmt: skip
    router = {
        "type": "switch",
        "result_name": name,
        "wait": {"type": "msg", **({"hint": hint} if hint else {})},
        "cases": [
            {"uuid": f"k{i}", "type": t, "arguments": a, "category_uuid": f"{name}-c{i}"}
            for i, (t, a, _) in enumerate(cases or [])
        ],
        "categories": categories,
        "default_category_uuid": categories[len(cases or [])]["uuid"],
    }
    if timeout:
        router["wait"]["timeout"] = {"seconds": 60, "category_uuid": categories[-1]["uuid"]}
    return {"uuid": f"node-{name}", "router": router, "exits": [{"uuid": "x"}]}


def test_voice_waits_actions_and_renamed_timeouts_make_their_questions():
    menu = wait("School Open", {"type": "digits", "count": 1}, [("has_number_eq", ["1"], "Open")])
    keypad = wait("Teachers", {"type": "digits", "terminated_by": "#"}, [("has_number", [], "N")])
    recording = wait("Visit Report", {"type": "audio"})
    rated = wait("Rating", None, [("has_any_word", ["good"], "Good")], timeout="Timed Out")
    actions = {
        "uuid": "node-actions",
        "actions": [
            {"type": "set_run_result", "name": "Absence Rate", "value": "@(results.x * 2)"},
            {"type": "set_run_result", "name": "Reported By", "value": "@contact.name"},
        ],
        "exits": [{"uuid": "x"}],
    }
    nodes = [menu, keypad, recording, rated, actions]
    for node, following in itertools.pairwise(nodes):
        node["exits"][0]["destination_uuid"] = following["uuid"]

    specs = {spec.key: spec for spec in questions_from_definition({"nodes": nodes})}

    assert {key: spec.question_type for key, spec in specs.items()} == {
        "school_open": QuestionType.CATEGORICAL,  # a menu, whatever its tests
        "teachers": QuestionType.NUMERIC,
        "visit_report": QuestionType.RECORDING,
        "rating": QuestionType.CATEGORICAL,
        "absence_rate": QuestionType.NUMERIC,  # arithmetic
        "reported_by": QuestionType.OPEN,
    }
    assert specs["rating"].categories == ["Good", "Other"]
    assert specs["rating"].timeout_categories == ["Timed Out"]
    assert specs["absence_rate"].node_uuids == ["node-actions"]


def test_a_flows_sync_that_finds_nothing_changed_fetches_no_definition(acme, rapidpro):
    """Results from actions and renamed timeout categories no longer look like changes."""
    actions = {
        "uuid": "node-actions",
        "actions": [{"type": "set_run_result", "name": "Source", "value": "sms"}],
        "exits": [{"uuid": "x"}],
    }
    rated = wait("Rating", None, [("has_any_word", ["good"], "Good")], timeout="Timed Out")
    item = fakes.flow(
        "Rating",
        [
            fakes.result("source", "Source", [], "node-actions"),
            fakes.result("rating", "Rating", ["Good", "Other", "Timed Out"], "node-Rating"),
        ],
    )
    rapidpro.flows.append(item)
    rapidpro.definitions[item["uuid"]] = {"uuid": item["uuid"], "nodes": [actions, rated]}
    sync(acme, "flows")
    Poll.objects.filter(org=acme).update(is_active=True)
    sync(acme, "flows")
    assert set(Poll.objects.get().questions.values_list("result_key", flat=True)) == {
        "source",
        "rating",
    }
    rapidpro.requests.clear()

    assert sync(acme, "flows") == {"flows": "succeeded"}

    assert [endpoint for endpoint, _ in rapidpro.requests] == ["flows", "org"]

    item["modified_on"] = fakes.stamp(datetime(2025, 3, 1, tzinfo=UTC))  # edited in RapidPro
    rapidpro.requests.clear()
    sync(acme, "flows")
    assert "definitions" in [endpoint for endpoint, _ in rapidpro.requests]


def test_the_time_zone_follows_the_workspace_unless_an_admin_chose_another(acme, rapidpro):
    Org.objects.filter(pk=acme.pk).update(timezone="UTC", workspace_timezone="")
    rapidpro.workspace["timezone"] = "Africa/Kampala"
    sync(acme, "flows")
    acme.refresh_from_db()
    assert (acme.timezone, acme.workspace_timezone) == ("Africa/Kampala", "Africa/Kampala")

    rapidpro.workspace["timezone"] = "Africa/Nairobi"
    sync(acme, "flows")
    acme.refresh_from_db()
    assert (acme.timezone, acme.workspace_timezone) == ("Africa/Nairobi", "Africa/Nairobi")

    Org.objects.filter(pk=acme.pk).update(timezone="Asia/Kabul")
    rapidpro.workspace["timezone"] = "Africa/Kampala"
    sync(acme, "flows")
    acme.refresh_from_db()
    assert (acme.timezone, acme.workspace_timezone) == ("Asia/Kabul", "Africa/Kampala")


def test_a_new_time_zone_moves_local_days_poll_dates_and_rollups(acme, poll, rapidpro, reporter):
    flow = rapidpro.flows[0]
    evening = datetime(2025, 5, 1, 22, 30, tzinfo=UTC)  # already 2 May in Kampala
    rapidpro.runs += [
        fakes.run(flow, (reporter.uuid, "Grace"), evening, absent("3", evening)),
        fakes.run(flow, (fakes.new_uuid(), "Moses"), evening - timedelta(hours=3),
                  absent("4", evening - timedelta(hours=3))),
    ]  # fmt: skip
    assert sync(acme, "runs") == {"runs": "succeeded"}
    assert sorted(PollRun.objects.values_list("local_date", flat=True)) == [
        datetime(2025, 5, 1).date(),
        datetime(2025, 5, 2).date(),
    ]

    Org.objects.filter(pk=acme.pk).update(timezone="UTC")
    assert sync(acme, "runs") == {"runs": "succeeded"}

    assert list(PollRun.objects.values_list("local_date", flat=True)) == [
        datetime(2025, 5, 1).date()
    ]
    assert set(Answer.objects.values_list("local_date", flat=True)) == {datetime(2025, 5, 1).date()}
    assert Response.objects.filter(is_active=True).count() == 2
    kept = every_rollup(acme)  # by day, reporter group, number and word
    assert kept["polls_numberrollup"]
    rollups.rebuild(acme)
    assert every_rollup(acme) == kept


def test_incremental_passes_overlap_their_watermark_until_it_settles(
    acme, poll, rapidpro, reporter, settings
):
    settings.RAPIDPRO_OVERLAP = 0.5
    flow = rapidpro.flows[0]
    rapidpro.runs.append(fakes.run(flow, (reporter.uuid, "Grace"), KAMPALA_EVENING))
    sync(acme, "runs")  # the first watermark: the newest run
    rapidpro.runs.append(fakes.run(flow, (reporter.uuid, "Grace"), KAMPALA_EVENING))

    def afters() -> list[str]:
        return [query.get("after") for endpoint, query in rapidpro.requests if endpoint == "runs"]

    rapidpro.requests.clear()
    sync(acme, "runs")
    watermark = acme.sync_streams.get(kind="runs", name="").after
    rapidpro.requests.clear()
    sync(acme, "runs")  # right after: the window is read again
    overlapped = fakes.stamp(watermark - timedelta(seconds=0.5))
    assert afters() == [overlapped]

    time.sleep(0.6)
    sync(acme, "runs")  # the last re-read, more than the overlap after the watermark moved
    rapidpro.requests.clear()
    sync(acme, "runs")

    assert afters() == [fakes.stamp(watermark)]
    assert Response.objects.count() == 2


def test_the_reconciliation_reports_a_drift_per_poll_and_changes_nothing(
    acme, poll, rapidpro, reporter
):
    flow = rapidpro.flows[0]
    rapidpro.runs += [
        fakes.run(flow, (reporter.uuid, "Grace"), KAMPALA_EVENING, absent("3", KAMPALA_EVENING)),
        fakes.run(flow, (fakes.new_uuid(), "Moses"), KAMPALA_EVENING),
    ]
    flow["runs"]["completed"] = 3  # RapidPro counts a run TracPro never saw
    sync(acme, "runs")

    assert sync(acme, "reconcile") == {"reconcile": "succeeded"}

    report = state(acme, "reconcile").counts
    assert report["drifted"] == 1
    assert report["polls"] == [
        {"poll": "Attendance", "rapidpro": 3, "mirror": 2, "drift": 1, "dates": []}
    ]
    assert Response.objects.count() == 2
