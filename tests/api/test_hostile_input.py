"""Hostile input: every malformed id and every control character is a 4xx with a reason, never a server error.

Each URL below answered 500 (on SQLite, PostgreSQL or both) before ids were parsed by one rule
(api.params / blocklist.text.parse_id) and text by one check (blocklist.text.clean_text).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.app import create_app
from api.runtime import Runtime
from blocklist import workflow
from blocklist.models import AuditEvent, Isp, Submission, User
from blocklist.names import NamePolicy
from tests.api.conftest import bearer
from tests.blocklist.helpers import submission
from tests.support.web import give_passwords
from tests.support.web import login as web_login

HUGE = "99999999999999999999"  # beyond every backend's INTEGER (and int64): OverflowError on SQLite
CHARS = {"NUL": "\x00", "ESC": "\x1b", "CR": "\r", "LF": "\n", "RLO": "\u202e"}


@pytest.fixture
def raw(rt: Runtime) -> Iterator[TestClient]:
    """A client that shows a server error as the 500 it is, instead of raising it into the test."""
    with TestClient(create_app(rt), raise_server_exceptions=False) as client:
        yield client


def counts(rt: Runtime) -> dict[str, int]:
    """How many rows of what a refused request must not write."""
    with rt.database.transaction() as s:
        return {model.__name__: s.execute(select(func.count()).select_from(model)).scalar_one()
                for model in (Submission, AuditEvent, Isp, User)}


def refused_field(response: httpx.Response) -> str | None:
    """The 422's reason must be there; the field it names (the core's `field`, or pydantic's first problem)."""
    assert response.status_code == 422, (response.status_code, response.text)
    body = response.json()
    assert body["reason"], body
    if body.get("field"):
        return str(body["field"])
    problems = body.get("problems") or [{}]
    return problems[0].get("field")


API_URLS = [
    ("auditor", "/api/v1/requisitions?isp=%C2%B2"),  # "²".isdigit() is true; int("²") fails
    ("auditor", f"/api/v1/requisitions?isp={HUGE}"),
    ("auditor", f"/api/v1/requisitions?order={HUGE}"),
    ("isp", "/feed/v1/versions/%C2%B2.json"),
    # The same families elsewhere.
    ("auditor", "/api/v1/requisitions?isp=%00"),  # PostgreSQL refuses a NUL
    ("auditor", "/api/v1/requisitions?order=%C2%B2"),
    ("auditor", "/api/v1/requisitions?order=+1"),
    ("auditor", f"/api/v1/requisitions/{HUGE}"),
    ("auditor", f"/api/v1/requisitions/{HUGE}/document.pdf"),
    ("auditor", "/api/v1/submissions/%C2%B2"),
    ("auditor", "/api/v1/submissions?case_number=%00"),
    ("auditor", f"/api/v1/submissions/{'9' * 5000}"),  # int() refuses more than 4300 digits
    ("isp", f"/feed/v1/versions/{HUGE}.json"),
    ("isp", "/feed/v1/diff?from=%C2%B2"),
    ("isp", f"/feed/v1/diff?from=1&to={HUGE}"),
]


@pytest.mark.parametrize(("who", "url"), API_URLS)
def test_api_ids_and_searches_are_4xx_with_a_reason(raw: TestClient, tokens: dict[str, str], who: str,
                                                    url: str) -> None:
    response = raw.get(url, headers=bearer(tokens[who]))
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["reason"]


@pytest.fixture
def staff(rt: Runtime, people: dict[str, User]) -> dict[str, User]:
    give_passwords(rt, "officer", "magistrate", "auditor", "admin")
    return people


def login(client: TestClient, username: str) -> str:
    """Log in through the form; returns a CSRF token of the new session."""
    web_login(client, username)
    home = client.get({"officer": "/officer", "magistrate": "/magistrate", "admin": "/admin"}.get(username, "/auditor"))
    assert home.status_code == 200, home.text[:300]
    found = re.search(r'name="csrf" value="([^"]+)"', home.text)
    assert found, home.text[:300]
    return found.group(1)


WEB_URLS = [
    ("auditor", "GET", f"/requisitions/{HUGE}.pdf"),
    ("auditor", "GET", f"/requisitions?order={HUGE}"),
    ("auditor", "GET", f"/requisitions?order_id={HUGE}"),
    ("auditor", "GET", f"/compliance/evidence/{HUGE}"),
    ("officer", "POST", f"/officer/withdraw/{HUGE}"),
    ("magistrate", "POST", f"/magistrate/holds/{HUGE}"),
    ("admin", "POST", f"/admin/isps/{HUGE}"),
    ("auditor", "GET", "/auditor?q=%00%ff"),  # NUL, and a byte that is no UTF-8
    # The same families elsewhere.
    ("auditor", "GET", "/requisitions/%C2%B2.pdf"),
    ("auditor", "GET", "/requisitions?isp=%C2%B2"),
    ("auditor", "GET", "/compliance/evidence/%C2%B2"),
    ("officer", "POST", "/officer/withdraw/%C2%B2"),
    ("magistrate", "POST", "/magistrate/decide"),
]


@pytest.mark.parametrize(("who", "method", "url"), WEB_URLS)
def test_web_ids_and_searches_are_4xx_with_a_readable_page(raw: TestClient, rt: Runtime, staff: dict[str, User],
                                                           who: str, method: str, url: str) -> None:
    csrf = login(raw, who)
    before = counts(rt)
    if method == "GET":
        response = raw.get(url, follow_redirects=False)
    elif url == "/magistrate/decide":  # checkbox values: "²" passes str.isdigit() and fails int()
        response = raw.post(url, data={"csrf": csrf, "ids": ["²", HUGE], "decision": "reject", "reason": "no."},
                            follow_redirects=False)
        assert response.status_code == 303
        response = raw.get(response.headers["location"])
        assert "from 1 to 2147483647" in response.text
        return
    else:
        response = raw.post(url, data={"csrf": csrf, "action": "disable"}, follow_redirects=False)
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("text/html")
    assert "<h1>" in response.text and "Traceback" not in response.text
    assert counts(rt) == before


def test_a_search_refuses_only_what_no_text_holds(raw: TestClient, staff: dict[str, User]) -> None:
    login(raw, "auditor")
    for q, status in (("%ff", 200), ("%C2%B2", 200), ("%E2%80%AE", 422)):  # U+FFFD and "²" are mere text
        response = raw.get(f"/auditor?q={q}")
        assert response.status_code == status, response.text[:300]


# --- text fields through the API -------------------------------------------------------------------------

SINGLE_LINE = ["case_number", "evidence_ref", "court_order.court", "court_order.reference", "isp name",
               "display_name"]
MULTI_LINE = ["note", "reject reason", "lift reason"]  # LF is a line break there; CRLF is stored as LF


def _court(court: str = "Tribunal de première instance", reference: str = "R-2025-1") -> dict[str, str]:
    return {"court": court, "date": "2025-06-01", "reference": reference}


def _case(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"domain": "csam-gallery.test", "legal_basis": "art39bis", "case_number": "FCCU-2026-7",
                            "evidence_ref": "EVD-7", "verified_on": "2026-11-30", "hosting_country": "NL"}
    body.update(overrides)
    return body


def _prepare(rt: Runtime, people: dict[str, User], field: str, n: int) -> tuple[str, int]:
    """What a decision needs beforehand: a pending submission (to reject) or a blocked name (to lift)."""
    domain = f"pending{n}.test"
    if field not in ("reject reason", "lift reason"):
        return domain, 0
    with rt.database.transaction() as s:
        sub_id = workflow.submit(s, actor=people["officer"], policy=NamePolicy.build(), data=submission(domain)).id
        if field == "lift reason":
            workflow.approve(s, actor=people["magistrate"], submission_ids=[sub_id])
    return domain, sub_id


def _send(client: TestClient, tokens: dict[str, str], field: str, text: str, domain: str,
          sub_id: int) -> httpx.Response:
    """Send `text` inside the value of `field`."""
    officer, magistrate, admin = (bearer(tokens[n]) for n in ("officer", "magistrate", "admin"))
    value = f"first{text}second"
    if field in ("case_number", "evidence_ref", "note"):
        return client.post("/api/v1/submissions", json=_case(**{field: value}), headers=officer)
    if field.startswith("court_order."):
        court = _court(**{field.split(".")[1]: value})
        return client.post("/api/v1/submissions", json=_case(legal_basis="court_order", court_order=court),
                           headers=officer)
    if field == "isp name":
        return client.post("/api/v1/isps", json={"name": value, "email": "noc@isp-two.example", "language": "nl"},
                           headers=admin)
    if field == "display_name":
        return client.post("/api/v1/users", json={"username": "newcomer", "role": "auditor", "display_name": value},
                           headers=admin)
    if field == "reject reason":
        return client.post(f"/api/v1/submissions/{sub_id}/reject", json={"reason": value}, headers=magistrate)
    return client.post(f"/api/v1/domains/{domain}/lift", json={"reason": value}, headers=magistrate)


FIELD_NAMES = {"isp name": "name", "reject reason": "reason", "lift reason": "reason"}


@pytest.mark.parametrize("field", SINGLE_LINE + MULTI_LINE)
def test_control_characters_are_refused_in_every_text_field(raw: TestClient, rt: Runtime, people: dict[str, User],
                                                            tokens: dict[str, str], field: str) -> None:
    for n, (label, char) in enumerate(CHARS.items()):
        if char == "\n" and field in MULTI_LINE:
            continue
        domain, sub_id = _prepare(rt, people, field, n)
        before = counts(rt)
        response = _send(raw, tokens, field, char, domain, sub_id)
        assert refused_field(response) == FIELD_NAMES.get(field, field), (label, response.text)
        assert f"U+{ord(char):04X}" in response.json()["reason"], response.text
        assert counts(rt) == before, label


@pytest.mark.parametrize("field", MULTI_LINE)
def test_a_note_or_a_reason_keeps_its_line_breaks(raw: TestClient, rt: Runtime, people: dict[str, User],
                                                  tokens: dict[str, str], field: str) -> None:
    domain, sub_id = _prepare(rt, people, field, 0)
    response = _send(raw, tokens, field, "\r\n", domain, sub_id)
    assert response.status_code in (200, 201), response.text
    with rt.database.transaction() as s:
        sub = s.execute(select(Submission).order_by(Submission.id.desc())).scalars().first()
        assert sub is not None
        stored = {"note": sub.note, "reject reason": sub.decision_reason, "lift reason": sub.lift_reason}[field]
    assert stored == "first\nsecond"


def test_the_web_form_refuses_a_nul_without_writing(raw: TestClient, rt: Runtime, staff: dict[str, User]) -> None:
    csrf = login(raw, "officer")
    before = counts(rt)
    for field in ("case_number", "note", "evidence_ref"):
        form = {**_case(), "scope": "domain_and_subdomains", "csrf": csrf, field: "FCCU\x00-1"}
        response = raw.post("/officer/submit", data=form, follow_redirects=False)
        assert response.status_code == 422, response.text[:300]
        assert f"{field} contains a control character (U+0000 NUL)" in response.text
    assert counts(rt) == before
