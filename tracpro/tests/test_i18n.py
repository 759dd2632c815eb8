"""Translations: every offered language has a complete, compiled catalogue of
every string the code marks for translation."""

import gettext
import re
import subprocess
from pathlib import Path

import pytest

from django.conf import settings
from django.core.management import call_command
from django.test.utils import override_settings
from django.utils import translation
from django.utils.translation import get_language_bidi, ngettext
from django.utils.translation import gettext as _

from tracpro.tests.production import tool

LOCALE = Path(settings.BASE_DIR) / "locale"
SOURCE_LANGUAGE = settings.LANGUAGE_CODE  # the strings in the code are English
TRANSLATED = [code for code, _name in settings.LANGUAGES if code != SOURCE_LANGUAGE]
# What `make messages` leaves out: the simulator is a standalone program with no
# user-facing strings, and the vendored libraries are not ours.
IGNORED = ["simulator/*", "static/vendor/*"]


def catalogue(po: Path, tmp_path: Path) -> dict:
    """The messages of a .po file that have a translation, compiled by msgfmt
    (fuzzy and empty ones left out, as at run time)."""
    compiled = tmp_path / f"{po.parent.parent.name}-{po.stem}.mo"
    subprocess.run([tool("msgfmt"), "--check", "-o", compiled, po], check=True)
    with compiled.open("rb") as file:
        return gettext.GNUTranslations(file)._catalog  # type: ignore[attr-defined]


def msgid_of(key: str | tuple) -> str:
    return key[0] if isinstance(key, tuple) else key  # plural forms: (msgid, n)


@pytest.fixture(scope="module")
def code_strings(tmp_path_factory) -> set[str]:
    """Every msgid in the code now: makemessages into a temporary directory, then
    msgen (each string its own translation) so that msgfmt keeps them all."""
    tmp = tmp_path_factory.mktemp("messages")
    # From tracpro/, so that the temporary folder is the only locale folder in view.
    with (
        override_settings(LOCALE_PATHS=[str(tmp / "locale")]),
        pytest.MonkeyPatch.context() as patch,
    ):
        patch.chdir(Path(settings.BASE_DIR) / "tracpro")
        call_command(
            "makemessages", locale=[SOURCE_LANGUAGE], ignore_patterns=IGNORED,
            no_location=True, no_obsolete=True, verbosity=0,
        )  # fmt: skip
    extracted = tmp / "locale" / SOURCE_LANGUAGE / "LC_MESSAGES" / "django.po"
    english = tmp / "english.po"
    subprocess.run([tool("msgen"), "-o", english, extracted], check=True)
    strings = {msgid_of(key) for key in catalogue(english, tmp)} - {""}
    assert len(strings) > 500, "the extraction found too few strings"
    return strings


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_offered_language_translates_every_string_of_the_code(
    language, code_strings, tmp_path
):
    po = LOCALE / language / "LC_MESSAGES" / "django.po"
    assert po.exists(), f"{language} is offered (settings.LANGUAGES) but has no catalogue"
    translated = {msgid_of(key) for key in catalogue(po, tmp_path)}
    missing = sorted(code_strings - translated)
    assert not missing, (
        f"the {language} catalogue lacks {len(missing)} string(s) of the code; run "
        f"`make messages`, translate them in locale/{language}/LC_MESSAGES/django.po "
        f"(or on Transifex), then compile:\n" + "\n".join(f"  msgid {m!r}" for m in missing)
    )


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_committed_catalogue_is_compiled_from_its_source(language, tmp_path):
    source = LOCALE / language / "LC_MESSAGES" / "django.po"
    with source.with_suffix(".mo").open("rb") as committed:
        assert gettext.GNUTranslations(committed)._catalog == catalogue(source, tmp_path)


def test_the_completeness_check_names_what_is_missing(tmp_path):
    """The check above can fail, and says which strings are missing."""
    po = tmp_path / "xx" / "LC_MESSAGES" / "django.po"
    po.parent.mkdir(parents=True)
    po.write_text(
        'msgid ""\nmsgstr "Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        'msgid "Log in"\nmsgstr "Connexion"\n\nmsgid "Log out"\nmsgstr ""\n'
    )
    translated = {msgid_of(key) for key in catalogue(po, tmp_path)}
    assert {"Log in", "Log out"} - translated == {"Log out"}


def test_right_to_left_languages_are_marked():
    codes = {code for code, _name in settings.LANGUAGES}
    assert {"en", "fr", "es", "ar", "fa", "ps"} <= codes
    for code in ("ar", "fa", "ps"):
        with translation.override(code):
            assert get_language_bidi()
    for code in ("fr", "es"):
        with translation.override(code):
            assert not get_language_bidi()


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("fr", "Changer le mot de passe"),
        ("es", "Cambiar la contraseña"),
        ("ar", "تغيير كلمة المرور"),
        ("fa", "تغییر گذرواژه"),
    ],
)
def test_pages_speak_the_language(language, expected):
    with translation.override(language):
        assert _("Change password") == expected


@pytest.mark.parametrize(
    ("count", "expected"),
    [(1, "سؤال واحد (1)"), (2, "سؤالان (2)"), (5, "5 أسئلة"), (11, "11 سؤالًا"), (100, "100 سؤال")],
)
def test_arabic_uses_its_six_plural_forms(count, expected):
    with translation.override("ar"):
        text = ngettext("%(counter)s question", "%(counter)s questions", count)
        assert text % {"counter": count} == expected


def test_transifex_takes_the_english_catalogue_and_returns_every_language():
    config = (Path(settings.BASE_DIR) / ".tx" / "config").read_text()
    assert re.search(r"(?m)^file_filter\s*=\s*locale/<lang>/LC_MESSAGES/django\.po$", config)
    assert re.search(r"(?m)^source_lang\s*=\s*en$", config)
    assert re.search(r"(?m)^type\s*=\s*PO$", config)
    source = re.search(r"(?m)^source_file\s*=\s*(\S+)$", config).group(1)
    assert (Path(settings.BASE_DIR) / source).exists(), source
