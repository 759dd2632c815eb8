import zoneinfo
from datetime import date, datetime
from typing import Any, Self, TypeVar

from django_hosts.resolvers import reverse as reverse_host

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from tracpro.orgs.validators import validate_subdomain, validate_timezone

_M = TypeVar("_M", bound=models.Model)


class OrgScopedQuerySet(models.QuerySet[_M]):
    """Base queryset for org-owned models: views start every query with `for_org`."""

    def for_org(self, org: "Org") -> Self:
        return self.filter(org=org)

    def active(self) -> Self:
        return self.filter(is_active=True)


class SameDayRule(models.TextChoices):
    LAST = "last", _("Use the last answer of the day")
    SUM = "sum", _("Sum the answers of the day")


class OrgQuerySet(models.QuerySet["Org"]):
    def active(self) -> "OrgQuerySet":
        return self.filter(is_active=True)

    def syncable(self) -> "OrgQuerySet":
        """Active orgs that can reach RapidPro."""
        return self.active().exclude(api_token="").exclude(api_url="")

    def for_user(self, user) -> "OrgQuerySet":
        """The active orgs a user may enter: all for superusers, else their memberships."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.active()
        return self.active().filter(memberships__user=user)


class Org(models.Model):
    """An organization: one RapidPro workspace, served on its own subdomain."""

    name = models.CharField(_("name"), max_length=128)
    subdomain = models.CharField(
        _("subdomain"),
        max_length=63,
        unique=True,
        validators=[validate_subdomain],
        help_text=_("The org is served at <subdomain>.%(host)s.") % {"host": settings.PARENT_HOST},
    )
    timezone = models.CharField(
        _("time zone"), max_length=64, default="UTC", validators=[validate_timezone]
    )
    # The RapidPro workspace's own time zone (its org endpoint), kept by each flows sync.
    workspace_timezone = models.CharField(max_length=64, blank=True)
    language = models.CharField(
        _("default language"), max_length=10, choices=settings.LANGUAGES, default="en"
    )
    languages = ArrayField(
        models.CharField(max_length=10, choices=settings.LANGUAGES),
        verbose_name=_("available languages"),
        default=list,
        blank=True,
        help_text=_("Languages users of this org may switch to."),
    )
    api_url = models.URLField(
        _("RapidPro URL"),
        default="https://app.rapidpro.io",
        help_text=_("The address of the RapidPro server, e.g. https://app.rapidpro.io"),
    )
    api_token = models.CharField(
        _("RapidPro API token"),
        max_length=128,
        blank=True,
        help_text=_("From the API token page of the RapidPro workspace."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    show_spoof_data = models.BooleanField(
        _("show spoof data"),
        default=False,
        help_text=_("Allow users to generate sample data for Recent Indicators."),
    )
    same_day_rule = models.CharField(
        _("answers on the same day"),
        max_length=8,
        choices=SameDayRule.choices,
        default=SameDayRule.LAST,
        help_text=_("How to count a contact's repeated numeric answers on one (org-local) day."),
    )
    created_on = models.DateTimeField(default=now, editable=False)
    modified_on = models.DateTimeField(auto_now=True)

    objects = OrgQuerySet.as_manager()

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse_host("home", host="org", host_args=(self.subdomain,))

    def clean(self) -> None:
        super().clean()
        if self.languages and self.language not in self.languages:
            raise ValidationError(
                {"language": _("The default language must be one of the available languages.")}
            )

    @property
    def available_languages(self) -> list[tuple[str, str]]:
        """(code, name) pairs users of this org may switch to, default first."""
        codes = [self.language, *(c for c in self.languages if c != self.language)]
        names = dict(settings.LANGUAGES)
        return [(code, names[code]) for code in codes if code in names]

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    def local_date(self, moment: datetime) -> date:
        """The org-local calendar day of an aware datetime."""
        return moment.astimezone(self.tz).date()


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    SUPERVISOR = "supervisor", _("Supervisor")


class Membership(models.Model):
    """A user's role in an org. Supervisors see their regions and all sub-regions."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    regions = models.ManyToManyField(
        "groups.Region",
        blank=True,
        related_name="supervisor_memberships",
        verbose_name=_("regions"),
        help_text=_("Supervisors see these regions and all their sub-regions."),
    )
    # The region switcher's choice, remembered per user and org.
    current_region = models.ForeignKey(
        "groups.Region", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    include_subregions = models.BooleanField(default=True)
    created_on = models.DateTimeField(default=now, editable=False)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "org"], name="orgs_membership_unique_user_org")
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}) in {self.org}"

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


class SyncKind(models.TextChoices):
    FLOWS = "flows", _("Flows")
    FIELDS = "fields", _("Contact fields")
    GROUPS = "groups", _("Groups")
    CONTACTS = "contacts", _("Contacts")
    RUNS = "runs", _("Runs")
    BOUNDARIES = "boundaries", _("Boundaries")
    INBOX = "inbox", _("Inbox messages")
    RECONCILE = "reconcile", _("Reconciliation")


class SyncStatus(models.TextChoices):
    NEVER = "never", _("Never run")
    RUNNING = "running", _("Running")
    RETRYING = "retrying", _("Waiting to retry")
    WAITING = "waiting", _("Waiting for RapidPro's rate limit")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class SyncState(models.Model):
    """Bookkeeping for one kind of per-org background task (usually a RapidPro sync).

    Written by `tracpro.orgs.tasks.org_task`; the sync itself keeps `cursor`,
    `watermark`, `counts` and progress up to date as it goes.
    """

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="sync_states")
    kind = models.CharField(max_length=32, choices=SyncKind.choices)
    status = models.CharField(max_length=16, choices=SyncStatus.choices, default=SyncStatus.NEVER)
    started_on = models.DateTimeField(null=True, blank=True)
    finished_on = models.DateTimeField(null=True, blank=True)
    last_success_on = models.DateTimeField(null=True, blank=True)
    failures = models.PositiveIntegerField(default=0, help_text="Consecutive failed runs.")
    last_error = models.TextField(blank=True)
    # Where an interrupted run resumes (an opaque RapidPro cursor) and the
    # `modified_on` up to which everything has been mirrored.
    cursor = models.TextField(blank=True)
    watermark = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(null=True, blank=True)
    # What the running sync is doing now, e.g. "Runs of Enrolment (backfill)".
    progress_label = models.CharField(max_length=255, blank=True)
    # Set while the sync waits for RapidPro's rate limit: it continues by itself then.
    resume_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("sync state")
        verbose_name_plural = _("sync states")
        constraints = [
            models.UniqueConstraint(fields=["org", "kind"], name="orgs_syncstate_unique_org_kind")
        ]

    def __str__(self) -> str:
        return f"{self.org} {self.kind}: {self.status}"

    @property
    def is_failing(self) -> bool:
        return self.failures > 0

    def save_progress(self, done: int, total: int | None = None, **fields: Any) -> None:
        self.progress_done = done
        self.progress_total = total
        for name, value in fields.items():
            setattr(self, name, value)
        self.save(update_fields=["progress_done", "progress_total", *fields])
