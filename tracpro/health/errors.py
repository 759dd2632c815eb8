import sys

from django.http import HttpRequest, HttpResponse
from django.template import loader

from tracpro.orgs.middleware import DEPENDENCY_ERRORS


def server_error(request: HttpRequest) -> HttpResponse:
    """500 handler: a database or Redis outage gets a 503 "temporarily unavailable"
    page; anything else the plain error page. Neither touches the database."""
    error = sys.exc_info()[1]
    if isinstance(error, DEPENDENCY_ERRORS):
        return HttpResponse(loader.render_to_string("503.html"), status=503)
    return HttpResponse(loader.render_to_string("500.html"), status=500)
