"""The officer's pages: submit one name or many, see and withdraw own submissions."""

from __future__ import annotations

import csv
import datetime as dt
import io
import secrets
from typing import Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from api.deps import runtime, session
from api.params import DbId
from api.runtime import Runtime
from api.web import reviews
from api.web.common import attempt, back, check_csrf, kept_form, language_of, listing, needs, page, refused, say
from blocklist import batches, hosting, labels, permissions, workflow
from blocklist.errors import BlocklistError, InvalidInput
from blocklist.i18n import N_, in_language
from blocklist.models import User
from blocklist.paging import Page
from blocklist.problems import problems
from blocklist.schemas import BatchCreate, SubmissionCreate
from blocklist.text import parse_id
from blocklist.vocab import BATCH_ITEM_STATES, STATUSES

router = APIRouter(include_in_schema=False)
officer = needs(permissions.SUBMIT)
MAX_UPLOAD = 4 * 1024 * 1024  # 10,000 names of 253 characters, with room for a CSV's other columns
HEADERS = {"domain", "name", "domain_name", "domaine", "domein", "naam", "nom"}


def _court(legal_basis: str, court: str, court_date: str, court_reference: str) -> dict[str, str] | None:
    if legal_basis != "court_order":
        return None
    return {"court": court, "date": court_date, "reference": court_reference}


def _hosting(country: str, provider: str, abuse_email: str, notice_language: str) -> dict[str, str]:
    return {"hosting_country": country, "hosting_provider": provider, "hosting_abuse_email": abuse_email,
            "notice_language": notice_language}


# The form's field of each schema field whose name differs (the court order's parts, the bulk form's names).
FORM_FIELDS = {"court_order": "court", "court_order.court": "court", "court_order.date": "court_date",
               "court_order.reference": "court_reference", "domains": "names", "report_ids": "domain"}


def _errors(request: Request, user: User, refusal: ValidationError | BlocklistError) -> dict[str, str]:
    """A refused form's problems by form field ("" for none), in the page's language: each is shown next to its
    field and in the summary at the top of the form (templates/_errors.html)."""
    language = language_of(request, user)
    found = ([(one.field, in_language(one.text, language)) for one in problems(refusal)]
             if isinstance(refusal, ValidationError) else [(refusal.field, refusal.translated(language))])
    errors: dict[str, str] = {}
    for field, words in found:
        errors.setdefault(FORM_FIELDS.get(field or "", field or ""), words)
    return errors


def _home(request: Request, db: Session, user: User, status_code: int = 200, **context: Any) -> HTMLResponse:
    # "My submissions": one page (newest first unless sorted otherwise) with the true total; the list's parameters
    # come from the query string, also when a POST shows the form again.
    query, paged = request.query_params, listing(request)
    sort, order, status = paged.sort or "submitted", paged.order or "desc", query.get("status", "")
    try:
        mine = workflow.submission_page(db, submitted_by=user.id, status=status or None, case=query.get("case", ""),
                                        sort=sort, order=order, page=paged.page, per_page=paged.per_page)
    except InvalidInput:  # a hand-edited address: the list as it comes by default
        sort, order, status = "submitted", "desc", ""
        mine = workflow.submission_page(db, submitted_by=user.id, sort=sort, order=order)
    # Back after a lost session (api/web/stash.py): the form shows what was typed into it.
    context.setdefault("form", kept_form(request, "/officer/submit") or {})
    context.setdefault("form_token", secrets.token_urlsafe(16))  # the same form sent twice is one batch
    context.setdefault("bulk_form", kept_form(request, "/officer/bulk") or {})
    context.setdefault("form_errors", {})
    context.setdefault("bulk_errors", {})
    return page(request, "officer.html", user, status_code=status_code, mine=mine, sort=sort, order=order,
                mine_filters={"case": query.get("case", ""), "status": status}, statuses=STATUSES,
                today=dt.date.today().isoformat(), countries=hosting.country_choices(user.language),
                **reviews.section(request, db), **context)


@router.get("/officer", response_class=HTMLResponse)
def home(request: Request, domain: str = Query("", max_length=2048), reports: str = Query("", max_length=12_000),
         db: Session = Depends(session), user: User = Depends(officer)) -> HTMLResponse:
    """The submission forms and the officer's own submissions; from the triage queue, the form comes pre-filled
    with the reported host and the reports it will link."""
    if domain:
        return _home(request, db, user, form={"domain": domain, "report_ids": reports})
    return _home(request, db, user)


def _report_ids(text: str) -> list[int]:
    """The report ids of the form's hidden field (comma separated), or InvalidInput."""
    return [parse_id(part.strip(), field="report_ids") for part in text.split(",") if part.strip()]


@router.post("/officer/submit", dependencies=[Depends(check_csrf)])
def submit(request: Request, domain: str = Form(""), legal_basis: str = Form(""), case_number: str = Form(""),
           evidence_ref: str = Form(""), verified_on: str = Form(""), scope: str = Form("domain_and_subdomains"),
           court: str = Form(""), court_date: str = Form(""), court_reference: str = Form(""), note: str = Form(""),
           report_ids: str = Form(""), hosting_country: str = Form(""), hosting_provider: str = Form(""),
           hosting_abuse_email: str = Form(""), notice_language: str = Form(hosting.DEFAULT_NOTICE_LANGUAGE),
           db: Session = Depends(session), rt: Runtime = Depends(runtime), user: User = Depends(officer)) -> Response:
    """One name (with the reports it answers, from the triage queue); a refusal is shown on the form, which keeps
    what was typed."""
    typed = {"domain": domain, "legal_basis": legal_basis, "case_number": case_number, "evidence_ref": evidence_ref,
             "verified_on": verified_on, "scope": scope, "court": court, "court_date": court_date,
             "court_reference": court_reference, "note": note, "report_ids": report_ids,
             **_hosting(hosting_country, hosting_provider, hosting_abuse_email, notice_language)}
    try:
        with attempt(db, also=(ValidationError,)) as outcome:
            data = SubmissionCreate(domain=domain, legal_basis=legal_basis, case_number=case_number,
                                    evidence_ref=evidence_ref, verified_on=verified_on, scope=scope,
                                    court_order=_court(legal_basis, court, court_date, court_reference),
                                    note=note, report_ids=_report_ids(report_ids),
                                    **_hosting(hosting_country, hosting_provider, hosting_abuse_email,
                                               notice_language))
            sub = workflow.submit(db, actor=user, data=data, policy=rt.name_policy(db))
    except ValidationError as exc:
        return _home(request, db, user, status_code=422, form=typed, form_errors=_errors(request, user, exc))
    if outcome.error:
        return _home(request, db, user, status_code=outcome.error.status, form=typed,
                     form_errors=_errors(request, user, outcome.error))
    name = sub.unicode if sub.unicode == sub.domain else f"{sub.unicode} ({sub.domain})"
    say(request, user, N_("#%(id)s %(name)s submitted", id=sub.id, name=name))
    for flag in sub.flag_list:
        say(request, user, labels.FLAG.get(flag, flag), "warning")
    return back("/officer")


def _names(text: str) -> list[str]:
    """The names of a pasted list or CSV file: the first column of each row; blank and # lines skipped."""
    try:
        rows = [row[0].strip() for row in csv.reader(io.StringIO(text)) if row and row[0].strip()]
    except csv.Error as exc:
        raise InvalidInput(f"the list of names is not readable as one name per line or CSV: {exc}",
                           field="names") from None
    names = [name for name in rows if not name.startswith("#")]
    if names and names[0].lower() in HEADERS:
        names = names[1:]
    return names


@router.post("/officer/bulk", dependencies=[Depends(check_csrf)])
def bulk(request: Request, names: str = Form(""), upload: UploadFile | None = File(None),
         legal_basis: str = Form(""), case_number: str = Form(""), evidence_ref: str = Form(""),
         verified_on: str = Form(""), scope: str = Form("domain_and_subdomains"), court: str = Form(""),
         court_date: str = Form(""), court_reference: str = Form(""), note: str = Form(""),
         hosting_country: str = Form(""), hosting_provider: str = Form(""), hosting_abuse_email: str = Form(""),
         notice_language: str = Form(hosting.DEFAULT_NOTICE_LANGUAGE), form_token: str = Form("", max_length=100),
         db: Session = Depends(session), rt: Runtime = Depends(runtime), user: User = Depends(officer)) -> Response:
    """Many names (pasted, or an uploaded CSV whose first column is the name) under one case, stored as a batch
    recorded in the background: on to its progress page."""
    typed = {"names": names, "legal_basis": legal_basis, "case_number": case_number, "evidence_ref": evidence_ref,
             "verified_on": verified_on, "scope": scope, "court": court, "court_date": court_date,
             "court_reference": court_reference, "note": note,
             **_hosting(hosting_country, hosting_provider, hosting_abuse_email, notice_language)}
    text = ""
    if upload is not None and upload.filename:
        # A plain (threaded) view: reading the spooled file and the database work never block the event loop.
        content = upload.file.read(MAX_UPLOAD + 1)
        if len(content) > MAX_UPLOAD:
            large = InvalidInput(N_("%(file)s: the file is larger than %(limit)s MB", file=upload.filename,
                                    limit=MAX_UPLOAD // (1024 * 1024)), field="upload")
            return _home(request, db, user, status_code=413, bulk_form=typed, bulk_errors=_errors(request, user, large))
        text = content.decode("utf-8-sig", errors="replace")
    try:
        lines = _names(names) + _names(text)  # each may start with a header row
    except InvalidInput as exc:
        return _home(request, db, user, status_code=422, bulk_form=typed, bulk_errors=_errors(request, user, exc))
    most = rt.settings.batch_max_names
    if not lines or len(lines) > most:
        many = InvalidInput(N_("Enter the names, one per line, or choose a CSV file") if not lines
                            else N_("%(count)s names: at most %(limit)s at once", count=len(lines), limit=most),
                            field="names")
        return _home(request, db, user, status_code=422, bulk_form=typed, bulk_errors=_errors(request, user, many))
    try:
        data = BatchCreate(legal_basis=legal_basis, case_number=case_number, evidence_ref=evidence_ref,
                           verified_on=verified_on, scope=scope,
                           court_order=_court(legal_basis, court, court_date, court_reference), note=note,
                           domains=lines, form_token=form_token or None,
                           **_hosting(hosting_country, hosting_provider, hosting_abuse_email, notice_language))
    except ValidationError as exc:  # the case details are wrong: say so once, not once per name
        return _home(request, db, user, status_code=422, bulk_form=typed, bulk_errors=_errors(request, user, exc))
    # Stored at once, recorded in the background (blocklist/batches.py): the officer follows its progress. The
    # form's token makes a second press of the button the same batch.
    with attempt(db) as outcome:
        batch, _ = batches.create(db, actor=user, data=data, max_names=most)
    if outcome.error:
        return _home(request, db, user, status_code=outcome.error.status, bulk_form=typed,
                     bulk_errors=_errors(request, user, outcome.error))
    return back(f"/batches/{batch.id}")


@router.get("/batches/{batch_id}", response_class=HTMLResponse)
def batch_page(request: Request, batch_id: DbId, state: str = Query("", max_length=10),
               refresh: str = Query("on", max_length=3), db: Session = Depends(session),
               user: User = Depends(needs(permissions.READ_CASES))) -> HTMLResponse:
    """A bulk submission's progress (the page refreshes itself until it is finished, without JavaScript, unless the
    reader turns that off: WCAG 2.2.1) and one page of its names' results; it survives a reload."""
    batch = batches.get(db, actor=user, batch_id=batch_id)
    paged = listing(request)
    chosen = state if state in BATCH_ITEM_STATES else None
    items, matching = batches.items(db, batch, page=paged.page, per_page=paged.per_page, state=chosen)
    results = Page(items=items, total=matching, page=paged.page, per_page=paged.per_page)
    finished = batch.status in ("done", "failed")
    updating = not finished and refresh != "off"
    answer = page(request, "batch.html", user, batch=batch, results=results, state=chosen or "",
                  states=BATCH_ITEM_STATES, finished=finished, updating=updating)
    if updating:
        # The HTTP Refresh header rather than a <meta> refresh, with a link beside the progress that turns it off.
        answer.headers["Refresh"] = f"2; url=/batches/{batch.id}" + (f"?state={chosen}" if chosen else "")
    return answer


@router.get("/batches/{batch_id}/results.csv")
def batch_csv(batch_id: DbId, db: Session = Depends(session),
              user: User = Depends(needs(permissions.READ_CASES))) -> Response:
    """Every name's result as CSV, in the order sent."""
    batch = batches.get(db, actor=user, batch_id=batch_id)
    return Response("".join(batches.results_csv(db, batch)), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="batch-{batch.id}-results.csv"'})


@router.post("/officer/withdraw/{submission_id}", dependencies=[Depends(check_csrf)])
def withdraw(request: Request, submission_id: DbId, db: Session = Depends(session),
             user: User = Depends(officer)) -> Response:
    """Withdraw an own pending submission."""
    with attempt(db) as outcome:
        workflow.withdraw(db, actor=user, submission_id=submission_id)
        say(request, user, N_("#%(id)s withdrawn", id=submission_id))
    if outcome.error:
        refused(request, user, outcome.error)
    return back("/officer")
