"""The public transparency pages: /transparency in each language, the PDF (read back with pdftotext) and the CSV
of a period, refusals of a bad period, the links from the stop page and the report form, and headless Chromium
(screenshots, no request elsewhere, readable contrast). Nothing secret of the dataset may appear anywhere."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from api.runtime import Runtime
from api.web import charts
from api.web.transparency import ReportCache, _pdf
from blocklist.models import Submission
from tests.support import transparency_data as data
from tests.support.binaries import require_binary
from tests.support.browser import ARTIFACTS, chromium, record_hosts

TITLES = {"fr": "Transparence : le blocage en chiffres", "nl": "Transparantie: de blokkering in cijfers",
          "de": "Transparenz: die Sperrung in Zahlen", "en": "Transparency: blocking in figures"}
Q3 = {"fr": "3e trimestre 2025", "nl": "3e kwartaal 2025", "de": "3. Quartal 2025", "en": "3rd quarter 2025"}
HALF = {"fr": "50\u202f%", "nl": "50%", "de": "50\u202f%", "en": "50%"}
NOT_FOUND = {"fr": "Période introuvable", "nl": "Periode niet gevonden", "de": "Zeitraum nicht gefunden",
             "en": "No such period"}


@pytest.fixture
def dataset(rt: Runtime) -> None:
    with rt.database.transaction() as s:
        data.build(s)


def _no_secret(text: str) -> None:
    lowered = text.lower()
    leaked = [secret for secret in data.SECRETS if secret.lower() in lowered]
    assert not leaked, f"{leaked} is public"
    assert ".test" not in lowered and "@" not in text  # no listed or reported name, no e-mail address at all


def _pdf_text(pdf: bytes, tmp_path: Path) -> str:
    require_binary("pdftotext", "poppler-utils")
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


@pytest.mark.parametrize("lang", ["fr", "nl", "de", "en"])
def test_page_in_each_language_without_script_or_cookie(client: TestClient, dataset: None, lang: str) -> None:
    page = client.get("/transparency/2025-Q3", headers={"Accept-Language": f"{lang};q=0.8"})
    assert page.status_code == 200 and f'<html lang="{lang}">' in page.text and page.headers["content-language"] == lang
    assert TITLES[lang] in page.text and Q3[lang] in page.text and HALF[lang] in page.text
    assert "<script" not in page.text and "set-cookie" not in page.headers and " style=" not in page.text
    for other in ("fr", "nl", "de", "en"):
        assert f'href="/transparency/2025-Q3?lang={other}"' in page.text
    assert f'href="/transparency/2025-Q3.pdf?lang={lang}"' in page.text
    assert 'href="/transparency/2025-Q3.csv"' in page.text
    assert page.text.count('role="img"') == 3 and page.text.count("<figcaption>") == 3  # names, months, compliance
    assert data.ISP_ALPHA in page.text  # ISP names are public
    _no_secret(page.text)
    assert TITLES[lang] in client.get(f"/transparency?lang={lang}", headers={"Accept-Language": "en"}).text


def test_overview_shows_the_last_complete_quarter_and_the_year_to_date(client: TestClient, dataset: None) -> None:
    page = client.get("/transparency?lang=en")
    assert page.status_code == 200
    assert "quarter" in page.text and ", to date" in page.text and 'href="/transparency/2025?lang=en"' in page.text
    _no_secret(page.text)


@pytest.mark.parametrize("lang", ["fr", "nl", "de", "en"])
def test_pdf_of_a_period_reads_back_with_its_figures(client: TestClient, dataset: None, lang: str,
                                                     tmp_path: Path) -> None:
    answer = client.get(f"/transparency/2025-Q3.pdf?lang={lang}")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf"
    assert answer.headers["content-disposition"] == f'attachment; filename="transparency-2025-Q3-{lang}.pdf"'
    text = _pdf_text(answer.content, tmp_path)
    assert TITLES[lang] in " ".join(text.split()) and Q3[lang] in text and data.ISP_BETA in text
    assert HALF[lang].replace("\u202f", " ") in text.replace("\u202f", " ")
    _no_secret(text)


def test_the_same_figures_are_printed_once(client: TestClient, dataset: None) -> None:
    first = client.get("/transparency/2025.pdf?lang=de")
    hits = _pdf.cache_info().hits
    again = client.get("/transparency/2025.pdf?lang=de")
    assert again.content == first.content and _pdf.cache_info().hits == hits + 1


def test_csv_of_a_period(client: TestClient, dataset: None) -> None:
    answer = client.get("/transparency/2025-Q3.csv")
    assert answer.status_code == 200 and answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.headers["content-disposition"] == 'attachment; filename="transparency-2025-Q3.csv"'
    lines = answer.text.splitlines()
    assert lines[0] == "period,section,figure,breakdown,value"
    assert "2025-Q3,names,listed,total,4" in lines and "2025-Q3,compliance,share_blocked,ISP Beta,0.5" in lines
    _no_secret(answer.text)


@pytest.mark.parametrize(("path", "lang"), [("/transparency/2099", "fr"), ("/transparency/2025-Q9.pdf", "nl"),
                                            ("/transparency/alpha-gallery.test", "de"),
                                            ("/transparency/1999.csv", "en"), ("/transparency/2025-Q3.xls", "fr")])
def test_a_bad_period_is_a_translated_404_that_echoes_nothing(client: TestClient, dataset: None, path: str,
                                                               lang: str) -> None:
    page = client.get(path, headers={"Accept-Language": lang})
    assert page.status_code == 404 and NOT_FOUND[lang] in page.text and 'role="alert"' in page.text
    assert page.headers["content-type"].startswith("text/html")
    _no_secret(page.text)
    assert path.rsplit("/", 1)[1] not in page.text


def test_figures_are_kept_a_minute(client: TestClient, rt: Runtime, dataset: None) -> None:
    assert "2025-Q3,names,listed,total,4" in client.get("/transparency/2025-Q3.csv").text
    now = [0.0]
    client.app.state.transparency_cache = ReportCache(seconds=60, clock=lambda: now[0])  # type: ignore[attr-defined]
    first = client.get("/transparency/2025-Q3.csv").text
    with rt.database.transaction() as s:  # a name approved in Q3 after all
        s.execute(update(Submission).where(Submission.domain == data.LATER).values(
            decided_at=data.at("2025-08-01 01:00")))
    assert client.get("/transparency/2025-Q3.csv").text == first
    now[0] = 61
    assert "2025-Q3,names,listed,total,5" in client.get("/transparency/2025-Q3.csv").text


def test_linked_from_the_stop_page_and_the_report_form_and_served_on_the_stop_host(client: TestClient,
                                                                                  dataset: None) -> None:
    stop = client.get("/?lang=nl", headers={"Host": data.ALPHA})
    assert stop.status_code == 451 and 'href="/transparency?lang=nl"' in stop.text
    assert "Statistieken van de blokkering (transparantie)" in stop.text
    for host in (data.ALPHA, "stop.blocklist.example"):
        page = client.get("/transparency?lang=nl", headers={"Host": host})
        assert page.status_code == 200 and TITLES["nl"] in page.text
        _no_secret(page.text)
        assert client.get("/static/transparency.css", headers={"Host": host}).status_code == 200
    assert client.get("/anything", headers={"Host": "stop.blocklist.example"}).status_code == 451
    form = client.get("/report?lang=de")
    assert 'href="/transparency?lang=de"' in form.text and "Statistiken der Sperrung (Transparenz)" in form.text


def _ratio(foreground: str, background: str = "#ffffff") -> float:
    """WCAG 2.1 contrast ratio of two #rrggbb colours."""
    def luminance(colour: str) -> float:
        channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    high, low = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_chart_colours_meet_wcag_aa() -> None:
    assert _ratio(charts.INK) >= 4.5 and _ratio(charts.GRID) >= 4.5  # text and axis labels
    assert all(_ratio(colour) >= 4.5 for colour in charts.SERIES_COLOURS)  # well above 3:1 for graphics
    svg = charts.bars("t", "A <title>", ["x & y"], [charts.Series("one", [1]), charts.Series("two", [2])])
    assert "A &lt;title&gt;" in svg and "x &amp; y" in svg and "url(#t-hatch)" in svg  # escaped; hatched second
    assert "<desc id=\"t-desc\">one: x &amp; y 1. two: x &amp; y 2.</desc>" in svg  # every value in words
    line = charts.lines("m", "Months", ["Jan", "Feb"], [charts.Series("a", [0, 3]), charts.Series("b", [1, 1])])
    assert 'stroke-dasharray="6 4"' in line and "<circle" in line  # dashed second line, round and square points


# Every visible text's colour against the background it is drawn on, in the browser (WCAG 2.1 AA: 4.5:1, 3:1 for
# large text). The project runs no axe-core; this checks the one rule a stylesheet can break here.
CONTRAST_SCRIPT = """() => {
  const rgb = s => (s.match(/[0-9.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map(c => { c /= 255; return c <= 0.03928 ? c / 12.92
      : Math.pow((c + 0.055) / 1.055, 2.4); }).reduce((a, c, i) => a + c * [0.2126, 0.7152, 0.0722][i], 0);
  const background = el => { for (; el; el = el.parentElement) { const c = rgb(getComputedStyle(el).backgroundColor);
      if (c.length < 4 || c[3] > 0) return c.slice(0, 3); } return [255, 255, 255]; };
  const failures = [];
  for (const el of document.querySelectorAll('body *')) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    const box = el.getBoundingClientRect();
    if (!own || box.width < 2 || box.height < 2 || el.closest('.skip, .visually-hidden, svg')) continue;
    const style = getComputedStyle(el);
    const [a, b] = [lum(rgb(style.color)), lum(background(el))].sort((x, y) => y - x);
    const ratio = (a + 0.05) / (b + 0.05), size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5))
      failures.push(`${el.tagName} "${el.textContent.trim().slice(0, 40)}" ${ratio.toFixed(2)}`);
  }
  return failures;
}"""


@pytest.fixture
def browser(rt: Runtime, dataset: None) -> Iterator[tuple[Any, str]]:
    with chromium(rt) as (running, port):
        yield running, f"http://127.0.0.1:{port}"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_in_chromium_each_language_loads_nothing_elsewhere_and_reads_well(browser: tuple[Any, str]) -> None:
    running, url = browser
    for lang in ("fr", "nl", "de", "en"):
        visitor = running.new_context(locale=lang, java_script_enabled=False)
        hosts = record_hosts(visitor)
        page = visitor.new_page()
        page.goto(f"{url}/transparency/2025-Q3")
        assert page.inner_text("h1") == TITLES[lang] and page.get_attribute("html", "lang") == lang
        named = page.get_by_role("img", name=re.compile(re.escape(Q3[lang])))  # each chart named by its title
        assert named.count() == 3 and all(named.nth(i).bounding_box() for i in range(3))
        page.screenshot(path=str(ARTIFACTS / f"transparency-{lang}.png"), full_page=True)
        _no_secret(page.inner_text("body"))
        assert visitor.cookies() == [] and hosts == {"127.0.0.1"}
        visitor.close()
    checker = running.new_context(locale="en")
    page = checker.new_page()
    page.goto(f"{url}/transparency")
    page.click("text=Deutsch")  # the switcher
    assert page.inner_text("h1") == TITLES["de"]
    assert page.evaluate(CONTRAST_SCRIPT) == []
    page.goto(f"{url}/transparency/2025-Q3")
    assert page.evaluate(CONTRAST_SCRIPT) == []
    checker.close()
