"""Contact languages: ISO 639-3 codes, as RapidPro stores them, with names in the
reader's language (pycountry ships the ISO 639-3 names and their translations)."""

import gettext
from functools import cache

import pycountry

from django.utils.translation import get_language
from django.utils.translation import gettext as _


@cache
def _catalog(language: str) -> gettext.NullTranslations:
    return gettext.translation(
        "iso639-3", pycountry.LOCALES_DIR, languages=[language], fallback=True
    )


def language_name(code: str) -> str:
    """The name of an ISO 639-3 language in the active language; the code if unknown."""
    language = pycountry.languages.get(alpha_3=code) if code else None
    if language is None:
        return code
    active = (get_language() or "en").split("-")[0]
    return _catalog(active).gettext(language.name)


@cache
def _common_codes() -> tuple[str, ...]:
    """Languages with a two-letter code: the world's major languages (about 180)."""
    return tuple(lang.alpha_3 for lang in pycountry.languages if hasattr(lang, "alpha_2"))


def to_iso639_3(code: str) -> str:
    """ "fr" or "fra" -> "fra"; "" when unknown."""
    if len(code) == 3:
        return code if pycountry.languages.get(alpha_3=code) else ""
    language = pycountry.languages.get(alpha_2=code.split("-")[0])
    return language.alpha_3 if language else ""


def is_known(code: str) -> bool:
    return pycountry.languages.get(alpha_3=code) is not None


def language_choices(preferred: list[str]) -> list:
    """Choices for a select: the org's usual languages first, then all major ones."""
    preferred = list(dict.fromkeys(code for code in preferred if code and is_known(code)))
    others = [code for code in _common_codes() if code not in preferred]

    def named(codes: list[str]) -> list[tuple[str, str]]:
        return sorted(((code, language_name(code)) for code in codes), key=lambda c: c[1])

    choices: list = [("", "—")]
    if preferred:
        choices.append((_("Used in this organization"), named(preferred)))
    choices.append((_("Other languages"), named(others)))
    return choices
