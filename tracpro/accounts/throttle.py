"""Throttling of logins and password-reset emails.

Failed logins are counted by django-axes (settings.AXES_*), per account and per
address (`tracpro.accounts.middleware.client_ip` tells it the address).
Password-reset emails are counted here, per address, in the cache.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache

RESET_KEY = "password-reset:{digest}"


def allow_reset_email(email: str) -> bool:
    """Count one password-reset email to `email`; False once the address has had
    PASSWORD_RESET_LIMIT of them within PASSWORD_RESET_WINDOW seconds."""
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    key = RESET_KEY.format(digest=digest)
    cache.add(key, 0, timeout=settings.PASSWORD_RESET_WINDOW)
    return cache.incr(key) <= settings.PASSWORD_RESET_LIMIT
