"""Chart filters: what part of the data a chart shows.

The dashboards read them from the URL (`tracpro.dashboards.forms.FilterForm`),
so a filtered view can be bookmarked and shared:

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

from django.utils.translation import gettext_lazy as _

from tracpro.groups.models import Region, ReporterGroup


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
        """Answer and response counts are rolled up by region, date and reporter
        group, not by contact fields."""
        return bool(self.contact_fields)

    @property
    def needs_raw_values(self) -> bool:
        """Numbers and words (histograms, word clouds) are rolled up by region only."""
        return self.group is not None or bool(self.contact_fields)
