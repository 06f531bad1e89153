"""Every kind x language prints to an A4 PDF that says what it must; broken templates and remote fetches fail loudly."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import select
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader

from blocklist import i18n
from requisitions.document import Addressee, Authority, CaseRef, NamedDomain, RequisitionDocument
from requisitions.errors import RenderError
from requisitions.render import AUTHORITY, SCOPES, TEMPLATES, TITLES, render, render_texts
from tests.support.binaries import require_binary

ISSUED = dt.datetime(2026, 11, 28, 9, 30, tzinfo=dt.UTC)
KINDS = ("blocking", "lifting", "catch_up")
LANGUAGES = ("fr", "nl", "de", "en")
# Per language: a phrase of each legal basis, as the document must print it.
BASIS_WORDS = {
    "fr": ("Code d'instruction criminelle", "Loi du 11 mars 2003", "Décision judiciaire"),
    "nl": ("Wetboek van strafvordering", "Wet van 11 maart 2003", "Rechterlijke beslissing"),
    "de": ("Strafprozessgesetzbuches", "Gesetz vom 11. März 2003", "Gerichtliche Entscheidung"),
    "en": ("Code of Criminal Procedure", "Law of 11 March 2003", "Court decision"),
}
METHOD_WORDS = {"fr": "adresse IP", "nl": "IP-adres", "de": "IP-Adresse", "en": "IP address"}
DEADLINE = {  # 24 h after ISSUED, in Brussels time (UTC+1 in November)
    "fr": "29 novembre 2026 à 10:30", "nl": "29 november 2026 om 10:30", "de": "29. November 2026 um 10:30 Uhr",
    "en": "29 November 2026 at 10:30",
}


def document(kind: str = "blocking", language: str = "fr", **changes: object) -> RequisitionDocument:
    """A requisition with two names (one IDN), three cases (one per legal basis) and a feed serial."""
    fields: dict[str, object] = {
        "kind": kind, "reference": f"REQ-2026-000123-ISP7-{kind}-{language}", "language": language,
        "issued_at": ISSUED, "deadline": ISSUED + dt.timedelta(hours=24),
        "authority": Authority("Federal Prosecutor's Office", "Rue des Quatre Bras 19, 1000 Bruxelles",
                               "requisitions@federal-prosecutor.example", "+32 2 000 00 00"),
        "magistrate": "Anne Example",
        "isp": Addressee("ISP One", "OP-0007", "noc@isp-one.example"),
        "names": (NamedDomain("blocked-site.test", "blocked-site.test", "domain_and_subdomains"),
                  NamedDomain("xn--mnchen-3ya.example", "münchen.example", "exact")),
        "cases": (CaseRef("FCCU-2026-0101", "art39bis"),
                  CaseRef("FCCU-2026-0102", "ecommerce_law"),
                  CaseRef("FCCU-2026-0103", "court_order", "Tribunal de première instance de Bruxelles",
                          dt.date(2026, 11, 1), "2026/4711/C")),
        "feed_serial": 4242, "stop_page_name": "stop.blocklist.example",
        "reason": "contenu retiré" if kind == "lifting" else None,
    }
    fields.update(changes)
    return RequisitionDocument(**fields)  # type: ignore[arg-type]


def flat(text: str) -> str:
    return " ".join(text.split())


def pypdf_text(pdf: bytes) -> str:
    return flat(" ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages))


def pdftotext(pdf: bytes) -> str:
    binary = require_binary("pdftotext", "poppler-utils")
    out = subprocess.run([binary, "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True, timeout=60)
    return flat(out.stdout.decode())


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_and_language_prints_what_it_must(kind: str, language: str) -> None:
    doc = document(kind, language)
    rendered = render(doc)
    assert rendered.sha256 == hashlib.sha256(rendered.pdf).hexdigest()
    assert TITLES[kind].translate(language) in rendered.subject and doc.reference in rendered.subject
    court_date = i18n.long_date(dt.date(2026, 11, 1), language)
    expected = [
        doc.reference, TITLES[kind].translate(language), AUTHORITY.translate(language), "Anne Example", "ISP One",
        "blocked-site.test", "xn--mnchen-3ya.example", "münchen.example", SCOPES["exact"].translate(language),
        "FCCU-2026-0101", "FCCU-2026-0102", "FCCU-2026-0103", *BASIS_WORDS[language],
        "Tribunal de première instance de Bruxelles", court_date, "2026/4711/C",
        DEADLINE[language], "requisitions@federal-prosecutor.example", "4242",
    ]
    if kind != "lifting":  # blocking and catch-up say how: DNS, the stop page, never by IP address
        expected += ["stop.blocklist.example", METHOD_WORDS[language]]
    for extractor in (pypdf_text, pdftotext):
        text = extractor(rendered.pdf)
        absent = [phrase for phrase in expected if phrase not in text]
        assert not absent, f"{extractor.__name__} of {kind}/{language} lacks {absent}"
    for body in (rendered.text, rendered.html):
        assert "FCCU-2026-0103" in body and "2026/4711/C" in body and court_date in body


def test_court_order_first_of_the_month_in_french() -> None:
    text = pypdf_text(render(document(cases=(CaseRef("FCCU-2026-0103", "court_order", "Cour d'appel de Liège",
                                                     dt.date(2026, 12, 1), "2026/99/A"),))).pdf)
    assert "1er décembre 2026" in text and "Cour d'appel de Liège" in text and "2026/99/A" in text


def test_pdf_is_a4_with_the_reference_as_title_and_reproducible() -> None:
    doc = document("blocking", "nl")
    first, second = render(doc), render(doc)
    assert first.pdf == second.pdf and first.sha256 == second.sha256  # re-rendering proves a stored hash
    reader = PdfReader(io.BytesIO(first.pdf))
    meta = reader.metadata
    assert meta is not None and meta.title == doc.reference and meta.author == "Federaal Parket"
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points


def test_names_are_escaped_in_html_and_plain_in_text() -> None:
    _, text, html = render_texts(document("lifting", "en", reason="<b>content removed</b> & gone"))
    assert "&lt;b&gt;content removed&lt;/b&gt; &amp; gone" in html and "<b>content" not in html
    assert "<b>content removed</b> & gone" in text


def test_deadlines_in_brussels_time_with_utc() -> None:
    summer = dt.datetime(2026, 7, 1, 8, 0, tzinfo=dt.UTC)
    late = dt.datetime(2026, 11, 28, 23, 30, tzinfo=dt.UTC)  # already the next day in Brussels
    assert i18n.date_time(summer, "fr") == "1er juillet 2026 à 10:00 (heure de Bruxelles ; 08:00 UTC)"
    assert i18n.date_time(late, "de") == "29. November 2026 um 00:30 Uhr (Brüsseler Zeit; 23:30 UTC)"
    assert i18n.date_time(late, "nl") == "29 november 2026 om 00:30 (Brusselse tijd; 23:30 UTC)"
    assert i18n.date_time(late.replace(tzinfo=None), "en") == "29 November 2026 at 00:30 (Brussels time; 23:30 UTC)"


# --- broken templates -------------------------------------------------------------------------------------------


@pytest.fixture
def templates(tmp_path: Path) -> Path:
    """A private copy of the template tree that a test may break."""
    return Path(shutil.copytree(TEMPLATES, tmp_path / "templates"))


def test_syntax_error_names_template_line_and_language(templates: Path) -> None:
    page = templates / "blocking.txt"
    page.write_text(page.read_text() + "\n{% if %}\n")
    with pytest.raises(RenderError, match=r"blocking\.txt has a syntax error at line \d+ .*language fr"):
        render(document("blocking", "fr"), templates)


def test_undefined_value_names_template_and_language(templates: Path) -> None:
    page = templates / "catch_up.txt"
    # Inside a wording macro: the kind's file prints nothing outside its macros.
    page.write_text(page.read_text().replace("{% endmacro %}", "{{ doc.isp.postal_code }}{% endmacro %}", 1))
    with pytest.raises(RenderError, match=r"failed to render .*language nl.*postal_code"):
        render_texts(document("catch_up", "nl"), templates)


def test_missing_template_and_unknown_language(templates: Path) -> None:
    (templates / "lifting.txt").unlink()
    with pytest.raises(RenderError, match=r"no requisition template lifting\.txt"):
        render_texts(document("lifting", "de"), templates)
    with pytest.raises(RenderError, match=r"no requisition template blocking/es .*languages fr, nl, de, en"):
        render_texts(document("blocking", "es"))


# --- nothing is fetched --------------------------------------------------------------------------------------------


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A loopback TCP port that records whether anything connected to it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock


def _nobody_connected(sock: socket.socket) -> bool:
    readable, _, _ = select.select([sock], [], [], 0.3)
    return not readable


@pytest.mark.parametrize("markup", [
    '<img src="http://127.0.0.1:{port}/logo.png">',
    '<link rel="stylesheet" href="http://127.0.0.1:{port}/print.css">',
    '<style>@import url("http://127.0.0.1:{port}/more.css");</style>',
    '<img src="file:///etc/hostname">',
])
def test_weasyprint_fetches_nothing(templates: Path, listener: socket.socket, markup: str) -> None:
    page = templates / "document.html"
    tag = markup.format(port=listener.getsockname()[1])
    page.write_text(page.read_text().replace("<body>", f"<body>{tag}", 1))
    with pytest.raises(RenderError, match=r"external resource.*self-contained"):
        render(document("blocking", "en"), templates)
    assert _nobody_connected(listener)


def test_inline_data_is_allowed(templates: Path) -> None:
    page = templates / "document.html"
    png = ("data:image/png;base64,"  # one transparent pixel
           "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=")
    page.write_text(page.read_text().replace("<body>", f'<body><img src="{png}" alt="">', 1))
    assert render(document("blocking", "en"), templates).pdf.startswith(b"%PDF")


# --- the ISP's agreed policy, and the layout over pages ---------------------------------------------------------------

NXDOMAIN_WORDS = {"fr": "par NXDOMAIN (domaine inexistant)", "nl": "met NXDOMAIN (onbestaand domein)",
                  "de": "mit NXDOMAIN (Domain existiert nicht)", "en": "with NXDOMAIN (no such domain)"}


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_nxdomain_isp_is_told_to_answer_nxdomain(language: str) -> None:
    """An ISP whose agreed policy is NXDOMAIN is told to answer NXDOMAIN, never to send users to the stop page."""
    for kind in ("blocking", "catch_up"):
        rendered = render(document(kind, language, policy="nxdomain"))
        text = pdftotext(rendered.pdf)
        assert NXDOMAIN_WORDS[language] in text and METHOD_WORDS[language] in text, (kind, language)
        assert "stop.blocklist.example" not in text and "stop.blocklist.example" not in rendered.text
        assert NXDOMAIN_WORDS[language] in flat(rendered.text)
        stop_page = pdftotext(render(document(kind, language)).pdf)  # the default policy: the stop page
        assert "stop.blocklist.example" in stop_page and "NXDOMAIN" not in stop_page
    lifting = pdftotext(render(document("lifting", language, policy="nxdomain")).pdf)
    assert "NXDOMAIN" in lifting


def _pages(pdf: bytes) -> list[str]:
    return [flat(page.extract_text() or "") for page in PdfReader(io.BytesIO(pdf)).pages]


@pytest.mark.parametrize("count", [40, 62, 100])
def test_a_long_table_repeats_its_header_and_the_signature_stays_with_the_text(count: int) -> None:
    names = tuple(NamedDomain(f"site-{n:03d}.test", f"site-{n:03d}.test", "exact") for n in range(count))
    pages = _pages(render(document("blocking", "en", names=names)).pdf)
    assert len(pages) > 1
    with_names = [text for text in pages if "site-" in text]
    assert len(with_names) > 1, "the table should run over a page"
    for text in with_names:
        assert "Name (A-label) / Unicode" in text and "Scope" in text, text[:200]  # the header, on every page
    (signed,) = [text for text in pages if "Anne Example Federal Prosecutor's Office" in text]
    # What is asked, by when and who signs are printed together: never the signature alone on its page.
    assert "Deadline:" in signed and "Acknowledgement." in signed and "Contact:" in signed
