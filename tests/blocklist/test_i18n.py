"""The one translation system (blocklist/i18n.py): every message is extracted, translated in every language with
the same placeholders, compiled, and no hand-kept dictionary of words is left beside the catalogs."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from blocklist import i18n, labels
from blocklist.errors import InvalidInput
from blocklist.i18n import N_, NP_, gettext, pgettext
from blocklist.vocab import LANGUAGES

ROOT = Path(__file__).resolve().parents[2]
LOCALE = ROOT / "blocklist" / "locale"
TRANSLATED = ("fr", "nl", "de")  # English is the msgid itself
PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%")
PACKAGES = ("blocklist", "api", "requisitions", "isp_feed")


def _catalog(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as file:
        return read_po(file, locale=locale)


def _messages(catalog: Catalog) -> dict[tuple[str | None, str], str]:
    return {(m.context, str(m.id)): str(m.string) for m in catalog if m.id}


def _template() -> Catalog:
    return _catalog(LOCALE / "messages.pot")


def test_the_template_is_current(tmp_path: Path) -> None:
    """Extracting again finds the same messages: a new _() or N_() without a catalog entry fails here."""
    fresh = tmp_path / "messages.pot"
    CommandLineInterface().run(["pybabel", "-q", "extract", "--mapping-file", str(ROOT / "babel.cfg"),
                                "--output-file", str(fresh), *(str(ROOT / p) for p in PACKAGES)])
    extracted, committed = set(_messages(_catalog(fresh))), set(_messages(_template()))
    assert not extracted - committed, f"not in messages.pot (run `make messages`): {sorted(extracted - committed)}"
    assert not committed - extracted, f"no longer used (run `make messages`): {sorted(committed - extracted)}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated_with_its_placeholders(language: str) -> None:
    catalog = _catalog(LOCALE / language / "LC_MESSAGES" / "messages.po", language)
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert not fuzzy, f"{language}: fuzzy translations: {fuzzy}"
    translated = _messages(catalog)
    for key in _messages(_template()):
        text = translated.get(key, "")
        if language == "en" and not text:
            continue  # English may leave a message as its msgid
        assert text.strip(), f"{language}: no translation of {key}"
        _, msgid = key
        assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(msgid)), (
            f"{language}: the placeholders of {key} differ: {text!r}")


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalogs_are_current(language: str) -> None:
    """The .mo loaded at run time holds exactly the .po's translations (`make compile` after editing a .po)."""
    folder = LOCALE / language / "LC_MESSAGES"
    assert (folder / "messages.mo").is_file(), "translations not compiled: run `make compile`"
    with (folder / "messages.mo").open("rb") as file:
        compiled = {key: text for key, text in _messages(read_mo(file)).items() if text}
    written = {key: text for key, text in _messages(_catalog(folder / "messages.po", language)).items() if text}
    assert compiled == written, "the .mo is older than the .po: run `make compile`"


def test_no_hand_kept_dictionary_of_words_is_left() -> None:
    """The words live in the catalogs only: no dict keyed by language with words, no module of the old names, no
    template folder per language."""
    per_language = re.compile(r"""["'](?:fr|nl|de)["']\s*:\s*(?:\{|\(|["'][^"']*[^\W\d_])""")
    old_names = re.compile(r"\b(CATALOG|translator|LEGAL_BASIS_TITLES|legal_basis_titles|GENERIC_BASIS|MONTHS|"
                           r"HOSTING_PROVIDER)\b|^(TEXT|LIMITED|CLOCK|LABELS|AUTHORITY|_WORDS): dict\[str, dict",
                           re.M)
    found = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            for line_number, line in enumerate(text.splitlines(), 1):
                # The languages' own names (endonyms) are the one thing never translated.
                if per_language.search(line) and "LANGUAGE_NAMES" not in line:
                    found.append(f"{path.relative_to(ROOT)}:{line_number}: {line.strip()}")
            found += [f"{path.relative_to(ROOT)}: {m.group()}" for m in old_names.finditer(text)]
    assert not found, "\n".join(found)
    assert not (ROOT / "api" / "web" / "i18n.py").exists() and not (ROOT / "requisitions" / "i18n.py").exists()
    folders = [p for package in PACKAGES for p in (ROOT / package).rglob("*")
               if p.is_dir() and p.name in LANGUAGES and "locale" not in p.parts]
    assert not folders, folders


def test_words_in_each_language_with_english_fallback() -> None:
    assert gettext("nl", "Log out") == "Afmelden" and gettext("de", "Log out") == "Abmelden"
    assert gettext("xx", "Log out") == "Log out"  # an unknown language reads English
    assert gettext("fr", "a message no catalog has") == "a message no catalog has"
    assert gettext("fr", "#%(id)s withdrawn", id=7) == "#7 retiré"
    # One English word, two meanings: the context chooses.
    assert gettext("fr", "blocked") == "bloqué" and pgettext("fr", "verdict", "blocked") == "bloqués"


def test_messages_wait_for_their_language() -> None:
    refused = InvalidInput(N_("“%(field)s” is too long: at most %(limit)s characters.",
                              field=N_("Short description (optional)"), limit=2000))
    assert refused.message == "“Short description (optional)” is too long: at most 2000 characters."
    assert refused.translated("de") == "„Kurze Beschreibung (optional)“ ist zu lang: höchstens 2000 Zeichen."
    assert NP_("notices", "all").translate("fr") == "toutes" and N_("all").translate("fr") != "toutes"
    assert InvalidInput("plain words").translated("nl") == "plain words"  # not (yet) in the catalogs: as it is
    assert labels.label("legal_basis", "art39bis", "nl") == "Artikel 39bis van het Wetboek van strafvordering"
    assert labels.label("status", "a value newer than the labels", "fr") == "a value newer than the labels"


def test_dates_are_written_as_each_language_writes_them() -> None:
    first, late = dt.date(2026, 12, 1), dt.datetime(2026, 11, 28, 23, 30, tzinfo=dt.UTC)
    assert [i18n.long_date(first, lang) for lang in LANGUAGES] == [
        "1er décembre 2026", "1 december 2026", "1. Dezember 2026", "1 December 2026"]
    assert i18n.date_time(late, "fr") == "29 novembre 2026 à 00:30 (heure de Bruxelles ; 23:30 UTC)"
    assert [i18n.month_name(3, lang) for lang in LANGUAGES] == ["mars", "maart", "März", "March"]


def test_templates_are_translated_per_language_and_escape_values(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text('{{ _("%(name)s: block lifted", name=name) }} {{ "lifted"|label("status") }}')
    for language, words in (("fr", "<b> : blocage levé levé"), ("nl", "<b>: blokkering opgeheven opgeheven")):
        rendered = i18n.environment(str(tmp_path), language).get_template("page.html").render(name="<b>")
        assert rendered == words.replace("<b>", "&lt;b&gt;")
    assert i18n.environment(str(tmp_path), "fr") is i18n.environment(str(tmp_path), "fr")  # built once
