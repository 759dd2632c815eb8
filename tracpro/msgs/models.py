"""Messages: what contacts wrote outside flows (the inbox), and everything TracPro
sends them (the message log): poll starts, restarts, messages to a poll date's
contacts and replies.

A `Message` is recorded the moment a user asks, with its recipients, and sent by a
task in batches of at most 100 contacts (`MessageBatch`, see tracpro.rapidpro.sending).
"""

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tracpro.groups.scope import RegionScope
from tracpro.orgs.models import Org, OrgScopedQuerySet

# The longest text RapidPro accepts (the server's Msg.MAX_TEXT_LEN).
MAX_TEXT_LENGTH = 4096
# The most contacts one flow start or broadcast request may name.
BATCH_SIZE = 100


class InboxMessageQuerySet(OrgScopedQuerySet["InboxMessage"]):
    def visible_to(self, scope: RegionScope) -> "InboxMessageQuerySet":
        """Messages of the scope's contacts."""
        messages = self.for_org(scope.org)
        if scope.region_ids is not None:
            messages = messages.filter(contact__region_id__in=scope.region_ids)
        return messages

    def unanswered(self) -> "InboxMessageQuerySet":
        return self.filter(
            direction=InboxMessage.Direction.IN, is_archived=False, replied_on__isnull=True
        )


class InboxMessage(models.Model):
    """A message a contact sent outside any flow (RapidPro's inbox)."""

    class Direction(models.TextChoices):
        IN = "in", _("Incoming")
        OUT = "out", _("Outgoing")

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="inbox_messages")
    uuid = models.CharField(max_length=36)
    # RapidPro's integer id: message_actions (archive) names messages by it.
    remote_id = models.BigIntegerField(null=True, blank=True)
    contact = models.ForeignKey(
        "contacts.Contact", on_delete=models.CASCADE, related_name="inbox_messages"
    )
    direction = models.CharField(max_length=3, choices=Direction.choices)
    text = models.TextField(blank=True)
    labels = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    is_archived = models.BooleanField(default=False)
    # Set when an archive asked in TracPro could not reach RapidPro (and was undone).
    archive_error = models.TextField(blank=True)
    # When someone replied from TracPro (to this or a later message of the contact).
    replied_on = models.DateTimeField(null=True, blank=True)
    created_on = models.DateTimeField()
    sent_on = models.DateTimeField(null=True, blank=True)
    remote_modified_on = models.DateTimeField(null=True, blank=True)

    objects = InboxMessageQuerySet.as_manager()

    class Meta:
        verbose_name = _("inbox message")
        verbose_name_plural = _("inbox messages")
        ordering = ["-created_on"]
        constraints = [
            models.UniqueConstraint(fields=["org", "uuid"], name="msgs_inboxmessage_unique_uuid")
        ]
        indexes = [
            models.Index(fields=["contact", "-created_on"], name="msgs_inbox_contact"),
            models.Index(fields=["org", "-created_on"], name="msgs_inbox_org_created"),
        ]

    def __str__(self) -> str:
        return self.text[:40]


class MessageQuerySet(OrgScopedQuerySet["Message"]):
    def visible_to(self, scope: RegionScope) -> "MessageQuerySet":
        """What concerns the scope: messages with at least one recipient in its regions."""
        messages = self.for_org(scope.org)
        if scope.region_ids is None:
            return messages
        in_scope = Message.recipients.through.objects.filter(
            message=OuterRef("pk"), contact__region_id__in=scope.region_ids
        )
        return messages.filter(Exists(in_scope))


class Message(models.Model):
    """Something TracPro sent (or is sending) to contacts through RapidPro."""

    class Kind(models.TextChoices):
        START = "start", _("Poll start")
        RESTART = "restart", _("Restart")
        BROADCAST = "message", _("Message")
        REPLY = "reply", _("Reply")

    class Audience(models.TextChoices):
        REGION = "region", _("Contacts of the region")
        ALL = "all", _("Everyone reached")
        RESPONDENTS = "respondents", _("Respondents (complete)")
        NON_RESPONDENTS = "non_respondents", _("Non-respondents (no answer)")
        INCOMPLETE = "incomplete", _("Incomplete (partial answers)")
        NOT_COMPLETE = "not_complete", _("Everyone who did not complete")
        CONTACT = "contact", _("One contact")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        WAITING = "waiting", _("Waiting for RapidPro")
        SENT = "sent", _("Sent")
        PARTLY_SENT = "partly_sent", _("Partly sent")
        FAILED = "failed", _("Failed")

    FINISHED = (Status.SENT, Status.PARTLY_SENT, Status.FAILED)

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("sent by"),
    )
    created_on = models.DateTimeField(_("sent on"), default=timezone.now)
    text = models.TextField(_("text"), blank=True)
    audience = models.CharField(_("audience"), max_length=16, choices=Audience.choices)
    pollrun = models.ForeignKey(
        "polls.PollRun",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
        verbose_name=_("poll date"),
    )
    # The region the sender chose (None: the whole org, or all of a supervisor's regions).
    region = models.ForeignKey(
        "groups.Region", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    include_subregions = models.BooleanField(default=True)
    contact = models.ForeignKey(
        "contacts.Contact",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The contact a reply went to.",
    )
    recipients = models.ManyToManyField(
        "contacts.Contact", related_name="received_messages", blank=True
    )
    recipient_count = models.PositiveIntegerField(_("recipients"), default=0)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    sent_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    # While waiting: when the task tries again (a 429's Retry-After).
    retry_on = models.DateTimeField(null=True, blank=True)
    finished_on = models.DateTimeField(null=True, blank=True)
    updated_on = models.DateTimeField(auto_now=True)
    # The form's one-time key: a second submission of the same form (a double click)
    # finds this message instead of sending again.
    request_key = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    objects = MessageQuerySet.as_manager()

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["-created_on", "-pk"]
        indexes = [models.Index(fields=["org", "-created_on"], name="msgs_message_org_created")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.created_on:%Y-%m-%d %H:%M}"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED


class MessageBatch(models.Model):
    """Up to BATCH_SIZE recipients of a message, sent with one RapidPro request.

    `key` is the batch's idempotency key, stored before any call: RapidPro's start
    carries it (params), and after an answer was lost the sender looks the start or
    broadcast up in RapidPro before it sends again.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="batches")
    number = models.PositiveIntegerField()
    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    contact_uuids = ArrayField(models.CharField(max_length=36), default=list)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    # Set (and committed) just before each call: from then on the call may have
    # reached RapidPro, and the next attempt looks for it first.
    attempted_on = models.DateTimeField(null=True, blank=True)
    # RapidPro's uuid of the flow start, broadcast or message.
    remote_uuid = models.CharField(max_length=36, blank=True)
    error = models.TextField(blank=True)
    sent_on = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["message", "number"]
        constraints = [
            models.UniqueConstraint(fields=["message", "number"], name="msgs_batch_unique_number")
        ]
        indexes = [
            models.Index(
                fields=["remote_uuid"],
                condition=~models.Q(remote_uuid=""),
                name="msgs_batch_remote_uuid",
            )
        ]

    def __str__(self) -> str:
        return f"{self.message_id}/{self.number}"
