from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

from tracpro.orgs.models import Org, SyncKind


class SyncStream(models.Model):
    """How far one paged RapidPro query has got, so an interrupted sync resumes.

    Each kind that pulls incrementally has a main stream (name "") over everything
    modified since its watermark (`after`). Named streams: "deleted" pulls the
    contacts RapidPro deleted; backfills pull from the beginning, once: "flow:<uuid>"
    a newly selected poll's runs, "group:<uuid>" a newly followed group's contacts.

    A pass keeps `after` fixed, so its cursor stays valid; the cursor and
    `high_water` are saved in the same transaction as the page they follow. When the
    pass ends, `after` moves just past `high_water` and the cursor is cleared.
    """

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="sync_streams")
    kind = models.CharField(max_length=32, choices=SyncKind.choices)
    name = models.CharField(max_length=64, blank=True)
    after = models.DateTimeField(
        null=True, blank=True, help_text="Everything modified before it is mirrored."
    )
    cursor = models.TextField(blank=True, help_text="Where the pass in progress resumes.")
    high_water = models.DateTimeField(
        null=True, blank=True, help_text="The newest modified_on the pass in progress has seen."
    )
    finished_on = models.DateTimeField(null=True, blank=True)
    # What the mirrored rows were derived with (e.g. the same-day rule); a change
    # makes the sync recompute them locally.
    params = models.JSONField(default=dict, blank=True)
    updated_on = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("sync stream")
        verbose_name_plural = _("sync streams")
        constraints = [
            models.UniqueConstraint(
                fields=["org", "kind", "name"], name="rapidpro_syncstream_unique_name"
            )
        ]

    def __str__(self) -> str:
        return f"{self.org} {self.kind} {self.name or 'main'}"


class RunArchive(models.Model):
    """A RapidPro run archive (rp-archiver's gzipped JSON lines) the sync has read,
    and for which flows: a poll selected later needs it read again for its runs."""

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="run_archives")
    hash = models.CharField(max_length=64, help_text="MD5 of the archive file, as listed.")
    start_date = models.DateField()
    period = models.CharField(max_length=16)
    record_count = models.PositiveIntegerField(default=0)
    flow_uuids = ArrayField(models.CharField(max_length=36), default=list, blank=True)
    imported_on = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("run archive")
        verbose_name_plural = _("run archives")
        constraints = [
            models.UniqueConstraint(fields=["org", "hash"], name="rapidpro_runarchive_unique_hash")
        ]

    def __str__(self) -> str:
        return f"{self.org} {self.period} {self.start_date}"
