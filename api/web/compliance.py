"""Compliance pages: ISPs x recent rounds, the serial each resolver really serves, the per-name matrix, evidence
drill-down, and a chart over time."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import session
from api.params import DbId
from api.web import charts
from api.web.common import language_of, needs, page
from blocklist import permissions, queries
from blocklist.errors import NotFound
from blocklist.i18n import gettext
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


def _charts(series: dict[str, list[tuple[int, float]]], lang: str) -> list[Markup]:
    """One small line chart per ISP (api/web/charts.py: axis values, every value written at its point, a title
    that names the ISP): a line is told apart by its chart's title, never by its colour alone. The table above them
    gives the same figures."""
    out = []
    for n, (name, points) in enumerate(sorted(series.items())):
        out.append(charts.lines(
            f"compliance{n}", gettext(lang, "%(isp)s: share of the names blocked (%%) in each round", isp=name),
            [f"#{round_id}" for round_id, _ in points],
            [charts.Series(name, [round(share * 100, 1) for _, share in points])],
            value_text=lambda v: f"{v:g} %"))
    return out


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
    # Before any round, say why the figures are empty: no ISP with a resolver to ask, or no round run yet.
    resolvers = sum(len(i.resolvers) for i in isps)
    lang = language_of(request, user)
    return page(request, "compliance.html", user, figures=figures, live=compliance.live_versions(db), rounds=rounds,
                isps=isps, domains=domains, resolvers=resolvers,
                latest=latest, blocked_after=blocked_after, by_round=by_round, problems=problems, start=start,
                total=len(everyone), page_size=PAGE_SIZE,
                charts=_charts(_history(sorted(per_round, key=lambda f: f.round_id), isp_names), lang))


@router.get("/compliance/evidence/{result_id}", response_class=HTMLResponse)
def evidence(request: Request, result_id: DbId, db: Session = Depends(session),
             user: User = Depends(readers)) -> HTMLResponse:
    """Every question and raw answer behind one verdict."""
    row = db.get(VerificationResult, result_id)
    if row is None:
        raise NotFound(f"no verification result #{result_id}")
    return page(request, "evidence.html", user, row=row, evidence=evidence_of(db, row))
