"""Where a listed site is hosted, as the officer established it: the country (an ISO 3166-1 alpha-2 code, required
for every new submission), and the hosting provider's name and abuse address (both optional).

A site hosted in Belgium gets a removal notice to its provider under the e-commerce law (requisitions/removal.py),
in the language the officer chose (French unless told); elsewhere the country is kept for the transparency
figures. Submissions recorded before this existed have no country.

The refusals are worded in the officer's language, in the JSON API's 422 as on the pages: the officer corrects
them at once. The list of countries is shipped (data/countries.txt, from Debian's iso-codes): nothing is looked up.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from blocklist.errors import InvalidInput
from blocklist.isps import validate_email
from blocklist.text import clean_text
from blocklist.vocab import LANGUAGES

BELGIUM = "BE"
DEFAULT_NOTICE_LANGUAGE = "fr"
MAX_PROVIDER = 200
MAX_EMAIL = 254
_SHOWN = 40  # characters of a refused value quoted back in the reason

# key: {language: words}, filled with str.format.
_WORDS: dict[str, dict[str, str]] = {
    "country_missing": {
        "en": "the hosting country is required: the two-letter ISO 3166-1 code of the country where the site is "
              "hosted (BE for Belgium)",
        "fr": "le pays d'hébergement est requis : le code ISO 3166-1 à deux lettres du pays où le site est hébergé "
              "(BE pour la Belgique)",
        "nl": "het land van hosting is verplicht: de ISO 3166-1-code van twee letters van het land waar de site "
              "gehost wordt (BE voor België)",
        "de": "das Hosting-Land ist erforderlich: der zweistellige ISO-3166-1-Code des Landes, in dem die Website "
              "gehostet wird (BE für Belgien)",
    },
    "country_unknown": {
        "en": "{value} is not a country code: give the two-letter ISO 3166-1 code of the country where the site is "
              "hosted (BE for Belgium)",
        "fr": "{value} n'est pas un code de pays : indiquez le code ISO 3166-1 à deux lettres du pays où le site est "
              "hébergé (BE pour la Belgique)",
        "nl": "{value} is geen landcode: geef de ISO 3166-1-code van twee letters van het land waar de site gehost "
              "wordt (BE voor België)",
        "de": "{value} ist kein Ländercode: geben Sie den zweistelligen ISO-3166-1-Code des Landes an, in dem die "
              "Website gehostet wird (BE für Belgien)",
    },
    "email_bad": {
        "en": "the hosting provider's abuse address {value} is not a valid e-mail address",
        "fr": "l'adresse abuse de l'hébergeur {value} n'est pas une adresse électronique valide",
        "nl": "het abuse-adres van de hostingprovider {value} is geen geldig e-mailadres",
        "de": "die Abuse-Adresse des Hosting-Anbieters {value} ist keine gültige E-Mail-Adresse",
    },
    "email_own_site": {
        "en": "the abuse address {value} is under the listed name itself: a removal notice goes to the hosting "
              "provider, never to the site",
        "fr": "l'adresse abuse {value} relève du nom signalé lui-même : la notification de retrait est adressée à "
              "l'hébergeur, jamais au site",
        "nl": "het abuse-adres {value} valt onder de gemelde naam zelf: een kennisgeving tot verwijdering gaat naar "
              "de hostingprovider, nooit naar de site",
        "de": "die Abuse-Adresse {value} liegt unter dem gemeldeten Namen selbst: eine Entfernungsmitteilung geht "
              "an den Hosting-Anbieter, nie an die Website",
    },
    "language_bad": {
        "en": "the language of the removal notice must be one of {choices}",
        "fr": "la langue de la notification de retrait doit être l'une de : {choices}",
        "nl": "de taal van de kennisgeving tot verwijdering moet een van deze zijn: {choices}",
        "de": "die Sprache der Entfernungsmitteilung muss eine der folgenden sein: {choices}",
    },
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


def _refusal(key: str, *, field: str, language: str, **values: object) -> InvalidInput:
    words = _WORDS[key]
    return InvalidInput(words.get(language, words["en"]).format(**values), field=field)


def _shown(value: str) -> str:
    return repr(value if len(value) <= _SHOWN else value[:_SHOWN - 3] + "...")


def checked(*, country: str, provider: str = "", abuse_email: str = "", notice_language: str = "",
            language: str = "en", domain: str | None = None) -> Hosting:
    """The hosting as it will be stored, or InvalidInput naming the field, worded in `language`.

    `domain` (the listed name, an A-label) refuses an abuse address under the name itself: the notice would warn
    the site's own operator.
    """
    code = clean_text(country, field="hosting_country", max_length=2048).upper()
    if not code:
        raise _refusal("country_missing", field="hosting_country", language=language)
    if code not in countries():
        raise _refusal("country_unknown", field="hosting_country", language=language, value=_shown(code))
    name = clean_text(provider, field="hosting_provider", max_length=MAX_PROVIDER) or None
    email = clean_text(abuse_email, field="hosting_abuse_email", max_length=MAX_EMAIL) or None
    if email is not None:
        try:
            email = validate_email(email)
        except InvalidInput:
            raise _refusal("email_bad", field="hosting_abuse_email", language=language, value=_shown(email)) from None
        host = email.rpartition("@")[2]
        if domain is not None and (host == domain or host.endswith(f".{domain}")):
            raise _refusal("email_own_site", field="hosting_abuse_email", language=language, value=_shown(email))
    chosen = notice_language or DEFAULT_NOTICE_LANGUAGE
    if chosen not in LANGUAGES:
        raise _refusal("language_bad", field="notice_language", language=language, choices=", ".join(LANGUAGES))
    return Hosting(country=code, provider=name, abuse_email=email,
                   notice_language=chosen if code == BELGIUM else None)
