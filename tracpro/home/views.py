from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tracpro.home import activity
from tracpro.orgs.access import is_org_admin
from tracpro.orgs.models import SyncState


def home(request: HttpRequest) -> HttpResponse:
    """The org's home: polls and their latest dates, recent activity, sync trouble."""
    polls, recent_dates = activity.polls_with_latest_dates(request)
    pollrun_ids = activity.recent_pollrun_ids(request)
    failing = []
    if is_org_admin(request):
        failing = list(SyncState.objects.filter(org=request.org, failures__gt=0).order_by("kind"))
    context = {
        "polls": polls,
        "recent_dates": recent_dates,
        "active_regions": activity.most_active_regions(request, pollrun_ids),
        "active_groups": activity.most_active_groups(request, pollrun_ids),
        "activity_days": activity.ACTIVITY_DAYS,
        "failing_syncs": failing,
    }
    return render(request, "home/home.html", context)
