"""Throttling of logins and password-reset emails.

Failed logins are counted by django-axes (settings.AXES_*), per account and per
address; this module tells it the client's address. Password-reset emails are
counted here, per address, in the cache.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

RESET_KEY = "password-reset:{digest}"


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or behind a trusted proxy (BEHIND_PROXY)
    the last address it appended to X-Forwarded-For; earlier ones are the client's
    own claims and could be anything."""
    if settings.BEHIND_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[-1].strip()
        if forwarded:
            return forwarded
    return request.META.get("REMOTE_ADDR", "")


def allow_reset_email(email: str) -> bool:
    """Count one password-reset email to `email`; False once the address has had
    PASSWORD_RESET_LIMIT of them within PASSWORD_RESET_WINDOW seconds."""
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    key = RESET_KEY.format(digest=digest)
    cache.add(key, 0, timeout=settings.PASSWORD_RESET_WINDOW)
    return cache.incr(key) <= settings.PASSWORD_RESET_LIMIT
