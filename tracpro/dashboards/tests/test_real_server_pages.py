"""Pages for what a real RapidPro brings: waiting for its rate limit, the weekly
reconciliation, voice polls' recordings, "No response" shares, the workspace's time
zone."""

from datetime import timedelta

from django.utils import timezone

from tracpro.charts.filters import Filters
from tracpro.charts.poll_charts import ChartInput, poll_charts, pollrun_charts
from tracpro.contacts.tests.factories import make_contact
from tracpro.groups.scope import RegionScope
from tracpro.orgs.models import Org, SyncKind, SyncState, SyncStatus
from tracpro.polls import rollups
from tracpro.polls.models import QuestionType, ResponseStatus
from tracpro.polls.tests.factories import (
    make_answer,
    make_poll,
    make_pollrun,
    make_question,
    make_response,
)
from tracpro.polls.tests.world import page_url


def test_the_sync_page_says_a_sync_waits_for_the_rate_limit_rather_than_failing(
    acme, ann, root, client_for
):
    tomorrow = timezone.now().astimezone(acme.tz) + timedelta(days=1)
    until = tomorrow.replace(hour=14, minute=5)  # in the org's time zone, as shown
    SyncState.objects.create(
        org=acme,
        kind=SyncKind.RUNS,
        status=SyncStatus.WAITING,
        resume_at=until,
        last_error="RapidPro's rate limit asks to wait 3000s; the sync continues then.",
    )

    html = client_for(ann, acme).get("/sync/").content.decode()

    assert "Waiting for RapidPro's rate limit until 14:05" in html
    assert "Failed" not in html
    health = client_for(root).get("/manage/sync/").content.decode()
    assert "Rate limit: waiting until" in health  # the root host shows UTC


def test_the_sync_page_shows_the_reconciliations_drift(acme, ann, client_for):
    SyncState.objects.create(
        org=acme,
        kind=SyncKind.RECONCILE,
        status=SyncStatus.SUCCEEDED,
        counts={
            "drifted": 1,
            "polls": [
                {
                    "poll": "Attendance",
                    "rapidpro": 4541,
                    "mirror": 4539,
                    "drift": 2,
                    "dates": [{"date": "2025-05-01", "rapidpro": 300, "mirror": 298}],
                }
            ],
        },
    )

    html = client_for(ann, acme).get("/sync/").content.decode()

    assert "4,541" in html and "4,539" in html
    assert "2025-05-01: 300 in RapidPro, 298 here" in html
    assert "A drift is reported, not corrected" in html


def categorical_poll(org: Org, show_no_response: bool):
    poll = make_poll(org, "Textbooks")
    question = make_question(
        poll,
        "textbooks",
        QuestionType.CATEGORICAL,
        categories=["Enough", "None", "Other"],
        show_no_response=show_no_response,
    )
    pollrun = make_pollrun(poll)
    for category in ("Enough", "Enough", "None"):
        make_answer(make_response(pollrun), question, category.lower(), category)
    for status in (ResponseStatus.EMPTY, ResponseStatus.PARTIAL):
        make_response(pollrun, status=status)  # reached, never answered this question
    rollups.rebuild(org)
    return question, pollrun


def chart_input(org, question, pollrun) -> ChartInput:
    tree = RegionScope.build(org, is_admin=True).tree
    return ChartInput.fetch(org, Filters(), tree, [question], [pollrun])


def test_no_response_is_a_share_of_its_own_only_when_an_admin_turns_it_on(acme):
    question, pollrun = categorical_poll(acme, show_no_response=True)

    over_time = poll_charts(chart_input(acme, question, pollrun))["questions"][0]
    one_date = pollrun_charts(chart_input(acme, question, pollrun))["questions"][0]

    shares = {series["label"]: series["data"][0] for series in over_time["series"]}
    assert shares == {"Enough": 40.0, "None": 20.0, "No response": 40.0}
    assert [s.get("no_response", False) for s in over_time["series"]] == [False, False, True]
    assert over_time["totals"][-1] == {
        "category": "No response",
        "no_response": True,
        "count": 2,
        "percent": 40.0,
    }
    assert one_date["categories"] == ["Enough", "None", "No response"]
    assert one_date["no_response"] == [False, False, True]

    question.show_no_response = False
    question.save()
    plain = poll_charts(chart_input(acme, question, pollrun))["questions"][0]
    assert {s["label"]: s["data"][0] for s in plain["series"]} == {"Enough": 66.7, "None": 33.3}


def test_admins_turn_the_no_response_share_on_per_question(acme, ann, client_for):
    question, _ = categorical_poll(acme, show_no_response=False)
    prefix = "questions-0-"
    data = {
        "name": "",
        "questions-TOTAL_FORMS": "1",
        "questions-INITIAL_FORMS": "1",
        f"{prefix}id": question.pk,
        f"{prefix}name": "",
        f"{prefix}question_type": QuestionType.CATEGORICAL,
        f"{prefix}is_active": "on",
        f"{prefix}show_no_response": "on",
    }

    response = client_for(ann, acme).post(page_url("polls.poll_update", question.poll.pk), data)

    assert response.status_code == 302
    question.refresh_from_db()
    assert question.show_no_response


def test_a_voice_polls_recordings_play_from_where_rapidpro_keeps_them(acme, ann, client_for):
    poll = make_poll(acme, "School Visit Call", flow_type="voice")
    report = make_question(poll, "visit_report", QuestionType.RECORDING)
    pollrun = make_pollrun(poll)
    contact = make_contact(acme, "Grace")
    url = "https://media.rapidpro.example/recordings/visit.wav"
    make_answer(make_response(pollrun, contact), report, url)
    make_answer(make_response(pollrun), report, "javascript:alert(1)")
    rollups.rebuild(acme)  # as the sync keeps them: the tab counts its rows from the rollups

    page = client_for(ann, acme).get(page_url("polls.response_by_pollrun", pollrun.pk))
    html = page.content.decode()

    assert f'<audio class="recording" controls preload="none" src="{url}">' in html
    assert html.count("<audio") == 1  # only http(s) URLs get a player
    csv = client_for(ann, acme).get(
        page_url("polls.response_by_pollrun", pollrun.pk), {"_format": "csv"}
    )
    assert url in b"".join(csv.streaming_content).decode("utf-8-sig")


def test_the_settings_page_warns_when_the_time_zone_differs_from_the_workspace(
    acme, ann, client_for
):
    Org.objects.filter(pk=acme.pk).update(workspace_timezone="Africa/Nairobi")

    html = client_for(ann, acme).get(page_url("orgs:settings")).content.decode()

    assert "The RapidPro workspace uses the time zone Africa/Nairobi" in html
    Org.objects.filter(pk=acme.pk).update(workspace_timezone=acme.timezone)
    html = client_for(ann, acme).get(page_url("orgs:settings")).content.decode()
    assert "follows the RapidPro workspace" in html
