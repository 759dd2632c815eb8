"""The mirror matches RapidPro: a full sync of the simulator's edu workspace, checked
against the simulator's own data (through the real rapidpro-python client)."""

from collections import Counter

import pytest

from django.db.models import Sum

from tracpro.contacts.models import Contact, DataField
from tracpro.groups.models import Boundary, Region, RemoteGroup
from tracpro.orgs.models import Org
from tracpro.polls.models import Answer, Poll, PollRun, Question, Response, ResponseStatus
from tracpro.rapidpro.client import get_client
from tracpro.rapidpro.tests.sync_helpers import SIM_NOW, set_up_edu, sync
from tracpro.simulator.testing import running_simulator

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def simulator():
    with running_simulator(seed=3, contacts=120, runs=1500, now=SIM_NOW) as handle:
        yield handle


@pytest.fixture(scope="module")
def synced_org(django_db_setup, django_db_blocker, simulator):
    """One full sync for the whole module; the tests only read the mirror."""
    with django_db_blocker.unblock():
        org = Org.objects.create(name="Edu", subdomain="edu-mirror", timezone="Africa/Kampala")
        set_up_edu(org, simulator)
        results = sync(org, "contacts", "runs")
        yield org, results
        org.delete()


@pytest.fixture
def edu(db, synced_org):
    org, results = synced_org
    assert results == {"contacts": "succeeded", "runs": "succeeded"}
    return org


@pytest.fixture
def truth(simulator):
    return simulator.summary("edu")


def test_it_mirrors_every_flow_group_field_and_boundary(edu, simulator):
    client = simulator.client("edu")
    flows = client.get_flows().all()
    assert sorted(Poll.objects.for_org(edu).values_list("flow_uuid", flat=True)) == sorted(
        f.uuid for f in flows
    )
    remote_groups = {g.uuid for g in client.get_groups().all() if not g.system}
    assert set(RemoteGroup.objects.for_org(edu).values_list("uuid", flat=True)) == remote_groups
    assert set(DataField.objects.for_org(edu).values_list("key", flat=True)) == {
        f.key for f in client.get_fields().all()
    }
    boundaries = [b for b in client.get_boundaries(geometry=True).all() if b.level <= 2]
    assert Boundary.objects.for_org(edu).count() == len(boundaries)  # no wards: not shown
    for remote in boundaries:
        local = Boundary.objects.get(org=edu, osm_id=remote.osm_id)
        assert (local.parent.osm_id if local.parent else None) == (
            remote.parent.osm_id if remote.parent else None
        )
        assert local.geometry["coordinates"] == remote.geometry.coordinates
        assert local.simplified_geometry["type"] == remote.geometry.type


def test_it_keeps_flows_without_results_as_polls_without_questions(edu):
    single = Poll.objects.get(org=edu, rapidpro_name="Single Message")
    assert single.result_count == 0
    assert not single.is_active
    archived = Poll.objects.get(org=edu, rapidpro_name="Enrolment 2023 (old)")
    assert archived.flow_state == Poll.FlowState.ARCHIVED


def test_it_makes_a_question_of_every_result_of_the_selected_polls(edu):
    questions = {
        q.result_key: q for q in Question.objects.filter(poll__org=edu).select_related("poll")
    }
    assert sorted(questions) == [
        "absence_rate",  # set by an action: numeric, no categories
        "absent_pupils",
        "boys",
        "feedback",
        "girls",
        "girls_per_100_boys",
        "textbooks",
    ]
    assert [
        q.result_key for q in Poll.objects.get(org=edu, rapidpro_name="Enrolment").questions.all()
    ] == [
        "boys",
        "girls",
        "girls_per_100_boys",
    ]
    absent = questions["absent_pupils"]
    assert absent.question_type == "numeric"
    assert absent.categories == ["0", "1 - 49", "50 - 99", "100+", "Other"]
    assert absent.timeout_categories == ["No Response"]
    assert questions["absence_rate"].question_type == "numeric"
    assert questions["absence_rate"].categories == []
    assert absent.rules[1] == {
        "category": "1 - 49",
        "test": "has_number_between",
        "arguments": ["1", "49"],
    }
    assert questions["girls_per_100_boys"].question_type == "numeric"  # split by expression
    assert questions["textbooks"].question_type == "categorical"
    assert questions["textbooks"].categories == ["Enough", "Some", "None", "Other"]
    assert questions["textbooks"].rules == []
    assert questions["feedback"].question_type == "open"
    assert questions["feedback"].categories == []


def test_it_stores_every_run_of_the_selected_polls_as_a_response(edu, truth, simulator):
    client = simulator.client("edu")
    for poll in Poll.objects.for_org(edu).filter(is_active=True):
        flow = truth["flows"][poll.flow_uuid]
        responses = Response.objects.filter(pollrun__poll=poll)
        assert responses.count() == flow["runs"], poll
        statuses = Counter(responses.values_list("status", flat=True))
        # what the contacts did, not how the runs ended
        answered = statuses[ResponseStatus.COMPLETE] + statuses[ResponseStatus.PARTIAL]
        assert answered == flow["responded"], poll
        runs = client.get_runs(flow=poll.flow_uuid).all()
        complete = [
            run
            for run in runs
            if run.responded
            and run.exit_type == "completed"
            and all(value.category != "No Response" for value in run.values.values())
        ]
        assert statuses[ResponseStatus.COMPLETE] == len(complete), poll


def test_it_stores_each_answer_with_its_value_category_and_number(edu, truth):
    for question in Question.objects.filter(poll__org=edu).select_related("poll"):
        expected = truth["flows"][question.poll.flow_uuid]["results"][question.result_key]
        answers = Answer.objects.filter(question=question)
        timeouts = expected["categories"].get("No Response", 0)
        assert answers.count() == expected["count"] - timeouts, question
        assert answers.exclude(number=None).count() == expected["numeric_count"], question
        total = answers.aggregate(total=Sum("number"))["total"] or 0
        assert total == pytest.approx(expected["sum"]), question
        categories = Counter(answers.values_list("category", flat=True))
        wanted = {
            ("" if name == "All Responses" else name): count
            for name, count in expected["categories"].items()
            if name != "No Response"
        }
        assert dict(categories) == wanted, question


def test_it_makes_one_poll_date_per_flow_start_and_per_day_without_one(edu, simulator):
    client = simulator.client("edu")
    poll = Poll.objects.get(org=edu, rapidpro_name="Attendance")
    runs = client.get_runs(flow=poll.flow_uuid).all()
    starts = {run.start.uuid for run in runs if run.start}
    days = {edu.local_date(run.created_on) for run in runs if not run.start}
    pollruns = PollRun.objects.filter(poll=poll)
    assert set(pollruns.filter(kind="start").values_list("start_uuid", flat=True)) == starts
    assert set(pollruns.filter(kind="day").values_list("local_date", flat=True)) == days
    first = {}
    for run in runs:
        if run.start:
            first[run.start.uuid] = min(first.get(run.start.uuid, run.created_on), run.created_on)
    for pollrun in pollruns.filter(kind="start"):
        assert pollrun.conducted_on == first[pollrun.start_uuid]
        assert pollrun.local_date == edu.local_date(pollrun.conducted_on)


def test_it_keeps_only_each_contacts_latest_response_per_poll_date_active(edu):
    latest = {}
    for response in Response.objects.filter(org=edu).order_by("created_on", "pk"):
        latest[(response.pollrun_id, response.contact_id)] = response.pk
    active = set(Response.objects.filter(org=edu, is_active=True).values_list("pk", flat=True))
    assert active == set(latest.values())
    assert Response.objects.filter(org=edu).count() > len(active)  # the simulator has repeats


def test_it_follows_contacts_of_the_chosen_groups_with_their_deepest_region(edu, simulator):
    regions = {r.uuid: r for r in Region.objects.for_org(edu)}
    reporter_uuids = set(edu.reporter_groups.values_list("uuid", flat=True))
    remote = simulator.client("edu").get_contacts().all()
    followed = [c for c in remote if {g.uuid for g in c.groups} & (set(regions) | reporter_uuids)]
    for contact in followed:
        local = Contact.objects.get(org=edu, uuid=contact.uuid)
        in_regions = [regions[g.uuid] for g in contact.groups if g.uuid in regions]
        districts = [r for r in in_regions if r.parent_id]
        expected = (districts or in_regions or [None])[0]
        assert local.region == expected, contact.name
        assert set(local.reporter_groups.values_list("uuid", flat=True)) == {
            g.uuid for g in contact.groups if g.uuid in reporter_uuids
        }
        assert local.is_active == (contact.status == "active")
        assert local.name == (contact.name or "")
        assert local.urn == contact.urns[0]
        assert local.fields == {k: v for k, v in contact.fields.items() if v is not None}
    others = {c.uuid for c in remote} - {c.uuid for c in followed}
    assert not Contact.objects.filter(org=edu, uuid__in=others, is_active=True).exists()


def test_it_mirrors_inbox_messages(edu, simulator, truth, settings):
    settings.RAPIDPRO_INBOX_DAYS = 365
    assert sync(edu, "inbox") == {"inbox": "succeeded"}
    remote = get_client(edu).get_messages(folder="inbox").all()
    inbox = edu.inbox_messages.filter(is_archived=False)
    assert inbox.count() == len(remote) == truth["messages"]["inbox"]
    assert {m.uuid: m.remote_id for m in inbox} == {m.uuid: m.id for m in remote}
    message = edu.inbox_messages.get(uuid=remote[0].uuid)
    assert message.text == remote[0].text
    assert message.contact.uuid == remote[0].contact.uuid
