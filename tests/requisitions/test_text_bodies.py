"""The e-mail text body of every kind x language, rendered from a fixed document, matches its snapshot.

The snapshots (`text_bodies/<kind>.<language>.<variant>.txt`) were written from the twelve hand-written body.txt
files before they became wording blocks over one `_layout.txt`, and then one template per kind whose words are in
the gettext catalogs (`<kind>.txt` over `document.txt`): the templates must print exactly what they printed.
A deliberate wording change rewrites them: `BLOCKLIST_UPDATE_SNAPSHOTS=1 pytest tests/requisitions/test_text_bodies.py`,
then read the diff.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from requisitions.document import Addressee, Authority, CaseRef, NamedDomain, RequisitionDocument
from requisitions.render import TEMPLATES, render_texts

SNAPSHOTS = Path(__file__).parent / "text_bodies"
KINDS = ("blocking", "lifting", "catch_up")
LANGUAGES = ("fr", "nl", "de", "en")
ISSUED = dt.datetime(2026, 11, 28, 9, 30, tzinfo=dt.UTC)


def _document(kind: str, language: str, variant: str) -> RequisitionDocument:
    """`full`: every optional part present (feed serial, reason, a court order, an IDN); `bare`: none of them."""
    full = variant == "full"
    return RequisitionDocument(
        kind=kind, reference=f"REQ-2026-000123-ISP7-{kind}-{language}", language=language,  # type: ignore[arg-type]
        issued_at=ISSUED, deadline=ISSUED + dt.timedelta(hours=24),
        authority=Authority("Federal Prosecutor's Office", "Rue des Quatre Bras 19, 1000 Bruxelles",
                            "requisitions@federal-prosecutor.example", "+32 2 000 00 00"),
        magistrate="Anne Example", isp=Addressee("ISP One", "OP-0007", "noc@isp-one.example"),
        names=((NamedDomain("blocked-site.test", "blocked-site.test", "domain_and_subdomains"),
                NamedDomain("xn--mnchen-3ya.example", "münchen.example", "exact")) if full
               else (NamedDomain("blocked-site.test", "blocked-site.test", "exact"),)),
        cases=((CaseRef("FCCU-2026-0101", "art39bis"), CaseRef("FCCU-2026-0102", "ecommerce_law"),
                CaseRef("FCCU-2026-0103", "court_order", "Tribunal de première instance de Bruxelles",
                        dt.date(2026, 11, 1), "2026/4711/C")) if full
               else (CaseRef("FCCU-2026-0101", "art39bis"),)),
        feed_serial=4242 if full else None, stop_page_name="stop.blocklist.example",
        reason="contenu retiré" if full else None,
    )


def test_every_kind_has_one_template_of_its_wording_only() -> None:
    """Each <kind>.txt holds its wording macros for every language, nothing of the structure; no folder per
    language is left."""
    assert not [path for path in TEMPLATES.rglob("*") if path.is_dir()]
    for kind in KINDS:
        words = (TEMPLATES / f"{kind}.txt").read_text()
        assert "{% macro intro() %}" in words and "{% macro method() %}" in words, kind
        assert "{% for" not in words and "<" not in words.replace("{#", "").split("#}", 1)[-1], kind


@pytest.mark.parametrize("variant", ["full", "bare"])
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", KINDS)
def test_text_body_matches_its_snapshot(kind: str, language: str, variant: str) -> None:
    _, text, _ = render_texts(_document(kind, language, variant))
    snapshot = SNAPSHOTS / f"{kind}.{language}.{variant}.txt"
    if os.environ.get("BLOCKLIST_UPDATE_SNAPSHOTS") == "1":
        snapshot.write_text(text, encoding="utf-8")
    assert snapshot.exists(), f"no snapshot {snapshot.name}; write it with BLOCKLIST_UPDATE_SNAPSHOTS=1"
    assert text == snapshot.read_text(encoding="utf-8"), (
        f"{kind}/{language}/body.txt renders differently from {snapshot.name}; if the change is meant, "
        "rewrite the snapshots with BLOCKLIST_UPDATE_SNAPSHOTS=1 and read the diff")
