"""The one retry policy for calls to RapidPro: backoff, its cap and jitter, Retry-After."""

import json
import os
import subprocess
import sys
from unittest import mock

import pytest
import requests
from temba_client.exceptions import (
    TembaConnectionError,
    TembaHttpError,
    TembaRateExceededError,
    TembaTokenError,
)

from django.conf import settings

from tracpro.rapidpro.retry import RetryPolicy, is_retryable, retry_after

POLICY = RetryPolicy(max_attempts=5, backoff_base=2, backoff_cap=30)


def lowest(low: float, high: float) -> float:
    return low


def highest(low: float, high: float) -> float:
    return high


@pytest.mark.parametrize(
    ("jitter", "expected"),
    [
        # The backoff doubles from the base (2, 4, 8, 16, 32 -> the cap, 30); half of
        # it is fixed, the other half random.
        (lowest, [1, 2, 4, 8, 15, 15]),
        (highest, [2, 4, 8, 16, 30, 30]),
    ],
)
def test_backoff_doubles_up_to_the_cap_with_half_of_it_jitter(jitter, expected):
    with mock.patch("tracpro.rapidpro.retry.random.uniform", side_effect=jitter):
        delays = [POLICY.delay(attempt) for attempt in range(1, 7)]

    assert delays == expected


def test_jitter_stays_within_half_the_backoff_and_the_cap():
    delays = [POLICY.delay(attempt) for attempt in range(1, 20) for _ in range(20)]

    assert min(delays) >= POLICY.backoff_base / 2
    assert max(delays) <= POLICY.backoff_cap
    assert len(set(delays)) > 1  # not the same for every caller


def test_retry_after_wins_over_backoff_and_its_cap():
    assert POLICY.delay(1, retry_after=42) == 42
    assert POLICY.delay(9, retry_after=3) == 3


def test_a_429_without_retry_after_backs_off():
    error = TembaRateExceededError(0)

    assert retry_after(error) == 0
    assert POLICY.backoff_base / 2 <= POLICY.delay(1, retry_after(error)) <= POLICY.backoff_base


def test_only_a_429_asks_for_a_wait():
    assert retry_after(TembaRateExceededError(17)) == 17
    assert retry_after(TembaConnectionError()) == 0


def test_the_sync_policy_comes_from_the_settings(settings):
    settings.RAPIDPRO_MAX_ATTEMPTS = 3
    settings.RAPIDPRO_BACKOFF_BASE = 0.5
    settings.RAPIDPRO_BACKOFF_CAP = 4
    settings.RAPIDPRO_MAX_WAIT = 10

    assert RetryPolicy.from_settings() == RetryPolicy(
        max_attempts=3, backoff_base=0.5, backoff_cap=4, max_wait=10
    )


def test_operators_set_the_rapidpro_settings_in_the_environment():
    env = {
        "RAPIDPRO_TIMEOUT": "12.5",
        "RAPIDPRO_MAX_ATTEMPTS": "7",
        "RAPIDPRO_BACKOFF_BASE": "0.5",
        "RAPIDPRO_BACKOFF_CAP": "90",
        "RAPIDPRO_MAX_WAIT": "300",
        "RAPIDPRO_INBOX_DAYS": "14",
    }
    show = (
        "import json; from django.conf import settings; "
        f"print(json.dumps({{name: getattr(settings, name) for name in {sorted(env)!r}}}))"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", show],
        cwd=settings.BASE_DIR,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {name: float(value) for name, value in env.items()}


def test_pushes_back_off_longer_and_wait_out_any_retry_after():
    sync, pushes = RetryPolicy.from_settings(), RetryPolicy.for_pushes()

    assert pushes.backoff_base > sync.backoff_base
    assert pushes.backoff_cap > sync.backoff_cap
    assert pushes.max_attempts > sync.max_attempts
    assert pushes.delay(1, retry_after=3600) == 3600


def http_error(status: int) -> TembaHttpError:
    response = requests.Response()
    response.status_code = status
    return TembaHttpError(requests.HTTPError(f"{status}", response=response))


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (TembaRateExceededError(5), True),
        (http_error(503), True),
        (TembaConnectionError(), True),
        (ValueError("not JSON"), True),
        (http_error(413), False),
        (TembaTokenError(), False),
    ],
)
def test_what_is_worth_retrying(error, retryable):
    assert is_retryable(error) is retryable
