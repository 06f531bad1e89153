"""The public report form (/report): no login, no cookie, no JavaScript; French, Dutch, German or English.

The reporter gets a receipt number and what happens next, and nothing else: the answer never shows the address
back, never says whether a name is listed, and nothing fetches the address. Nothing about the reporter is kept
(blocklist/reports.py). Abuse limits: those of every public form (api/web/public_forms.py).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from api.deps import session
from api.web import public_forms
from api.web.common import attempt, templates
from api.web.i18n import LANGUAGE_NAMES, translator
from blocklist import reports

router = APIRouter(include_in_schema=False)
LIMITS = {"address": reports.MAX_ADDRESS, "found_at": reports.MAX_FOUND_AT,
          "description": reports.MAX_DESCRIPTION, "contact": reports.MAX_CONTACT}
LABELS = {"address": "report_address", "found_at": "report_found_at", "description": "report_description",
          "contact": "report_contact"}


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
    return _page(request, public_forms.language(request))


@router.post("/report", response_class=HTMLResponse)
def send(request: Request, address: str = Form(""), found_at: str = Form(""), description: str = Form(""),
         contact: str = Form(""), website: str = Form(""), lang: str = Form(""),
         db: Session = Depends(session)) -> HTMLResponse:
    """Store the report whole and show its receipt, or refuse it (4xx) with the reason, storing nothing."""
    language = public_forms.language(request, lang)
    # Kept in the form when it is refused, for correction; never the address (the page never shows one back).
    typed = {"found_at": found_at, "description": description, "contact": contact}
    refusal = public_forms.guard(request, "report", language, honeypot=website)
    if refusal is not None:
        response = _page(request, language, status_code=refusal.status, error=refusal.message, form=typed)
        response.headers.update(refusal.headers)
        return response
    with attempt(db) as outcome:
        receipt = reports.receive_public(db, data=reports.ReportIn(address, found_at, description, contact)).receipt
    if outcome.error is not None:
        words = public_forms.refusal_words(outcome.error, "report", language, labels=LABELS, limits=LIMITS,
                                           fallback="not_a_host")
        return _page(request, language, status_code=422, error=words, form=typed)
    return _page(request, language, receipt=receipt)
