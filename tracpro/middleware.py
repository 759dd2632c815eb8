"""Project-wide middleware: the read replica's request marking (tracpro/replica.py)."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from tracpro import replica


class ReplicaMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        allowed = (
            replica.has_replica()
            and request.method in replica.READ_METHODS
            and replica.STICKY_COOKIE not in request.COOKIES
        )
        with replica.request_reads(allowed) as reads:
            response = self.get_response(request)
        if reads.wrote and replica.has_replica():
            response.set_cookie(
                replica.STICKY_COOKIE,
                "1",
                max_age=settings.REPLICA_STICKY_SECONDS,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response
