"""Request and response bodies of the JSON API (separate from the SQLAlchemy models)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from annotated_types import GroupedMetadata, MaxLen
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo
from pydantic_core import PydanticCustomError

from blocklist.errors import InvalidInput
from blocklist.models import AuditEvent, Submission, User
from blocklist.schemas import Scope
from blocklist.text import MAX_ID, clean_text
from isp_feed.models import VerificationResult


@dataclass(frozen=True)
class Text(GroupedMetadata):
    """A text field of a body checked by blocklist.text.clean_text, so that the 422 names the field.

    `Annotated[str, Text(200)]` is one line; `Text(4000, multiline=True)` a note or a reason (LF kept).
    """

    max_length: int
    multiline: bool = False

    def __iter__(self) -> Iterator[object]:
        yield MaxLen(self.max_length)  # also the schema's maxLength
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


class ReasonIn(BaseModel):
    """A written reason (required where the action needs one)."""

    model_config = ConfigDict(extra="forbid")

    reason: Paragraph = ""


class BatchApproveIn(BaseModel):
    """Several submissions approved together as one order."""

    model_config = ConfigDict(extra="forbid")

    ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(min_length=1, max_length=10_000)
    reason: Paragraph = ""


class OverrideIn(BaseModel):
    """A magistrate's written permission to submit one protected name."""

    model_config = ConfigDict(extra="forbid")

    domain: str = Field(min_length=1, max_length=2048)
    reason: Paragraph = Field(min_length=3)


class UserIn(BaseModel):
    """A new account."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=2, max_length=64)
    role: str
    display_name: Line = ""
    language: str = "en"
    email: str | None = Field(default=None, max_length=254)


class RoleIn(BaseModel):
    """A new role for an account."""

    model_config = ConfigDict(extra="forbid")

    role: str


class IspIn(BaseModel):
    """A new ISP."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Text(100)] = Field(min_length=1)
    email: str = Field(min_length=3, max_length=254)
    language: str
    resolvers: list[str] = Field(default_factory=list, max_length=50)
    policy: str = "stoppage"
    operator_id: Annotated[str, Text(100)] = ""


class ActiveIn(BaseModel):
    """Enable or disable."""

    model_config = ConfigDict(extra="forbid")

    active: bool


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
