"""Compliance pages: ISPs x recent rounds, the serial each resolver really serves, the per-name matrix, evidence
drill-down, and a chart over time."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import session
from api.params import DbId
from api.web.common import needs, page
from blocklist import permissions, queries
from blocklist.errors import NotFound
from blocklist.models import Submission, User
from isp_feed import compliance
from isp_feed.evidence import load as evidence_of
from isp_feed.models import VerificationResult, VerificationRound

router = APIRouter(include_in_schema=False)
readers = needs(permissions.READ_COMPLIANCE)


PAGE_SIZE = 100


def _history(figures: list[compliance.RoundFigure], names: dict[int, str]) -> dict[str, list[tuple[int, float]]]:
    """Per ISP, (round id, share blocked) for each recent round that checked it."""
    series: dict[str, list[tuple[int, float]]] = {}
    for f in figures:
        if f.share_blocked is not None:
            series.setdefault(names.get(f.isp_id, str(f.isp_id)), []).append((f.round_id, f.share_blocked))
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
def compliance_page(request: Request, problems: bool = False, start: int = Query(0, ge=0, le=10_000_000),
                    db: Session = Depends(session), user: User = Depends(readers)) -> HTMLResponse:
    """Per ISP the share blocked and regressions, ISPs x recent rounds with a chart, the per-name matrix."""
    figures = compliance.compliance(db)
    rounds = list(db.execute(select(VerificationRound).order_by(VerificationRound.id.desc()).limit(30)).scalars())
    per_round = compliance.round_figures(db, [r.id for r in rounds])
    isps = queries.active_isps(db, order_by_name=True)
    isp_names = {i.id: i.name for i in isps}
    by_round = {(f.round_id, f.isp_id): f for f in per_round}
    # The matrix pages over the blocked names (or only those some ISP does not block), a page at a time.
    if problems:
        everyone = sorted({d for f in figures for d in f.not_blocked})
    else:
        everyone = list(db.execute(queries.blocked_names()
                                   .order_by(Submission.domain)).scalars())
    domains = everyone[start:start + PAGE_SIZE]
    latest = compliance.latest_results(db, domains)
    blocked_after = compliance.times_to_block(db, domains)
    return page(request, "compliance.html", user, figures=figures, live=compliance.live_versions(db), rounds=rounds,
                isps=isps, domains=domains,
                latest=latest, blocked_after=blocked_after, by_round=by_round, problems=problems, start=start,
                total=len(everyone), page_size=PAGE_SIZE,
                chart=_chart(_history(sorted(per_round, key=lambda f: f.round_id), isp_names)))


@router.get("/compliance/evidence/{result_id}", response_class=HTMLResponse)
def evidence(request: Request, result_id: DbId, db: Session = Depends(session),
             user: User = Depends(readers)) -> HTMLResponse:
    """Every question and raw answer behind one verdict."""
    row = db.get(VerificationResult, result_id)
    if row is None:
        raise NotFound(f"no verification result #{result_id}")
    return page(request, "evidence.html", user, row=row, evidence=evidence_of(db, row))
