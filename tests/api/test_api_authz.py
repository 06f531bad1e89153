"""Authorisation matrix: every route x every role, anonymous and an ISP credential -> exactly the grants expected.

A route missing from EXPECTED fails the test, so each new route must state who may call it. A partner hotline's
credential is tried on every route too: it may only send reports.
"""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient

from api.runtime import Runtime
from blocklist import isps
from tests.api.conftest import bearer

CALLERS = ("anonymous", "officer", "magistrate", "auditor", "admin", "isp", "partner")
OF, M, A, AD, ISP, PARTNER = "officer", "magistrate", "auditor", "admin", "isp", "partner"
USERS = {OF, M, A, AD}
EXPECTED: dict[tuple[str, str], set[str]] = {
    ("POST", "/api/v1/submissions"): {OF},
    ("POST", "/api/v1/submissions/bulk"): {OF},
    ("POST", "/api/v1/submissions/batches"): {OF},
    ("GET", "/api/v1/submissions/batches/{batch_id}"): {OF, M, A},
    ("GET", "/api/v1/submissions/batches/{batch_id}/results.csv"): {OF, M, A},
    ("GET", "/api/v1/submissions"): {OF, M, A},
    ("GET", "/api/v1/submissions/{submission_id}"): {OF, M, A},
    ("POST", "/api/v1/submissions/approve"): {M},
    ("POST", "/api/v1/submissions/{submission_id}/approve"): {M},
    ("POST", "/api/v1/submissions/{submission_id}/reject"): {M},
    ("POST", "/api/v1/submissions/{submission_id}/withdraw"): {OF},
    ("GET", "/api/v1/domains"): {OF, M, A},
    ("POST", "/api/v1/domains/{name}/lift"): {M},
    ("POST", "/api/v1/domains/{name}/renew"): {M},
    ("POST", "/api/v1/domains/{name}/attestations"): {OF},
    ("GET", "/api/v1/domains/{name}/history"): {OF, M, A},
    ("GET", "/api/v1/audit/verify"): {M, A, AD},
    ("GET", "/api/v1/audit/events"): {A},
    ("GET", "/api/v1/audit/search"): {OF, M, A},
    ("GET", "/api/v1/domains/{name}/export.json"): {M, A},
    ("GET", "/api/v1/domains/{name}/export.pdf"): {M, A},
    ("GET", "/api/v1/cases/{case}/export.json"): {M, A},
    ("GET", "/api/v1/cases/{case}/export.pdf"): {M, A},
    ("POST", "/api/v1/overrides"): {M},
    ("GET", "/api/v1/compliance"): {M, A, AD},
    ("GET", "/api/v1/probe/work"): set(),  # a probe's own credential only (tested in the probe's tests)
    ("POST", "/api/v1/probe/results"): set(),
    ("POST", "/api/v1/names/check"): USERS,
    ("GET", "/api/v1/me"): USERS,
    ("GET", "/api/v1/users"): {AD},
    ("POST", "/api/v1/users"): {AD},
    ("POST", "/api/v1/users/{username}/active"): {AD},
    ("POST", "/api/v1/users/{username}/token"): {AD},
    ("POST", "/api/v1/users/{username}/confirm"): {AD},
    ("POST", "/api/v1/users/{username}/role"): {AD},
    ("GET", "/api/v1/users/{username}"): {AD},
    ("POST", "/api/v1/users/{username}/profile"): {AD},
    ("GET", "/api/v1/users/{username}/tokens"): {AD},
    ("POST", "/api/v1/users/{username}/tokens/{token_id}/revoke"): {AD},
    ("POST", "/api/v1/users/{username}/enrolment"): {AD},
    ("GET", "/api/v1/isps"): {AD},
    ("POST", "/api/v1/isps"): {AD},
    ("POST", "/api/v1/isps/{isp_id}/active"): {AD},
    ("POST", "/api/v1/isps/{isp_id}/credential"): {AD},
    ("POST", "/api/v1/isps/{isp_id}/tsig"): {AD},
    ("PUT", "/api/v1/isps/{isp_id}/secondaries"): {AD},
    ("GET", "/api/v1/requisitions"): {M, A, ISP},
    ("GET", "/api/v1/requisitions/{requisition_id}"): {M, A, ISP},
    ("GET", "/api/v1/requisitions/{requisition_id}/document.pdf"): {M, A, ISP},
    ("POST", "/api/v1/requisitions/{requisition_id}/acknowledge"): {ISP},
    ("GET", "/api/v1/feed/versions"): {M, A, AD},
    ("GET", "/api/v1/feed/holds"): {M, A, AD},
    ("POST", "/api/v1/feed/holds/{hold_id}/confirm"): {M},
    ("GET", "/api/v1/feed/holds/{hold_id}"): {M, A, AD},
    ("GET", "/api/v1/feed/holds/{hold_id}/names"): {OF, M, A},
    ("GET", "/api/v1/feed/names"): {OF, M, A},
    ("GET", "/api/v1/feed/isps"): {M, A, AD},
    ("POST", "/api/v1/reports"): {PARTNER},
    ("GET", "/api/v1/reports"): {OF},
    ("POST", "/api/v1/reports/{host}/dismiss"): {OF},
    ("GET", "/api/v1/appeals"): {M, A},
    ("POST", "/api/v1/appeals/{appeal_id}/decide"): {M},
    ("GET", "/api/v1/removal-notices"): {OF, M, A},
    ("GET", "/api/v1/removal-notices/{notice_id}"): {OF, M, A},
    ("GET", "/api/v1/removal-notices/{notice_id}/document.pdf"): {OF, M, A},
    ("POST", "/api/v1/removal-notices/{notice_id}/acknowledge"): {OF},
    ("POST", "/api/v1/removal-notices/{notice_id}/removed"): {OF},
    ("GET", "/feed/v1/latest.{filename}"): {ISP},
    ("GET", "/feed/v1/versions/{name}"): {ISP},
    ("GET", "/feed/v1/diff"): {ISP},
    ("GET", "/feed/v1/keys"): {ISP},
    ("POST", "/feed/v1/applied"): {ISP},
}
# Mutations aim at objects no caller of the matrix depends on (officer2, the second ISP).
PARAMS = {"submission_id": "1", "name": "csam-gallery.test", "username": "officer2", "isp_id": "2",
          "requisition_id": "1", "hold_id": "1", "filename": "json", "host": "reported.test",
          "notice_id": "1", "appeal_id": "1", "token_id": "2", "batch_id": "1", "case": "FCCU-1"}
BODIES = {
    "/api/v1/submissions": {"domain": "x.test", "legal_basis": "art39bis", "case_number": "C", "evidence_ref": "E",
                            "verified_on": dt.date.today().isoformat(), "hosting_country": "NL"},
    "/api/v1/submissions/bulk": {"domains": ["y.test"], "legal_basis": "art39bis", "case_number": "C",
                                 "evidence_ref": "E", "verified_on": dt.date.today().isoformat(),
                                 "hosting_country": "NL"},
    "/api/v1/submissions/batches": {"domains": ["z.test"], "legal_basis": "art39bis", "case_number": "C",
                                    "evidence_ref": "E", "verified_on": dt.date.today().isoformat(),
                                    "hosting_country": "NL"},
    "/api/v1/submissions/approve": {"ids": [1]},
    "/api/v1/overrides": {"domain": "portal.gov.example", "reason": "a written reason"},
    "/api/v1/names/check": {"names": ["good.test"]},
    "/api/v1/users": {"username": "zed", "role": "auditor"},
    "/api/v1/users/{username}/profile": {"language": "nl"},
    "/api/v1/isps": {"name": "Z", "email": "noc@z.example", "language": "fr"},
    "/api/v1/isps/{isp_id}/secondaries": {"signed": ["127.0.0.1:5300"]},
    "/feed/v1/applied": {"serial": 1, "sha256": "0" * 64},
    "/api/v1/reports": {"reports": [{"address": "reported.test", "reference": "P-1"}]},
    "/api/v1/appeals/{appeal_id}/decide": {"outcome": "dismissed", "reason": "a written reason"},
}


def _routes(client: TestClient) -> list[tuple[str, str]]:
    # The OpenAPI document lists every route the app serves (included routers flattened).
    paths = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    return sorted((method.upper(), path) for path, item in paths.items() for method in item
                  if path.startswith(("/api/", "/feed/")))


def test_every_route_is_declared(client: TestClient) -> None:
    assert set(_routes(client)) == set(EXPECTED)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_matrix(client: TestClient, tokens: dict[str, str], rt: Runtime) -> None:
    with rt.database.transaction() as s:
        isps.add_isp(s, actor="test", name="ISP Two", email="noc@isp-two.example", language="nl")
    mismatches = []
    for method, path in _routes(client):
        url = path.format(**PARAMS)
        payload = BODIES.get(path, {"reason": "a written reason", "active": False} if method == "POST" else None)
        if path.endswith("/active"):
            payload = {"active": True}
        for caller in CALLERS:
            headers = {} if caller == "anonymous" else bearer(tokens[caller])
            response = client.request(method, url, json=payload if method == "POST" else None, headers=headers)
            assert response.status_code < 500, (method, url, caller, response.text)
            allowed = response.status_code not in (401, 403)
            if allowed != (caller in EXPECTED[(method, path)]):
                mismatches.append(f"{method} {path} as {caller}: {response.status_code}")
    assert mismatches == []
