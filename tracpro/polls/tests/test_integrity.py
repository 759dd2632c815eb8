"""The ORM's cascades, not database constraints, remove what references a deleted
row: deleting an org, a contact or a poll leaves nothing pointing nowhere."""

from tracpro.contacts.tests.factories import make_contact
from tracpro.polls.models import Answer, Response
from tracpro.polls.tests.factories import make_answer, make_pollrun, make_question, make_response
from tracpro.polls.tests.integrity import dangling_rows


def answered(org, contact=None) -> Response:
    question = make_question(org, "boys")
    response = make_response(make_pollrun(question.poll), contact)
    make_answer(response, question, "4")
    return response


def test_deleting_an_org_deletes_its_responses_and_answers(acme, beta):
    answered(acme)
    kept = answered(beta)

    acme.delete()

    assert list(Response.objects.all()) == [kept]
    assert Answer.objects.get().response == kept
    assert dangling_rows() == {}


def test_deleting_a_contact_or_a_poll_deletes_their_responses_and_answers(acme):
    contact = make_contact(acme)
    answered(acme, contact)
    other = answered(acme)

    contact.delete()
    assert list(Response.objects.all()) == [other]

    other.pollrun.poll.delete()
    assert not Response.objects.exists() and not Answer.objects.exists()
    assert dangling_rows() == {}


def test_the_check_finds_what_dangles(acme):
    response = answered(acme)
    Response.objects.filter(pk=response.pk)._raw_delete(Response.objects.db)

    assert dangling_rows() == {"answer.response": 1}
