"""The product's vocabulary, defined once: states, scopes, roles, languages, order kinds, ISP policies, and the
legal bases with their wording in each language.

Each is a `Literal` (what mypy and pydantic check, and what the database stores: plain strings) with the tuple
of its values read from it, so that a value is never spelled in two places.
"""

from __future__ import annotations

from typing import Literal, get_args

Status = Literal["submitted", "approved", "rejected", "withdrawn", "lifted"]
STATUSES: tuple[Status, ...] = get_args(Status)
# A name pending or blocked cannot be submitted again (a partial unique index holds it in the database).
ACTIVE_STATUSES: tuple[Status, ...] = ("submitted", "approved")

Scope = Literal["domain_and_subdomains", "exact"]
SCOPES: tuple[Scope, ...] = get_args(Scope)

Role = Literal["officer", "magistrate", "auditor", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)

# Belgium's three official languages first; English for staff who prefer it and for tests.
Language = Literal["fr", "nl", "de", "en"]
LANGUAGES: tuple[Language, ...] = get_args(Language)
LANGUAGE_NAMES: dict[str, str] = {"fr": "Français", "nl": "Nederlands", "de": "Deutsch", "en": "English"}

OrderKind = Literal["block", "lift"]
ORDER_KINDS: tuple[OrderKind, ...] = get_args(OrderKind)

# The answer an ISP agreed to give for a blocked name: the stop page, or NXDOMAIN.
IspPolicy = Literal["stoppage", "nxdomain"]
ISP_POLICIES: tuple[IspPolicy, ...] = get_args(IspPolicy)

# A magistrate's decision on an appeal, and what the appellant is told: the block was lifted (upheld), the block
# stays (dismissed), or the name was not blocked (any more) when the appeal was decided (either outcome).
AppealOutcome = Literal["upheld", "dismissed"]
APPEAL_OUTCOMES: tuple[AppealOutcome, ...] = get_args(AppealOutcome)
AppealAnswer = Literal["lifted", "kept", "not_blocked"]
APPEAL_ANSWERS: tuple[AppealAnswer, ...] = get_args(AppealAnswer)
# An e-mail the product sends on its own (an appeal's answer): queued, then sent or, after its retries, failed.
MailStatus = Literal["pending", "sent", "failed"]
MAIL_STATUSES: tuple[MailStatus, ...] = get_args(MailStatus)

LegalBasis = Literal["ecommerce_law", "art39bis", "court_order"]
LEGAL_BASES: tuple[LegalBasis, ...] = get_args(LegalBasis)
# The one wording of each legal basis, per language: requisitions, the stop page and the staff pages all use it.
LEGAL_BASIS_TITLES: dict[str, dict[str, str]] = {  # language -> basis -> words
    "fr": {
        "ecommerce_law": "Loi du 11 mars 2003 sur certains aspects juridiques des services de la société de "
                         "l'information, articles 20 et 21",
        "art39bis": "Article 39bis du Code d'instruction criminelle",
        "court_order": "Décision judiciaire",
    },
    "nl": {
        "ecommerce_law": "Wet van 11 maart 2003 betreffende bepaalde juridische aspecten van de diensten van de "
                         "informatiemaatschappij, artikelen 20 en 21",
        "art39bis": "Artikel 39bis van het Wetboek van strafvordering",
        "court_order": "Rechterlijke beslissing",
    },
    "de": {
        "ecommerce_law": "Gesetz vom 11. März 2003 über bestimmte rechtliche Aspekte der Dienste der "
                         "Informationsgesellschaft, Artikel 20 und 21",
        "art39bis": "Artikel 39bis des Strafprozessgesetzbuches",
        "court_order": "Gerichtliche Entscheidung",
    },
    "en": {
        "ecommerce_law": "Law of 11 March 2003 on certain legal aspects of information society services, "
                         "Articles 20 and 21",
        "art39bis": "Article 39bis of the Code of Criminal Procedure",
        "court_order": "Court decision",
    },
}


def legal_basis_title(basis: str, language: str) -> str:
    """The wording of a legal basis in a language (English for an unknown language)."""
    return LEGAL_BASIS_TITLES.get(language, LEGAL_BASIS_TITLES["en"]).get(basis, basis)
