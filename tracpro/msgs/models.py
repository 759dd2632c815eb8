from django.db import models
from django.utils.translation import gettext_lazy as _

from tracpro.orgs.models import Org, OrgScopedQuerySet


class InboxMessage(models.Model):
    """A message a contact sent outside any flow (RapidPro's inbox), or our reply."""

    class Direction(models.TextChoices):
        IN = "in", _("Incoming")
        OUT = "out", _("Outgoing")

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="inbox_messages")
    uuid = models.CharField(max_length=36)
    contact = models.ForeignKey(
        "contacts.Contact", on_delete=models.CASCADE, related_name="inbox_messages"
    )
    direction = models.CharField(max_length=3, choices=Direction.choices)
    text = models.TextField(blank=True)
    is_archived = models.BooleanField(default=False)
    created_on = models.DateTimeField()
    sent_on = models.DateTimeField(null=True, blank=True)
    remote_modified_on = models.DateTimeField(null=True, blank=True)

    objects = OrgScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("inbox message")
        verbose_name_plural = _("inbox messages")
        ordering = ["-created_on"]
        constraints = [
            models.UniqueConstraint(fields=["org", "uuid"], name="msgs_inboxmessage_unique_uuid")
        ]
        indexes = [models.Index(fields=["contact", "-created_on"], name="msgs_inbox_contact")]

    def __str__(self) -> str:
        return self.text[:40]
