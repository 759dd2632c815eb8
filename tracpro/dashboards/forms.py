"""The dashboards' filter bar: chart filters read from the URL.

Every filter is a GET parameter, so a filtered view can be bookmarked and
shared; a recipient never sees more than their own region scope allows (a
region outside it is simply not a valid choice).
"""

from datetime import date

from django import forms
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tracpro.charts.filters import DateRange, Filters, NumericDisplay, date_window
from tracpro.contacts.models import DataField
from tracpro.groups.models import Region, ReporterGroup
from tracpro.groups.scope import RegionScope

FIELD_PREFIX = "contact_"


class FilterForm(forms.Form):
    range = forms.ChoiceField(
        label=_("Dates"), choices=DateRange.CHOICES, required=False, initial=DateRange.DEFAULT
    )
    start = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    region = forms.ModelChoiceField(
        label=_("Region"), queryset=Region.objects.none(), required=False
    )
    group = forms.ModelChoiceField(
        label=_("Reporter group"), queryset=ReporterGroup.objects.none(), required=False
    )
    numeric = forms.ChoiceField(
        label=_("Show numbers as"),
        choices=NumericDisplay.CHOICES,
        required=False,
        initial=NumericDisplay.DEFAULT,
    )
    split = forms.BooleanField(label=_("Split by region"), required=False)

    def __init__(
        self,
        data: QueryDict,
        *,
        scope: RegionScope,
        with_dates: bool = True,
        with_chart_options: bool = False,
    ):
        if with_dates and not data.get("range"):
            data = data.copy()  # show the default range as chosen in the select
            data["range"] = DateRange.DEFAULT
        super().__init__(data)
        self.scope = scope
        self.with_dates = with_dates
        region_ids = [region.pk for region in scope.choices()]
        self.offers_regions = bool(region_ids)
        self.fields["region"].queryset = Region.objects.filter(pk__in=region_ids)
        self.fields["region"].empty_label = _("All regions in view")
        self.fields["group"].queryset = ReporterGroup.objects.for_org(scope.org).active()
        self.fields["group"].empty_label = _("All reporter groups")
        hidden = [] if with_dates else ["range", "start", "end"]
        hidden += [] if with_chart_options else ["numeric", "split"]
        for name in hidden:
            del self.fields[name]
        self.data_fields = list(
            DataField.objects.for_org(scope.org).active().filter(is_visible=True)
        )
        for data_field in self.data_fields:
            self.fields[FIELD_PREFIX + data_field.key] = forms.CharField(
                label=data_field.label, required=False, max_length=100
            )

    def clean(self) -> dict:
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if cleaned.get("range") == DateRange.CUSTOM:
            if not start and not end:
                self.add_error("start", _("Choose a start date, an end date or both."))
            elif start and end and start > end:
                self.add_error("end", _("The end date must not be before the start date."))
        return cleaned

    def contact_field_inputs(self) -> list[forms.BoundField]:
        return [self[FIELD_PREFIX + data_field.key] for data_field in self.data_fields]

    def filters(self) -> Filters:
        """The chosen filters; invalid parts fall back to their defaults."""
        if not hasattr(self, "_filters"):
            self._filters = self._resolve()
        return self._filters

    def _resolve(self) -> Filters:
        self.is_valid()
        cleaned = {
            name: value for name, value in self.cleaned_data.items() if name not in self.errors
        }
        region = cleaned.get("region")
        start, end = self._dates(cleaned) if self.with_dates else (None, None)
        contact_fields = {
            data_field.key: value.strip()
            for data_field in self.data_fields
            if (value := cleaned.get(FIELD_PREFIX + data_field.key) or "").strip()
        }
        return Filters(
            start=start,
            end=end,
            region=region,
            group=cleaned.get("group"),
            contact_fields=contact_fields,
            numeric=cleaned.get("numeric") or NumericDisplay.DEFAULT,
            split_regions=bool(cleaned.get("split")),
            region_ids=self._region_ids(region),
        )

    def _dates(self, cleaned: dict) -> tuple[date | None, date | None]:
        today = timezone.localdate(timezone=self.scope.org.tz)
        choice = cleaned.get("range") or DateRange.DEFAULT
        if choice != DateRange.CUSTOM:
            return date_window(choice, today)
        if "start" in self.errors or "end" in self.errors:
            return date_window(DateRange.DEFAULT, today)
        return cleaned.get("start"), cleaned.get("end") or today

    def _region_ids(self, region: Region | None) -> frozenset[int] | None:
        scoped = self.scope.region_ids
        if region is None:
            return scoped
        subtree = self.scope.tree.subtree([region.pk])
        return subtree if scoped is None else subtree & scoped
