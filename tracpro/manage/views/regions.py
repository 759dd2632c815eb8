"""Administration > Regions and Reporter groups: choose RapidPro groups, arrange
regions in a hierarchy, link them to boundaries."""

from django.contrib import messages
from django.db.models import Count
from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse_lazy
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django.views.generic import FormView, TemplateView

from tracpro.contacts.models import Contact
from tracpro.groups import services
from tracpro.groups.forms import GroupSelectForm, RegionForm, RegionMoveForm
from tracpro.groups.models import Region, RemoteGroup, ReporterGroup
from tracpro.groups.views import AdminRequiredMixin, admin_required, get_scope


def active_contact_counts(org, field: str) -> dict[int, int]:
    """Active contacts per region (field="region") or per reporter group."""
    rows = (
        Contact.objects.for_org(org)
        .active()
        .filter(**{f"{field}__isnull": False})
        .values(field)
        .annotate(count=Count("pk", distinct=True))
    )
    return {row[field]: row["count"] for row in rows}


def missing_in_rapidpro(org, items) -> set[str]:
    """uuids of chosen groups that RapidPro no longer has."""
    present = set(RemoteGroup.objects.for_org(org).active().values_list("uuid", flat=True))
    return {item.uuid for item in items if item.uuid not in present}


class RegionListView(AdminRequiredMixin, TemplateView):
    """Regions as a tree: contact counts, boundaries, and drag and drop to re-arrange."""

    template_name = "manage/region_list.html"

    def get_context_data(self, **kwargs):
        org = self.scope.org
        regions = self.scope.tree.in_order()
        boundaries = {r.boundary_id for r in regions if r.boundary_id}
        names = dict(org.boundaries.filter(pk__in=boundaries).values_list("pk", "name"))
        direct = active_contact_counts(org, "region")
        totals = {region.pk: direct.get(region.pk, 0) for region in regions}
        for region in reversed(regions):  # tree order: descendants come after ancestors
            if region.parent_id in totals:
                totals[region.parent_id] += totals[region.pk]
        missing = missing_in_rapidpro(org, regions)
        for region in regions:
            region.direct_contacts = direct.get(region.pk, 0)
            region.total_contacts = totals.get(region.pk, 0)
            region.boundary_name = names.get(region.boundary_id, "")
            region.missing = region.uuid in missing
        return super().get_context_data(
            regions=regions,
            title=_("Regions"),
            unassigned=Contact.objects.for_org(org).active().filter(region=None).count(),
            **kwargs,
        )


class GroupSelectView(AdminRequiredMixin, FormView):
    """Choose RapidPro groups as regions or reporter groups."""

    form_class = GroupSelectForm
    template_name = "manage/group_select.html"
    model: type[Region] | type[ReporterGroup] = Region

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "org": self.scope.org, "model": self.model}

    def form_valid(self, form):
        change = services.select_groups(self.scope.org, self.model, form.cleaned_data["groups"])
        if change.changed:
            messages.success(
                self.request,
                _("Saved. TracPro is now fetching the contacts of the chosen groups."),
            )
        else:
            messages.info(self.request, _("Nothing changed."))
        return redirect(self.get_success_url())


class RegionSelectView(GroupSelectView):
    model = Region
    success_url = reverse_lazy("groups:region_list")
    extra_context = {
        "title": gettext_lazy("Choose regions"),
        "intro": gettext_lazy(
            "Tick the RapidPro contact groups that stand for places (districts, "
            "provinces...). You can arrange them in a hierarchy afterwards."
        ),
    }


class ReporterGroupSelectView(GroupSelectView):
    model = ReporterGroup
    success_url = reverse_lazy("groups:reportergroup_list")
    extra_context = {
        "title": gettext_lazy("Choose reporter groups"),
        "intro": gettext_lazy(
            "Tick the RapidPro contact groups that stand for kinds of reporters "
            "(head teachers, grade 5 teachers...)."
        ),
    }


class RegionUpdateView(AdminRequiredMixin, FormView):
    """A region's parent and boundary."""

    form_class = RegionForm
    model = Region
    template_name = "manage/region_update.html"
    success_url = reverse_lazy("groups:region_list")

    @cached_property
    def region(self) -> Region:
        regions = Region.objects.for_org(self.scope.org).active().select_related("org")
        return get_object_or_404(regions, pk=self.kwargs["pk"])

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "region": self.region}

    def get_context_data(self, **kwargs):
        title = _("Edit %(region)s") % {"region": self.region.name}
        return super().get_context_data(region=self.region, title=title, **kwargs)

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            services.update_region(self.region, data["parent"], data["boundary"])
        except services.HierarchyError as error:
            form.add_error("parent", str(error))
            return self.form_invalid(form)
        messages.success(self.request, _("%(region)s saved.") % {"region": self.region.name})
        return super().form_valid(form)


@admin_required
@require_POST
def move_region(request: HttpRequest) -> JsonResponse:
    """Drag and drop on the region list: JSON in, JSON out (the page then reloads)."""
    scope = get_scope(request, admin=True)
    form = RegionMoveForm(request.POST, org=scope.org)
    if not form.is_valid():
        return JsonResponse({"error": _("That region no longer exists.")}, status=400)
    region, parent = form.cleaned_data["region"], form.cleaned_data["parent"]
    try:
        services.move_region(region, parent)
    except services.HierarchyError as error:
        return JsonResponse({"error": str(error)}, status=400)
    if parent is None:
        message = _("%(region)s is now a top-level region.") % {"region": region.name}
    else:
        message = _("%(region)s is now inside %(parent)s.") % {
            "region": region.name,
            "parent": parent.name,
        }
    messages.success(request, message)
    return JsonResponse({"ok": True, "message": message})


class ReporterGroupListView(AdminRequiredMixin, TemplateView):
    template_name = "manage/reportergroup_list.html"

    def get_context_data(self, **kwargs):
        org = self.scope.org
        groups = list(ReporterGroup.objects.for_org(org).active().order_by("name"))
        counts = active_contact_counts(org, "reporter_groups")
        missing = missing_in_rapidpro(org, groups)
        for group in groups:
            group.contact_count = counts.get(group.pk, 0)
            group.missing = group.uuid in missing
        without = Contact.objects.for_org(org).active().filter(reporter_groups=None).count()
        return super().get_context_data(
            groups=groups, title=_("Reporter groups"), without_group=without, **kwargs
        )
