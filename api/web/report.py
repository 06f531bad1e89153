"""The public report form (/report): no login, no cookie, no JavaScript; French, Dutch, German or English.

The reporter gets a receipt number and what happens next, and nothing else: the answer never shows the address
back, never says whether a name is listed, and nothing fetches the address. Nothing about the reporter is kept
(blocklist/reports.py). Abuse limits: a honeypot field, size limits on every field and on the form, and a budget
of reports per source kept in memory only (ReportLimiter; never written anywhere).
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from api.deps import session
from api.stoppage import choose_language, source_of
from api.web.common import attempt, templates
from api.web.i18n import LANGUAGE_NAMES, t, translator
from blocklist import reports

router = APIRouter(include_in_schema=False)
REPORT_BURST = 5  # reports from one source at once...
REPORT_PER_SECOND = 10 / 3600  # ...then ten an hour
REPORT_SOURCES = 16_384
MAX_FORM_BYTES = 32 * 1024  # every field at its limit fits in far less
LIMITS = {"address": reports.MAX_ADDRESS, "found_at": reports.MAX_FOUND_AT,
          "description": reports.MAX_DESCRIPTION, "contact": reports.MAX_CONTACT}
LABELS = {"address": "report_address", "found_at": "report_found_at", "description": "report_description",
          "contact": "report_contact"}


class ReportLimiter:
    """A token bucket of reports per source (an IPv6 /64 counts as one), in a bounded LRU dict, in memory only."""

    def __init__(self, *, burst: float = REPORT_BURST, per_second: float = REPORT_PER_SECOND,
                 max_sources: int = REPORT_SOURCES, clock: Callable[[], float] = time.monotonic) -> None:
        self.burst, self.per_second, self.max_sources, self._clock = burst, per_second, max_sources, clock
        self._sources: OrderedDict[str, tuple[float, float]] = OrderedDict()  # source -> (tokens, stamp)
        self._lock = threading.Lock()

    def allow(self, source: str) -> bool:
        """Spend one report of `source`'s budget; False when it is spent."""
        with self._lock:
            now = self._clock()
            tokens, stamp = self._sources.pop(source, (self.burst, now))
            tokens = min(self.burst, tokens + (now - stamp) * self.per_second)
            allowed = tokens >= 1
            self._sources[source] = (tokens - 1 if allowed else tokens, now)
            while len(self._sources) > self.max_sources:
                self._sources.popitem(last=False)
            return allowed

    def retry_after(self, source: str) -> int:
        """Seconds until `source` may send a report again."""
        with self._lock:
            tokens = self._sources.get(source, (self.burst, 0.0))[0]
        return max(1, math.ceil((1 - tokens) / self.per_second)) if tokens < 1 and self.per_second > 0 else 1


def limiter_of(request: Request) -> ReportLimiter:
    """The process's limiter (made on first use)."""
    state = request.app.state
    if not hasattr(state, "report_limiter"):
        state.report_limiter = ReportLimiter()
    limiter: ReportLimiter = state.report_limiter
    return limiter


def _language(request: Request, chosen: str = "") -> str:
    query = f"lang={chosen}" if chosen else request.url.query
    return choose_language(query, request.headers.get("accept-language", ""))


def _page(request: Request, lang: str, *, status_code: int = 200, **context: object) -> HTMLResponse:
    # Rendered without the session: the form sets no cookie and reads none.
    response = templates.TemplateResponse(request, "report.html", {
        "t": translator(lang), "lang": lang, "languages": LANGUAGE_NAMES, "form": {}, "error": None,
        "receipt": None, **context}, status_code=status_code)
    response.headers["content-language"] = lang
    return response


@router.get("/report", response_class=HTMLResponse)
def form(request: Request) -> HTMLResponse:
    """The empty form, in the language asked for (?lang=, else Accept-Language, else French)."""
    return _page(request, _language(request))


@router.post("/report", response_class=HTMLResponse)
def send(request: Request, address: str = Form(""), found_at: str = Form(""), description: str = Form(""),
         contact: str = Form(""), website: str = Form(""), lang: str = Form(""),
         db: Session = Depends(session)) -> HTMLResponse:
    """Store the report whole and show its receipt, or refuse it (4xx) with the reason, storing nothing."""
    language = _language(request, lang if lang in LANGUAGE_NAMES else "")
    # Kept in the form when it is refused, for correction; never the address (the page never shows one back).
    typed = {"found_at": found_at, "description": description, "contact": contact}
    if int(request.headers.get("content-length") or 0) > MAX_FORM_BYTES:
        return _page(request, language, status_code=413, error=t("report_err_too_large", language))
    if website:  # the honeypot: hidden from people, filled in by form robots
        return _page(request, language, status_code=400, error=t("report_err_honeypot", language), form=typed)
    limiter, source = limiter_of(request), source_of(request.scope)
    if not limiter.allow(source):
        wait = limiter.retry_after(source)
        response = _page(request, language, status_code=429, form=typed,
                         error=t("report_err_limited", language, minutes=max(1, math.ceil(wait / 60))))
        response.headers["retry-after"] = str(wait)
        return response
    with attempt(db) as outcome:
        receipt = reports.receive_public(db, data=reports.ReportIn(address, found_at, description, contact)).receipt
    if outcome.error is not None:
        error = outcome.error
        code = error.code if isinstance(error, reports.ReportRefused) else "not_a_host"
        field = error.field or "address"
        words = t(f"report_err_{code}", language, field=t(LABELS.get(field, "report_address"), language),
                  limit=LIMITS.get(field, reports.MAX_ADDRESS))
        return _page(request, language, status_code=422, error=words, form=typed)
    return _page(request, language, receipt=receipt)
