import uuid
from datetime import datetime

from django.utils import timezone

from tracpro.contacts.models import Contact
from tracpro.contacts.tests.factories import make_contact
from tracpro.orgs.models import Org
from tracpro.polls.models import (
    Answer,
    Poll,
    PollRun,
    Question,
    QuestionType,
    Response,
    ResponseStatus,
)


def make_poll(org: Org, name: str = "Poll", **fields) -> Poll:
    fields.setdefault("is_active", True)
    fields.setdefault("flow_uuid", str(uuid.uuid4()))
    return Poll.objects.create(org=org, rapidpro_name=name, **fields)


def make_question(
    poll: Poll | Org, key: str = "number", question_type: str = QuestionType.NUMERIC, **fields
) -> Question:
    if isinstance(poll, Org):
        poll = make_poll(poll)
    fields.setdefault("rapidpro_name", key.replace("_", " ").title())
    return Question.objects.create(poll=poll, result_key=key, question_type=question_type, **fields)


def make_pollrun(poll: Poll | Org, conducted_on: datetime | None = None, **fields) -> PollRun:
    if isinstance(poll, Org):
        poll = make_poll(poll)
    conducted_on = conducted_on or timezone.now()
    fields.setdefault("kind", PollRun.Kind.START)
    if fields["kind"] == PollRun.Kind.START:
        fields.setdefault("start_uuid", str(uuid.uuid4()))
    return PollRun.objects.create(
        poll=poll,
        conducted_on=conducted_on,
        local_date=poll.org.local_date(conducted_on),
        **fields,
    )


def make_response(
    pollrun: PollRun | Org,
    contact: Contact | None = None,
    status: str = ResponseStatus.COMPLETE,
    **fields,
) -> Response:
    if isinstance(pollrun, Org):
        pollrun = make_pollrun(pollrun)
    org = pollrun.poll.org
    contact = contact or make_contact(org)
    moment = fields.pop("created_on", pollrun.conducted_on)
    return Response.objects.create(
        org=org,
        run_uuid=str(uuid.uuid4()),
        pollrun=pollrun,
        contact=contact,
        status=status,
        created_on=moment,
        updated_on=fields.pop("updated_on", moment),
        remote_modified_on=fields.pop("remote_modified_on", moment),
        **fields,
    )


def make_answer(
    response: Response,
    question: Question,
    value: str | float,
    category: str = "",
    **fields,
) -> Answer:
    """An answer as the sync stores it: numbers parsed, `value_to_use` set for numeric questions."""
    text = str(value)
    try:
        number = float(text)
    except ValueError:
        number = None
    fields.setdefault("number", number)
    fields.setdefault("contact", response.contact)
    if question.question_type == QuestionType.NUMERIC:
        fields.setdefault("value_to_use", number)
    submitted_on = fields.pop("submitted_on", response.updated_on)
    return Answer.objects.create(
        response=response,
        question=question,
        value=text,
        category=category,
        submitted_on=submitted_on,
        local_date=response.org.local_date(submitted_on),
        **fields,
    )


SWEEP_FACTORIES = {
    "polls.Poll": make_poll,
    "polls.Question": make_question,
    "polls.PollRun": make_pollrun,
    "polls.Response": make_response,
}
