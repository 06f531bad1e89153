"""A name's or a case's history: the holds that held it, catch-up requisitions, delivery attempts; exported as a
signed JSON bundle that `blocklist audit verify-export` checks offline (and catches a tampered event), and as a PDF
for court that carries that bundle."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from pypdf import PdfReader

from api.cli import main
from api.runtime import Runtime
from blocklist.audit import event_hash
from blocklist.models import User
from blocklist.timeline import HASHED
from tests.api.conftest import bearer
from tests.support.stories import held_block_and_catch_up

CASE = "FCCU-2026-0099"


@pytest.fixture
def story(rt: Runtime, people: dict[str, User]) -> Runtime:
    """csam-gallery.test blocked, held, confirmed by another magistrate, published; a late ISP's catch-up
    requisition delivered on the second attempt (tests/support/stories.py)."""
    held_block_and_catch_up(rt, people, case_number=CASE)
    return rt


def test_the_history_holds_the_hold_the_catch_up_and_every_attempt(story: Runtime, client: TestClient,
                                                                   tokens: dict[str, str]) -> None:
    history = client.get("/api/v1/domains/WWW.csam-gallery.test/history",
                         headers=bearer(tokens["auditor"]))
    assert history.status_code == 200, history.text
    body = history.json()
    assert body["names"] == ["www.csam-gallery.test", "csam-gallery.test"]
    actions = [e["action"] for e in body["events"]]
    for expected in ("submission.created", "submission.approved", "feed.held", "feed.hold_confirmed",
                     "feed.hold_closed", "order.in_feed", "requisition.created", "requisition.sent"):
        assert expected in actions, expected
    assert [(a["attempt"], a["outcome"]) for a in body["attempts"]] == [(1, "transient"), (2, "sent")]
    assert body["attempts"][0]["reference"].startswith("CATCH-")
    found = client.get("/api/v1/audit/search", params={"q": "https://www.csam-gallery.test/x"},
                       headers=bearer(tokens["officer"])).json()
    assert [(n["domain"], n["how"]) for n in found["names"]] == [("csam-gallery.test", "covered")]
    assert client.get("/api/v1/audit/search?q=fccu-2026-00", headers=bearer(tokens["auditor"])).json()["cases"] == [
        {"case_number": CASE, "names": 1}]


def _cli(rt: Runtime, *args: str) -> tuple[int, str]:
    env = {"DATABASE_URL": rt.settings.database_url, "BLOCKLIST_DATA_DIR": str(rt.settings.data_dir)}
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.output


def test_a_signed_export_verifies_offline_and_a_tampered_event_is_named(story: Runtime, client: TestClient,
                                                                        tokens: dict[str, str],
                                                                        tmp_path: Path) -> None:
    response = client.get(f"/api/v1/cases/{CASE.lower()}/export.json", headers=bearer(tokens["magistrate"]))
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"] == f'attachment; filename="history-case-{CASE}.json"'
    document = response.json()
    bundle = document["bundle"]
    assert bundle["subject"] == {"kind": "case", "value": CASE} and bundle["names"] == ["csam-gallery.test"]
    assert bundle["checkpoint"]["events"] <= bundle["chain_head"]["events"]
    assert {"feed.held", "requisition.sent"} <= {e["action"] for e in bundle["events"]}
    assert len(bundle["delivery_attempts"]) == 2 and bundle["holds"][0]["confirmed_by"] == "magistrate2"
    good = tmp_path / "history.json"
    good.write_bytes(response.content)
    pub = tmp_path / "feed.pub"
    pub.write_text(story.keys.active_public_key().to_text())
    # Offline: an empty data dir (no database, no key) and the public key given.
    offline = {"DATABASE_URL": f"sqlite:///{tmp_path / 'none.sqlite3'}", "BLOCKLIST_DATA_DIR": str(tmp_path / "x")}
    ok = CliRunner().invoke(main, ["audit", "verify-export", str(good), "--pubkey", str(pub)], env=offline)
    assert ok.exit_code == 0 and "verified" in ok.output, ok.output
    assert not (tmp_path / "none.sqlite3").exists()
    no_key = CliRunner().invoke(main, ["audit", "verify-export", str(good)], env=offline)
    assert no_key.exit_code == 2 and "--pubkey" in no_key.output
    assert _cli(story, "audit", "verify-export", str(good))[0] == 0  # on the server: its own keys

    victim = next(e for e in bundle["events"] if e["action"] == "submission.approved")
    victim["details"] = victim["details"].replace("review_due", "review_date")
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(document))
    code, output = _cli(story, "audit", "verify-export", str(tampered), "--pubkey", str(pub))
    assert code == 1 and f"at event {victim['seq']}" in output and "changed" in output, output

    # Every hash recomputed by the forger: the links or the signature still give it away.
    victim["hash"] = event_hash(**{k: victim[k] for k in HASHED})
    tampered.write_text(json.dumps(document))
    code, output = _cli(story, "audit", "verify-export", str(tampered), "--pubkey", str(pub))
    assert code == 1 and ("previous-hash" in output or "signature" in output), output
    document["bundle"]["events"] = [e for e in bundle["events"] if e["seq"] != victim["seq"]]  # left out
    tampered.write_text(json.dumps(document))
    code, output = _cli(story, "audit", "verify-export", str(tampered), "--pubkey", str(pub))
    assert code == 1 and "signature" in output


def test_the_pdf_for_court_carries_the_signed_export(story: Runtime, client: TestClient,
                                                     tokens: dict[str, str], tmp_path: Path) -> None:
    response = client.get("/api/v1/domains/csam-gallery.test/export.pdf", headers=bearer(tokens["auditor"]))
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    assert "History of domain csam-gallery.test" in text and "feed.hold_confirmed" in text
    (attached,) = reader.attachments["history.json"]
    assert response.headers["x-content-sha256"] in text.replace("\n", "")
    (tmp_path / "history.json").write_bytes(attached)
    assert _cli(story, "audit", "verify-export", str(tmp_path / "history.json"))[0] == 0


def test_who_may_export(story: Runtime, client: TestClient, tokens: dict[str, str]) -> None:
    for who, status in (("officer", 403), ("admin", 403), ("auditor", 200), ("magistrate", 200)):
        assert client.get("/api/v1/domains/csam-gallery.test/export.json",
                          headers=bearer(tokens[who])).status_code == status
    assert client.get("/api/v1/domains/never-listed.test/export.json",
                      headers=bearer(tokens["auditor"])).status_code == 404
    assert client.get("/api/v1/cases/NO-SUCH-CASE/export.pdf", headers=bearer(tokens["auditor"])).status_code == 404
