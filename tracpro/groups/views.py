from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from tracpro.groups.scope import get_scope, save_choice


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
