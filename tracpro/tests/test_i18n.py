"""Translations: the French and Persian catalogues are complete and compiled."""

import gettext
import shutil
import subprocess
from pathlib import Path

import pytest

from django.conf import settings
from django.utils import translation
from django.utils.translation import get_language_bidi
from django.utils.translation import gettext as _

LOCALE = Path(settings.BASE_DIR) / "locale"
COMPLETE = ["fr", "fa"]


def test_it_offers_the_languages_users_need():
    codes = {code for code, _ in settings.LANGUAGES}
    assert {"en", "fr", "es", "ar", "fa", "ps"} <= codes
    for code in ("ar", "fa", "ps"):
        with translation.override(code):
            assert get_language_bidi()
    with translation.override("fr"):
        assert not get_language_bidi()


@pytest.mark.parametrize("language", [*COMPLETE, "ps"])
def test_the_committed_catalogue_is_compiled_from_its_source(language, tmp_path):
    source = LOCALE / language / "LC_MESSAGES" / "django.po"
    compiled = tmp_path / "django.mo"
    subprocess.run([shutil.which("msgfmt"), "--check", "-o", compiled, source], check=True)
    with compiled.open("rb") as fresh, (source.with_suffix(".mo")).open("rb") as committed:
        assert (
            gettext.GNUTranslations(fresh)._catalog == gettext.GNUTranslations(committed)._catalog
        )


@pytest.mark.parametrize("language", COMPLETE)
def test_every_string_is_translated(language):
    source = LOCALE / language / "LC_MESSAGES" / "django.po"
    result = subprocess.run(
        [shutil.which("msgfmt"), "--statistics", "-o", "/dev/null", source],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "untranslated" not in result.stderr and "fuzzy" not in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("language", "expected"), [("fr", "Changer le mot de passe"), ("fa", "تغییر گذرواژه")]
)
def test_pages_speak_the_language(language, expected):
    with translation.override(language):
        assert _("Change password") == expected
