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
from blocklist import reports
from blocklist.i18n import N_
from blocklist.vocab import LANGUAGE_NAMES

router = APIRouter(include_in_schema=False)
LIMITS = {"address": reports.MAX_ADDRESS, "found_at": reports.MAX_FOUND_AT,
          "description": reports.MAX_DESCRIPTION, "contact": reports.MAX_CONTACT}
WORDS = public_forms.FormWords(
    honeypot=N_("The report was refused: a field meant to stay empty was filled in (this happens with automatic "
                "form fillers). Nothing was stored; send the form again with that field empty."),
    limited=N_("Too many reports came from your address. Nothing was stored; try again in %(minutes)s minutes."),
    refusals={"address_missing": N_("Give the address you saw."),
              "not_a_host": N_("This is not a web address with a site name (for example site.example/page); check "
                               "what you typed.")},
    labels={"address": N_("Address seen (for example site.example/page)"),
            "found_at": N_("Where you found it (optional)"), "description": N_("Short description (optional)"),
            "contact": N_("Your contact (optional, only if you want us to be able to reach you)")},
    limits=LIMITS, fallback="not_a_host")


def _page(request: Request, lang: str, *, status_code: int = 200, **context: object) -> HTMLResponse:
    # Rendered without the session: the form sets no cookie and reads none.
    response = templates(lang).TemplateResponse(request, "report.html", {
        "lang": lang, "languages": LANGUAGE_NAMES, "form": {}, "error": None,
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
    refusal = public_forms.guard(request, "report", WORDS, language, honeypot=website)
    if refusal is not None:
        response = _page(request, language, status_code=refusal.status, error=refusal.message, form=typed)
        response.headers.update(refusal.headers)
        return response
    with attempt(db) as outcome:
        receipt = reports.receive_public(db, data=reports.ReportIn(address, found_at, description, contact)).receipt
    if outcome.error is not None:
        words = public_forms.refusal_words(outcome.error, WORDS, language)
        return _page(request, language, status_code=422, error=words, form=typed)
    return _page(request, language, receipt=receipt)
