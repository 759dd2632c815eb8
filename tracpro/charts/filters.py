"""Chart filters: what part of the data a dashboard shows, read from the URL.

Every filter is a GET parameter, so a filtered view can be bookmarked and
shared; a recipient never sees more than their own region scope allows (a
region outside it is simply not a valid choice).

    range   month | 30d | 60d | 90d | 6m | 12m | all | custom (with start / end)
    region  a region id within the scope (narrows to it and its sub-regions)
    group   a reporter group id
    contact_<key>  text a visible contact field must contain
    numeric sum | average | rate (how numeric questions are drawn)
    split   1 to split numeric questions by region
"""

from dataclasses import dataclass, field
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from django import forms
from django.http import HttpRequest, QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tracpro.charts.regions import RegionTree
from tracpro.contacts.models import DataField
from tracpro.groups.models import Region, ReporterGroup
from tracpro.groups.scope import get_scope

FIELD_PREFIX = "contact_"


class DateRange:
    MONTH = "month"
    DAYS_30 = "30d"
    DAYS_60 = "60d"
    DAYS_90 = "90d"
    MONTHS_6 = "6m"
    MONTHS_12 = "12m"
    ALL = "all"
    CUSTOM = "custom"

    CHOICES = [
        (MONTH, _("This month")),
        (DAYS_30, _("Last 30 days")),
        (DAYS_60, _("Last 60 days")),
        (DAYS_90, _("Last 90 days")),
        (MONTHS_6, _("Last 6 months")),
        (MONTHS_12, _("Last 12 months")),
        (ALL, _("All dates")),
        (CUSTOM, _("Custom dates")),
    ]
    DEFAULT = DAYS_90


class NumericDisplay:
    SUM = "sum"
    AVERAGE = "average"
    RATE = "rate"

    CHOICES = [(SUM, _("Sum")), (AVERAGE, _("Average")), (RATE, _("Response rate"))]
    DEFAULT = SUM


def date_window(choice: str, today: date) -> tuple[date | None, date | None]:
    """First and last day (both included) of a relative date range; None is open."""
    if choice == DateRange.ALL:
        return None, None
    if choice == DateRange.MONTH:
        return today.replace(day=1), today
    days = {DateRange.DAYS_30: 30, DateRange.DAYS_60: 60, DateRange.DAYS_90: 90}
    if choice in days:
        return today - timedelta(days=days[choice] - 1), today
    months = {DateRange.MONTHS_6: 6, DateRange.MONTHS_12: 12}
    return today - relativedelta(months=months[choice]) + timedelta(days=1), today


@dataclass(frozen=True)
class Filters:
    """What the filter bar chose, resolved against the user's scope."""

    start: date | None = None
    end: date | None = None
    region: Region | None = None
    group: ReporterGroup | None = None
    contact_fields: dict[str, str] = field(default_factory=dict)
    numeric: str = NumericDisplay.DEFAULT
    split_regions: bool = False
    # The regions the data is limited to (None = no limit, contacts without a
    # region included): the scope, narrowed to the region filter's sub-tree.
    region_ids: frozenset[int] | None = None

    @property
    def needs_raw_answers(self) -> bool:
        """Rollups know regions and dates, not reporter groups or contact fields."""
        return self.group is not None or bool(self.contact_fields)


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
        request: HttpRequest,
        with_dates: bool = True,
        with_chart_options: bool = False,
    ):
        if with_dates and not data.get("range"):
            data = data.copy()  # show the default range as chosen in the select
            data["range"] = DateRange.DEFAULT
        super().__init__(data)
        self.request = request
        self.with_dates = with_dates
        scope = get_scope(request)
        region_ids = [region.pk for region in scope.choices()]
        self.offers_regions = bool(region_ids)
        self.fields["region"].queryset = Region.objects.filter(pk__in=region_ids)
        self.fields["region"].empty_label = _("All regions in view")
        self.fields["group"].queryset = ReporterGroup.objects.for_org(request.org).active()
        self.fields["group"].empty_label = _("All reporter groups")
        hidden = [] if with_dates else ["range", "start", "end"]
        hidden += [] if with_chart_options else ["numeric", "split"]
        for name in hidden:
            del self.fields[name]
        self.data_fields = list(
            DataField.objects.for_org(request.org).active().filter(is_visible=True)
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

    def active_count(self) -> int:
        """How many filters beyond the defaults are on (for the collapsed filter bar)."""
        filters = self.filters()
        return sum(
            [
                filters.region is not None,
                filters.group is not None,
                len(filters.contact_fields),
            ]
        )

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
        today = timezone.localdate(timezone=self.request.org.tz)
        choice = cleaned.get("range") or DateRange.DEFAULT
        if choice != DateRange.CUSTOM:
            return date_window(choice, today)
        if "start" in self.errors or "end" in self.errors:
            return date_window(DateRange.DEFAULT, today)
        return cleaned.get("start"), cleaned.get("end") or today

    def _region_ids(self, region: Region | None) -> frozenset[int] | None:
        scoped = get_scope(self.request).region_ids
        if region is None:
            return scoped
        subtree = RegionTree.for_request(self.request).subtree([region.pk])
        return subtree if scoped is None else subtree & scoped
