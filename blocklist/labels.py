"""The words for the vocabulary's values (blocklist/vocab.py), defined once and translated where they are shown.

Each is a Message (blocklist/i18n.py): English here, the other languages in the catalogs. Pages show them with
`|translate`, documents and e-mails with `Message.translate(language)`.
"""

from __future__ import annotations

from collections.abc import Sequence

from blocklist.i18n import N_, NP_, Message, recognise

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

BATCH_ITEM: dict[str, Message] = {  # a name of a bulk submission (vocab.BatchItemState)
    "pending": N_("not checked yet"), "submitted": N_("submitted"), "refused": N_("refused"),
}

# Why a name of a bulk submission was refused, by its code (vocab.BULK_REFUSALS and the name checks' codes,
# blocklist/names.py): the words shown in the reader's language (the stored detail is English).
BULK_REFUSAL: dict[str, Message] = {
    "duplicate": N_("already pending or blocked"), "repeated": N_("appears twice in this batch"),
    "invalid": N_("not accepted as typed"), "refused": N_("refused by the workflow"),
    "empty": N_("empty"), "empty_label": N_("has an empty label ('..' or a leading dot)"),
    "too_long": N_("too long to be a host name"), "bad_characters": N_("characters not allowed in a host name"),
    "bad_url": N_("not a valid web address"), "bad_scope": N_("unknown scope"),
    "ip_literal": N_("an IP address: block names, never addresses"),
    "tld": N_("a bare top-level domain, not a site"),
    "public_suffix": N_("a public suffix: many unrelated sites live under it"),
    "protected": N_("a protected name: only a magistrate's written override can allow it"),
}

# What happened, for the timeline (blocklist/audit.py's actions): plain words, never the event's code.
EVENT: dict[str, Message] = {
    "submission.created": N_("Name submitted"), "submission.approved": N_("Approved: the name is blocked"),
    "submission.rejected": N_("Rejected"), "submission.withdrawn": N_("Withdrawn by the officer"),
    "submission.lifted": N_("Block lifted"), "submission.renewed": N_("Block renewed at its review"),
    "submission_batch.created": N_("Bulk submission received"), "submission_batch.done": N_("Bulk submission recorded"),
    "submission_batch.failed": N_("Bulk submission failed"),
    "order.created": N_("Order issued"), "order.in_feed": N_("Order in the published feed"),
    "protected.override": N_("Protected name allowed by a magistrate's override"),
    "feed.published": N_("Feed version published"), "feed.held": N_("Feed change held for a second confirmation"),
    "feed.hold_confirmed": N_("Held feed change confirmed"), "feed.hold_closed": N_("Feed hold closed"),
    "feed.applied": N_("Feed applied by the access provider"),
    "feed.apply_failed": N_("The access provider could not apply the feed"),
    "feed.key_rotated": N_("Feed signing key replaced"),
    "requisition.created": N_("Requisition drawn up"), "requisition.sent": N_("Requisition e-mailed"),
    "requisition.failed": N_("Requisition could not be delivered"),
    "requisition.acknowledged": N_("Requisition acknowledged by the access provider"),
    "requisition.order_failed": N_("The requisitions of an order could not be drawn up"),
    "removal_notice.created": N_("Removal notice drawn up"), "removal_notice.sent": N_("Removal notice e-mailed"),
    "removal_notice.failed": N_("Removal notice could not be delivered"),
    "removal_notice.acknowledged": N_("Removal notice acknowledged by the provider"),
    "removal_notice.removed": N_("Site removed by the hosting provider"),
    "report.received": N_("Report received"), "report.merged": N_("Report merged with an earlier one"),
    "report.linked": N_("Report linked to a submission"), "report.dismissed": N_("Report dismissed"),
    "appeal.received": N_("Appeal received"), "appeal.decided": N_("Appeal decided"),
    "appeal.answer_sent": N_("Answer to the appeal e-mailed"),
    "appeal.answer_failed": N_("The answer to the appeal could not be e-mailed"),
    "review.attested": N_("Officer re-attested the content at review"),
    "review.digest_sent": N_("Review reminder e-mailed"), "review.digest_failed": N_("Review reminder failed"),
    "verification.round": N_("DNS verification round"), "verification.probe_round": N_("Remote DNS probe round"),
    "audit.checkpoint": N_("Audit chain checkpoint signed"),
    "user.created": N_("Account created"), "user.updated": N_("Account changed"),
    "user.role_changed": N_("Account role changed"), "user.enabled": N_("Account enabled"),
    "user.disabled": N_("Account disabled"),
    "user.password_set": N_("Account password set"), "user.token_issued": N_("API token issued"),
    "user.token_revoked": N_("API token revoked"), "user.credentials_revoked": N_("All credentials revoked"),
    "user.confirmed": N_("Account change confirmed by the operator"),
    "user.confirmation_required": N_("Account change awaits the operator's confirmation"),
    "user.enrolment_started": N_("Enrolment link issued"), "user.enrolment_mailed": N_("Enrolment link e-mailed"),
    "isp.created": N_("Access provider registered"), "isp.enabled": N_("Access provider enabled"),
    "isp.disabled": N_("Access provider disabled"),
    "isp.credential_rotated": N_("Access provider's feed credential replaced"),
    "isp.tsig_rotated": N_("Access provider's zone-transfer key replaced"),
    "isp.tsig_created": N_("Access provider's zone-transfer key created"),
    "isp.secondaries_set": N_("Access provider's zone-transfer servers set"),
    "partner.created": N_("Partner hotline registered"), "partner.enabled": N_("Partner hotline enabled"),
    "partner.disabled": N_("Partner hotline disabled"),
    "probe.registered": N_("Remote DNS probe registered"),
}
# An event's detail fields, as words (a field not listed here is shown with its underscores as spaces).
FIELD: dict[str, Message] = {
    "case_number": N_("case number"), "court": N_("court"), "court_date": N_("date of the decision"),
    "court_reference": N_("reference of the decision"), "domain": N_("domain"), "domains": N_("domains"),
    "evidence_ref": N_("evidence reference"), "flags": N_("warnings"), "hosting_abuse_email": N_("abuse address"),
    "hosting_country": N_("hosting country"), "hosting_provider": N_("hosting provider"),
    "legal_basis": N_("legal basis"), "note": N_("note"), "notice_language": N_("language of the removal notice"),
    "override_id": N_("override"), "scope": N_("scope"), "typed": N_("typed"), "unicode": N_("name in Unicode"),
    "verified_on": N_("content verified on"), "order_id": N_("order"), "reason": N_("reason"),
    "reasons": N_("reasons"), "review_due": N_("review due"), "kind": N_("kind"), "submissions": N_("submissions"),
    "added": N_("names added"), "removed": N_("names removed"), "count": N_("names in the feed"),
    "serial": N_("feed serial"), "feed_serial": N_("feed serial"), "deadline": N_("deadline"),
    "isp_id": N_("access provider"), "isp": N_("access provider"), "language": N_("language"),
    "pdf_sha256": N_("SHA-256 of the PDF"), "reference": N_("reference"), "attempt": N_("attempt"),
    "message_id": N_("e-mail message id"), "smtp_response": N_("mail server's answer"), "error": N_("error"),
    "username": N_("account"), "role": N_("role"), "report_ids": N_("reports"), "to": N_("to"), "from": N_("from"),
    "name": N_("name"), "prefix": N_("token prefix"), "format": N_("format"), "resolver": N_("resolver"),
    "results": N_("results"), "attempts": N_("attempts"), "because": N_("because"), "late": N_("late"),
}
# The kinds of orders and requisitions.
KIND: dict[str, Message] = {"block": N_("blocking"), "lift": N_("lifting"), "catch_up": N_("catch-up")}
VERDICT: dict[str, Message] = {  # a DNS check's verdict (vocab.Verdict)
    "blocked": N_("blocked as required"), "not_blocked": N_("not blocked"),
    "blocked_other_way": N_("blocked another way"), "inconclusive": N_("no clear answer (retried)"),
}
# How one attempt to e-mail a requisition or a notice ended (requisitions/models.py DeliveryAttempt.outcome).
DELIVERY: dict[str, Message] = {
    "sent": N_("delivered to the mail server"), "transient": N_("failed for now: tried again later"),
    "permanent": N_("failed for good"),
}
ACTOR_SYSTEM = N_("the system")

# By name, for the templates' `value|label("status")`.
KINDS: dict[str, dict[str, Message]] = {
    "legal_basis": LEGAL_BASIS, "legal_basis_short": LEGAL_BASIS_SHORT, "status": STATUS, "scope": SCOPE, "role": ROLE,
    "flag": FLAG, "appeal_outcome": APPEAL_OUTCOME, "appeal_answer": APPEAL_ANSWER, "appeal_mail": APPEAL_MAIL,
    "removal_status": REMOVAL_STATUS, "batch_item": BATCH_ITEM, "event": EVENT, "field": FIELD, "kind": KIND,
    "refusal": BULK_REFUSAL,
    "delivery": DELIVERY, "verdict": VERDICT,
}


def label(kind: str, value: str, language: str) -> str:
    """A value's words in `language`, or the value itself when it has none (a value newer than this list)."""
    words = KINDS[kind].get(value)
    return words.translate(language) if words is not None else value


def reread(stored: str, known: Sequence[Message], language: str, nested: frozenset[str] = frozenset()) -> str:
    """Text stored in English (a DNS check's reason, a hold's closing) in `language` when it is the words of one of
    the `known` Messages (i18n.recognise), its `nested` values (another such text) read back likewise; any other
    text (an old row's, a person's) as stored: stored evidence is never rewritten, only shown in other words."""
    found = recognise(stored, known)
    if found is None:
        return stored
    return found.fill(**{key: reread(str(value), known, language, nested)
                         for key, value in found.values.items() if key in nested}).translate(language)
