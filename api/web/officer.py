"""The officer's pages: submit one name or many, see and withdraw own submissions."""

from __future__ import annotations

import csv
import datetime as dt
import io

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from api.deps import runtime, session
from api.runtime import Runtime
from api.web.common import back, check_csrf, flash, needs, page, refused
from blocklist import workflow
from blocklist.errors import BlocklistError
from blocklist.models import User
from blocklist.schemas import SubmissionCreate

router = APIRouter(include_in_schema=False)
officer = needs("officer")


def _court(legal_basis: str, court: str, court_date: str, court_reference: str) -> dict[str, str] | None:
    if legal_basis != "court_order":
        return None
    return {"court": court, "date": court_date, "reference": court_reference}


def _problem(exc: ValidationError) -> str:
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first.get("loc", ()))
    return f"{field}: {first.get('msg')}" if field else str(first.get("msg"))


@router.get("/officer", response_class=HTMLResponse)
def home(request: Request, db: Session = Depends(session), user: User = Depends(officer)) -> HTMLResponse:
    """The submission forms and the officer's own submissions."""
    mine = workflow.list_submissions(db, submitted_by=user.id, limit=200)
    return page(request, "officer.html", user, mine=mine, today=dt.date.today().isoformat(),
                form=request.session.pop("form", {}))


@router.post("/officer/submit", dependencies=[Depends(check_csrf)])
def submit(request: Request, domain: str = Form(""), legal_basis: str = Form(""), case_number: str = Form(""),
           evidence_ref: str = Form(""), verified_on: str = Form(""), scope: str = Form("domain_and_subdomains"),
           court: str = Form(""), court_date: str = Form(""), court_reference: str = Form(""), note: str = Form(""),
           db: Session = Depends(session), rt: Runtime = Depends(runtime), user: User = Depends(officer)) -> Response:
    """One name; a refusal keeps what was typed and says why."""
    typed = {"domain": domain, "legal_basis": legal_basis, "case_number": case_number, "evidence_ref": evidence_ref,
             "verified_on": verified_on, "scope": scope, "court": court, "court_date": court_date,
             "court_reference": court_reference, "note": note}
    try:
        data = SubmissionCreate(domain=domain, legal_basis=legal_basis, case_number=case_number,
                                evidence_ref=evidence_ref, verified_on=verified_on, scope=scope,
                                court_order=_court(legal_basis, court, court_date, court_reference),
                                note=note)
        sub = workflow.submit(db, actor=user, data=data, policy=rt.name_policy(db))
    except ValidationError as exc:
        flash(request, _problem(exc), "error")
        request.session["form"] = typed
        return back("/officer")
    except BlocklistError as exc:
        refused(request, exc)
        request.session["form"] = typed
        return back("/officer")
    flash(request, f"#{sub.id} {sub.unicode} ({sub.domain}) submitted" + (f" — {', '.join(sub.flag_list)}"
                                                                           if sub.flag_list else ""))
    return back("/officer")


@router.post("/officer/bulk", dependencies=[Depends(check_csrf)])
async def bulk(request: Request, names: str = Form(""), upload: UploadFile | None = File(None),
               legal_basis: str = Form(""), case_number: str = Form(""), evidence_ref: str = Form(""),
               verified_on: str = Form(""), scope: str = Form("domain_and_subdomains"),
               db: Session = Depends(session), rt: Runtime = Depends(runtime),
               user: User = Depends(officer)) -> Response:
    """Many names (pasted, or an uploaded CSV whose first column is the name) under one case."""
    text = names
    if upload is not None and upload.filename:
        text += "\n" + (await upload.read()).decode("utf-8", errors="replace")
    lines = [row[0].strip() for row in csv.reader(io.StringIO(text)) if row and row[0].strip()
             and not row[0].startswith("#")]
    if not lines:
        flash(request, "no names given", "error")
        return back("/officer")
    policy = rt.name_policy(db)
    accepted, problems = 0, []
    for typed in lines[:10_000]:
        try:
            data = SubmissionCreate(domain=typed, legal_basis=legal_basis, case_number=case_number,
                                    evidence_ref=evidence_ref, verified_on=verified_on, scope=scope)
            with db.begin_nested():
                workflow.submit(db, actor=user, data=data, policy=policy)
            accepted += 1
        except ValidationError as exc:
            problems.append(f"{typed}: {_problem(exc)}")
        except BlocklistError as exc:
            problems.append(exc.message)
    flash(request, f"{accepted} submitted, {len(problems)} refused")
    for problem in problems[:50]:
        flash(request, problem, "error")
    return back("/officer")


@router.post("/officer/withdraw/{submission_id}", dependencies=[Depends(check_csrf)])
def withdraw(request: Request, submission_id: int, db: Session = Depends(session),
             user: User = Depends(officer)) -> Response:
    """Withdraw an own pending submission."""
    try:
        workflow.withdraw(db, actor=user, submission_id=submission_id)
        flash(request, f"#{submission_id} withdrawn")
    except BlocklistError as exc:
        refused(request, exc)
    return back("/officer")
