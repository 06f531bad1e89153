"""Small builders shared by the core's tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from blocklist.schemas import SubmissionCreate


def submission(domain: str = "csam-gallery.test", **overrides: Any) -> SubmissionCreate:
    """A valid submission under Article 39bis unless overridden."""
    fields: dict[str, Any] = {
        "domain": domain,
        "legal_basis": "art39bis",
        "case_number": "FCCU-2026-0001",
        "evidence_ref": "EVD-0001-sha256:abcdef",
        "verified_on": dt.date.today(),
        "hosting_country": "NL",  # hosted abroad: no removal notice (tests/blocklist/test_hosting.py for Belgium)
    }
    fields.update(overrides)
    return SubmissionCreate(**fields)
