"""Request and response bodies of the JSON API (separate from the SQLAlchemy models)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from annotated_types import GroupedMetadata, MaxLen
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, ValidationInfo
from pydantic_core import PydanticCustomError

from blocklist.audit import ChainStatus
from blocklist.errors import InvalidInput
from blocklist.models import (
    ApiToken,
    Appeal,
    AppealDecision,
    Attestation,
    AuditEvent,
    Isp,
    Order,
    Renewal,
    Submission,
    SubmissionBatch,
    SubmissionBatchItem,
    User,
)
from blocklist.reviews import DueReview
from blocklist.schemas import Date
from blocklist.text import MAX_ID, clean_text
from blocklist.vocab import (
    AppealAnswer,
    AppealOutcome,
    BatchItemState,
    BatchStatus,
    IspPolicy,
    Language,
    LegalBasis,
    LiveState,
    MailStatus,
    Role,
    Scope,
    Status,
)
from blocklist.workflow import BulkResult
from isp_feed.holds import HeldName, StateCounts, StatedName
from isp_feed.models import FeedHold, VerificationResult
from isp_feed.serving import IspFeedState
from requisitions import service as requisitions
from requisitions.models import NoticeStatus, RemovalNotice, RemovalOutcome, Requisition

# What clean_text accepts, for the OpenAPI schema only (its own check gives the 422 its reason): no control
# character (C0 but LF, DEL, C1), line or paragraph separator, or text-direction control; a paragraph keeps LF
# and CR LF. Unpaired surrogates cannot be sent in UTF-8 JSON. tests/api/test_api_schemathesis.py compares these
# with clean_text on every character of the Basic Multilingual Plane.
_REFUSED = r"\x7f-\x9f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_LINE_CHAR = rf"[^\x00-\x1f{_REFUSED}]"
_PARAGRAPH_CHAR = rf"(?:[^\x00-\x09\x0b-\x1f{_REFUSED}]|\r\n)"
# A character that remains once str.strip() has removed the white space around the text.
_VISIBLE = rf"[^\x00-\x20{_REFUSED}\xa0\u1680\u2000-\u200a\u202f\u205f\u3000]"
LINE_PATTERN = rf"^{_LINE_CHAR}*$"
PARAGRAPH_PATTERN = rf"^{_PARAGRAPH_CHAR}*$"
NON_BLANK_LINE_PATTERN = rf"^{_LINE_CHAR}*{_VISIBLE}{_LINE_CHAR}*$"
# An e-mail address as the API takes it (blocklist.isps.validate_email checks it further): the local part's
# characters that function allows, and a domain of A-labels (an IDN domain in its xn-- form) with a letter TLD.
_EMAIL_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
EMAIL_PATTERN = rf"^[A-Za-z0-9.!#$%&'*+/=?^_`{{|}}~-]{{1,64}}@(?:{_EMAIL_LABEL}\.)+[A-Za-z]{{2,63}}$"
# A written reason: at least 3 characters once stripped (blocklist.workflow._reason), CR LF counting as one.
WRITTEN_PATTERN = rf"^{_PARAGRAPH_CHAR}*{_VISIBLE}{_PARAGRAPH_CHAR}+{_VISIBLE}{_PARAGRAPH_CHAR}*$"
# A query's "ISP id or name" (blocklist.isps.get_isp): ASCII digits are an id, anything else a name (one line);
# empty is no filter.
ISP_ID_OR_NAME: dict[str, Any] = {"anyOf": [
    {"type": "integer", "minimum": 1, "maximum": MAX_ID},
    {"type": "string", "maxLength": 1000, "pattern": rf"^(?:{_LINE_CHAR}*[^0-9\x00-\x1f{_REFUSED}]{_LINE_CHAR}*)?$"},
]}


@dataclass(frozen=True)
class Text(GroupedMetadata):
    """A text field of a body checked by blocklist.text.clean_text, so that the 422 names the field.

    `Annotated[str, Text(200)]` is one line; `Text(4000, multiline=True)` a note or a reason (LF kept).
    """

    max_length: int
    multiline: bool = False

    def __iter__(self) -> Iterator[object]:
        yield MaxLen(self.max_length)  # also the schema's maxLength
        yield Field(json_schema_extra={"pattern": PARAGRAPH_PATTERN if self.multiline else LINE_PATTERN})
        yield AfterValidator(self._check)

    def _check(self, value: str, info: ValidationInfo) -> str:
        try:
            return clean_text(value, field=info.field_name or "text", max_length=self.max_length,
                              multiline=self.multiline)
        except InvalidInput as exc:
            # A template: the reason may hold braces, which pydantic would otherwise try to format.
            # The refusal itself rides along, for its words in the reader's language (blocklist/problems.py).
            raise PydanticCustomError("text", "{reason}", {"reason": exc.message, "refusal": exc}) from None


Line = Annotated[str, Text(200)]
Paragraph = Annotated[str, Text(4000, multiline=True)]
WrittenReason = Annotated[Paragraph, Field(json_schema_extra={"pattern": WRITTEN_PATTERN})]


class ProblemOut(BaseModel):
    """One field pydantic refused."""

    field: str | None
    reason: str


class ErrorOut(BaseModel):
    """Every error answer of the JSON API and the feed (api/errors.py)."""

    error: str = Field(description="The kind of error: NotFound, Forbidden, Conflict, Duplicate, InvalidInput...")
    reason: str = Field(description="What was refused and why, in words an operator can act on, in the caller's "
                                    "language (a user's account language, else Accept-Language, else English)")
    reason_en: str | None = Field(default=None, description="The same reason in English, when `reason` is in "
                                                            "another language (for logs)")
    field: str | None = Field(default=None, description="The input field at fault, when there is one")
    problems: list[ProblemOut] | None = Field(default=None, description="Each field the input validation refused")
    existing_id: int | None = Field(default=None, description="Duplicate: the record already pending or blocked")
    code: str | None = Field(default=None, description="NameRefused: why the name cannot be listed; a refused "
                                                       "review: the rule that refused it")


class ReasonIn(BaseModel):
    """A reason, where the action takes one without needing it (approving, withdrawing)."""

    model_config = ConfigDict(extra="forbid")

    reason: Paragraph = ""


class WrittenReasonIn(BaseModel):
    """The written reason an action needs (rejecting, lifting, renewing): at least 3 characters.

    Required in the schema; a missing one is refused by the action itself, whose 422 says what needs it.
    """

    model_config = ConfigDict(extra="forbid", json_schema_extra={"required": ["reason"]})

    reason: WrittenReason = ""


class BatchApproveIn(BaseModel):
    """Several submissions approved together as one order."""

    model_config = ConfigDict(extra="forbid")

    # Each id once: the order refuses a list naming a submission twice (uniqueItems, for the schema).
    ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(min_length=1, max_length=10_000,
                                                             json_schema_extra={"uniqueItems": True})
    reason: Paragraph = ""


class OverrideIn(BaseModel):
    """A magistrate's written permission to submit one protected name."""

    model_config = ConfigDict(extra="forbid")

    domain: str = Field(min_length=1, max_length=2048)
    reason: WrittenReason = Field(min_length=3)


class UserIn(BaseModel):
    """A new account."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$")  # blocklist.users._USERNAME, any case
    role: Role
    display_name: Line = ""
    language: Literal["en", "fr", "nl", "de"] = "en"
    email: str | None = Field(default=None, max_length=254, pattern=EMAIL_PATTERN)


class RoleIn(BaseModel):
    """A new role for an account."""

    model_config = ConfigDict(extra="forbid")

    role: Role


class IspIn(BaseModel):
    """A new ISP."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Text(100), Field(json_schema_extra={"pattern": NON_BLANK_LINE_PATTERN})] = Field(
        min_length=1)
    email: str = Field(min_length=3, max_length=254, pattern=EMAIL_PATTERN)
    language: Literal["fr", "nl", "de", "en"]  # blocklist.isps.ISP_LANGUAGES
    resolvers: list[str] = Field(default_factory=list, max_length=50)
    policy: Literal["stoppage", "nxdomain"] = "stoppage"  # blocklist.isps.POLICIES
    operator_id: Annotated[str, Text(100)] = ""


class ActiveIn(BaseModel):
    """Enable or disable."""

    model_config = ConfigDict(extra="forbid")

    active: StrictBool  # true or false: not 0, 1 or "yes", which the schema's boolean does not allow


class NamesIn(BaseModel):
    """Names to check."""

    model_config = ConfigDict(extra="forbid")

    names: list[str] = Field(min_length=1, max_length=10_000)
    scope: Scope = "domain_and_subdomains"


# Answers. Each route declares one as its `response_model`, so that the OpenAPI schema documents what it returns
# (and schemathesis checks every answer against it). Times are ISO 8601 in UTC ("...Z"), dates YYYY-MM-DD.


class UserOut(BaseModel):
    """An account as the API shows it (never its password hash, its tokens or its e-mail address)."""

    id: int
    username: str
    display_name: str
    role: Role
    language: Language
    active: bool = Field(description="A disabled account cannot log in or use its tokens")
    created_at: dt.datetime
    credentialed_by: str = Field(description="Who made the account, or last replaced its credential or role")
    confirmed: bool = Field(description="Whether a second administrator confirmed that; until then the account "
                                        "can do nothing")
    confirmed_by: str | None = Field(description="The administrator who confirmed it")
    confirmed_at: dt.datetime | None
    has_password: bool = Field(description="Whether the person set a web password (without one: the enrolment link)")
    has_email: bool = Field(description="Whether an e-mail address is on the account (where an enrolment link goes)")

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(id=user.id, username=user.username, display_name=user.display_name, role=user.role,
                   language=user.language, active=user.active, created_at=user.created_at,
                   credentialed_by=user.credentialed_by, confirmed=user.confirmed_at is not None,
                   confirmed_by=user.confirmed_by, confirmed_at=user.confirmed_at,
                   has_password=bool(user.password_hash), has_email=bool(user.email))


class IspOut(BaseModel):
    """An ISP as the API shows it (never its feed credential)."""

    id: int
    name: str
    operator_id: str = Field(description="The ISP's identifier at the regulator, if any")
    email: str = Field(description="Where its requisitions are sent")
    language: Language = Field(description="The language of its requisitions")
    policy: IspPolicy = Field(description="The answer it agreed to give for a blocked name")
    active: bool = Field(description="An inactive ISP gets no requisitions and cannot pull the feed")
    resolvers: list[str] = Field(description="Its resolvers that verification queries, each `address:port`")
    credential_prefix: str = Field(description="The first characters of its feed credential, to tell which one "
                                               "it holds")

    @classmethod
    def of(cls, isp: Isp) -> IspOut:
        return cls(id=isp.id, name=isp.name, operator_id=isp.operator_id, email=isp.email, language=isp.language,
                   policy=isp.policy, active=isp.active, resolvers=[f"{r.address}:{r.port}" for r in isp.resolvers],
                   credential_prefix=isp.feed_token_prefix)


class TsigKeyOut(BaseModel):
    """An ISP's TSIG key for zone transfers (HMAC-SHA256): its secret shown this once; the previous key stops
    working when the hidden primary's configuration is next written."""

    isp_id: int
    key_name: str = Field(description="The key's name, as both ends configure it")
    algorithm: Literal["hmac-sha256"] = "hmac-sha256"
    secret: str = Field(description="Base64; shown this once")


class IspCreatedOut(IspOut):
    """A new ISP, with its feed credential and its TSIG key: each shown this once, never stored in clear."""

    credential: str
    tsig: TsigKeyOut

    @classmethod
    def created(cls, isp: Isp, credential: str, tsig: TsigKeyOut) -> IspCreatedOut:
        return cls(**IspOut.of(isp).model_dump(), credential=credential, tsig=tsig)


class SecondariesIn(BaseModel):
    """The ISP's secondaries, replacing those registered: the primary NOTIFYs them and lets them transfer."""

    model_config = ConfigDict(extra="forbid")

    signed: list[str] = Field(default_factory=list, max_length=50,
                              description="IP[:PORT] of each secondary that transfers with the ISP's TSIG key")
    unsigned: list[str] = Field(default_factory=list, max_length=50,
                                description="IP[:PORT] of each secondary allowed by its address alone (Unbound "
                                            "1.17 cannot sign a transfer)")


class SecondaryOut(BaseModel):
    """One registered secondary."""

    address: str
    port: int
    tsig: bool = Field(description="Whether it must sign its transfers with the ISP's key")


class CredentialOut(BaseModel):
    """An ISP's new feed credential: shown this once, the old one no longer works."""

    isp_id: int
    credential: str


class CourtOrderOut(BaseModel):
    """The court decision a `court_order` submission rests on."""

    court: str | None
    date: dt.date | None
    reference: str | None


class SubmissionOut(BaseModel):
    """A listed domain as the API shows it: the name, its legal record, and where its decision stands."""

    id: int
    domain: str = Field(description="The name as listed: its A-label")
    unicode: str = Field(description="The same name in Unicode (its U-label)")
    typed: str = Field(description="What the officer typed")
    scope: Scope
    flags: list[str] = Field(description="The warnings raised when the name was checked")
    legal_basis: LegalBasis
    case_number: str
    evidence_ref: str = Field(description="Where the evidence of the verification is kept")
    verified_on: dt.date = Field(description="When the officer verified the content")
    court_order: CourtOrderOut | None = Field(description="For the legal basis `court_order` only")
    note: str
    status: Status
    # Under /domains, the accounts' ids: the usernames are looked up only for the submissions' own routes.
    submitted_by: str | int = Field(description="The submitting officer's username (its account id under "
                                                "/domains)")
    submitted_at: dt.datetime
    decided_by: str | int | None = Field(description="The deciding magistrate's username (its account id under "
                                                     "/domains)")
    decided_at: dt.datetime | None
    decision_reason: str | None
    order_id: int | None = Field(description="The blocking order that approved it")
    review_due: dt.date | None = Field(description="When the block comes up for review (renew or lift)")
    lifted_at: dt.datetime | None
    lift_reason: str | None
    hosting_country: str | None = Field(description="ISO 3166-1 alpha-2 code of the country where the site is "
                                                    "hosted (null only on records made before it was asked)")
    hosting_provider: str | None = Field(description="The hosting provider, when the officer established it")
    hosting_abuse_email: str | None = Field(description="The hosting provider's abuse address")
    notice_language: Language | None = Field(description="Hosted in Belgium: the language of the removal notice")

    @classmethod
    def of(cls, sub: Submission, usernames: Mapping[int, str] | None = None) -> SubmissionOut:
        """`usernames`: account id -> username, to show who submitted and decided by name."""
        names = usernames or {}
        court_order = (CourtOrderOut(court=sub.court, date=sub.court_date, reference=sub.court_reference)
                       if sub.legal_basis == "court_order" else None)
        return cls(
            id=sub.id, domain=sub.domain, unicode=sub.unicode, typed=sub.typed, scope=sub.scope,
            flags=sub.flag_list, legal_basis=sub.legal_basis, case_number=sub.case_number,
            evidence_ref=sub.evidence_ref, verified_on=sub.verified_on, court_order=court_order, note=sub.note,
            status=sub.status, submitted_by=names.get(sub.submitted_by, sub.submitted_by),
            submitted_at=sub.submitted_at,
            decided_by=names.get(sub.decided_by, sub.decided_by) if sub.decided_by else None,
            decided_at=sub.decided_at, decision_reason=sub.decision_reason, order_id=sub.order_id,
            review_due=sub.review_due, lifted_at=sub.lifted_at, lift_reason=sub.lift_reason,
            hosting_country=sub.hosting_country, hosting_provider=sub.hosting_provider,
            hosting_abuse_email=sub.hosting_abuse_email, notice_language=sub.notice_language)


class BulkAcceptedOut(BaseModel):
    """A name of a bulk submission that was recorded."""

    domain: str = Field(description="The name as typed")
    accepted: Literal[True]
    id: int = Field(description="The new submission")
    a_label: str = Field(description="The name as listed")
    flags: list[str] = Field(description="The warnings raised when the name was checked")


class BulkRefusedOut(BaseModel):
    """A name of a bulk submission that was refused (nothing was recorded for it)."""

    domain: str = Field(description="The name as typed")
    accepted: Literal[False]
    reason: str
    code: str = Field(description="Why, as a code: a name check's (tld, public_suffix, protected...), or "
                                  "duplicate, repeated, invalid, refused")


class BulkOut(BaseModel):
    """What became of each name of a bulk submission, in the order sent."""

    accepted: int = Field(description="How many names were recorded")
    refused: int = Field(description="How many names were refused")
    results: list[BulkAcceptedOut | BulkRefusedOut]

    @classmethod
    def of(cls, results: Sequence[BulkResult]) -> BulkOut:
        out: list[BulkAcceptedOut | BulkRefusedOut] = [
            BulkAcceptedOut(domain=r.typed, accepted=True, id=r.submission.id, a_label=r.submission.domain,
                            flags=r.submission.flag_list) if r.submission is not None
            else BulkRefusedOut(domain=r.typed, accepted=False, reason=r.reason or "", code=r.code or "refused")
            for r in results]
        accepted = sum(1 for r in out if r.accepted)
        return cls(accepted=accepted, refused=len(out) - accepted, results=out)


class BatchApprovedOut(BaseModel):
    """Submissions approved together: the order that blocks them."""

    order_id: int
    approved: list[int] = Field(description="The submissions approved")


class LiftedOut(BaseModel):
    """A lifted block: the lifting order that takes the name out of the next feed version."""

    domain: str = Field(description="The name as given in the path")
    status: Literal["lifted"]
    order_id: int = Field(description="The lifting order")


class EventOut(BaseModel):
    """One link of the hash-chained audit log."""

    seq: int = Field(description="Its sequence number in the chain")
    at: str = Field(description="When, ISO 8601 UTC text exactly as hashed")
    actor: str = Field(description="Who: `user:<username>`, `isp:<id>`, `probe:<name>`, or a job")
    action: str
    object_type: str
    object_id: str
    domain: str | None
    order_id: int | None
    details: dict[str, Any] = Field(description="What the action recorded (its canonical JSON)")
    hash: str = Field(description="SHA-256 over the previous hash and this event")

    @classmethod
    def of(cls, event: AuditEvent) -> EventOut:
        return cls(seq=event.id, at=event.at, actor=event.actor, action=event.action, object_type=event.object_type,
                   object_id=event.object_id, domain=event.domain, order_id=event.order_id,
                   details=json.loads(event.details), hash=event.hash)


class CheckOut(BaseModel):
    """One DNS check of a name at one ISP resolver, with its evidence."""

    id: int
    round_id: int = Field(description="The verification round")
    at: dt.datetime
    isp_id: int
    isp: str = Field(description="The ISP's name")
    resolver: str
    verdict: str = Field(description="blocked, blocked_other_way, not_blocked, domain_dead or inconclusive")
    reason: str = Field(description="Why that verdict")
    feed_serial: int | None = Field(description="The feed version current when it was checked")
    evidence: dict[str, Any] = Field(description="Every question and raw answer behind the verdict")

    @classmethod
    def of(cls, result: VerificationResult, isp_name: str, evidence: dict[str, Any]) -> CheckOut:
        return cls(id=result.id, round_id=result.round_id, at=result.at, isp_id=result.isp_id, isp=isp_name,
                   resolver=result.resolver, verdict=result.verdict, reason=result.reason,
                   feed_serial=result.feed_serial, evidence=evidence)


class AttemptOut(BaseModel):
    """One attempt to hand a requisition to the mail server (the audit chain records only the last one)."""

    requisition_id: int
    reference: str
    attempt: int
    started_at: dt.datetime
    outcome: str = Field(description="sent, transient or permanent")
    smtp_response: str = Field(description="The mail server's answer, or why it could not be reached")


class HistoryOut(BaseModel):
    """Everything about one name: its audit events in order (with those of the feed holds that held its orders
    and of the catch-up requisitions that listed it), every delivery attempt, then its newest DNS checks."""

    domain: str = Field(description="The name as given in the path")
    names: list[str] = Field(default_factory=list, description="The name, then the parents whose blocks cover it "
                                                               "(with their subdomains): whose events these are")
    events: list[EventOut]
    attempts: list[AttemptOut] = Field(default_factory=list, description="Delivery attempts of its requisitions")
    checks: list[CheckOut] = Field(description="Newest first")


class ChainStatusOut(BaseModel):
    """The outcome of recomputing the whole audit chain."""

    intact: bool
    events: int = Field(description="How many events were checked")
    head_hash: str = Field(description="The hash of the last event checked")
    broken_at: int | None = Field(description="The first event that does not verify")
    problem: str | None = Field(description="Why the chain is broken")
    summary: str = Field(description="One line for operators")

    @classmethod
    def of(cls, status: ChainStatus) -> ChainStatusOut:
        return cls(intact=status.intact, events=status.events, head_hash=status.head_hash,
                   broken_at=status.broken_at, problem=status.problem, summary=status.describe())


class IspComplianceOut(BaseModel):
    """Where one ISP stands, on the newest verdict of each blocked name at its resolvers."""

    model_config = ConfigDict(from_attributes=True)

    isp_id: int
    isp_name: str
    checked: int = Field(description="Blocked names with a verdict at this ISP")
    blocked: int = Field(description="Of those, the names every resolver blocks")
    share_blocked: float | None = Field(description="blocked / checked; null when nothing was checked")
    not_blocked: list[str] = Field(description="Names a resolver does not block")
    regressions: list[str] = Field(description="Names once seen blocked, no longer")


class ResolverLiveOut(BaseModel):
    """Which serial one ISP resolver really serves (asked from outside by its canaries), beside the acknowledged one."""

    model_config = ConfigDict(from_attributes=True)

    isp_id: int
    isp_name: str
    resolver: str = Field(description="IP:port")
    state: LiveState | None = Field(description="serving, none (none of the recent serials), inconclusive, unknown "
                                                "(an NXDOMAIN policy cannot tell); null: never measured")
    serial: int | None = Field(description="The content serial served (state serving)")
    since: dt.datetime | None = Field(description="First round of the unbroken run that found this state and serial")
    checked_at: dt.datetime | None = Field(description="When the canaries were last asked")
    detail: str = Field(description="What each canary was answered")
    acknowledged: int | None = Field(description="Content serial of the serial the ISP's client last acknowledged")
    acknowledged_serial: int | None
    acknowledged_at: dt.datetime | None
    mismatch: str | None = Field(description="How the served serial contradicts the acknowledgement; null: it does not")


class ComplianceOut(BaseModel):
    """Compliance per ISP and per resolver (the serial really served), and an alert for each regression and each
    resolver that does not serve the serial acknowledged."""

    isps: list[IspComplianceOut]
    resolvers: list[ResolverLiveOut] = []
    alerts: list[str]


class OverrideOut(BaseModel):
    """A magistrate's permission to submit one protected name."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    domain: str
    reason: str


class NameVerdictOut(BaseModel):
    """One name checked against the name policy: accepted (with its flags) or refused (with a reason)."""

    model_config = ConfigDict(from_attributes=True)

    typed: str = Field(description="The name as sent")
    accepted: bool
    a_label: str | None = Field(description="The normalised name (null when it cannot be normalised)")
    u_label: str | None = Field(description="The normalised name in Unicode")
    flags: list[str] = Field(description="The warnings an accepted name raises")
    reason: str | None = Field(description="Why a refused name is refused")
    code: str | None = Field(description="The kind of refusal, for programs")


class IspRefOut(BaseModel):
    """An ISP named in another answer."""

    id: int
    name: str


class RequisitionNameOut(BaseModel):
    """A name a requisition lists."""

    a_label: str
    scope: Scope
    unicode: str


class DeliveredDocumentOut(BaseModel):
    """What a document sent by e-mail (a requisition, a removal notice) has in common: its reference, language,
    deadline and delivery."""

    id: int
    reference: str
    language: Language
    created_at: dt.datetime
    deadline: dt.datetime
    attempts: int = Field(description="Delivery attempts so far")
    sent_at: dt.datetime | None
    message_id: str = Field(description="The e-mail's Message-ID")
    smtp_response: str | None = Field(description="What the mail server answered")
    failed_at: dt.datetime | None
    last_error: str | None
    pdf_sha256: str = Field(description="SHA-256 of the PDF as issued")
    document: str = Field(description="The path of its PDF")

    @staticmethod
    def delivery(row: Requisition | RemovalNotice, document: str) -> dict[str, Any]:
        """The common fields of a stored document."""
        return {"id": row.id, "reference": row.reference, "language": row.language, "created_at": row.created_at,
                "deadline": row.deadline, "attempts": row.attempts, "sent_at": row.sent_at,
                "message_id": row.message_id, "smtp_response": row.smtp_response, "failed_at": row.failed_at,
                "last_error": row.last_error, "pdf_sha256": row.pdf_sha256, "document": document}


class RequisitionOut(DeliveredDocumentOut):
    """A requisition addressed to one ISP, and where its delivery stands."""

    kind: str = Field(description="blocking, lifting or catch_up")
    order_id: int | None = Field(description="The order it carries out (none for a catch-up)")
    isp: IspRefOut
    names: list[RequisitionNameOut]
    feed_serial: int | None = Field(description="The feed version that carries it out")
    status: str = Field(description="pending, sent, acknowledged or failed")
    overdue: bool = Field(description="Not acknowledged after its deadline")
    acknowledged_at: dt.datetime | None

    @classmethod
    def of(cls, req: Requisition) -> RequisitionOut:
        return cls(
            **cls.delivery(req, f"/api/v1/requisitions/{req.id}/document.pdf"), kind=req.kind, order_id=req.order_id,
            isp=IspRefOut(id=req.isp_id, name=req.isp.name),
            names=[RequisitionNameOut.model_validate(n) for n in requisitions.names_of(req)],
            feed_serial=req.feed_serial, status=req.status, overdue=requisitions.is_overdue(req),
            acknowledged_at=req.acknowledged_at)


class StopPageOut(BaseModel):
    """The stop page a blocked name leads to."""

    name: str
    ipv4: str
    ipv6: str | None


class ProbeWorkOut(BaseModel):
    """What a probe must check now."""

    probe: str = Field(description="The probe's name")
    isp: str = Field(description="Its ISP's name")
    policy: IspPolicy = Field(description="The answer the ISP agreed to give for a blocked name")
    names: list[str] = Field(description="Every blocked name")
    feed_serial: int | None = Field(description="The latest feed version")
    stop_page: StopPageOut


class ProbeRoundOut(BaseModel):
    """The verification round a probe's results were kept as."""

    round_id: int


# --- the feed -----------------------------------------------------------------------------------------------------


class AppliedIn(BaseModel):
    """What the reference client reports after loading a version."""

    serial: int = Field(ge=1, le=MAX_ID, description="The serial (of the manifest) the client applied")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the file it installed")
    format: str = Field(default="", max_length=20, description="The format of that file (rpz, a.rpz, ...)")
    ok: StrictBool = Field(default=True, description="False: the resolver did not take the version (its canary did not "
                     "answer the block); the client put the previous list back, and the serial is not applied")
    error: str = Field(default="", max_length=500, description="What went wrong, when `ok` is false")


class AppliedOut(BaseModel):
    """The acknowledgement as recorded."""

    isp: str
    serial: int
    recorded_at: str
    ok: bool = True


class PublishedKeyOut(BaseModel):
    """One public key of the feed, in minisign format."""

    key_id: str
    minisign: str = Field(description="The minisign public key file")
    active: bool = Field(description="Whether it signs what is published now (else it is in its transition)")
    valid_until: str | None = Field(default=None, description="End of the transition of a retired key")


class FeedKeysOut(BaseModel):
    """The keys an ISP may pin: the active one first, then those in transition."""

    keys: list[PublishedKeyOut]


class FeedVersionOut(BaseModel):
    """One published version, as the feed's own pages list it."""

    model_config = ConfigDict(from_attributes=True)

    serial: int
    content_serial: int | None = Field(description="The serial whose files it carries (a re-issue: an earlier one)")
    count: int
    added: int
    removed: int
    generated_at: dt.datetime
    expires_at: dt.datetime
    sha256: str = Field(validation_alias="envelope_sha256", description="SHA-256 of its JSON file")
    manifest_sha256: str | None = Field(description="SHA-256 of its signed manifest (None before manifests)")
    key_id: str


class FeedHoldOut(BaseModel):
    """A change the publication gate holds until a magistrate confirms it a second time."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    reasons: str
    added: int
    removed: int
    created_at: dt.datetime


class HoldConfirmedOut(BaseModel):
    """A hold as confirmed: the next tick publishes it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    confirmed_at: dt.datetime | None
    reasons: str


# Where one ISP stands on the feed: the service's frozen dataclass already has the answer's exact shape.
IspFeedStateOut = IspFeedState


class ReportIn(BaseModel):
    """One report a partner hotline forwards: the address seen and what it knows of it."""

    model_config = ConfigDict(extra="forbid")

    address: Annotated[str, Text(2048), Field(min_length=1, json_schema_extra={"pattern": NON_BLANK_LINE_PATTERN})] = (
        Field(description="The address seen (a URL or a host name); it is never fetched"))
    found_at: Annotated[str, Text(2048)] = Field(default="", description="Where it was found (a page, an app...)")
    description: Annotated[str, Text(2000, multiline=True)] = ""
    contact: Annotated[str, Text(254)] = Field(default="", description="The reporter's contact, only if they left one")
    reference: Annotated[str, Text(100)] = Field(default="", description="The partner's own reference")


class ReportsIn(BaseModel):
    """1 to 1,000 reports: all stored, or (any one refused) none."""

    model_config = ConfigDict(extra="forbid")

    reports: list[ReportIn] = Field(min_length=1, max_length=1000)


class ReceiptOut(BaseModel):
    """A stored report: its receipt number and the host it was filed under."""

    receipt: str = Field(description="`R-` and 10 random base32 characters")
    reference: str | None = Field(description="The partner's own reference")
    host: str = Field(description="The normalised host (A-label) it is grouped under")
    merged: bool = Field(description="The name was already blocked: the report was merged into the block")


class ReceiptsOut(BaseModel):
    """The receipts, in the order the reports were sent."""

    accepted: int
    receipts: list[ReceiptOut]


class ReportOut(BaseModel):
    """One open report in the triage queue."""

    id: int
    receipt: str
    source: Literal["public", "partner"]
    partner: str | None
    partner_reference: str | None
    address: str = Field(description="As the reporter typed it (never fetched)")
    found_at: str
    description: str
    contact: str | None
    received_at: dt.datetime


class ReportGroupOut(BaseModel):
    """The open reports of one normalised host."""

    host: str
    unicode: str
    count: int
    first_seen: dt.datetime
    last_seen: dt.datetime
    status: Status | None = Field(description="The name's latest submission: pending (submitted), blocked "
                                              "(approved), lifted...; null when never submitted")
    submission_id: int | None
    blockable: bool = Field(description="False: not a blockable name (a TLD, a public suffix, a protected name)")
    refusal: str | None = Field(description="Why the name cannot be blocked")
    reports: list[ReportOut]


class TriageOut(BaseModel):
    """One page of the triage queue."""

    total: int = Field(description="How many hosts have open reports")
    page: int
    per_page: int
    groups: list[ReportGroupOut]


class DismissedOut(BaseModel):
    """The reports of a host dismissed together."""

    host: str
    dismissed: list[int] = Field(description="The ids of the reports dismissed")


# --- appeals (blocklist/appeals.py) -------------------------------------------------------------------------------


class AppealDecideIn(BaseModel):
    """A magistrate's decision on an appeal: upheld (the block is lifted) or dismissed, with a written reason."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"required": ["outcome", "reason"]})

    outcome: AppealOutcome
    reason: WrittenReason = ""


class AppealRecordOut(BaseModel):
    """The name's record beside an appeal: the block (or the name's latest record) with its legal details."""

    submission_id: int
    domain: str = Field(description="The name as listed (a parent, when the appeal named a name under it)")
    status: Status
    legal_basis: LegalBasis
    case_number: str
    court_order: CourtOrderOut | None = Field(description="For the legal basis `court_order` only")
    review_due: dt.date | None
    approved_by: int | None = Field(description="The account id of the magistrate who decided it")

    @classmethod
    def of(cls, sub: Submission) -> AppealRecordOut:
        court = (CourtOrderOut(court=sub.court, date=sub.court_date, reference=sub.court_reference)
                 if sub.legal_basis == "court_order" else None)
        return cls(submission_id=sub.id, domain=sub.domain, status=sub.status, legal_basis=sub.legal_basis,
                   case_number=sub.case_number, court_order=court, review_due=sub.review_due,
                   approved_by=sub.decided_by)


class AppealDecisionOut(BaseModel):
    """How an appeal was decided, and where its answer's e-mail stands."""

    outcome: AppealOutcome
    answer: AppealAnswer = Field(description="What the appellant is told: lifted, kept, or not_blocked (the name was "
                                             "not blocked when the appeal was decided)")
    reason: str
    decided_by: str = Field(description="The deciding magistrate's username")
    decided_at: dt.datetime
    lift_order_id: int | None = Field(description="The lifting order an upheld appeal made")
    mail: MailStatus | None = Field(description="The answer's e-mail; null when no contact was left")

    @classmethod
    def of(cls, decision: AppealDecision) -> AppealDecisionOut:
        return cls(outcome=decision.outcome, answer=decision.answer, reason=decision.reason,
                   decided_by=decision.magistrate.username, decided_at=decision.decided_at,
                   lift_order_id=decision.lift_order_id, mail=decision.mail.status if decision.mail else None)


class AppealOut(BaseModel):
    """An appeal from the public, the name's record beside it, and its decision once made."""

    id: int
    receipt: str = Field(description="`A-` and 10 random base32 characters")
    domain: str = Field(description="The name appealed against (A-label)")
    unicode: str
    text: str = Field(description="Why the appellant disagrees, as typed")
    contact: str | None = Field(description="The appellant's e-mail address, only if they left one")
    language: Language = Field(description="The appellant's language: the answer is written in it")
    received_at: dt.datetime
    record: AppealRecordOut | None = Field(description="Null when the name was never submitted")
    decision: AppealDecisionOut | None

    @classmethod
    def of(cls, appeal: Appeal, record: Submission | None) -> AppealOut:
        return cls(id=appeal.id, receipt=appeal.receipt, domain=appeal.domain, unicode=appeal.unicode,
                   text=appeal.text, contact=appeal.contact, language=appeal.language, received_at=appeal.received_at,
                   record=AppealRecordOut.of(record) if record else None,
                   decision=AppealDecisionOut.of(appeal.decision) if appeal.decision else None)


class AppealsOut(BaseModel):
    """One page of the appeal queue, oldest first."""

    total: int = Field(description="How many appeals are in this state in all")
    page: int
    per_page: int
    appeals: list[AppealOut]


# --- reviews (blocklist/reviews.py) -------------------------------------------------------------------------------


class AttestationIn(BaseModel):
    """An officer's re-attestation of a blocked name at review: the check made, and what it found."""

    model_config = ConfigDict(extra="forbid")

    checked_on: Date = Field(description="The day the content was checked: not in the future, not before the block")
    evidence_ref: Annotated[str, Text(200), Field(min_length=1, json_schema_extra={"pattern": NON_BLANK_LINE_PATTERN})
                            ] = Field(description="Where the evidence of the check is kept (an identifier or hash; "
                                                  "never the content)")
    content_present: StrictBool = Field(description="The content is still there; false proposes the name for lifting")
    note: Paragraph = ""


class AttestationOut(BaseModel):
    """A re-attestation as recorded."""

    id: int
    domain: str = Field(description="The blocked name (A-label)")
    submission_id: int
    checked_on: dt.date
    evidence_ref: str
    content_present: bool
    note: str
    officer: str = Field(description="The attesting officer's username")
    at: dt.datetime = Field(description="When it was recorded")

    @classmethod
    def of(cls, attestation: Attestation) -> AttestationOut:
        return cls(id=attestation.id, domain=attestation.submission.domain, submission_id=attestation.submission_id,
                   checked_on=attestation.checked_on, evidence_ref=attestation.evidence_ref,
                   content_present=attestation.content_present, note=attestation.note,
                   officer=attestation.officer.username, at=attestation.at)


class RenewIn(BaseModel):
    """A magistrate's renewal at review: the next review date and the written reason.

    The reason is required in the schema; a missing one is refused by the renewal itself, whose 422 says so.
    """

    model_config = ConfigDict(extra="forbid", json_schema_extra={"required": ["review_due", "reason"]})

    review_due: Date = Field(description="The next review date: after today, at most 366 days ahead")
    reason: WrittenReason = ""


class RenewalOut(BaseModel):
    """A renewal as recorded: the block's review date moved on, on a current re-attestation."""

    id: int
    domain: str = Field(description="The blocked name (A-label)")
    submission_id: int
    previous_review_due: dt.date | None
    review_due: dt.date
    reason: str
    attestation_id: int = Field(description="The re-attestation it rests on (each carries one renewal)")
    at: dt.datetime

    @classmethod
    def of(cls, renewal: Renewal) -> RenewalOut:
        return cls(id=renewal.id, domain=renewal.submission.domain, submission_id=renewal.submission_id,
                   previous_review_due=renewal.previous_due, review_due=renewal.review_due, reason=renewal.reason,
                   attestation_id=renewal.attestation_id, at=renewal.at)


class DueReviewOut(BaseModel):
    """A block due for review."""

    domain: str = Field(description="The blocked name (A-label)")
    unicode: str
    submission_id: int
    legal_basis: LegalBasis
    case_number: str
    review_due: dt.date | None
    days_left: int = Field(description="Days until the review date; negative: overdue by that many days")
    overdue: bool
    proposed_for_lifting: bool = Field(description="The newest re-attestation found the content gone")
    renewable: bool = Field(description="It has a current re-attestation: a renewal would be accepted today")
    attestation: AttestationOut | None = Field(description="The newest re-attestation since the last renewal")

    @classmethod
    def of(cls, due: DueReview) -> DueReviewOut:
        sub = due.submission
        return cls(domain=sub.domain, unicode=sub.unicode, submission_id=sub.id, legal_basis=sub.legal_basis,
                   case_number=sub.case_number, review_due=sub.review_due, days_left=due.days_left,
                   overdue=due.overdue, proposed_for_lifting=due.proposed_for_lifting, renewable=due.renewable,
                   attestation=AttestationOut.of(due.attestation) if due.attestation else None)


class DueReviewsOut(BaseModel):
    """One page of the blocks due for review, oldest review date first."""

    today: dt.date = Field(description="The day the days are counted from (UTC)")
    within_days: int
    total: int = Field(description="How many blocks are due in all")
    page: int
    per_page: int
    reviews: list[DueReviewOut]


# --- removal notices to Belgian hosting providers (requisitions/removal.py) ---------------------------------------


class AcknowledgedIn(BaseModel):
    """The provider acknowledged a removal notice: when (today unless told), and its own reference, if any."""

    model_config = ConfigDict(extra="forbid")

    acknowledged_on: Date | None = None
    reference: Line = Field(default="", description="The provider's own reference (a ticket number...)")


class RemovedIn(BaseModel):
    """The site is gone: the date it was found gone and the evidence reference of that finding."""

    model_config = ConfigDict(extra="forbid")

    removed_on: Date
    evidence_ref: Annotated[str, Text(200), Field(min_length=1, json_schema_extra={
        "pattern": NON_BLANK_LINE_PATTERN})] = Field(description="Where the finding is kept (never its content)")


class RemovalOutcomeOut(BaseModel):
    """What an officer recorded of a removal notice."""

    on: dt.date = Field(description="When it happened, as the officer established it")
    reference: str = Field(description="The provider's reference (acknowledged) or the evidence (removed)")
    recorded_by: str
    recorded_at: dt.datetime

    @classmethod
    def of(cls, outcome: RemovalOutcome | None) -> RemovalOutcomeOut | None:
        if outcome is None:
            return None
        return cls(on=outcome.happened_on, reference=outcome.reference, recorded_by=outcome.actor,
                   recorded_at=outcome.at)


class RemovalNoticeOut(DeliveredDocumentOut):
    """A removal notice to the hosting provider of a site hosted in Belgium, and where it stands."""

    submission_id: int
    order_id: int = Field(description="The blocking order whose approval produced it")
    domain: str
    unicode: str
    provider: str | None = Field(description="The hosting provider, as recorded on the submission")
    email: str | None = Field(description="The provider's abuse address it is sent to")
    deliver_by_hand: bool = Field(description="No abuse address: officers deliver the notice by hand")
    status: NoticeStatus = Field(description="pending, sent, failed, no_address (deliver by hand), acknowledged "
                                             "or removed")
    acknowledged: RemovalOutcomeOut | None = Field(description="The provider's acknowledgement, once recorded")
    removed: RemovalOutcomeOut | None = Field(description="The site's removal, once recorded: the name is then "
                                                          "proposed for lifting")

    @classmethod
    def of(cls, notice: RemovalNotice) -> RemovalNoticeOut:
        return cls(
            **cls.delivery(notice, f"/api/v1/removal-notices/{notice.id}/document.pdf"),
            submission_id=notice.submission_id, order_id=notice.order_id, domain=notice.domain,
            unicode=notice.unicode, provider=notice.provider, email=notice.email,
            deliver_by_hand=notice.email is None, status=notice.status,
            acknowledged=RemovalOutcomeOut.of(notice.outcome("acknowledged")),
            removed=RemovalOutcomeOut.of(notice.outcome("removed")))


# --- issue 14: account management (api/routes/admin.py) ---


class ProfileIn(BaseModel):
    """What an administrator changes of an account; a field left out stays as it is."""

    model_config = ConfigDict(extra="forbid")

    display_name: Line | None = None
    language: Language | None = None
    email: Annotated[str, Text(254)] | None = Field(
        default=None, description="Where an enrolment link is sent; empty removes it. A change waits for a second "
                                  "administrator's confirmation")


class TokenOut(BaseModel):
    """An API token of an account: its prefix only, never the secret (only its SHA-256 is kept)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    prefix: str = Field(description="The token's first characters, to recognise it")
    created_at: dt.datetime
    revoked_at: dt.datetime | None
    active: bool = Field(description="Not revoked (it still works while the account is enabled and confirmed)")
    # The last use is not recorded: a token is checked on every request, many of them read-only transactions.

    @classmethod
    def of(cls, token: ApiToken) -> TokenOut:
        return cls(id=token.id, prefix=token.prefix, created_at=token.created_at, revoked_at=token.revoked_at,
                   active=token.revoked_at is None)


class HealthOut(BaseModel):
    """`/healthz`: the process answers (nothing else is looked at)."""

    status: Literal["ok"] = "ok"


class ReadinessCheckOut(BaseModel):
    """One condition of readiness, with what was found (never a credential, an address or a path)."""

    name: Literal["database", "migrations", "signing_key", "scheduler"]
    ok: bool
    detail: str


class ReadinessOut(BaseModel):
    """`/readyz`: whether this process can serve (200) or not (503), and each condition behind the answer."""

    status: Literal["ready", "not ready"]
    checks: list[ReadinessCheckOut]


# --- issue 14: feed holds and the names' feed state (api/routes/feed_admin.py) ---


class HeldOrderOut(BaseModel):
    """An order a hold holds: its kind and the magistrate who made it (who cannot confirm the hold)."""

    id: int
    kind: Literal["block", "lift"]
    magistrate: str = Field(description="The username of the magistrate who made it")
    created_at: dt.datetime


class HoldDetailOut(BaseModel):
    """A change the publication gate held: why, what it holds, and whether the caller may confirm it."""

    id: int
    reasons: str
    added: int = Field(description="Names the held change adds")
    removed: int = Field(description="Names the held change removes")
    created_at: dt.datetime
    from_serial: int | None = Field(description="The published content the change starts from")
    status: Literal["pending", "confirmed", "closed"]
    confirmed_by: str | None = Field(description="The magistrate who confirmed it")
    confirmed_at: dt.datetime | None
    closed_at: dt.datetime | None
    closed_reason: str | None = Field(description="Published as serial N, or overtaken by a later list")
    orders: list[HeldOrderOut] = Field(description="The orders it holds, oldest first")
    may_confirm: bool = Field(description="Whether the caller may give it its second confirmation now")
    refusal: str | None = Field(description="Why the caller may not confirm it (four eyes, role, state)")

    @classmethod
    def of(cls, hold: FeedHold, orders: Sequence[Order], usernames: Mapping[int, str],
           refusal: str | None) -> HoldDetailOut:
        status: Literal["pending", "confirmed", "closed"] = (
            "closed" if hold.closed_at else "confirmed" if hold.confirmed_at else "pending")
        return cls(id=hold.id, reasons=hold.reasons, added=hold.added, removed=hold.removed,
                   created_at=hold.created_at, from_serial=hold.from_serial, status=status,
                   confirmed_by=usernames.get(hold.confirmed_by) if hold.confirmed_by else None,
                   confirmed_at=hold.confirmed_at, closed_at=hold.closed_at, closed_reason=hold.closed_reason,
                   orders=[HeldOrderOut(id=o.id, kind="block" if o.kind == "block" else "lift",
                                        magistrate=usernames.get(o.magistrate_id, ""), created_at=o.created_at)
                           for o in orders],
                   may_confirm=refusal is None, refusal=refusal)


# A name a hold holds, and where approved names stand: the service's frozen dataclasses have the answers' shapes.
HeldNameOut = HeldName


class HeldNamesOut(BaseModel):
    """One page of a hold's names, by name, with the totals."""

    hold_id: int
    total: int
    added: int
    removed: int
    page: int
    per_page: int
    names: list[HeldNameOut]


FeedStateCountsOut = StateCounts
StatedNameOut = StatedName


class FeedNamesOut(BaseModel):
    """The counts of every state, and one page of the names in the state asked for."""

    counts: FeedStateCountsOut
    state: Literal["held", "blocked", "lifting"]
    total: int = Field(description="How many names are in that state")
    page: int
    per_page: int
    names: list[StatedNameOut]


# --- issue 14: bulk submissions as background jobs (api/routes/batches.py) ---


class BatchItemOut(BaseModel):
    """What became of one name of a batch (pending until the job reaches it)."""

    model_config = ConfigDict(from_attributes=True)

    position: int = Field(description="Its place in the batch, from 1")
    typed: str = Field(description="The name as sent")
    state: BatchItemState
    submission_id: int | None = Field(description="The submission recorded for it")
    a_label: str | None = Field(description="The name as normalised")
    code: str | None = Field(description="Why it was refused: a name check's code (tld, public_suffix, "
                                         "protected...), or duplicate, repeated, invalid, refused")
    reason: str | None = Field(description="Why it was refused, in words")


class BatchOut(BaseModel):
    """A bulk submission and its progress, with one page of its names' results."""

    id: int
    status: BatchStatus = Field(description="queued, running, done, or failed (`error` says why; the names not "
                                            "reached stay pending)")
    total: int
    done: int = Field(description="Names settled so far (submitted or refused)")
    submitted: int
    refused: int
    case_number: str
    created_by: str
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    error: str | None
    results_csv: str = Field(description="Where every name's result is, as CSV")
    page: int
    per_page: int
    matching: int = Field(description="How many names are in the state filtered on (all of them without `state`)")
    results: list[BatchItemOut]

    @classmethod
    def of(cls, batch: SubmissionBatch, items: Sequence[SubmissionBatchItem], *, page: int, per_page: int,
           matching: int) -> BatchOut:
        return cls(id=batch.id, status=batch.status, total=batch.total, done=batch.done,
                   submitted=batch.submitted, refused=batch.refused, case_number=batch.case_number,
                   created_by=batch.creator.username, created_at=batch.created_at, started_at=batch.started_at,
                   finished_at=batch.finished_at, error=batch.error,
                   results_csv=f"/api/v1/submissions/batches/{batch.id}/results.csv", page=page, per_page=per_page,
                   matching=matching, results=[BatchItemOut.model_validate(i) for i in items])


# --- issue 14: the auditors' search (api/routes/history.py) ---


class NameMatchOut(BaseModel):
    """A record the search found for a name: the name itself, or a block covering it with its subdomains."""

    submission_id: int
    domain: str
    unicode: str
    scope: Scope
    status: Status
    case_number: str
    how: Literal["name", "covered"] = Field(description="`covered`: the name typed is a subdomain of this one")


class CaseMatchOut(BaseModel):
    """A case number containing what was typed (in any case), with how many names it holds."""

    case_number: str
    names: int


class SearchOut(BaseModel):
    """What a search found: the host it read from the text (a URL, a host:port...), names and cases."""

    q: str
    host: str | None = Field(description="The host name read from the text, normalised; null if it is none")
    names: list[NameMatchOut]
    cases: list[CaseMatchOut]
