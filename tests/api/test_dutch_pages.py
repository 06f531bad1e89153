"""A Dutch auditor reads in Dutch what the feed stored in English (issue 14, finding 3): a DNS check's reason on the
evidence page and the timeline, why a hold was closed, the audit chain's status, and the history PDF for court
(whose attached signed export stays the same, and verifiable, in every language)."""

from __future__ import annotations

import datetime as dt
import io
import json
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from api.app import create_app
from api.runtime import Runtime
from api.stored_text import dns_reason, hold_closing
from blocklist import users
from blocklist.models import Isp, User
from isp_feed.models import VerificationResult, VerificationRound
from isp_feed.publish import PUBLISHED_AS
from isp_feed.verify.classify import DISAGREE, HTTPS_LEAK, STOP_PAGE
from tests.api.test_export import _cli
from tests.support.binaries import require_binary
from tests.support.stories import held_block_and_catch_up
from tests.support.web import give_passwords, login

CASE = "FCCU-2026-0140"
NAME = "csam-gallery.test"
AT = dt.datetime(2026, 11, 29, 9, 30, tzinfo=dt.UTC)


@pytest.fixture
def story(rt: Runtime, people: dict[str, User]) -> Runtime:
    """The held, confirmed and published block of tests/support/stories.py, a Dutch auditor, and two DNS checks
    of the name: one worded by today's verifier, one kept from an older wording."""
    held_block_and_catch_up(rt, people, case_number=CASE)
    leaked = str(HTTPS_LEAK.fill(hints="192.0.2.7", reason=str(STOP_PAGE)))  # as isp_feed/verify/classify.py words it
    evidence = {side: [{"resolver": "127.0.0.1:53", "question": f"{NAME} A", "sent_at": AT.isoformat(),
                        "rcode": "NOERROR", "answers": [[NAME, "A", "192.0.2.7"]], "ede": "", "raw": ""}]
                for side in ("isp", "control")}
    with rt.database.transaction() as s:
        users.update_profile(s, actor="test", user=users.get_user(s, "auditor"), language="nl")
        isp = s.query(Isp).filter_by(name="Late ISP").one()
        found = VerificationRound(started_at=AT, finished_at=AT, names=1, resolvers=1)
        s.add(found)
        s.flush()
        for reason in (leaked, "an answer worded by an older verifier"):
            s.add(VerificationResult(round_id=found.id, isp_id=isp.id, resolver="127.0.0.1:53", domain=NAME,
                                     verdict="not_blocked", reason=reason, evidence=json.dumps(evidence), at=AT,
                                     feed_serial=2))
    give_passwords(rt, "auditor")
    return rt


def test_stored_english_is_read_back_in_dutch_and_other_text_is_kept() -> None:
    nested = str(DISAGREE.fill(first=str(STOP_PAGE), second="A: SERVFAIL"))
    assert dns_reason(nested, "nl") == ("twee waarnemingen verschillen (de stoppagina (CNAME of haar adressen); "
                                        "A: SERVFAIL)")
    assert dns_reason(nested, "en") == nested  # the stored text is the English words
    assert dns_reason("A: SERVFAIL", "nl") == "A: SERVFAIL"  # technical, and any unknown text: as stored
    assert hold_closing(str(PUBLISHED_AS.fill(serial=12)), "fr") == "publiée comme version 12"
    assert hold_closing("published as serial 3", "de") == "veröffentlicht als Seriennummer 3"  # an old row
    assert hold_closing("closed by hand", "nl") == "closed by hand"


def test_a_dutch_auditor_reads_evidence_hold_chain_and_export_in_dutch(story: Runtime, tmp_path: Path) -> None:
    client = TestClient(create_app(story))
    login(client, "auditor")
    home = client.get("/auditor", params={"q": NAME})
    assert home.status_code == 200
    text = home.text
    assert "Auditketen: intact: " in text and "registraties stemmen overeen met hun gebeurtenissen" in text
    assert "audit chain intact" not in text and "(Brussel" in text  # the check's time through the date filter
    assert "gepubliceerd als serienummer 2" in text and "published as serial" not in text  # the closed hold
    assert "een HTTPS-record met de adreshints 192.0.2.7" in text and "hoewel A/AAAA de stoppagina" in text
    assert "an answer worded by an older verifier" in text  # an old row's reason: shown as stored

    with story.database.reading() as s:
        first = min(r.id for r in s.query(VerificationResult).filter_by(domain=NAME))
    evidence = client.get(f"/compliance/evidence/{first}").text
    for words in ("csam-gallery.test bij 127.0.0.1:53: niet geblokkeerd", "ronde 1",
                  "De resolver van de internetprovider", "De controleresolver (die niets blokkeert)", "vraag",
                  "antwoorden", "29 november 2026",
                  "een HTTPS-record met de adreshints"):
        assert words in evidence, words
    for english in (" at 127.0.0.1", "round 1", "<h2>isp</h2>", "<h2>control</h2>", "not_blocked"):
        assert english not in evidence, english

    export = client.get(f"/auditor/domains/{NAME}/export.pdf")
    assert export.status_code == 200 and export.headers["content-type"] == "application/pdf"
    (tmp_path / "history.pdf").write_bytes(export.content)
    pdftotext = require_binary("pdftotext", "poppler-utils")
    pdf = subprocess.run([pdftotext, str(tmp_path / "history.pdf"), "-"], capture_output=True, text=True,
                         check=True).stdout
    for words in (f"Geschiedenis van domein {NAME}", "Auditgebeurtenissen", "Tegengehouden feedwijzigingen",
                  "gepubliceerd als serienummer 2", "Verzendpogingen", "DNS-controles", "pagina 1 van",
                  "Geëxporteerd", "Vordering opgesteld", "een HTTPS-record met de adreshints", "geblokkeerd"):
        assert words in pdf, words
    for english in ("History of", "Audit events", "page 1 of", "Delivery attempts", "DNS checks"):
        assert english not in pdf, english
    assert '"reason":"published as serial 2"' in pdf  # an event's details: the chain's own text, never reworded
    # Only the words changed: the attached export is the signed JSON, verified offline as in any language.
    (attached,) = PdfReader(io.BytesIO(export.content)).attachments["history.json"]
    (tmp_path / "history.json").write_bytes(attached)
    assert _cli(story, "audit", "verify-export", str(tmp_path / "history.json"))[0] == 0
    assert json.loads(attached)["bundle"]["holds"][0]["closed_reason"] == "published as serial 2"  # stored English
