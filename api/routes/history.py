"""The auditors' search, and a name's or a case's full history exported for court: a signed JSON bundle to verify
offline (`blocklist audit verify-export`), and a PDF carrying that bundle."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response
from sqlalchemy.orm import Session

from api import history
from api.deps import allowed, runtime, session
from api.routes.responses import Responses, errors
from api.runtime import Runtime
from api.schemas import LINE_PATTERN, CaseMatchOut, NameMatchOut, SearchOut
from blocklist import permissions, timeline
from blocklist.models import User

router = APIRouter(tags=["oversight"])
reader = allowed(permissions.READ_CASES)
exporter = allowed(permissions.EXPORT_HISTORY)
NAME = Path(min_length=1, max_length=2048)
CASE = Path(min_length=1, max_length=100, json_schema_extra={"pattern": LINE_PATTERN})  # Submission.case_number
_SIGNED = {"X-Content-SHA256": {"description": "SHA-256 of the signed JSON export", "required": True,
                                "schema": {"type": "string", "pattern": "^[0-9a-f]{64}$"}},
           "Content-Disposition": {"required": True, "schema": {"type": "string"}}}
JSON_EXPORT: Responses = {
    200: {"description": "The signed export: `bundle` (events with every field their hashes cover, the records "
                         "beside them, the chain's head and newest checkpoint) and `signature` (minisign, feed key, "
                         "over the bundle's canonical JSON)",
          "content": {"application/json": {"schema": {"type": "object"}}}, "headers": _SIGNED},
    **errors(404),
}
PDF_EXPORT: Responses = {
    200: {"description": "The history for court, with the signed JSON export attached (history.json)",
          "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}, "headers": _SIGNED},
    **errors(404),
}


@router.get("/audit/search", response_model=SearchOut, summary="Find a name (a URL, a subdomain) or a case")
def search(q: str = Query(min_length=1, max_length=timeline.MAX_QUERY, json_schema_extra={"pattern": LINE_PATTERN}),
           db: Session = Depends(session),
           _: User = Depends(reader)) -> SearchOut:
    """A URL or host finds its records and those of a block covering it (a parent blocked with its subdomains);
    any part of a case number, in any case, finds the case."""
    found = timeline.search(db, q)
    return SearchOut(q=found.query, host=found.host, cases=[CaseMatchOut(case_number=c.case_number, names=c.names)
                                                            for c in found.cases],
                     names=[NameMatchOut(submission_id=m.submission.id, domain=m.submission.domain,
                                         unicode=m.submission.unicode, scope=m.submission.scope,
                                         status=m.submission.status,
                                         case_number=m.submission.case_number, how=m.how) for m in found.names])


@router.get("/domains/{name}/export.json", response_class=Response, responses=JSON_EXPORT,
            summary="A name's full history, signed, to verify offline")
def domain_json(name: str = NAME, db: Session = Depends(session), rt: Runtime = Depends(runtime),
                actor: User = Depends(exporter)) -> Response:
    """The name's events (and those of blocks covering it), holds, requisitions, delivery attempts, DNS checks."""
    found = history.listed_domain(db, name)
    return history.download(db, found, keys=rt.keys, exported_by=actor, kind="json")


@router.get("/domains/{name}/export.pdf", response_class=Response, responses=PDF_EXPORT,
            summary="A name's full history as a PDF for court, the signed export attached")
def domain_pdf(name: str = NAME, db: Session = Depends(session), rt: Runtime = Depends(runtime),
               actor: User = Depends(exporter)) -> Response:
    """The same history as export.json, printed; the signed JSON is attached to the PDF (history.json)."""
    found = history.listed_domain(db, name)
    return history.download(db, found, keys=rt.keys, exported_by=actor, kind="pdf")


@router.get("/cases/{case:path}/export.json", response_class=Response, responses=JSON_EXPORT,
            summary="A case's full history, signed, to verify offline")
def case_json(case: str = CASE, db: Session = Depends(session), rt: Runtime = Depends(runtime),
              actor: User = Depends(exporter)) -> Response:
    """Every name of the case (its number in any case) with everything about it."""
    found = history.for_case(db, case)
    return history.download(db, found, keys=rt.keys, exported_by=actor, kind="json")


@router.get("/cases/{case:path}/export.pdf", response_class=Response, responses=PDF_EXPORT,
            summary="A case's full history as a PDF for court, the signed export attached")
def case_pdf(case: str = CASE, db: Session = Depends(session), rt: Runtime = Depends(runtime),
             actor: User = Depends(exporter)) -> Response:
    """The same history as export.json, printed; the signed JSON is attached to the PDF (history.json)."""
    found = history.for_case(db, case)
    return history.download(db, found, keys=rt.keys, exported_by=actor, kind="pdf")
