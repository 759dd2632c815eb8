from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from tracpro.health.checks import run_checks


@login_not_required
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when every dependency answers, 503 naming the one that does not."""
    checks = run_checks()
    healthy = all(result["state"] == "up" for result in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks},
        status=200 if healthy else 503,
    )
