import sys

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.views.decorators.cache import never_cache

from tracpro.health.checks import recent_checks
from tracpro.orgs.middleware import DEPENDENCY_ERRORS


@login_not_required
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when every dependency answers, 503 naming the one that does not
    (checked at most once per HEALTHZ_CACHE_SECONDS)."""
    checks = recent_checks()
    healthy = all(result["state"] == "up" for result in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks},
        status=200 if healthy else 503,
    )


def server_error(request: HttpRequest) -> HttpResponse:
    """500 handler: a database or Redis outage gets a 503 "temporarily unavailable"
    page; anything else the plain error page. Neither touches the database."""
    error = sys.exc_info()[1]
    if isinstance(error, DEPENDENCY_ERRORS):
        return HttpResponse(loader.render_to_string("503.html"), status=503)
    return HttpResponse(loader.render_to_string("500.html"), status=500)
