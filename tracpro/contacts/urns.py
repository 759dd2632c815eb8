"""URNs ("scheme:path"), the addresses RapidPro reaches contacts at.

TracPro edits one URN per contact. Each scheme has its own rules; phone numbers
are stored in E.164 (+256772123456), as RapidPro stores them.
"""

import re

import phonenumbers

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

SCHEMES = (
    ("tel", _("Phone number")),
    ("whatsapp", _("WhatsApp")),
    ("telegram", _("Telegram")),
    ("twitter", _("Twitter handle")),
    ("twitterid", _("Twitter ID")),
    ("mailto", _("Email address")),
)
SCHEME_NAMES = dict(SCHEMES)

TWITTER_HANDLE = re.compile(r"^[A-Za-z0-9_]{1,15}$")
TWITTER_ID = re.compile(r"^\d{1,20}(#[A-Za-z0-9_]{1,15})?$")
TELEGRAM_ID = re.compile(r"^\d{1,20}$")


def split(urn: str) -> tuple[str, str]:
    scheme, _sep, path = (urn or "").partition(":")
    return (scheme, path) if path else ("", urn or "")


def normalize(scheme: str, path: str) -> str:
    """The URN for a scheme and what the user typed, or a ValidationError saying why not."""
    path = path.strip()
    if not path:
        raise ValidationError(_("Enter the address."), code="required")
    cleaner = CLEANERS.get(scheme)
    if cleaner is None:
        raise ValidationError(_("Choose a kind of address."), code="scheme")
    return f"{scheme}:{cleaner(path)}"


def _phone(path: str) -> str:
    digits = re.sub(r"[\s().-]", "", path)
    if not digits.startswith("+"):
        raise ValidationError(
            _("Start the number with + and its country code, e.g. +256 772 123456."),
            code="country",
        )
    try:
        number = phonenumbers.parse(digits, None)
    except phonenumbers.NumberParseException as error:
        raise ValidationError(_("This is not a phone number."), code="invalid") from error
    if not phonenumbers.is_possible_number(number):
        raise ValidationError(
            _("This number has too few or too many digits for its country."), code="invalid"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _whatsapp(path: str) -> str:
    # RapidPro keeps WhatsApp numbers as digits without the +.
    return _phone("+" + path.lstrip("+")).lstrip("+")


def _telegram(path: str) -> str:
    if not TELEGRAM_ID.match(path):
        raise ValidationError(_("A Telegram ID is a number."), code="invalid")
    return path


def _twitter(path: str) -> str:
    handle = path.lstrip("@")
    if not TWITTER_HANDLE.match(handle):
        raise ValidationError(
            _("A Twitter handle has up to 15 letters, digits or underscores."), code="invalid"
        )
    return handle


def _twitter_id(path: str) -> str:
    if not TWITTER_ID.match(path):
        raise ValidationError(
            _("A Twitter ID is a number, optionally followed by #handle."), code="invalid"
        )
    return path


def _email(path: str) -> str:
    validate_email(path)
    return path.lower()


CLEANERS = {
    "tel": _phone,
    "whatsapp": _whatsapp,
    "telegram": _telegram,
    "twitter": _twitter,
    "twitterid": _twitter_id,
    "mailto": _email,
}


def display(urn: str) -> str:
    """How a person reads a URN: phone numbers in international format."""
    scheme, path = split(urn)
    if scheme in ("tel", "whatsapp"):
        try:
            number = phonenumbers.parse(path if path.startswith("+") else "+" + path, None)
        except phonenumbers.NumberParseException:
            return path
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    if scheme == "twitter":
        return "@" + path
    return path
