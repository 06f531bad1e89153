"""The one translation system: every word shown to a person goes through the gettext catalogs here.

Catalogs: blocklist/locale/<language>/LC_MESSAGES/messages.po (fr, nl, de, en), extracted from the code and the
templates of every package (babel.cfg, `make messages`) and compiled to .mo at build (`make`, the Dockerfile).
Message ids are the English text, with named placeholders (`%(name)s`); a literal % is written %%.

- `gettext(language, msgid, **values)` and `pgettext(language, context, msgid, **values)`: words now.
- `N_(msgid, **values)` and `NP_(context, msgid, **values)`: a `Message`, words kept in English with their values
  until the language is known (an error raised deep in a service, a label defined once): `Message.translate(lang)`
  at the boundary that knows who reads it; `str()` is the English text, for logs.
- `environment(folder, language)`: a Jinja environment for one template folder in one language, with the i18n
  extension (`_()`, `pgettext()`, newstyle: values are passed as keywords and escaped) and the date filters.
  One per (folder, language), built once and never changed afterwards: FastAPI renders pages from a thread pool,
  so translations are never installed per request on a shared environment.
- Dates for people: babel.dates in each language's Belgian locale, times in Europe/Brussels.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jinja2
from babel import dates, numbers
from babel.support import Translations

from blocklist.vocab import LANGUAGES

__all__ = [
    "DOMAIN",
    "LOCALE_DIR",
    "NP_",
    "N_",
    "Message",
    "brussels",
    "date_time",
    "environment",
    "gettext",
    "in_language",
    "language_or_default",
    "long_date",
    "month_name",
    "number",
    "pgettext",
    "translations",
]

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
FALLBACK = "en"


def language_or_default(language: str | None) -> str:
    """A supported language code, English for anything else."""
    return language if language is not None and language in LANGUAGES else FALLBACK


@lru_cache(maxsize=len(LANGUAGES))
def translations(language: str) -> Translations:
    """One language's compiled catalog, falling back to English for a message it lacks (loaded once)."""
    language = language_or_default(language)
    path = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.mo"
    if not path.is_file():
        raise RuntimeError(f"the {language} translations are not compiled ({path} is missing): run `make compile` "
                           "(pybabel compile -d blocklist/locale -D messages)")
    with path.open("rb") as file:
        catalog = Translations(file, domain=DOMAIN)
    if language != FALLBACK:
        catalog.add_fallback(translations(FALLBACK))
    return catalog


def _values(values: Mapping[str, object], language: str) -> dict[str, object]:
    return {key: value.translate(language) if isinstance(value, Message) else value for key, value in values.items()}


def gettext(language: str, msgid: str, **values: object) -> str:
    """`msgid` in `language`, its placeholders filled with `values` (Messages among them translated too)."""
    return translations(language).ugettext(msgid) % _values(values, language)


def pgettext(language: str, context: str, msgid: str, **values: object) -> str:
    """`msgid` in its `context` (one English text with two meanings), in `language`, filled with `values`."""
    return translations(language).upgettext(context, msgid) % _values(values, language)


class Message:
    """Words kept in English with their values until the language of the person reading them is known."""

    __slots__ = ("context", "msgid", "values")

    def __init__(self, msgid: str, values: Mapping[str, object] | None = None, context: str | None = None) -> None:
        self.msgid = msgid
        self.values = dict(values or {})
        self.context = context

    def fill(self, **values: object) -> Message:
        """The same words with (more) values for their placeholders."""
        return Message(self.msgid, {**self.values, **values}, self.context)

    def translate(self, language: str) -> str:
        """The words in `language`."""
        if self.context is None:
            return gettext(language, self.msgid, **self.values)
        return pgettext(language, self.context, self.msgid, **self.values)

    def __str__(self) -> str:
        """The English words (the msgid is the English text): for logs and the CLI, without loading a catalog."""
        return self.msgid % {key: str(value) for key, value in self.values.items()}

    def __repr__(self) -> str:
        return f"Message({self.msgid!r}, {self.values!r}, context={self.context!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Message) and (self.msgid, self.context, self.values) == (
            other.msgid, other.context, other.values)

    def __hash__(self) -> int:
        return hash((self.msgid, self.context))


def N_(msgid: str, **values: object) -> Message:
    """Mark words for the catalogs, translated later (`Message.translate`)."""
    return Message(msgid, values)


def NP_(context: str, msgid: str, **values: object) -> Message:
    """Mark words that have a context (the same English with another meaning elsewhere)."""
    return Message(msgid, values, context)


def in_language(text: str | Message, language: str) -> str:
    """A Message in `language`; a plain string (a name, what a person typed) as it is."""
    return text.translate(language) if isinstance(text, Message) else text


# --- dates and times, as people in Belgium read them ---

@lru_cache(maxsize=1)
def brussels() -> ZoneInfo:
    """The Europe/Brussels time zone; a clear error when the system has no time zone database."""
    try:
        return ZoneInfo("Europe/Brussels")
    except ZoneInfoNotFoundError:
        raise RuntimeError("time zone Europe/Brussels is unknown here: install the system tzdata package "
                           "(or `pip install tzdata`) so times can be written in Brussels time") from None


def _locale(language: str) -> str:
    # Each language as written in Belgium; English, for staff who prefer it, the British way (1,234.5).
    language = language_or_default(language)
    return "en_GB" if language == "en" else f"{language}_BE"


def number(value: float, language: str, decimals: int = 0) -> str:
    """A number as the language writes it: 1 234,5 (fr), 1.234,5 (nl, de), 1,234.5 (en)."""
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return str(numbers.format_decimal(value, format=pattern, locale=_locale(language)))


def long_date(value: dt.date | dt.datetime, language: str) -> str:
    """A date as written in the language: 1er/28 novembre 2026, 28 november 2026, 28. November 2026."""
    day = value.date() if isinstance(value, dt.datetime) else value
    text = dates.format_date(day, format="long", locale=_locale(language))
    if language == "fr" and day.day == 1 and text.startswith("1 "):
        text = "1er" + text[1:]  # French writes the first of the month as an ordinal
    return text


def date_time(value: dt.datetime, language: str) -> str:
    """Date and time in Brussels with UTC alongside: '29 novembre 2026 à 10:30 (heure de Bruxelles ; 09:30 UTC)'."""
    utc = value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)  # naive = UTC
    local = utc.astimezone(brussels())
    return gettext(language, "%(date)s at %(time)s (Brussels time; %(utc)s UTC)", date=long_date(local, language),
                   time=f"{local:%H:%M}", utc=f"{utc:%H:%M}")


def duration(value: dt.timedelta, language: str) -> str:
    """A length of time, rounded, in words of the language: "3 days", "5 heures", "2 Wochen"."""
    return str(dates.format_timedelta(value, threshold=1.5, locale=_locale(language)))


def month_name(month: int, language: str) -> str:
    """The month's name (1-12) in the language, as it stands alone."""
    return str(dates.get_month_names("wide", context="stand-alone", locale=_locale(language))[month])


def recognise(text: str, known: Sequence[Message]) -> Message | None:
    """The Message among `known` whose English words `text` is (stored text: a hold's reasons), with its values
    read back; None when it is none of them."""
    for message in known:
        pattern = "".join(f"(?P<{part[2:-2]}>.+?)" if part.startswith("%(") else re.escape(part.replace("%%", "%"))
                          for part in re.split(r"(%\([a-z_]+\)s)", message.msgid))
        found = re.fullmatch(pattern, text, flags=re.DOTALL)
        if found:
            return message.fill(**found.groupdict())
    return None


# --- templates ---

def _label(kind: str, value: str, language: str) -> str:
    """A template's `value|label("status")`: the words of a vocabulary value (blocklist/labels.py)."""
    from blocklist import labels  # labels imports this module: resolved at render time

    return labels.label(kind, value, language)


def _translate(text: object, language: str) -> str:
    """A template's `|translate`: a Message, or a msgid held in a variable (never "": gettext's catalog header)."""
    if isinstance(text, Message):
        return text.translate(language)
    return translations(language).ugettext(str(text)) if text else ""


@lru_cache(maxsize=64)
def environment(folder: str, language: str, *, strict: bool = True) -> jinja2.Environment:
    """The Jinja environment of one template folder in one language (HTML autoescaped, text not).

    `strict`: a template asking for a value it was not given fails (StrictUndefined) instead of printing nothing.
    """
    language = language_or_default(language)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder), extensions=["jinja2.ext.i18n"],
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=jinja2.StrictUndefined if strict else jinja2.Undefined, auto_reload=False)
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.globals["language"] = language
    env.filters["translate"] = lambda text: _translate(text, language)
    env.filters["label"] = lambda value, kind: _label(kind, value, language)
    env.filters["long_date"] = lambda value: long_date(value, language)
    env.filters["date_time"] = lambda value: date_time(value, language)
    return env
