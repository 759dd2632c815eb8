"""Administration > Polls: select flows, list polls, edit names and questions."""

from unittest import mock

import pytest

from tracpro.orgs.models import SyncKind
from tracpro.polls.models import Poll, QuestionType
from tracpro.polls.tests.factories import make_poll, make_pollrun, make_question
from tracpro.polls.tests.world import page_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def trigger():
    with mock.patch("tracpro.orgs.tasks.trigger") as patched:
        yield patched


@pytest.fixture
def flows(acme):
    return {
        "enrolment": make_poll(acme, "Enrolment", is_active=True, result_count=2),
        "attendance": make_poll(acme, "Attendance", is_active=False, result_count=3),
        "reminder": make_poll(acme, "Reminder", is_active=False, result_count=0),
        "gone": make_poll(acme, "Gone", is_active=False, flow_state=Poll.FlowState.MISSING),
    }


def test_it_offers_every_flow_that_rapidpro_still_has(flows, client_for, ann):
    response = client_for(ann, flows["enrolment"].org).get(page_url("polls.poll_select"))
    offered = {item["flow"].rapidpro_name: item for item in response.context["flows"]}
    assert set(offered) == {"Enrolment", "Attendance", "Reminder"}
    assert offered["Enrolment"]["checked"]
    assert not offered["Reminder"]["has_results"]
    reminder = flows["reminder"].pk
    assert f'value="{reminder}" id="flow-{reminder}" disabled' in response.content.decode()


def test_it_selects_polls_and_fetches_their_questions_after_commit(
    flows, client_for, ann, trigger, django_capture_on_commit_callbacks
):
    client = client_for(ann, flows["enrolment"].org)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(
            page_url("polls.poll_select"),
            {"polls": [flows["enrolment"].pk, flows["attendance"].pk, flows["reminder"].pk]},
        )
    assert response.status_code == 302
    assert len(callbacks) == 1
    trigger.assert_called_once_with(flows["enrolment"].org, SyncKind.FLOWS)
    active = set(Poll.objects.filter(is_active=True).values_list("rapidpro_name", flat=True))
    assert active == {"Enrolment", "Attendance"}  # a flow without questions is never a poll


def test_it_keeps_the_data_of_a_poll_that_is_unselected(flows, client_for, ann, trigger):
    enrolment = flows["enrolment"]
    make_question(enrolment, "boys", QuestionType.NUMERIC)
    make_pollrun(enrolment)
    response = client_for(ann, enrolment.org).post(page_url("polls.poll_select"), {})
    assert response.status_code == 302
    enrolment.refresh_from_db()
    assert not enrolment.is_active
    assert enrolment.questions.count() == 1 and enrolment.pollruns.count() == 1
    trigger.assert_not_called()


def test_it_ignores_other_orgs_flows(flows, client_for, ann, beta, trigger):
    foreign = make_poll(beta, "Foreign", is_active=False)
    response = client_for(ann, flows["enrolment"].org).post(
        page_url("polls.poll_select"), {"polls": [foreign.pk]}
    )
    assert response.status_code == 200  # not a valid choice
    foreign.refresh_from_db()
    assert not foreign.is_active


def test_it_lists_polls_with_questions_and_dates(flows, client_for, ann):
    enrolment = flows["enrolment"]
    make_question(enrolment, "boys", QuestionType.NUMERIC)
    make_question(enrolment, "girls", QuestionType.NUMERIC, is_active=False)
    runs = [make_pollrun(enrolment) for _ in range(3)]
    response = client_for(ann, enrolment.org).get(page_url("polls.poll_list"))
    (poll,) = response.context["polls"]
    assert (poll.question_count, poll.date_count) == (1, 3)
    assert poll.last_conducted == max(run.conducted_on for run in runs)


def test_it_renames_a_poll_and_its_questions(flows, client_for, ann):
    enrolment = flows["enrolment"]
    boys = make_question(enrolment, "boys", QuestionType.NUMERIC)
    girls = make_question(enrolment, "girls", QuestionType.NUMERIC)
    data = {
        "name": "Term enrolment",
        "questions-TOTAL_FORMS": "2",
        "questions-INITIAL_FORMS": "2",
        "questions-0-id": boys.pk,
        "questions-0-name": "Boys enrolled",
        "questions-0-question_type": QuestionType.NUMERIC,
        "questions-0-is_active": "on",
        "questions-1-id": girls.pk,
        "questions-1-name": "",
        "questions-1-question_type": QuestionType.OPEN,
    }
    response = client_for(ann, enrolment.org).post(
        page_url("polls.poll_update", enrolment.pk), data
    )
    assert response.status_code == 302
    enrolment.refresh_from_db()
    boys.refresh_from_db()
    girls.refresh_from_db()
    assert enrolment.display_name == "Term enrolment"
    assert (boys.display_name, boys.is_active) == ("Boys enrolled", True)
    assert (girls.display_name, girls.question_type, girls.is_active) == (
        girls.rapidpro_name,
        QuestionType.OPEN,
        False,
    )


def test_it_follows_rapidpro_when_the_name_is_blank(flows, client_for, ann):
    enrolment = flows["enrolment"]
    enrolment.name = "Old name"
    enrolment.save()
    data = {"name": "", "questions-TOTAL_FORMS": "0", "questions-INITIAL_FORMS": "0"}
    client_for(ann, enrolment.org).post(page_url("polls.poll_update", enrolment.pk), data)
    enrolment.refresh_from_db()
    assert enrolment.display_name == enrolment.rapidpro_name == "Enrolment"


def test_it_never_edits_or_adds_questions_of_other_polls(flows, client_for, ann, beta):
    enrolment = flows["enrolment"]
    foreign = make_question(make_poll(beta, "Foreign"), "secret", QuestionType.OPEN)
    data = {
        "name": "",
        "questions-TOTAL_FORMS": "1",
        "questions-INITIAL_FORMS": "1",
        "questions-0-id": foreign.pk,
        "questions-0-name": "Hacked",
        "questions-0-question_type": QuestionType.OPEN,
    }
    response = client_for(ann, enrolment.org).post(
        page_url("polls.poll_update", enrolment.pk), data
    )
    # Refused, not silently ignored: the id is not one of this poll's questions.
    assert response.status_code == 200
    assert "id" in response.context["formset"].errors[0]
    foreign.refresh_from_db()
    assert foreign.name == ""
    assert enrolment.questions.count() == 0


@pytest.mark.parametrize("name", ["polls.poll_list", "polls.poll_select"])
def test_it_hides_poll_administration_from_supervisors(flows, client_for, sam, name):
    assert client_for(sam, flows["enrolment"].org).get(page_url(name)).status_code == 404
    url = page_url("polls.poll_update", flows["enrolment"].pk)
    assert client_for(sam, flows["enrolment"].org).get(url).status_code == 404
