"""Request and response bodies of the JSON API (separate from the SQLAlchemy models)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from annotated_types import GroupedMetadata, MaxLen
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, ValidationInfo
from pydantic_core import PydanticCustomError

from blocklist.errors import InvalidInput
from blocklist.models import AuditEvent, Submission, User
from blocklist.text import MAX_ID, clean_text
from blocklist.vocab import Role, Scope
from isp_feed.models import VerificationResult

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
            raise PydanticCustomError("text", "{reason}", {"reason": exc.message}) from None


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
    reason: str = Field(description="What was refused and why, in words an operator can act on")
    field: str | None = Field(default=None, description="The input field at fault, when there is one")
    problems: list[ProblemOut] | None = Field(default=None, description="Each field the input validation refused")
    existing_id: int | None = Field(default=None, description="Duplicate: the record already pending or blocked")
    code: str | None = Field(default=None, description="NameRefused: why the name cannot be listed")


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
    email: str | None = Field(default=None, max_length=254)


class RoleIn(BaseModel):
    """A new role for an account."""

    model_config = ConfigDict(extra="forbid")

    role: Role


class IspIn(BaseModel):
    """A new ISP."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Text(100), Field(json_schema_extra={"pattern": NON_BLANK_LINE_PATTERN})] = Field(
        min_length=1)
    email: str = Field(min_length=3, max_length=254)
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


def submission_out(sub: Submission, usernames: dict[int, str] | None = None) -> dict[str, Any]:
    """A submission as the API shows it."""
    names = usernames or {}
    return {
        "id": sub.id, "domain": sub.domain, "unicode": sub.unicode, "typed": sub.typed, "scope": sub.scope,
        "flags": sub.flag_list, "legal_basis": sub.legal_basis, "case_number": sub.case_number,
        "evidence_ref": sub.evidence_ref, "verified_on": sub.verified_on,
        "court_order": ({"court": sub.court, "date": sub.court_date, "reference": sub.court_reference}
                        if sub.legal_basis == "court_order" else None),
        "note": sub.note, "status": sub.status,
        "submitted_by": names.get(sub.submitted_by, sub.submitted_by), "submitted_at": sub.submitted_at,
        "decided_by": names.get(sub.decided_by, sub.decided_by) if sub.decided_by else None,
        "decided_at": sub.decided_at, "decision_reason": sub.decision_reason, "order_id": sub.order_id,
        "review_due": sub.review_due, "lifted_at": sub.lifted_at, "lift_reason": sub.lift_reason,
    }


def event_out(event: AuditEvent) -> dict[str, Any]:
    """An audit event as the API shows it."""
    import json

    return {"seq": event.id, "at": event.at, "actor": event.actor, "action": event.action,
            "object_type": event.object_type, "object_id": event.object_id, "domain": event.domain,
            "order_id": event.order_id, "details": json.loads(event.details), "hash": event.hash}


def check_out(result: VerificationResult, isp_name: str) -> dict[str, Any]:
    """One DNS check of a name at one ISP resolver, with its evidence, as the API shows it."""

    return {"id": result.id, "round_id": result.round_id, "at": result.at, "isp_id": result.isp_id, "isp": isp_name,
            "resolver": result.resolver, "verdict": result.verdict, "reason": result.reason,
            "feed_serial": result.feed_serial, "evidence": result.evidence_data}


def user_out(user: User) -> dict[str, Any]:
    """An account as the API shows it (never its password hash)."""
    return {"id": user.id, "username": user.username, "display_name": user.display_name, "role": user.role,
            "language": user.language, "active": user.active, "created_at": user.created_at,
            "credentialed_by": user.credentialed_by, "confirmed": user.confirmed_at is not None,
            "confirmed_by": user.confirmed_by, "confirmed_at": user.confirmed_at}
