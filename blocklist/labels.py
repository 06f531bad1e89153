"""The words for the vocabulary's values (blocklist/vocab.py), defined once and translated where they are shown.

Each is a Message (blocklist/i18n.py): English here, the other languages in the catalogs. Pages show them with
`|translate`, documents and e-mails with `Message.translate(language)`.
"""

from __future__ import annotations

from blocklist.i18n import N_, NP_, Message

# The one wording of each legal basis: requisitions, the stop page and the staff pages all use it.
LEGAL_BASIS: dict[str, Message] = {
    "ecommerce_law": N_("Law of 11 March 2003 on certain legal aspects of information society services, "
                        "Articles 20 and 21"),
    "art39bis": N_("Article 39bis of the Code of Criminal Procedure"),
    "court_order": N_("Court decision"),
}
# Short, for the transparency statistics' tables and charts.
LEGAL_BASIS_SHORT: dict[str, Message] = {
    "ecommerce_law": N_("Law of 11 March 2003 (e-commerce)"), "art39bis": N_("Art. 39bis Code of Criminal Procedure"),
    "court_order": N_("Court decision"),
}
# Any of them, for the stop page of the bare stop-page host (no listed name, so no known basis).
ANY_LEGAL_BASIS = N_("Law of 11 March 2003, Article 39bis of the Code of Criminal Procedure, or a court decision")

STATUS: dict[str, Message] = {
    "submitted": N_("pending"), "approved": N_("blocked"), "rejected": N_("rejected"),
    "withdrawn": N_("withdrawn"), "lifted": N_("lifted"),
}
SCOPE: dict[str, Message] = {
    "domain_and_subdomains": N_("the domain and its subdomains"), "exact": N_("this exact name only"),
}
FLAG: dict[str, Message] = {
    "platform_host": N_("platform or shared host: many unrelated sites may live under it"),
    "homograph": N_("homograph: mixes scripts and may imitate another name"),
    "protected_override": N_("protected name, allowed by a magistrate's override"),
    "idn": N_("internationalised name (shown in Unicode and as A-label)"),
}
ROLE: dict[str, Message] = {
    "officer": N_("officer"), "magistrate": N_("magistrate"), "auditor": N_("auditor"), "admin": N_("administrator"),
}
APPEAL_OUTCOME: dict[str, Message] = {"upheld": N_("upheld"), "dismissed": N_("dismissed")}
APPEAL_ANSWER: dict[str, Message] = {
    "lifted": N_("block lifted"), "kept": N_("block kept"), "not_blocked": N_("the name was not blocked"),
}
APPEAL_MAIL: dict[str, Message] = {
    "pending": N_("answer to be e-mailed"), "sent": N_("answer e-mailed"),
    "failed": N_("the answer could not be e-mailed"),
}
REMOVAL_STATUS: dict[str, Message] = {
    "": NP_("notices", "all"), "pending": N_("to be sent"), "sent": N_("sent"),
    "no_address": N_("no address: deliver by hand"), "failed": N_("delivery failed"),
    "acknowledged": N_("acknowledged by the provider"), "removed": N_("site removed"),
}

# By name, for the templates' `value|label("status")`.
KINDS: dict[str, dict[str, Message]] = {
    "legal_basis": LEGAL_BASIS, "legal_basis_short": LEGAL_BASIS_SHORT, "status": STATUS, "scope": SCOPE, "role": ROLE,
    "flag": FLAG, "appeal_outcome": APPEAL_OUTCOME, "appeal_answer": APPEAL_ANSWER, "appeal_mail": APPEAL_MAIL,
    "removal_status": REMOVAL_STATUS,
}


def label(kind: str, value: str, language: str) -> str:
    """A value's words in `language`, or the value itself when it has none (a value newer than this list)."""
    words = KINDS[kind].get(value)
    return words.translate(language) if words is not None else value
