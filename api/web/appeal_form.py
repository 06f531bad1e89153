"""The public appeal form (/appeal): "register disapproval" of a block. No login, no cookie, no JavaScript; French,
Dutch, German or English (?lang=, else Accept-Language, else French), with a switcher that keeps the name.

The stop page links here with the blocked name it showed (?name=), which pre-fills the form once it passes the
name rules (blocklist.names.normalize); the appellant writes why they disagree and may leave an e-mail address
for the answer. They get a receipt number and what happens next, and nothing else: the form and its answer are
the same whether the name is listed or not, never show another name, and nothing fetches anything. It is served
in the stop page's frame (inline style, nothing loaded from anywhere), on the stop page's hosts and on the app's.

Abuse limits and privacy: those of every public form (api/web/public_forms.py, blocklist/appeals.py).
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from api.deps import session
from api.stoppage import APPEAL_CSP, APPEAL_PATH, headers, render_appeal
from api.web import public_forms
from api.web.common import attempt
from blocklist import appeals
from blocklist.i18n import N_

router = APIRouter(include_in_schema=False)
LIMITS = {"name": appeals.MAX_NAME, "text": appeals.MAX_TEXT, "contact": appeals.MAX_CONTACT}
WORDS = public_forms.FormWords(
    honeypot=N_("The appeal was refused: a field meant to stay empty was filled in (this happens with automatic "
                "form fillers). Nothing was stored; send the form again with that field empty."),
    limited=N_("Too many appeals came from your address. Nothing was stored; try again in %(minutes)s minutes."),
    refusals={"name_missing": N_("Give the blocked name (for example site.example)."),
              "not_a_name": N_("This is not a site name (for example site.example); check what you typed."),
              "text_missing": N_("Say why you disagree with the block."),
              "bad_contact": N_("“%(field)s” is not an e-mail address (for example name@example.org)."),
              "bad_language": N_("Choose one of the page's languages.")},
    labels={"name": N_("Blocked name (for example site.example)"), "text": N_("Why you disagree with the block"),
            "contact": N_("Your e-mail address (optional, only if you want to receive the answer)")},
    limits=LIMITS, fallback="not_a_name")


def _page(request: Request, lang: str, *, status_code: int = 200, extra: dict[str, str] | None = None,
          **form: object) -> HTMLResponse:
    settings = request.app.state.runtime.settings
    name = appeals.prefill(str(form.get("name") or ""))
    keep = f"&name={quote(name)}" if name and not form.get("receipt") else ""  # what a language switch keeps
    body = render_appeal(lang, settings.stop_page_phone, keep=keep, **form)
    sent = {k.decode(): v.decode() for k, v in headers(lang, body, settings.stop_page_host, csp=APPEAL_CSP)
            if k != b"content-length"}
    return HTMLResponse(body, status_code=status_code, headers={**sent, **(extra or {})})


@router.get(APPEAL_PATH, response_class=HTMLResponse)
def form(request: Request, name: str = "") -> HTMLResponse:
    """The form, with the name the stop page passed when it is a site name (else empty, for the visitor to type)."""
    return _page(request, public_forms.language(request), name=appeals.prefill(name))


@router.post(APPEAL_PATH, response_class=HTMLResponse)
def send(request: Request, name: str = Form(""), text: str = Form(""), contact: str = Form(""),
         website: str = Form(""), lang: str = Form(""), db: Session = Depends(session)) -> HTMLResponse:
    """Store the appeal whole and show its receipt, or refuse it (4xx) with the reason, storing nothing (what was
    typed stays in the form, for correction)."""
    language = public_forms.language(request, lang)
    refusal = public_forms.guard(request, "appeal", WORDS, language, honeypot=website)
    if refusal is not None:
        return _page(request, language, status_code=refusal.status, error=refusal.message, extra=refusal.headers,
                     name=name, text=text, contact=contact)
    with attempt(db) as outcome:
        receipt = appeals.receive(db, data=appeals.AppealIn(name, text, contact, language)).receipt
    if outcome.error is not None:
        words = public_forms.refusal_words(outcome.error, WORDS, language)
        return _page(request, language, status_code=422, error=words, name=name, text=text, contact=contact)
    return _page(request, language, receipt=receipt)
