"""Remote probes: pull the work, post signed results (with the probe's own credential)."""

from __future__ import annotations

import base64
import binascii

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session

from api import transaction
from api.deps import bearer_token, runtime, session
from api.routes.responses import write
from api.runtime import Runtime
from api.schemas import ProbeRoundOut, ProbeWorkOut
from blocklist.errors import InvalidInput
from isp_feed import probes
from isp_feed.models import Probe

router = APIRouter(prefix="/probe", tags=["probes"])


def current_probe(request: Request, db: Session = Depends(session)) -> Probe:
    """The active probe behind the bearer credential."""
    probe = probes.probe_by_token(db, bearer_token(request))
    transaction.bind_principal(request.scope, db, f"probe:{probe.id}")
    return probe


@router.get("/work", response_model=ProbeWorkOut, summary="What the probe must check now")
def work(db: Session = Depends(session), rt: Runtime = Depends(runtime),
         probe: Probe = Depends(current_probe)) -> ProbeWorkOut:
    """Blocked names, the ISP's agreed block answer and the stop page."""
    return ProbeWorkOut.model_validate(probes.work(db, probe=probe, settings=rt.settings))


@router.post("/results", status_code=201, response_model=ProbeRoundOut, summary="Signed results of a probe round",
             responses=write(201, body=False))
async def results(request: Request, db: Session = Depends(session),
                  probe: Probe = Depends(current_probe)) -> ProbeRoundOut:
    """The body must be signed (minisign, base64 in X-Signature) with the key registered for the probe."""
    try:
        signature = base64.b64decode(request.headers.get("x-signature", ""), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidInput("X-Signature must be a base64-encoded minisign signature", field="X-Signature") from None
    body = await request.body()
    return ProbeRoundOut(round_id=probes.accept_results(db, probe=probe, body=body, signature=signature))
