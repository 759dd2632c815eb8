from django import forms
from django.utils.translation import gettext_lazy as _

from tracpro.groups.models import Boundary, Region, RemoteGroup, ReporterGroup
from tracpro.groups.services import parent_choices
from tracpro.orgs.models import Org


class GroupSelectForm(forms.Form):
    """Choose which RapidPro groups are regions (or reporter groups).

    Smart groups cannot be chosen (RapidPro decides their members, so TracPro
    could not move contacts in or out), nor groups already used as the other kind.
    """

    groups = forms.ModelMultipleChoiceField(
        queryset=RemoteGroup.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    def __init__(self, *args, org: Org, model: type[Region] | type[ReporterGroup], **kwargs):
        super().__init__(*args, **kwargs)
        self.org = org
        self.model = model
        other = ReporterGroup if model is Region else Region
        self.taken_uuids = set(other.objects.for_org(org).active().values_list("uuid", flat=True))
        self.fields["groups"].queryset = RemoteGroup.objects.for_org(org).active()
        self.fields["groups"].initial = list(
            RemoteGroup.objects.for_org(org).filter(
                uuid__in=model.objects.for_org(org).active().values("uuid")
            )
        )

    def unavailable_reason(self, group: RemoteGroup) -> str:
        if group.is_smart:
            return str(_("Smart group: RapidPro decides who is in it."))
        if group.uuid in self.taken_uuids:
            if self.model is Region:
                return str(_("Already a reporter group."))
            return str(_("Already a region."))
        return ""

    def rows(self) -> list[dict]:
        """One row per RapidPro group for the template: checked, and why not if disabled."""
        if self.is_bound:
            chosen = {str(value) for value in self.data.getlist("groups")}
        else:
            chosen = {str(group.pk) for group in self.fields["groups"].initial}
        return [
            {
                "group": group,
                "checked": str(group.pk) in chosen,
                "unavailable": self.unavailable_reason(group),
            }
            for group in self.fields["groups"].queryset.order_by("name")
        ]

    def clean_groups(self):
        groups = self.cleaned_data["groups"]
        refused = [group.name for group in groups if self.unavailable_reason(group)]
        if refused:
            raise forms.ValidationError(
                _("These groups cannot be chosen: %(names)s."), params={"names": ", ".join(refused)}
            )
        return groups


class TreeChoiceField(forms.ModelChoiceField):
    """Regions indented by their depth in the hierarchy."""

    def label_from_instance(self, region: Region) -> str:
        return "\u2003" * getattr(region, "depth", 0) + region.name


class BoundaryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, boundary: Boundary) -> str:
        return f"{boundary.name} ({boundary.get_level_display()})"


class RegionForm(forms.Form):
    parent = TreeChoiceField(
        label=_("Parent region"),
        queryset=Region.objects.none(),
        required=False,
        empty_label=_("None (a top-level region)"),
    )
    boundary = BoundaryChoiceField(
        label=_("Boundary"),
        queryset=Boundary.objects.none(),
        required=False,
        empty_label=_("No boundary"),
        help_text=_("The area this region covers on maps."),
    )

    def __init__(self, *args, region: Region, **kwargs):
        super().__init__(*args, **kwargs)
        self.region = region
        # Every active region is accepted here so that a cycle gets a clear
        # message from the service rather than a generic "invalid choice".
        parent_field = self.fields["parent"]
        parent_field.queryset = Region.objects.for_org(region.org).active()
        allowed = parent_choices(region)
        parent_field.choices = [("", parent_field.empty_label)] + [
            (choice.pk, parent_field.label_from_instance(choice)) for choice in allowed
        ]
        self.fields["boundary"].queryset = Boundary.objects.for_org(region.org).order_by(
            "level", "name"
        )
        self.initial.setdefault("parent", region.parent_id)
        self.initial.setdefault("boundary", region.boundary_id)


class RegionMoveForm(forms.Form):
    """A drag and drop in the hierarchy: `region` goes under `parent` (blank = top level)."""

    region = forms.ModelChoiceField(queryset=Region.objects.none())
    parent = forms.ModelChoiceField(queryset=Region.objects.none(), required=False)

    def __init__(self, *args, org: Org, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("region", "parent"):
            self.fields[name].queryset = Region.objects.for_org(org).active()
