"""Every kind of requisition in every language renders to a PDF whose text says what it must."""

from __future__ import annotations

import datetime as dt
import io
import subprocess

import pytest
from pypdf import PdfReader

from blocklist import i18n
from requisitions.document import Addressee, Authority, CaseRef, NamedDomain, RequisitionDocument
from requisitions.errors import RenderError
from requisitions.render import TITLES, render, render_texts
from tests.support.binaries import require_binary

NOW = dt.datetime(2026, 11, 28, 9, 30, tzinfo=dt.UTC)
WORDS = {  # a phrase of the legal basis and of the method, per language
    "fr": ("Code d'instruction criminelle", "page d'arrêt"),
    "nl": ("Wetboek van strafvordering", "stoppagina"),
    "de": ("Strafprozessgesetzbuches", "Sperrseite"),
    "en": ("Code of Criminal Procedure", "stop page"),
}


def document(kind: str = "blocking", language: str = "fr", **changes: object) -> RequisitionDocument:
    fields: dict[str, object] = {
        "kind": kind, "reference": "REQ-2026-000042-ISP3", "language": language, "issued_at": NOW,
        "deadline": NOW + dt.timedelta(hours=24),
        "authority": Authority("Federal Prosecutor's Office", "Rue des Quatre Bras 19, 1000 Brussels",
                               "blocking@federal-prosecutor.example", "+32 2 000 00 00"),
        "magistrate": "Sophie Janssens", "isp": Addressee("ISP One", "BIPT-0001", "noc@isp-one.example"),
        "names": (NamedDomain("csam-gallery.test", "csam-gallery.test", "domain_and_subdomains"),
                  NamedDomain("xn--bcher-kva.example", "bücher.example", "exact")),
        "cases": (CaseRef("FCCU-2026-0042", "art39bis"),
                  CaseRef("FCCU-2026-0043", "court_order", "Tribunal de première instance de Bruxelles",
                          dt.date(2026, 11, 20), "2026/1234/C")),
        "feed_serial": 17, "stop_page_name": "stop.blocklist.example", "reason": None,
    }
    fields.update(changes)
    return RequisitionDocument(**fields)  # type: ignore[arg-type]


def pdf_text(pdf: bytes) -> str:
    return " ".join(" ".join((page.extract_text() or "").split()) for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.mark.parametrize("language", ["fr", "nl", "de", "en"])
@pytest.mark.parametrize("kind", ["blocking", "lifting", "catch_up"])
def test_texts_in_every_kind_and_language(kind: str, language: str) -> None:
    subject, text, html = render_texts(document(kind, language))
    assert "REQ-2026-000042-ISP3" in subject and TITLES[kind].translate(language) in subject
    for body in (text, html):
        assert "csam-gallery.test" in body and "bücher.example" in body
        assert "FCCU-2026-0042" in body and "2026/1234/C" in body
        assert WORDS[language][0] in body.replace("&#39;", "'")


@pytest.mark.parametrize("language", ["fr", "nl", "de"])
def test_pdf_text_in_the_isps_language(language: str) -> None:
    rendered = render(document("blocking", language))
    assert rendered.pdf.startswith(b"%PDF")
    text = pdf_text(rendered.pdf)
    for expected in ("csam-gallery.test", "bücher.example", "FCCU-2026-0042", "REQ-2026-000042-ISP3",
                     *WORDS[language], i18n.long_date(dt.date(2026, 11, 20), language)):
        assert expected in text, expected


def test_pdftotext_reads_it_too() -> None:
    require_binary("pdftotext", "poppler-utils")
    pdf = render(document("lifting", "nl", reason="inhoud verwijderd")).pdf
    out = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    assert "Vordering tot opheffing van de blokkering" in out and "inhoud verwijderd" in out


def test_dates_per_language() -> None:
    day = dt.date(2026, 11, 28)
    assert [i18n.long_date(day, lang) for lang in ("fr", "nl", "de", "en")] == [
        "28 novembre 2026", "28 november 2026", "28. November 2026", "28 November 2026"]


def test_missing_template_fails_loudly() -> None:
    with pytest.raises(RenderError, match="no requisition template"):
        render_texts(document(language="es"))


def test_nothing_is_fetched_from_any_host() -> None:
    from requisitions.render import _refuse_remote

    with pytest.raises(ValueError, match="no external resource"):
        _refuse_remote("http://csam-gallery.test/logo.png")


def test_long_lists_are_printed_whole() -> None:
    names = tuple(NamedDomain(f"site-{i:04d}.test", f"site-{i:04d}.test", "exact") for i in range(150))
    text = pdf_text(render(document(names=names)).pdf)
    assert "site-0000.test" in text and "site-0149.test" in text and "ce nom exact uniquement" in text
