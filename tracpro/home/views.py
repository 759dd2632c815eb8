from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tracpro.groups.views import get_scope
from tracpro.home import activity
from tracpro.indicators.data import recent_indicators
from tracpro.orgs.models import SyncState


def home(request: HttpRequest) -> HttpResponse:
    """The org's home: recent indicators, polls and their latest dates, recent
    activity, sync trouble."""
    scope = get_scope(request)
    polls, recent_dates = activity.polls_with_latest_dates(scope)
    pollrun_ids = activity.recent_pollrun_ids(scope)
    failing = []
    if scope.is_admin:
        failing = list(SyncState.objects.filter(org=scope.org, failures__gt=0).order_by("kind"))
    indicators, indicator_chart = recent_indicators(scope)
    context = {
        "indicators": indicators,
        "indicator_chart": indicator_chart,
        "polls": polls,
        "recent_dates": recent_dates,
        "active_regions": activity.most_active_regions(scope, pollrun_ids),
        "active_groups": activity.most_active_groups(scope, pollrun_ids),
        "activity_days": activity.ACTIVITY_DAYS,
        "failing_syncs": failing,
    }
    return render(request, "home/home.html", context)
