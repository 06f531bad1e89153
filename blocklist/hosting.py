"""Where a listed site is hosted, as the officer established it: the country (an ISO 3166-1 alpha-2 code, required
for every new submission), and the hosting provider's name and abuse address (both optional).

A site hosted in Belgium gets a removal notice to its provider under the e-commerce law (requisitions/removal.py),
in the language the officer chose (French unless told); elsewhere the country is kept for the transparency
figures. Submissions recorded before this existed have no country.

The refusals are worded in the officer's language, in the JSON API's 422 as on the pages (translated where they
are shown): the officer corrects them at once. The list of countries is shipped (data/countries.txt, from Debian's
iso-codes): nothing is looked up.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from blocklist.errors import InvalidInput
from blocklist.i18n import N_
from blocklist.isps import validate_email
from blocklist.text import clean_text
from blocklist.vocab import LANGUAGES

BELGIUM = "BE"
DEFAULT_NOTICE_LANGUAGE = "fr"
MAX_PROVIDER = 200
MAX_EMAIL = 254
_SHOWN = 40  # characters of a refused value quoted back in the reason

# The refusals' words (English; the catalogs hold the other languages), filled with the refused value.
_WORDS = {
    "country_missing": N_("the hosting country is required: the two-letter ISO 3166-1 code of the country where "
                          "the site is hosted (BE for Belgium)"),
    "country_unknown": N_("%(value)s is not a country code: give the two-letter ISO 3166-1 code of the country "
                          "where the site is hosted (BE for Belgium)"),
    "email_bad": N_("the hosting provider's abuse address %(value)s is not a valid e-mail address"),
    "email_own_site": N_("the abuse address %(value)s is under the listed name itself: a removal notice goes to the "
                         "hosting provider, never to the site"),
    "language_bad": N_("the language of the removal notice must be one of %(choices)s"),
}


@dataclass(frozen=True)
class Hosting:
    """Where a site is hosted, as it will be stored. `notice_language` only for Belgium (None elsewhere)."""

    country: str
    provider: str | None
    abuse_email: str | None
    notice_language: str | None

    @property
    def in_belgium(self) -> bool:
        """Whether the site's provider gets a removal notice."""
        return self.country == BELGIUM


@lru_cache(maxsize=1)
def countries() -> dict[str, dict[str, str]]:
    """Every ISO 3166-1 alpha-2 code -> its name per language (en, fr, nl, de)."""
    table: dict[str, dict[str, str]] = {}
    text = (Path(__file__).parent / "data" / "countries.txt").read_text(encoding="utf-8")
    for line in text.splitlines():
        if line and not line.startswith("#"):
            code, *names = line.split("\t")
            table[code] = dict(zip(("en", "fr", "nl", "de"), names, strict=True))
    return table


def country_name(code: str | None, language: str) -> str:
    """A country's name in a language (the code itself when unknown; empty for none)."""
    if not code:
        return ""
    names = countries().get(code)
    return names.get(language, names["en"]) if names else code


def country_choices(language: str) -> list[tuple[str, str]]:
    """(code, name) for a form's list: Belgium first, then every other country by its name in the language."""
    others = sorted((c for c in countries() if c != BELGIUM), key=lambda c: country_name(c, language).casefold())
    return [(code, country_name(code, language)) for code in (BELGIUM, *others)]


def _refusal(key: str, *, field: str, **values: object) -> InvalidInput:
    return InvalidInput(_WORDS[key].fill(**values), field=field)


def _shown(value: str) -> str:
    return repr(value if len(value) <= _SHOWN else value[:_SHOWN - 3] + "...")


def checked(*, country: str, provider: str = "", abuse_email: str = "", notice_language: str = "",
            domain: str | None = None) -> Hosting:
    """The hosting as it will be stored, or InvalidInput naming the field (worded in the reader's language where
    it is shown).

    `domain` (the listed name, an A-label) refuses an abuse address under the name itself: the notice would warn
    the site's own operator.
    """
    code = clean_text(country, field="hosting_country", max_length=2048).upper()
    if not code:
        raise _refusal("country_missing", field="hosting_country")
    if code not in countries():
        raise _refusal("country_unknown", field="hosting_country", value=_shown(code))
    name = clean_text(provider, field="hosting_provider", max_length=MAX_PROVIDER) or None
    email = clean_text(abuse_email, field="hosting_abuse_email", max_length=MAX_EMAIL) or None
    if email is not None:
        try:
            email = validate_email(email)
        except InvalidInput:
            raise _refusal("email_bad", field="hosting_abuse_email", value=_shown(email)) from None
        host = email.rpartition("@")[2]
        if domain is not None and (host == domain or host.endswith(f".{domain}")):
            raise _refusal("email_own_site", field="hosting_abuse_email", value=_shown(email))
    chosen = notice_language or DEFAULT_NOTICE_LANGUAGE
    if chosen not in LANGUAGES:
        raise _refusal("language_bad", field="notice_language", choices=", ".join(LANGUAGES))
    return Hosting(country=code, provider=name, abuse_email=email,
                   notice_language=chosen if code == BELGIUM else None)
