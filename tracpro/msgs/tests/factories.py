import uuid

from django.utils import timezone

from tracpro.contacts.models import Contact
from tracpro.contacts.tests.factories import make_contact
from tracpro.msgs.models import InboxMessage, Message
from tracpro.orgs.models import Org


def make_inbox_message(org: Org, contact: Contact | None = None, **fields) -> InboxMessage:
    fields.setdefault("text", "Hello")
    fields.setdefault("created_on", timezone.now())
    fields.setdefault("direction", InboxMessage.Direction.IN)
    return InboxMessage.objects.create(
        org=org, uuid=str(uuid.uuid4()), contact=contact or make_contact(org), **fields
    )


def make_message(org: Org, recipients: list[Contact] | None = None, **fields) -> Message:
    """A message as actions record it (without batches): sent to `recipients`."""
    recipients = recipients if recipients is not None else [make_contact(org)]
    fields.setdefault("kind", Message.Kind.BROADCAST)
    fields.setdefault("audience", Message.Audience.ALL)
    fields.setdefault("text", "Please answer")
    message = Message.objects.create(org=org, recipient_count=len(recipients), **fields)
    message.recipients.set(recipients)
    return message


# The tenant sweep builds one of each per org to fill URL arguments.
SWEEP_FACTORIES = {
    "msgs.InboxMessage": make_inbox_message,
    "msgs.Message": make_message,
}
