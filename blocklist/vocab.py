"""The product's vocabulary, defined once: states, scopes, roles, languages, order kinds, ISP policies and the
legal bases (their words: blocklist/labels.py).

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
# Which serial an ISP resolver serves, measured from outside by the canaries of recent serials
# (isp_feed/verify/live.py): one answered with the stop page (serving), answered but none blocked (none), no usable
# answer (inconclusive), or not measurable (unknown: an NXDOMAIN policy answers a canary as a name that does not
# exist).
LiveState = Literal["serving", "none", "inconclusive", "unknown"]
LIVE_STATES: tuple[LiveState, ...] = get_args(LiveState)

# A magistrate's decision on an appeal, and what the appellant is told: the block was lifted (upheld), the block
# stays (dismissed), or the name was not blocked (any more) when the appeal was decided (either outcome).
AppealOutcome = Literal["upheld", "dismissed"]
APPEAL_OUTCOMES: tuple[AppealOutcome, ...] = get_args(AppealOutcome)
AppealAnswer = Literal["lifted", "kept", "not_blocked"]
APPEAL_ANSWERS: tuple[AppealAnswer, ...] = get_args(AppealAnswer)
# An e-mail the product sends on its own (an appeal's answer): queued, then sent or, after its retries, failed.
MailStatus = Literal["pending", "sent", "failed"]
MAIL_STATUSES: tuple[MailStatus, ...] = get_args(MailStatus)
# A bulk submission processed in the background (blocklist/batches.py), and each of its names.
BatchStatus = Literal["queued", "running", "done", "failed"]
BATCH_STATUSES: tuple[BatchStatus, ...] = get_args(BatchStatus)
BatchItemState = Literal["pending", "submitted", "refused"]
BATCH_ITEM_STATES: tuple[BatchItemState, ...] = get_args(BatchItemState)
# Why a name of a bulk submission was refused, besides the name checks' own codes (blocklist/names.py: empty,
# too_long, bad_characters, ip_literal, tld, public_suffix, protected...): pending or blocked already, twice in
# the same batch, input the schema refuses, anything else the workflow refuses.
BULK_REFUSALS = ("duplicate", "repeated", "invalid", "refused")

LegalBasis = Literal["ecommerce_law", "art39bis", "court_order"]
LEGAL_BASES: tuple[LegalBasis, ...] = get_args(LegalBasis)
# Their words, and those of every value here, are in blocklist/labels.py (translated by the catalogs).
