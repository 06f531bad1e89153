"""The public transparency statistics: /transparency (no login, no cookie, no JavaScript; FR/NL/DE/EN) and the
report of a period as PDF and CSV: /transparency/{period}.pdf and .csv, a period being "2026" or "2026-Q3".

/transparency shows the last complete quarter beside the current year to date; /transparency/{period} one
period. The figures come from api/transparency.py and hold no listed name, case, report text or contact.
Charts are inline SVG drawn here (api/web/charts.py), each with its table and a caption.

The page is public and each report scans whole tables: a period's report is kept a minute (ReportCache), and a
PDF, which costs about a second of CPU, is kept keyed by the page it is printed from (its figures, language and
day), so the same figures are printed once.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from api import transparency
from api.deps import session
from api.stoppage import choose_language
from api.transparency import TransparencyReport
from api.web import charts
from api.web.common import templates
from blocklist import i18n, labels
from blocklist import transparency as periods
from blocklist.errors import NotFound
from blocklist.i18n import N_, gettext, long_date, month_name
from blocklist.models import utcnow
from blocklist.transparency import Period
from blocklist.vocab import LANGUAGE_NAMES, LEGAL_BASES
from isp_feed.transparency import IspDelay, IspShare
from requisitions.render import _fetcher as local_only_fetcher  # the one fetcher that refuses every resource

router = APIRouter(include_in_schema=False)
STYLESHEET = Path(__file__).parent / "static" / "transparency.css"
PDF_CACHE = 16
CACHE_SECONDS = 60.0  # how old the figures a visitor reads may be
CACHE_SIZE = 32  # periods kept


def _language(request: Request) -> str:
    return choose_language(request.url.query, request.headers.get("accept-language", ""))


def number(value: float, lang: str, decimals: int = 0) -> str:
    """A number as the language writes it: 1 234,5 (fr), 1.234,5 (nl, de), 1,234.5 (en)."""
    return i18n.number(value, lang, decimals)


def share(value: float | None, lang: str) -> str:
    """A share as a percentage with one decimal when it is not whole: 97,5 % (fr, de), 97,5% (nl), 97.5% (en)."""
    if value is None:
        return "—"
    percent = value * 100
    text = number(percent, lang, 0 if round(percent, 1).is_integer() else 1)
    return f"{text}\u202f%" if lang in ("fr", "de") else f"{text}%"


def duration(seconds: float | None, lang: str) -> str:
    """A delay in minutes, hours and minutes, or days (one decimal)."""
    if seconds is None:
        return "—"
    minutes = round(seconds / 60)
    if minutes < 60:
        return gettext(lang, "%(minutes)s min", minutes=max(minutes, 1) if seconds > 0 else 0)
    if minutes < 48 * 60:
        return gettext(lang, "%(hours)s h %(minutes)s min", hours=minutes // 60, minutes=minutes % 60)
    return days(seconds / 86400, lang)


def days(value: float | None, lang: str) -> str:
    """A number of days, with one decimal when it is not whole (a median of two)."""
    if value is None:
        return "—"
    return gettext(lang, "%(days)s days", days=number(value, lang, 0 if round(value, 1).is_integer() else 1))


def day(value: dt.date | dt.datetime, lang: str) -> str:
    """A calendar day as the language writes it; a moment is read on the Brussels calendar."""
    return long_date(value.astimezone(periods.BRUSSELS) if isinstance(value, dt.datetime) else value, lang)


QUARTERS = {1: N_("1st quarter %(year)s"), 2: N_("2nd quarter %(year)s"), 3: N_("3rd quarter %(year)s"),
            4: N_("4th quarter %(year)s")}


def period_label(span: Period, lang: str) -> str:
    """ "3e trimestre 2026", "Jahr 2026, bis heute"."""
    label = (QUARTERS[span.quarter].fill(year=span.year).translate(lang) if span.quarter
             else gettext(lang, "Year %(year)s", year=span.year))
    return label if span.complete else gettext(lang, "%(period)s, to date", period=label)


@dataclass(frozen=True)
class Shown:
    """One period's report as a page shows it: the figures, its label and its charts."""

    report: TransparencyReport
    label: str
    span_text: str
    charts: dict[str, Markup]

    @property
    def shares(self) -> dict[str, IspShare]:
        """Each ISP's share blocked, by ISP name."""
        return {s.isp: s for s in self.report.compliance}

    @property
    def delays(self) -> dict[str, IspDelay]:
        """Each ISP's median time to block, by ISP name."""
        return {d.isp: d for d in self.report.time_to_block}


def _charts(report: TransparencyReport, lang: str, label: str) -> dict[str, Markup]:
    ident = report.period.id.replace("-", "").lower()
    lists = report.listings
    bases = [labels.label("legal_basis_short", basis, lang) for basis in LEGAL_BASES]
    listed, lifted = gettext(lang, "Listed"), gettext(lang, "Lifted")
    out = {"names": charts.bars(
        f"names{ident}", gettext(lang, "Names listed (solid bars) and lifted (hatched bars) by legal basis, "
                                 "%(period)s", period=label), bases,
        [charts.Series(listed, [lists.listed[b] for b in LEGAL_BASES]),
         charts.Series(lifted, [lists.lifted[b] for b in LEGAL_BASES])],
        value_text=lambda v: number(v, lang))}
    if lists.months:
        out["months"] = charts.lines(
            f"months{ident}", gettext(lang, "Names listed (solid line, round points) and lifted (dashed line, square "
                                      "points) per month, %(period)s", period=label),
            [month_name(m.month.month, lang) for m in lists.months],
            [charts.Series(listed, [m.listed for m in lists.months]),
             charts.Series(lifted, [m.lifted for m in lists.months])], value_text=lambda v: number(v, lang))
    measured = [s for s in report.compliance if s.share_blocked is not None]
    if measured:
        out["compliance"] = charts.bars(
            f"compliance{ident}", gettext(lang, "Share of the listed names each access provider blocked at the latest "
                                          "verification, %(period)s", period=label),
            [s.isp for s in measured], [charts.Series(gettext(lang, "Share blocked"),
                                                      [s.share_blocked or 0.0 for s in measured])],
            scale=1.0, value_text=lambda v: share(v, lang))
    return out


def shown(report: TransparencyReport, lang: str) -> Shown:
    """What a page or a PDF shows of one period's report."""
    label = period_label(report.period, lang)
    span = gettext(lang, "from %(first)s to %(last)s", first=day(report.period.first_day, lang),
                   last=day(report.period.last_day, lang))
    return Shown(report, label, span, _charts(report, lang, label))


def _context(lang: str, shown_reports: list[Shown]) -> dict[str, Any]:
    # The rows of the per-ISP and per-country tables: every one that any period shown has.
    isps = sorted({s.isp for one in shown_reports for s in one.report.compliance}
                  | {d.isp for one in shown_reports for d in one.report.time_to_block}, key=str.casefold)
    countries = sorted({c for one in shown_reports for c in (one.report.hosting.countries or {})})
    return {"lang": lang, "languages": LANGUAGE_NAMES, "shown": shown_reports,
            "isps": isps, "countries": countries,
            "bases": LEGAL_BASES, "number": lambda v: number(v, lang), "share": lambda v: share(v, lang),
            "duration": lambda v: duration(v, lang), "days": lambda v: days(v, lang), "day": lambda v: day(v, lang),
            "month_name": lambda v: f"{month_name(v.month, lang)} {v.year}", "generated": day(utcnow(), lang)}


def _page(request: Request, lang: str, context: dict[str, Any], *, status_code: int = 200) -> HTMLResponse:
    # Rendered without the session: the page sets no cookie and reads none.
    response = templates(lang).TemplateResponse(request, "transparency.html", context, status_code=status_code)
    response.headers["content-language"] = lang
    return response


def _periods_nav(db: Session, lang: str) -> list[tuple[str, str]]:
    first = periods.first_year(db)
    return [(span.id, period_label(span, lang)) for span in periods.periods_since(first or utcnow().year)]


class ReportCache:
    """The reports built lately, per period, in memory: the page is public and each report scans whole tables, so
    a period's figures are rebuilt at most once every `seconds` however many read them (bounded to `size`)."""

    def __init__(self, *, seconds: float = CACHE_SECONDS, size: int = CACHE_SIZE,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds, self.size, self._clock = seconds, size, clock
        self._reports: OrderedDict[str, tuple[float, TransparencyReport]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, span: Period, build: Callable[[Period], TransparencyReport]) -> TransparencyReport:
        """The period's report, built anew when the kept one is older than `seconds`."""
        now = self._clock()
        with self._lock:
            kept = self._reports.get(span.id)
        if kept is not None and now - kept[0] < self.seconds:
            return kept[1]
        report = build(span)
        with self._lock:
            self._reports[span.id] = (now, report)
            self._reports.move_to_end(span.id)
            while len(self._reports) > self.size:
                self._reports.popitem(last=False)
        return report


def report_of(request: Request, db: Session, span: Period) -> TransparencyReport:
    """The report of one period, from the app's cache (made on first use)."""
    state = request.app.state
    if not hasattr(state, "transparency_cache"):
        state.transparency_cache = ReportCache()
    cache: ReportCache = state.transparency_cache
    return cache.get(span, lambda wanted: transparency.build(db, wanted))


def _missing(request: Request, db: Session, lang: str) -> HTMLResponse:
    # The period asked for is not shown back: the page echoes nothing a visitor typed.
    context = {**_context(lang, []), "missing": gettext(lang, "There is no report for this period. Name a year (for "
                                                        "example %(year)s) or a quarter (for example %(year)s-Q1) "
                                                        "that has begun, or choose one below.", year=utcnow().year),
               "periods": _periods_nav(db, lang), "path": "/transparency"}
    return _page(request, lang, context, status_code=404)


def _period(asked: str) -> Period | None:
    try:
        return periods.parse_period(asked)
    except NotFound:
        return None


@router.get("/transparency", response_class=HTMLResponse)
def overview(request: Request, db: Session = Depends(session)) -> HTMLResponse:
    """The last complete quarter beside the year to date."""
    lang = _language(request)
    shown_reports = [shown(report_of(request, db, span), lang) for span in periods.default_periods()]
    return _page(request, lang, {**_context(lang, shown_reports), "missing": None,
                                 "periods": _periods_nav(db, lang), "path": request.url.path})


@lru_cache(maxsize=PDF_CACHE)
def _pdf(html: str, identifier: str) -> bytes:
    from weasyprint import HTML  # imported late: loading Pango is slow and only the PDF needs it

    pdf: bytes = HTML(string=html, url_fetcher=local_only_fetcher()).write_pdf(
        pdf_identifier=identifier.encode(), custom_metadata=False)
    return pdf


@lru_cache(maxsize=1)
def _stylesheet() -> Markup:
    return Markup(STYLESHEET.read_text(encoding="utf-8"))  # our own file, inlined: the PDF loads nothing


def render_pdf(report: TransparencyReport, lang: str) -> bytes:
    """The report of one period as a PDF in `lang` (self-contained: inline style and SVG, installed fonts)."""
    html = templates(lang).get_template("transparency_pdf.html").render(
        {**_context(lang, [shown(report, lang)]), "css": _stylesheet()})
    return _pdf(html, f"transparency-{report.period.id}-{lang}")


def _download(body: bytes, media_type: str, filename: str) -> Response:
    return Response(body, media_type=media_type, headers={"content-disposition": f'attachment; filename="{filename}"'})


@router.get("/transparency/{period}.pdf")
def pdf(request: Request, period: str, db: Session = Depends(session)) -> Response:
    """The report of one period as a PDF, in the language asked for."""
    lang, span = _language(request), _period(period)
    if span is None:
        return _missing(request, db, lang)
    return _download(render_pdf(report_of(request, db, span), lang), "application/pdf",
                     f"transparency-{span.id}-{lang}.pdf")


@router.get("/transparency/{period}.csv")
def csv(request: Request, period: str, db: Session = Depends(session)) -> Response:
    """The figures of one period as CSV (English identifiers, raw numbers: for spreadsheets and programs)."""
    span = _period(period)
    if span is None:
        return _missing(request, db, _language(request))
    return _download(transparency.to_csv(report_of(request, db, span)).encode(), "text/csv; charset=utf-8",
                     f"transparency-{span.id}.csv")


@router.get("/transparency/{period}", response_class=HTMLResponse)
def one_period(request: Request, period: str, db: Session = Depends(session)) -> HTMLResponse:
    """The figures of one period."""
    lang, span = _language(request), _period(period)
    if span is None:
        return _missing(request, db, lang)
    return _page(request, lang, {**_context(lang, [shown(report_of(request, db, span), lang)]), "missing": None,
                                 "periods": _periods_nav(db, lang), "path": request.url.path})
