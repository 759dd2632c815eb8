from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tracpro.groups.scope import RegionScope
from tracpro.orgs.models import Org, OrgScopedQuerySet

# The field used as the facility code when an admin has not chosen one.
DEFAULT_FACILITY_CODE_KEY = "facility_code"


class DataFieldQuerySet(OrgScopedQuerySet["DataField"]):
    def facility_code(self, org: Org) -> "DataField | None":
        """The org's facility-code field: the one an admin chose, else `facility_code`."""
        fields = self.for_org(org).active()
        chosen = fields.filter(is_facility_code=True).first()
        return chosen or fields.filter(key=DEFAULT_FACILITY_CODE_KEY).first()

    def shown_on_contacts(self, org: Org) -> list["DataField"]:
        """The fields a contact page and form show: the facility code first, then the
        fields admins made visible."""
        facility = self.facility_code(org)
        visible = self.for_org(org).active().filter(is_visible=True)
        if facility is not None:
            visible = visible.exclude(pk=facility.pk)
        return [facility, *visible] if facility else list(visible)


class DataField(models.Model):
    """A RapidPro contact field; admins choose which ones TracPro shows and filters on."""

    class ValueType(models.TextChoices):
        TEXT = "text", _("Text")
        NUMBER = "number", _("Number")
        DATETIME = "datetime", _("Date and time")
        STATE = "state", _("State")
        DISTRICT = "district", _("District")
        WARD = "ward", _("Ward")

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="data_fields")
    key = models.CharField(_("key"), max_length=64)
    label = models.CharField(_("label"), max_length=128)
    value_type = models.CharField(
        _("type"), max_length=16, choices=ValueType.choices, default=ValueType.TEXT
    )
    is_visible = models.BooleanField(
        _("shown in TracPro"),
        default=False,
        help_text=_("Show this field on contacts and offer it as a chart filter."),
    )
    is_active = models.BooleanField(default=True, help_text="False once RapidPro no longer has it.")
    is_facility_code = models.BooleanField(
        _("facility code"),
        default=False,
        help_text=_("This field holds the contact's facility code."),
    )

    objects = DataFieldQuerySet.as_manager()

    class Meta:
        verbose_name = _("contact field")
        verbose_name_plural = _("contact fields")
        ordering = ["label"]
        constraints = [
            models.UniqueConstraint(fields=["org", "key"], name="contacts_datafield_unique_key"),
            models.UniqueConstraint(
                fields=["org"],
                condition=models.Q(is_facility_code=True),
                name="contacts_datafield_one_facility_code",
            ),
        ]

    def __str__(self) -> str:
        return self.label


class PushStatus(models.TextChoices):
    SYNCED = "synced", _("Synced")
    PENDING = "pending", _("Pending")
    FAILED = "failed", _("Failed")


class ContactQuerySet(OrgScopedQuerySet["Contact"]):
    def visible_to(self, scope: RegionScope) -> "ContactQuerySet":
        """The org's contacts within the region scope (active or not)."""
        contacts = self.filter(org=scope.org)
        if scope.region_ids is not None:
            contacts = contacts.filter(region_id__in=scope.region_ids)
        return contacts


class Contact(models.Model):
    """A RapidPro contact: a respondent of polls.

    Contacts created in TracPro have no uuid until RapidPro assigns one.
    """

    class RemoteStatus(models.TextChoices):
        ACTIVE = "active", _("Active")
        BLOCKED = "blocked", _("Blocked")
        STOPPED = "stopped", _("Stopped")
        ARCHIVED = "archived", _("Archived")
        DELETED = "deleted", _("Deleted")

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="contacts")
    uuid = models.CharField(max_length=36, null=True, blank=True)
    name = models.CharField(_("name"), max_length=128, blank=True)
    urn = models.CharField(_("URN"), max_length=255, blank=True, help_text="scheme:path")
    region = models.ForeignKey(
        "groups.Region",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contacts",
        verbose_name=_("region"),
    )
    reporter_groups = models.ManyToManyField(
        "groups.ReporterGroup",
        blank=True,
        related_name="contacts",
        verbose_name=_("reporter groups"),
    )
    language = models.CharField(
        _("language"), max_length=3, blank=True, help_text="ISO 639-3, as RapidPro stores it."
    )
    fields = models.JSONField(_("fields"), default=dict, blank=True)
    remote_status = models.CharField(
        max_length=16, choices=RemoteStatus.choices, default=RemoteStatus.ACTIVE
    )
    is_active = models.BooleanField(_("active"), default=True)
    remote_modified_on = models.DateTimeField(null=True, blank=True)
    # The uuids of every RapidPro group the contact is in, as last synced: the sync
    # recomputes region, reporter groups and is_active from them when admins change
    # which groups TracPro follows, without asking RapidPro again.
    group_uuids = ArrayField(models.CharField(max_length=36), default=list, blank=True)

    push_status = models.CharField(
        max_length=16, choices=PushStatus.choices, default=PushStatus.SYNCED
    )
    push_error = models.TextField(blank=True)
    # Set while a create sent to RapidPro has no known outcome (a timeout, a 5xx):
    # the next attempt first looks the URN up, so a retry never creates a twin.
    create_sent_on = models.DateTimeField(null=True, blank=True)

    created_on = models.DateTimeField(default=timezone.now, editable=False)
    modified_on = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    modified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ContactQuerySet.as_manager()

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["org", "uuid"],
                condition=models.Q(uuid__isnull=False),
                name="contacts_contact_unique_uuid",
            )
        ]
        indexes = [
            models.Index(fields=["org", "region", "is_active"], name="contacts_org_region_active"),
            # Lists of contacts come in this order: a page is read, not sorted.
            models.Index(fields=["org", "name", "id"], name="contacts_org_name"),
            GinIndex(fields=["fields"], name="contacts_fields_gin"),
        ]

    def __str__(self) -> str:
        return self.name or self.urn or str(self.uuid)
