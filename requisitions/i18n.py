"""Wording of requisitions in French, Dutch, German (and English for tests): legal bases, labels, dates."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from blocklist.vocab import LEGAL_BASIS_TITLES

MONTHS = {
    "fr": ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
           "novembre", "décembre"],
    "nl": ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
           "november", "december"],
    "de": ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
           "November", "Dezember"],
    "en": ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"],
}

LEGAL_BASES = LEGAL_BASIS_TITLES  # the one wording (blocklist/vocab.py)

AUTHORITY = {
    "fr": "Parquet fédéral",
    "nl": "Federaal Parket",
    "de": "Föderale Staatsanwaltschaft",
    "en": "Federal Prosecutor's Office",
}

TITLES = {
    "blocking": {"fr": "Réquisition de blocage d'accès", "nl": "Vordering tot blokkering van de toegang",
                 "de": "Anordnung zur Sperrung des Zugangs", "en": "Requisition to block access"},
    "lifting": {"fr": "Réquisition de levée de blocage", "nl": "Vordering tot opheffing van de blokkering",
                "de": "Anordnung zur Aufhebung der Sperrung", "en": "Requisition to lift a block"},
    "catch_up": {"fr": "Réquisition de mise à jour (liste en vigueur)",
                 "nl": "Vordering tot bijwerking (geldende lijst)",
                 "de": "Anordnung zur Aktualisierung (geltende Liste)",
                 "en": "Catch-up requisition (list in force)"},
    "removal": {"fr": "Notification de contenu illicite et demande de retrait",
                "nl": "Kennisgeving van onwettige inhoud en verzoek tot verwijdering",
                "de": "Mitteilung rechtswidriger Inhalte und Aufforderung zur Entfernung",
                "en": "Notice of illegal content and request for removal"},
}

# The addressee of a removal notice whose provider the officer could not name.
HOSTING_PROVIDER = {"fr": "Prestataire d'hébergement", "nl": "Hostingprovider", "de": "Hosting-Anbieter",
                    "en": "Hosting provider"}

SCOPES = {
    "fr": {"domain_and_subdomains": "le nom et tous ses sous-domaines", "exact": "ce nom exact uniquement"},
    "nl": {"domain_and_subdomains": "de naam en al zijn subdomeinen", "exact": "enkel deze exacte naam"},
    "de": {"domain_and_subdomains": "der Name und alle Subdomains", "exact": "nur genau dieser Name"},
    "en": {"domain_and_subdomains": "the name and all its subdomains", "exact": "this exact name only"},
}

LABELS = {
    "fr": {"reference": "Référence", "issued": "Date", "to": "Destinataire", "operator": "Identifiant opérateur",
           "magistrate": "Magistrat", "cases": "Dossier(s)", "case": "Dossier", "basis": "Base légale",
           "court": "Juridiction", "court_date": "Date de la décision", "court_ref": "Référence de la décision",
           "names": "Noms de domaine", "name": "Nom (A-label)", "unicode": "Unicode", "scope": "Portée",
           "method": "Méthode", "deadline": "Délai d'exécution", "feed": "Version du flux signé",
           "contact": "Contact", "ack": "Accusé de réception", "reason": "Motif"},
    "nl": {"reference": "Referentie", "issued": "Datum", "to": "Geadresseerde", "operator": "Operatoridentificatie",
           "magistrate": "Magistraat", "cases": "Dossier(s)", "case": "Dossier", "basis": "Rechtsgrond",
           "court": "Rechtbank", "court_date": "Datum van de beslissing", "court_ref": "Referentie van de beslissing",
           "names": "Domeinnamen", "name": "Naam (A-label)", "unicode": "Unicode", "scope": "Draagwijdte",
           "method": "Methode", "deadline": "Uitvoeringstermijn", "feed": "Versie van de ondertekende feed",
           "contact": "Contact", "ack": "Ontvangstbevestiging", "reason": "Reden"},
    "de": {"reference": "Aktenzeichen", "issued": "Datum", "to": "Empfänger", "operator": "Betreiberkennung",
           "magistrate": "Magistrat", "cases": "Verfahren", "case": "Verfahren", "basis": "Rechtsgrundlage",
           "court": "Gericht", "court_date": "Datum der Entscheidung", "court_ref": "Aktenzeichen der Entscheidung",
           "names": "Domainnamen", "name": "Name (A-Label)", "unicode": "Unicode", "scope": "Umfang",
           "method": "Methode", "deadline": "Frist", "feed": "Version des signierten Feeds",
           "contact": "Kontakt", "ack": "Empfangsbestätigung", "reason": "Begründung"},
    "en": {"reference": "Reference", "issued": "Date", "to": "Addressee", "operator": "Operator id",
           "magistrate": "Magistrate", "cases": "Case(s)", "case": "Case", "basis": "Legal basis",
           "court": "Court", "court_date": "Date of the decision", "court_ref": "Reference of the decision",
           "names": "Domain names", "name": "Name (A-label)", "unicode": "Unicode", "scope": "Scope",
           "method": "Method", "deadline": "Deadline", "feed": "Signed feed version",
           "contact": "Contact", "ack": "Acknowledgement", "reason": "Reason"},
}


# Deadlines are read by people in Belgium: written in Brussels time, with UTC alongside so nobody has to guess.
@lru_cache(maxsize=1)
def brussels() -> ZoneInfo:
    """The Europe/Brussels time zone; a clear error when the system has no time zone database."""
    try:
        return ZoneInfo("Europe/Brussels")
    except ZoneInfoNotFoundError:
        raise RuntimeError("time zone Europe/Brussels is unknown here: install the system tzdata package "
                           "(or `pip install tzdata`) so deadlines can be written in Brussels time") from None

CLOCK = {
    "fr": "{date} à {time} (heure de Bruxelles ; {utc} UTC)",
    "nl": "{date} om {time} (Brusselse tijd; {utc} UTC)",
    "de": "{date} um {time} Uhr (Brüsseler Zeit; {utc} UTC)",
    "en": "{date} at {time} (Brussels time; {utc} UTC)",
}


def long_date(value: dt.date | dt.datetime, language: str) -> str:
    """A date as written in the language: 1er/28 novembre 2026, 28 november 2026, 28. November 2026."""
    month = MONTHS[language][value.month - 1]
    if language == "de":
        return f"{value.day}. {month} {value.year}"
    if language == "fr" and value.day == 1:
        return f"1er {month} {value.year}"  # French writes the first of the month as an ordinal
    return f"{value.day} {month} {value.year}"


def date_time(value: dt.datetime, language: str) -> str:
    """Date and time in Brussels with UTC alongside: '29 novembre 2026 à 10:30 (heure de Bruxelles ; 09:30 UTC)'."""
    utc = value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)  # naive = UTC
    local = utc.astimezone(brussels())
    return CLOCK[language].format(date=long_date(local, language), time=f"{local:%H:%M}", utc=f"{utc:%H:%M}")
