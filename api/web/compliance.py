"""Compliance pages: ISPs x recent rounds, the per-name matrix, evidence drill-down, and a chart over time."""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import session
from api.web.common import needs, page
from blocklist.errors import NotFound
from blocklist.models import Isp, User
from isp_feed import verification
from isp_feed.models import VerificationResult, VerificationRound

router = APIRouter(include_in_schema=False)
readers = needs("magistrate", "auditor", "admin")


def _history(db: Session, rounds: list[VerificationRound]) -> dict[str, list[tuple[int, float]]]:
    """Per ISP, (round id, share blocked) for each recent round that checked it."""
    names = dict(db.execute(select(Isp.id, Isp.name)).all())
    series: dict[str, list[tuple[int, float]]] = {}
    for rnd in rounds:
        counts: dict[int, list[int]] = {}
        for isp_id, verdict in db.execute(select(VerificationResult.isp_id, VerificationResult.verdict)
                                          .where(VerificationResult.round_id == rnd.id)):
            tally = counts.setdefault(isp_id, [0, 0])
            tally[0] += verdict == "blocked"
            tally[1] += 1
        for isp_id, (blocked, total) in counts.items():
            series.setdefault(names.get(isp_id, str(isp_id)), []).append((rnd.id, blocked / total))
    return series


def _chart(series: dict[str, list[tuple[int, float]]]) -> str:
    """An inline SVG line chart of the share blocked per round (no script, nothing loaded)."""
    rounds = sorted({r for points in series.values() for r, _ in points})
    if not rounds:
        return ""
    width, height, colours = 600, 160, ["#1a3c6e", "#b00", "#393", "#a80", "#639", "#066"]
    x = {r: 30 + (width - 40) * (i / max(1, len(rounds) - 1)) for i, r in enumerate(rounds)}
    lines = []
    for n, (name, points) in enumerate(sorted(series.items())):
        path = " ".join(f"{x[r]:.0f},{10 + (height - 30) * (1 - share):.0f}" for r, share in points)
        colour = colours[n % len(colours)]
        lines.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{path}"/>'
                     f'<text x="{width - 5}" y="{14 + 14 * n}" text-anchor="end" fill="{colour}" font-size="11">'
                     f"{name}</text>")
    axis = (f'<line x1="30" y1="{height - 20}" x2="{width}" y2="{height - 20}" stroke="#999"/>'
            f'<text x="2" y="14" font-size="10">100%</text><text x="2" y="{height - 20}" font-size="10">0%</text>')
    return (f'<svg role="img" aria-label="share of names blocked per round" width="{width}" height="{height}" '
            f'xmlns="http://www.w3.org/2000/svg">{axis}{"".join(lines)}</svg>')


@router.get("/compliance", response_class=HTMLResponse)
def compliance_page(request: Request, db: Session = Depends(session), user: User = Depends(readers)) -> HTMLResponse:
    """Per ISP the share blocked, regressions, the per-name matrix of the latest verdicts, and the chart."""
    figures = verification.compliance(db)
    rounds = list(db.execute(select(VerificationRound).order_by(VerificationRound.id.desc()).limit(30)).scalars())
    latest: dict[tuple[str, int], VerificationResult] = {}
    for row in db.execute(select(VerificationResult).order_by(VerificationResult.id)).scalars():
        latest[(row.domain, row.isp_id)] = row
    isps = list(db.execute(select(Isp).where(Isp.active.is_(True)).order_by(Isp.name)).scalars())
    domains = sorted({d for d, _ in latest})
    blocked_after = {d: verification.time_to_block(db, d) for d in domains}
    return page(request, "compliance.html", user, figures=figures, rounds=rounds, isps=isps, domains=domains,
                latest=latest, blocked_after=blocked_after, chart=_chart(_history(db, list(reversed(rounds)))))


@router.get("/compliance/evidence/{result_id}", response_class=HTMLResponse)
def evidence(request: Request, result_id: int, db: Session = Depends(session),
             user: User = Depends(readers)) -> HTMLResponse:
    """Every question and raw answer behind one verdict."""
    row = db.get(VerificationResult, result_id)
    if row is None:
        raise NotFound(f"no verification result #{result_id}")
    return page(request, "evidence.html", user, row=row, evidence=json.loads(row.evidence))
