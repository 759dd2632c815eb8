"""Refuse input no page can use before any view sees it."""

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.template import loader

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class RejectNulCharactersMiddleware:
    """A NUL character in a query or form value answers 400 with a clear page.

    No text TracPro keeps or searches may hold one (Postgres refuses it in text),
    so without this a search or a form that reaches the database would fail with
    a 500 instead of saying what is wrong.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if has_nul(request):
            return HttpResponseBadRequest(loader.render_to_string("400.html", request=None))
        return self.get_response(request)


def has_nul(request: HttpRequest) -> bool:
    params = [request.GET]
    if request.method == "POST" and request.content_type in FORM_TYPES:
        params.append(request.POST)
    return any(
        "\x00" in key or any("\x00" in value for value in values)
        for query in params
        for key, values in query.lists()
    )
