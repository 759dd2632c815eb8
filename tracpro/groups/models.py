from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from tracpro.orgs.models import Org, OrgScopedQuerySet


class RemoteGroup(models.Model):
    """A contact group as RapidPro has it; admins pick regions and reporter groups from these."""

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="remote_groups")
    uuid = models.CharField(max_length=36)
    name = models.CharField(_("name"), max_length=128)
    query = models.TextField(blank=True, help_text="The query of a smart group; blank otherwise.")
    member_count = models.PositiveIntegerField(_("contacts"), default=0)
    is_active = models.BooleanField(default=True, help_text="False once RapidPro no longer has it.")
    synced_on = models.DateTimeField(null=True, blank=True)

    objects = OrgScopedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["org", "uuid"], name="groups_remotegroup_unique_uuid")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_smart(self) -> bool:
        return bool(self.query)


class Boundary(models.Model):
    """An administrative boundary from RapidPro (0 country, 1 state, 2 district)."""

    class Level(models.IntegerChoices):
        COUNTRY = 0, _("Country")
        STATE = 1, _("State")
        DISTRICT = 2, _("District")

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="boundaries")
    osm_id = models.CharField(max_length=32)
    name = models.CharField(_("name"), max_length=128)
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    aliases = models.JSONField(default=list, blank=True)
    geometry = models.JSONField(null=True, blank=True, help_text="GeoJSON as RapidPro sent it.")
    simplified_geometry = models.JSONField(
        null=True, blank=True, help_text="A simplified copy of the geometry for maps."
    )

    objects = OrgScopedQuerySet.as_manager()

    class Meta:
        verbose_name_plural = _("boundaries")
        ordering = ["level", "name"]
        constraints = [
            models.UniqueConstraint(fields=["org", "osm_id"], name="groups_boundary_unique_osm_id")
        ]

    def __str__(self) -> str:
        return self.name


class Region(models.Model):
    """A RapidPro contact group chosen as a region; regions form a tree in TracPro."""

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="regions")
    uuid = models.CharField(max_length=36)
    name = models.CharField(_("name"), max_length=128)
    is_active = models.BooleanField(_("active"), default=True)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="children",
        verbose_name=_("parent region"),
    )
    boundary = models.ForeignKey(
        Boundary,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="regions",
        verbose_name=_("boundary"),
    )

    objects = OrgScopedQuerySet.as_manager()

    # Not stored: set on the regions of a tree walk (RegionTree.in_order, RegionScope.choices).
    depth: int
    indented_name: str

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["org", "uuid"], name="groups_region_unique_uuid")
        ]

    def __str__(self) -> str:
        return self.name

    def deactivate(self) -> None:
        """Stop following this region. Its children move up to its parent, and
        supervisors assigned to it keep their access through its children."""
        with transaction.atomic():
            children = list(self.children.filter(is_active=True))
            self.children.update(parent=self.parent)
            for membership in self.supervisor_memberships.all():
                membership.regions.remove(self)
                membership.regions.add(*children)
            self.is_active = False
            self.parent = None
            self.save(update_fields=["is_active", "parent"])


class ReporterGroup(models.Model):
    """A RapidPro contact group chosen as a reporter group (e.g. Head Teachers)."""

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="reporter_groups")
    uuid = models.CharField(max_length=36)
    name = models.CharField(_("name"), max_length=128)
    is_active = models.BooleanField(_("active"), default=True)

    objects = OrgScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("reporter group")
        verbose_name_plural = _("reporter groups")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["org", "uuid"], name="groups_reportergroup_unique_uuid")
        ]

    def __str__(self) -> str:
        return self.name
