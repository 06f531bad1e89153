"""Pydantic input and output schemas of the core (separate from the SQLAlchemy models)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from blocklist.i18n import N_
from blocklist.problems import Refusal
from blocklist.vocab import Language, LegalBasis, Scope


def _written_date(value: object) -> object:
    """A date sent as text must be YYYY-MM-DD (the schema's `format: date`): pydantic would also read a number,
    or digits, as a Unix time (0 is 1970-01-01), and a date-time at midnight as a date."""
    if isinstance(value, int | float) or (isinstance(value, str) and not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}",
                                                                                       value)):
        raise ValueError("a date is written YYYY-MM-DD")
    return value


Date = Annotated[dt.date, BeforeValidator(_written_date)]


class CourtOrderIn(BaseModel):
    """The court decision a `court_order` submission rests on."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    court: str = Field(min_length=2, max_length=200)
    date: Date
    reference: str = Field(min_length=1, max_length=100)


def _country_required(schema: dict[str, Any]) -> None:
    # Required, as the schema says; the check itself is blocklist/hosting.py's, so that a missing country is
    # refused in the officer's language rather than with pydantic's English.
    required = schema.setdefault("required", [])
    if "hosting_country" not in required:
        required.append("hosting_country")


class CaseDetails(BaseModel):
    """The legal record shared by every name an officer submits under one case, and where the site is hosted."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra=_country_required)

    legal_basis: LegalBasis
    case_number: str = Field(min_length=1, max_length=100)
    evidence_ref: str = Field(min_length=1, max_length=200)
    verified_on: Date
    scope: Scope = "domain_and_subdomains"
    court_order: CourtOrderIn | None = None
    note: str = Field(default="", max_length=4000)
    # Where the site is hosted, as the officer established it (blocklist/hosting.py): a country code (required),
    # the provider and its abuse address; for Belgium, the language of the provider's removal notice.
    hosting_country: str = Field(default="", description="ISO 3166-1 alpha-2 code (BE: Belgium)",
                                 json_schema_extra={"pattern": "^[A-Za-z]{2}$", "maxLength": 2})
    hosting_provider: str = Field(default="", max_length=200)
    hosting_abuse_email: str = Field(default="", max_length=254)
    notice_language: Language = "fr"

    @field_validator("verified_on")
    @classmethod
    def _not_in_future(cls, value: dt.date) -> dt.date:
        # Allow one day of slack for time zones (Brussels is ahead of UTC).
        if value > dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1):
            raise Refusal(N_("The date the content was verified cannot be in the future"), field="verified_on")
        return value

    @model_validator(mode="after")
    def _court_order_matches_basis(self) -> CaseDetails:
        if self.legal_basis == "court_order" and self.court_order is None:
            raise Refusal(N_("A court order needs its court, date and reference (field court_order)"),
                          field="court_order.court")
        if self.legal_basis != "court_order" and self.court_order is not None:
            raise Refusal(N_("Court order details were given but the legal basis is %(basis)s",
                             basis=self.legal_basis), field="court_order")
        if self.court_order is not None and self.court_order.date > dt.datetime.now(dt.UTC).date():
            raise Refusal(N_("The date of the court's decision cannot be in the future"), field="court_order.date")
        return self


class SubmissionCreate(CaseDetails):
    """What an officer records for one verified domain."""

    domain: str = Field(min_length=1, max_length=2048)
    # The reports (of this name, still open in the triage queue) that led to it: linked to the new submission.
    report_ids: list[Annotated[int, Field(ge=1, le=2_147_483_647)]] = Field(
        default_factory=list, max_length=1000, json_schema_extra={"uniqueItems": True})


class BulkSubmissionCreate(CaseDetails):
    """Many names under one case and legal basis."""

    domains: list[str] = Field(min_length=1, max_length=10_000)


class BatchCreate(CaseDetails):
    """A bulk submission to process in the background (blocklist/batches.py): the names as a list, or as pasted
    text or CSV (one name per line, the first column; a `domain` header line and `#` comments are skipped).
    How many names a batch may hold is a setting (BLOCKLIST_BATCH_MAX_NAMES)."""

    domains: list[Annotated[str, Field(max_length=2048)]] = Field(default_factory=list, max_length=100_000)
    text: str = Field(default="", max_length=20_000_000, description="Pasted names or CSV, instead of `domains`")
    form_token: str | None = Field(
        default=None, min_length=8, max_length=100, pattern=r"^[A-Za-z0-9_-]+$",
        description="A token the form carries: the same form sent twice (by the same officer) is one batch")
