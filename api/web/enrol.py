"""Enrolment: a person opens the one-time link the operator gave them, sets their password, gets their token.

This is the only way a credential reaches a person other than the operator: an administrator never sees one.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from api.deps import session
from api.web.common import attempt, check_csrf, language_of, page
from blocklist import users

router = APIRouter(include_in_schema=False)


def _private(response: HTMLResponse) -> HTMLResponse:
    # Cache-Control: no-store comes with every staff page (api/security_headers.py); the code is in the URL,
    # so this page also never passes its address on.
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@router.get("/enrol/{code}", response_class=HTMLResponse)
def enrol_form(request: Request, code: str, db: Session = Depends(session)) -> HTMLResponse:
    """The form, if the link is open (401 page otherwise)."""
    row = users.enrolment(db, code[:100])
    return _private(page(request, "enrol.html", None, code=code, username=row.user.username))


@router.post("/enrol/{code}", response_class=HTMLResponse, dependencies=[Depends(check_csrf)])
def enrol(request: Request, code: str, password: str = Form(max_length=200),
          db: Session = Depends(session)) -> HTMLResponse:
    """Set the password (strength checked) and show the person's own API token once."""
    row = users.enrolment(db, code[:100])
    username = row.user.username
    with attempt(db) as outcome:
        _, token = users.enrol(db, code=code[:100], password=password)
    if outcome.error:
        return _private(page(request, "enrol.html", None, status_code=outcome.error.status, code=code,
                              username=username, error=outcome.error.translated(language_of(request, None))))
    return _private(page(request, "enrol.html", None, token=token))
