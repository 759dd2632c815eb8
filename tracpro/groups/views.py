from django.contrib import messages
from django.db.models import Count
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django.views.generic import FormView, TemplateView

from tracpro.contacts.models import Contact
from tracpro.groups import services
from tracpro.groups.forms import GroupSelectForm, RegionForm, RegionMoveForm
from tracpro.groups.models import Region, RemoteGroup, ReporterGroup
from tracpro.groups.scope import get_scope, save_choice
from tracpro.orgs.access import AdminRequiredMixin, admin_required


@require_POST
def choose_region(request: HttpRequest) -> HttpResponse:
    """The region switcher: `region` is a region id, or "all" (all the user may see)."""
    scope = get_scope(request)
    choice = request.POST.get("region", "all")
    include_subregions = request.POST.get("include_subregions", "1") == "1"
    region = None
    if choice != "all":
        region = next((r for r in scope.choices() if str(r.pk) == choice), None)
        if region is None:
            return HttpResponseBadRequest("Unknown region.")
    save_choice(request, region, include_subregions)
    next_url = request.POST.get("next", "/")
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        next_url = "/"
    return HttpResponseRedirect(next_url)


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

    template_name = "groups/region_list.html"

    def get_context_data(self, **kwargs):
        org = self.request.org
        regions = Region.objects.in_tree_order(org)
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
    template_name = "groups/group_select.html"
    model: type[Region] | type[ReporterGroup] = Region

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "org": self.request.org, "model": self.model}

    def form_valid(self, form):
        change = services.select_groups(self.request.org, self.model, form.cleaned_data["groups"])
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
    template_name = "groups/region_update.html"
    success_url = reverse_lazy("groups:region_list")

    def dispatch(self, request, *args, **kwargs):
        self.region = get_object_or_404(
            Region.objects.for_org(request.org).active().select_related("org"), pk=kwargs["pk"]
        )
        return super().dispatch(request, *args, **kwargs)

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
    form = RegionMoveForm(request.POST, org=request.org)
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
    template_name = "groups/reportergroup_list.html"

    def get_context_data(self, **kwargs):
        org = self.request.org
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
