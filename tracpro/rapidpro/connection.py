""" "Test connection" for the root host's org form: what an API URL and token reach.

This is the one RapidPro call made inside a web request, and only because a
superuser explicitly asks for it. It reads one page of each kind and gives up
after `TIMEOUT` seconds.
"""

import concurrent.futures
from dataclasses import dataclass, field

import requests
from temba_client.exceptions import (
    TembaBadRequestError,
    TembaConnectionError,
    TembaException,
    TembaHttpError,
    TembaNoSuchObjectError,
    TembaRateExceededError,
    TembaTokenError,
)

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_variables

from tracpro.orgs.models import Org
from tracpro.rapidpro import client as rapidpro

TIMEOUT = 15  # seconds for the whole check
PAGE_SIZE = 250  # RapidPro's page size: a full first page means "at least this many"

# What the token can see: one page of each, with the client method that lists it.
KINDS = (
    ("flows", gettext_lazy("Flows"), "get_flows"),
    ("groups", gettext_lazy("Contact groups"), "get_groups"),
    ("fields", gettext_lazy("Contact fields"), "get_fields"),
    ("contacts", gettext_lazy("Contacts"), "get_contacts"),
)

_executor = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="rp-check")


@dataclass(frozen=True)
class ConnectionReport:
    ok: bool
    error: str = ""
    workspace: str = ""
    country: str = ""
    timezone: str = ""
    languages: tuple[str, ...] = ()
    # kind -> (count on the first page, whether there are more pages)
    counts: dict[str, tuple[int, bool]] = field(default_factory=dict)

    def count_rows(self) -> list[tuple[str, int, bool]]:
        """(label, count, more) for each kind, in a stable order."""
        return [
            (str(label), *self.counts[kind])
            for kind, label, _method in KINDS
            if kind in self.counts
        ]


@sensitive_variables("api_token", "org")
def check_connection(api_url: str, api_token: str, timeout: float = TIMEOUT) -> ConnectionReport:
    """Ask RapidPro at `api_url` who `api_token` belongs to and what it can read."""
    org = Org(api_url=api_url, api_token=api_token)
    future = _executor.submit(_read_workspace, org)
    try:
        return future.result(timeout=timeout)
    except concurrent.futures.TimeoutError:
        return ConnectionReport(
            ok=False,
            error=_("RapidPro did not answer within %(seconds)s seconds.") % {"seconds": timeout},
        )
    except (TembaException, requests.RequestException, ValueError) as error:
        return ConnectionReport(ok=False, error=describe_error(error, api_url))


def _read_workspace(org: Org) -> ConnectionReport:
    client = rapidpro.get_client(org)
    workspace = client.get_org()
    counts = {}
    for kind, _label, method in KINDS:
        pages = getattr(client, method)().iterfetches()
        first = next(iter(pages), [])
        counts[kind] = (len(first), bool(first) and pages.get_cursor() is not None)
    return ConnectionReport(
        ok=True,
        workspace=workspace.name or "",
        country=workspace.country or "",
        timezone=str(workspace.timezone or ""),
        languages=tuple(workspace.languages or ()),
        counts=counts,
    )


def describe_error(error: Exception, api_url: str) -> str:
    """A sentence for the superuser, ending with the exact error RapidPro gave."""
    if isinstance(error, TembaTokenError):
        return _("RapidPro refused the API token (403). Copy it again from the workspace.")
    if isinstance(error, TembaNoSuchObjectError):
        return _(
            "%(url)s has no RapidPro API (404). Use the server's address, without /api/v2."
        ) % {"url": api_url}
    if isinstance(error, TembaRateExceededError):
        return _("RapidPro is rate limiting this token; try again in %(seconds)s seconds.") % {
            "seconds": error.retry_after
        }
    if isinstance(error, TembaConnectionError):
        cause = error.__context__ or error
        return _("Could not connect to %(url)s: %(cause)s") % {"url": api_url, "cause": cause}
    if isinstance(error, TembaHttpError | TembaBadRequestError):
        return _("RapidPro answered with an error: %(error)s") % {"error": error}
    if isinstance(error, requests.RequestException) and not isinstance(error, ValueError):
        return _("Could not reach %(url)s: %(error)s") % {"url": api_url, "error": error}
    return _("%(url)s did not answer like a RapidPro server: %(error)s") % {
        "url": api_url,
        "error": error,
    }
