"""The seam between TracPro and RapidPro: the only place a TembaClient is built.

Unit tests patch `get_client`; integration tests point orgs at the simulator.
"""

import json
import logging

import requests
from temba_client.exceptions import (
    TembaBadRequestError,
    TembaConnectionError,
    TembaHttpError,
    TembaNoSuchObjectError,
    TembaRateExceededError,
    TembaTokenError,
)
from temba_client.serialization import IntegerField
from temba_client.v2 import TembaClient
from temba_client.v2.types import Message

from django.conf import settings
from django.views.decorators.debug import sensitive_variables

import tracpro
from tracpro.orgs.models import Org

logger = logging.getLogger(__name__)

USER_AGENT = f"TracPro/{tracpro.__version__}"


class TembaTimeoutError(TembaConnectionError):
    message = "RapidPro did not answer in time"


class RemoteMessage(Message):
    """A message with RapidPro's integer id, which the server sends but the client's
    type leaves out: message_actions (archive, label) names messages by it."""

    id = IntegerField()

    @classmethod
    def _get_fields(cls) -> dict:
        # Upstream reads the fields of the class itself only; add the parent's.
        return {**Message._get_fields(), **super()._get_fields()}


class TracProTembaClient(TembaClient):
    """The official client, with a timeout on every request.

    rapidpro-python calls `requests` without a timeout, so a RapidPro that stops
    answering would hang a worker forever. This reimplements its one request
    method with a timeout; responses map to the same exceptions as upstream.
    """

    @sensitive_variables("token")
    def __init__(self, host: str, token: str, *, timeout: float, **kwargs) -> None:
        super().__init__(host, token, **kwargs)
        self.timeout = timeout

    @sensitive_variables("kwargs")  # its headers carry the token
    def _request(self, method, url, params=None, body=None, retry_on_rate_exceed=False):
        # `retry_on_rate_exceed` is upstream's, and ignored: the client never retries,
        # its callers do, under tracpro.rapidpro.retry's policy.
        kwargs = {"headers": self.headers, "verify": self.verify_ssl, "timeout": self.timeout}
        if body:
            kwargs["data"] = json.dumps(body)
        if params:
            kwargs["params"] = params
        try:
            response = requests.request(method, url, **kwargs)  # noqa: S113 - timeout in kwargs
        except requests.Timeout as error:
            raise TembaTimeoutError() from error
        except requests.RequestException as error:  # refused, reset, or cut off mid-body
            raise TembaConnectionError() from error
        return read_response(response)

    def get_messages(self, uuid=None, folder=None, before=None, after=None):
        """Upstream's query, reading each message's id too (`RemoteMessage`)."""
        params = self._build_params(uuid=uuid, folder=folder, before=before, after=after)
        return self._get_query("messages", params, RemoteMessage)


def read_response(response: requests.Response) -> dict | None:
    """RapidPro's answer, or the exception upstream's client raises for it."""
    status = response.status_code
    if status == 400:
        try:
            errors = response.json()
        except ValueError:
            errors = {"details": [response.content]}
        raise TembaBadRequestError(errors)
    if status == 403:
        raise TembaTokenError()
    if status == 404:
        raise TembaNoSuchObjectError()
    if status == 429:
        retry_after = response.headers.get("retry-after")
        raise TembaRateExceededError(int(retry_after) if retry_after else 0)
    try:
        response.raise_for_status()
    except requests.HTTPError as error:
        raise TembaHttpError(error) from error
    # A truncated or garbled body raises ValueError (requests' JSONDecodeError).
    return response.json() if response.content else None


def get_client(org: Org) -> TembaClient:
    return TracProTembaClient(
        org.api_url,
        org.api_token,
        user_agent=USER_AGENT,
        timeout=settings.RAPIDPRO_TIMEOUT,
    )
