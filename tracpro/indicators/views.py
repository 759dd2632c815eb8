"""Recent indicators: list, page (chart, summary, series export), create, edit,
delete; spoof data for admins of orgs that show it.

Indicators belong to the org; admins and supervisors manage them. What an
indicator shows is always limited to the viewer's region scope: the filters
start from it (`tracpro.dashboards.forms.FilterForm`), so a supervisor's chart,
summary and export hold only their regions.
"""

from typing import cast

from django.contrib import messages
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse, reverse_lazy
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST
from django.views.generic import CreateView, DeleteView, DetailView, FormView, ListView, UpdateView

from tracpro.accounts.models import User
from tracpro.charts.filters import DateRange, NumericDisplay
from tracpro.contacts.models import Contact
from tracpro.dashboards.views import FilteredMixin, with_query, without
from tracpro.exports.files import CSV, export_filename, table_response
from tracpro.groups.views import AdminRequiredMixin, ScopedMixin, admin_required, get_scope
from tracpro.indicators import data
from tracpro.indicators.forms import IndicatorForm, SpoofForm
from tracpro.indicators.models import Indicator
from tracpro.polls import spoof

PAGE_SIZE = 50


# The stubs take the mixins' class attributes for conflicting redefinitions of the
# generic views' (hence the `type: ignore[misc]` on the views that combine them).
class IndicatorMixin(ScopedMixin):
    model = Indicator

    def get_queryset(self) -> QuerySet[Indicator]:
        return Indicator.objects.for_org(self.scope.org).with_questions()


class IndicatorListView(IndicatorMixin, ListView):  # type: ignore[misc]
    template_name = "indicators/indicator_list.html"
    context_object_name = "indicators"
    paginate_by = PAGE_SIZE

    def get_context_data(self, **kwargs):
        return super().get_context_data(title=_("Recent indicators"), **kwargs)


class IndicatorFormMixin(IndicatorMixin):
    form_class = IndicatorForm
    template_name = "indicators/indicator_form.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "org": self.scope.org}

    def form_valid(self, form) -> HttpResponse:
        if form.instance.pk is None:
            form.instance.created_by = self.request.user
        self.object = form.save()
        messages.success(self.request, _("%(name)s was saved.") % {"name": self.object})
        return redirect("indicators:read", pk=self.object.pk)


class IndicatorCreateView(IndicatorFormMixin, CreateView):  # type: ignore[misc]
    def get_context_data(self, **kwargs):
        return super().get_context_data(title=_("New indicator"), **kwargs)


class IndicatorUpdateView(IndicatorFormMixin, UpdateView):  # type: ignore[misc]
    def get_context_data(self, **kwargs):
        title = _("Edit %(name)s") % {"name": self.object}
        return super().get_context_data(title=title, **kwargs)


class IndicatorDeleteView(IndicatorMixin, DeleteView):
    template_name = "indicators/indicator_delete.html"
    success_url = reverse_lazy("indicators:list")

    def get_context_data(self, **kwargs):
        title = _("Delete %(name)s?") % {"name": self.object}
        return super().get_context_data(title=title, **kwargs)

    def form_valid(self, form) -> HttpResponse:
        name = str(self.object)
        response = super().form_valid(form)
        messages.success(self.request, _("%(name)s was deleted.") % {"name": name})
        return response


class IndicatorReadView(IndicatorMixin, FilteredMixin, DetailView):
    """The chart and summary of an indicator; `_format=csv|xlsx` exports the series."""

    template_name = "indicators/indicator_read.html"
    context_object_name = "indicator"
    with_chart_options = True

    def filter_query(self) -> QueryDict:
        """The term, unless the URL chooses other dates."""
        if self.request.GET.get("range"):
            return self.request.GET
        query = self.request.GET.copy()
        query.update(
            {
                "range": DateRange.CUSTOM,
                "start": self.object.start_date.isoformat(),
                "end": self.object.end_date.isoformat(),
            }
        )
        return query

    def get(self, request, *args, **kwargs):
        self.object = self.get_object()
        if self.export_format:
            return self.export()
        return self.render_to_response(self.get_context_data(object=self.object))

    def export(self) -> HttpResponseBase:
        with_spoofed = self.request.GET.get("spoof") == "1"
        chart = data.indicator_data(
            self.object, self.scope, self.filters, with_spoofed=with_spoofed
        )
        mode = self.filters.numeric
        filters = self.filters
        return table_response(
            self.export_format or CSV,
            export_filename(self.object.name, mode, filters.start, filters.end),
            data.export_header(chart, mode),
            data.export_rows(chart, mode),
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        chart = data.indicator_data(self.object, self.scope, self.filters)
        query = self.carried_query()
        for poll_date in chart["dates"]:
            poll_date["url"] = with_query(
                reverse("polls.pollrun_read", args=[poll_date["id"]]), query
            )
        context.update(
            self.filter_context(),
            title=self.object.name,
            chart=chart,
            tables=[data.table(chart, mode) for mode in chart["modes"]],
            numeric_choices=NumericDisplay.CHOICES,
            numeric_query=without(self.request, "numeric"),
            export_query=without(self.request, "_format", "spoof"),
            can_spoof=self.scope.is_admin and self.scope.org.show_spoof_data,
        )
        return context


class SpoofMixin(AdminRequiredMixin):
    """Spoof data pages: admins of orgs that show spoof data; 404 for everyone else."""

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponseBase:
        if not get_scope(request, admin=True).org.show_spoof_data:
            raise Http404
        return super().dispatch(request, *args, **kwargs)


class SpoofView(SpoofMixin, FormView):
    """Make up sample data for an indicator's polls, for the contacts in view."""

    model = Indicator
    form_class = SpoofForm
    template_name = "indicators/spoof_form.html"

    @cached_property
    def indicator(self) -> Indicator:
        return get_object_or_404(
            Indicator.objects.for_org(self.scope.org).with_questions(), pk=self.kwargs["pk"]
        )

    @cached_property
    def contact_ids(self) -> list[int]:
        contacts = Contact.objects.visible_to(self.scope).filter(is_active=True)
        return list(contacts.order_by("pk").values_list("pk", flat=True))

    def get_form_kwargs(self):
        return {
            **super().get_form_kwargs(),
            "indicator": self.indicator,
            "contact_count": len(self.contact_ids),
        }

    def get_context_data(self, **kwargs):
        title = _("Spoof data for %(name)s") % {"name": self.indicator}
        return super().get_context_data(
            title=title, indicator=self.indicator, contact_count=len(self.contact_ids), **kwargs
        )

    def form_valid(self, form: SpoofForm) -> HttpResponse:
        user = cast(User, self.request.user)  # ScopedMixin let in members only
        result = spoof.generate(self.scope.org, form.plan(), self.contact_ids, user)
        messages.success(
            self.request,
            ngettext(
                "Made up %(dates)s spoofed poll date with %(responses)s responses.",
                "Made up %(dates)s spoofed poll dates with %(responses)s responses.",
                result.poll_dates,
            )
            % {"dates": result.poll_dates, "responses": f"{result.responses:,}"},
        )
        return redirect("indicators:read", pk=self.indicator.pk)


@admin_required
@require_POST
def clear_spoof(request: HttpRequest) -> HttpResponse:
    """Delete every spoofed poll date of the org, with its responses."""
    scope = get_scope(request, admin=True)
    if not scope.org.show_spoof_data:
        raise Http404
    cleared = spoof.clear(scope.org)
    messages.success(
        request,
        ngettext(
            "Deleted %(count)s spoofed poll date.", "Deleted %(count)s spoofed poll dates.", cleared
        )
        % {"count": cleared},
    )
    return HttpResponseRedirect(reverse("indicators:list"))
