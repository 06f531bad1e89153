"""Bulk submissions as background jobs: stored at once (202), processed by the scheduler, read back with progress."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy.orm import Session

from api.deps import allowed, runtime, session
from api.params import DbId
from api.routes.responses import Responses, errors, write
from api.runtime import Runtime
from api.schemas import BatchOut
from blocklist import batches, permissions
from blocklist.models import User
from blocklist.schemas import BatchCreate
from blocklist.vocab import BatchItemState

router = APIRouter(tags=["submissions"])
officer = allowed(permissions.SUBMIT)
reader = allowed(permissions.READ_CASES)
CSV: Responses = {
    200: {"description": "Every name's result, in the order sent (a header line first)",
          "content": {"text/csv": {"schema": {"type": "string"}}},
          "headers": {"Content-Disposition": {"required": True, "schema": {"type": "string"}}}},
    **errors(404),
}


@router.post("/submissions/batches", status_code=202, response_model=BatchOut,
             summary="Store many names under one case, recorded in the background", responses=write(202))
def create(body: BatchCreate, response: Response, db: Session = Depends(session), rt: Runtime = Depends(runtime),
           actor: User = Depends(officer)) -> BatchOut:
    """202 with the batch (queued): follow its progress at GET /submissions/batches/{id}. The case details are
    checked now (422); each name later, as POST /submissions would. The same `form_token` sent again by the same
    officer answers with the batch it made (`Location` names it), nothing is stored twice."""
    batch, _ = batches.create(db, actor=actor, data=body, max_names=rt.settings.batch_max_names)
    response.headers["Location"] = f"/api/v1/submissions/batches/{batch.id}"
    return BatchOut.of(batch, [], page=1, per_page=0, matching=batch.total)


@router.get("/submissions/batches/{batch_id}", response_model=BatchOut,
            summary="A batch's progress and one page of its names' results", responses=errors(404))
def get(batch_id: DbId, page: int = Query(1, ge=1, le=100_000),
        per_page: int = Query(100, ge=1, le=batches.MAX_PER_PAGE), state: BatchItemState | None = None,
        db: Session = Depends(session), actor: User = Depends(reader)) -> BatchOut:
    """Done/total and the counts; the results in the order sent (only those in `state`, if given)."""
    batch = batches.get(db, actor=actor, batch_id=batch_id)
    items, matching = batches.items(db, batch, page=page, per_page=per_page, state=state)
    return BatchOut.of(batch, items, page=page, per_page=per_page, matching=matching)


@router.get("/submissions/batches/{batch_id}/results.csv", response_class=Response,
            summary="Every name's result as CSV", responses=CSV)
def results_csv(batch_id: DbId, db: Session = Depends(session), actor: User = Depends(reader)) -> Response:
    """position, typed, state, submission_id, a_label, code, reason: one line per name, in the order sent (a
    value a spreadsheet would read as a formula starts with a quote)."""
    batch = batches.get(db, actor=actor, batch_id=batch_id)
    # Read whole inside the request's read transaction (10,000 names: about 1 MB).
    body = "".join(batches.results_csv(db, batch))
    return Response(body, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="batch-{batch.id}-results.csv"'})
