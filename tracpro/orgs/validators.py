import re
import zoneinfo
from functools import cache

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Names that would shadow infrastructure hosts or confuse users.
RESERVED_SUBDOMAINS = frozenset(
    {
        "admin", "api", "app", "assets", "blog", "cdn", "dashboard", "dev", "docs", "ftp",
        "help", "imap", "localhost", "mail", "manage", "media", "ns1", "ns2", "pop", "root",
        "smtp", "staging", "static", "status", "support", "test", "tracpro", "www",
    }
)  # fmt: skip

DNS_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def validate_subdomain(value: str) -> None:
    if not DNS_LABEL.match(value):
        raise ValidationError(
            _(
                "Use 1 to 63 lower-case letters, digits or hyphens, "
                "starting and ending with a letter or digit."
            ),
            code="invalid",
        )
    if value in RESERVED_SUBDOMAINS:
        raise ValidationError(
            _("“%(value)s” is reserved; choose another subdomain."),
            code="reserved",
            params={"value": value},
        )


@cache
def timezone_names() -> list[str]:
    return sorted(zoneinfo.available_timezones())


def validate_timezone(value: str) -> None:
    if value not in timezone_names():
        raise ValidationError(
            _("“%(value)s” is not a known time zone."), code="invalid", params={"value": value}
        )
