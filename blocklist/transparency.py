"""Public transparency statistics from the core's tables, one small function per section, over one period.

A period is a calendar quarter ("2026-Q3") or year ("2026") in Brussels time (the public reads Belgian
calendars); an unfinished period is counted up to now ("year to date"). Every section returns a frozen dataclass
of counts, shares and medians keyed by legal basis, country or outcome only: NEVER a listed name, a case
number, a report's text or contact, an appellant's words. The figures that need the requisitions' and the
feed's tables are computed beside them, in requisitions/transparency.py and isp_feed/transparency.py (imports
flow one way, towards blocklist); api/transparency.py puts the sections together.
"""

from __future__ import annotations

import datetime as dt
import re
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, exists, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from blocklist.errors import NotFound
from blocklist.hosting import BELGIUM
from blocklist.models import Appeal, AppealDecision, Attestation, Renewal, Report, ReportOutcome, Submission, utcnow
from blocklist.vocab import APPEAL_OUTCOMES, LEGAL_BASES

BRUSSELS = ZoneInfo("Europe/Brussels")
FIRST_YEAR = 2000  # no period before it: the product did not exist
PERIOD_ID = re.compile(r"(?P<year>[0-9]{4})(?:-Q(?P<quarter>[1-4]))?")
REPORT_SOURCES = ("public", "partner")
REPORT_OUTCOMES = ("dismissed", "linked", "merged")


def _midnight(day: dt.date) -> dt.datetime:
    """The first instant of a Brussels calendar day, in UTC."""
    return dt.datetime(day.year, day.month, day.day, tzinfo=BRUSSELS).astimezone(dt.UTC)


def _first_of_next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    """A calendar quarter or year: figures cover [start, until), until = end, or now while it runs."""

    id: str  # "2026-Q3" or "2026"
    year: int
    quarter: int | None
    start: dt.datetime  # UTC, Brussels midnight of its first day
    end: dt.datetime  # UTC, Brussels midnight of the day after its last
    until: dt.datetime  # min(end, now)

    @property
    def complete(self) -> bool:
        """The period is over (its figures no longer change)."""
        return self.until >= self.end

    @property
    def first_day(self) -> dt.date:
        """Its first calendar day in Brussels."""
        return self.start.astimezone(BRUSSELS).date()

    @property
    def last_day(self) -> dt.date:
        """The last calendar day in Brussels the figures cover (today while the period runs)."""
        return (self.until - dt.timedelta(microseconds=1)).astimezone(BRUSSELS).date()

    def months(self) -> list[tuple[dt.date, dt.datetime, dt.datetime]]:
        """(first day, start, end) of each month of the period begun by `until`; the last one may be partial."""
        out = []
        day = self.first_day
        while _midnight(day) < self.until:
            following = _first_of_next_month(day)
            out.append((day, _midnight(day), min(_midnight(following), self.until)))
            day = following
        return out


def period(year: int, quarter: int | None = None, *, now: dt.datetime | None = None) -> Period:
    """The period of that year (and quarter), counted up to `now` if it has not ended yet."""
    first = dt.date(year, 1 if quarter is None else 3 * quarter - 2, 1)
    last_month = 12 if quarter is None else 3 * quarter
    following = dt.date(year + last_month // 12, last_month % 12 + 1, 1)
    start, end = _midnight(first), _midnight(following)
    ident = str(year) if quarter is None else f"{year}-Q{quarter}"
    return Period(ident, year, quarter, start, end, min(end, now or utcnow()))


def parse_period(text: str, *, now: dt.datetime | None = None) -> Period:
    """The period named "YYYY" or "YYYY-Qn", or NotFound (malformed, before 2000, or not begun yet)."""
    now = now or utcnow()
    match = PERIOD_ID.fullmatch(text)
    if match is None:
        raise NotFound(f"no transparency period {text[:40]!r}: name a year (2026) or a quarter (2026-Q3)",
                       field="period")
    year, quarter = int(match["year"]), int(match["quarter"]) if match["quarter"] else None
    if year < FIRST_YEAR:
        raise NotFound(f"no transparency period {text!r}: figures start in {FIRST_YEAR}", field="period")
    found = period(year, quarter, now=now)
    if found.start > now:
        raise NotFound(f"no transparency period {text!r} yet: it has not begun", field="period")
    return found


def current_quarter(now: dt.datetime | None = None) -> tuple[int, int]:
    """(year, quarter) of the Brussels calendar now."""
    today = (now or utcnow()).astimezone(BRUSSELS).date()
    return today.year, (today.month - 1) // 3 + 1


def default_periods(now: dt.datetime | None = None) -> tuple[Period, Period]:
    """What the page shows first: the last complete quarter, and the current year to date."""
    now = now or utcnow()
    year, quarter = current_quarter(now)
    last = (year, quarter - 1) if quarter > 1 else (year - 1, 4)
    return period(*last, now=now), period(year, now=now)


def periods_since(first_year: int, *, now: dt.datetime | None = None) -> list[Period]:
    """Every year from `first_year` to now, each followed by its quarters begun so far; newest year first."""
    now = now or utcnow()
    year_now, quarter_now = current_quarter(now)
    out: list[Period] = []
    for year in range(year_now, min(first_year, year_now) - 1, -1):
        out.append(period(year, now=now))
        out.extend(period(year, q, now=now) for q in range(1, (quarter_now if year == year_now else 4) + 1))
    return out


def first_year(session: Session) -> int | None:
    """The year of the first record the figures count (a submission or a report), in Brussels; None: none yet."""
    found = [when for when in (session.execute(select(func.min(Submission.submitted_at))).scalar_one(),
                               session.execute(select(func.min(Report.received_at))).scalar_one()) if when]
    if not found:
        return None
    earliest = min(w if w.tzinfo else w.replace(tzinfo=dt.UTC) for w in found)  # SQLite's MIN loses the type
    return earliest.astimezone(BRUSSELS).year


def within(column: InstrumentedAttribute[dt.datetime] | InstrumentedAttribute[dt.datetime | None],
           span: Period) -> ColumnElement[bool]:
    """`column` falls inside the period (counted so far)."""
    return and_(column >= span.start, column < span.until)


def median(values: Iterable[float]) -> float | None:
    """The median of these values; None when there is none."""
    found = list(values)
    return float(statistics.median(found)) if found else None


def median_seconds(delays: Iterable[dt.timedelta]) -> float | None:
    """The median of these delays in seconds; None when there is none."""
    return median(d.total_seconds() for d in delays)


def _by_basis(rows: Iterable[tuple[str, int]]) -> dict[str, int]:
    counts: dict[str, int] = dict.fromkeys(LEGAL_BASES, 0)
    for basis, count in rows:
        counts[basis] = counts.get(basis, 0) + int(count)
    return counts


@dataclass(frozen=True)
class MonthFigures:
    """Names listed and lifted in one month of the period."""

    month: dt.date  # its first day
    listed: int
    lifted: int


@dataclass(frozen=True)
class Listings:
    """Names listed (approved) and lifted in the period, and in force at its end, each by legal basis."""

    listed: dict[str, int]
    lifted: dict[str, int]
    in_force: dict[str, int]
    months: list[MonthFigures]

    @property
    def listed_total(self) -> int:
        """Names listed in the period, whatever the basis."""
        return sum(self.listed.values())

    @property
    def lifted_total(self) -> int:
        """Names lifted in the period."""
        return sum(self.lifted.values())

    @property
    def in_force_total(self) -> int:
        """Names blocked at the end of the period."""
        return sum(self.in_force.values())


def _monthly(session: Session, column: InstrumentedAttribute[dt.datetime | None], span: Period,
             bounds: list[tuple[dt.date, dt.datetime, dt.datetime]]) -> dict[int, int]:
    # One query: each row falls in the first month whose end is after it.
    bucket = case(*[(column < end, index) for index, (_, _, end) in enumerate(bounds)], else_=None)
    rows = session.execute(select(bucket, func.count()).where(within(column, span), Submission.order_id.is_not(None))
                           .group_by(bucket))
    return {int(index): int(count) for index, count in rows if index is not None}


def listings(session: Session, span: Period) -> Listings:
    """Names listed and lifted in the period by legal basis, those in force at its end, and both per month.

    A name listed is one a magistrate approved (its submission has a blocking order); it counts once per listing.
    """
    listed = session.execute(select(Submission.legal_basis, func.count()).where(
        Submission.order_id.is_not(None), within(Submission.decided_at, span)).group_by(Submission.legal_basis))
    lifted = session.execute(select(Submission.legal_basis, func.count()).where(
        within(Submission.lifted_at, span)).group_by(Submission.legal_basis))
    in_force_now = session.execute(select(Submission.legal_basis, func.count()).where(
        in_force(span.until)).group_by(Submission.legal_basis))
    bounds = span.months()
    monthly_listed = _monthly(session, Submission.decided_at, span, bounds) if bounds else {}
    monthly_lifted = _monthly(session, Submission.lifted_at, span, bounds) if bounds else {}
    months = [MonthFigures(first, monthly_listed.get(i, 0), monthly_lifted.get(i, 0))
              for i, (first, _, _) in enumerate(bounds)]
    return Listings(_by_basis(listed), _by_basis(lifted), _by_basis(in_force_now), months)


@dataclass(frozen=True)
class ReportFigures:
    """Reports received in the period (by source), and triage outcomes recorded in it."""

    received: dict[str, int]  # "public" | "partner" -> count
    outcomes: dict[str, int]  # "dismissed" | "linked" (to a submission) | "merged" (into a block) -> count

    @property
    def received_total(self) -> int:
        """Reports received, from the public and from partners."""
        return sum(self.received.values())

    @property
    def triaged(self) -> int:
        """Reports closed by triage in the period, whatever the outcome."""
        return sum(self.outcomes.values())

    @property
    def dismissed(self) -> int:
        """Reports dismissed in the period."""
        return self.outcomes.get("dismissed", 0)


def reports(session: Session, span: Period) -> ReportFigures:
    """Reports received and triaged in the period: counts only, never an address, a text or a contact."""
    received = dict.fromkeys(REPORT_SOURCES, 0)
    for source, count in session.execute(select(Report.source, func.count()).where(
            within(Report.received_at, span)).group_by(Report.source)):
        received[source] = int(count)
    outcomes = dict.fromkeys(REPORT_OUTCOMES, 0)
    for outcome, count in session.execute(select(ReportOutcome.outcome, func.count()).where(
            within(ReportOutcome.at, span)).group_by(ReportOutcome.outcome)):
        outcomes[outcome] = int(count)
    return ReportFigures(received, outcomes)


@dataclass(frozen=True)
class ReviewFigures:
    """Reviews done in the period, and blocks whose review was overdue on its last day."""

    renewed: int
    lifted: int  # lifted on a re-attestation made for the review
    overdue: int
    overdue_on: dt.date

    @property
    def done(self) -> int:
        """Reviews concluded in the period: renewed or lifted."""
        return self.renewed + self.lifted


def _due_then(until: dt.datetime) -> ColumnElement[dt.date | None]:
    """A block's review date as it stood at `until`: that of its last renewal before, else the one it had before
    its first renewal, else its own (never renewed). Renewals are append-only, so a past period's figure stays."""
    before = (select(Renewal.review_due).where(Renewal.submission_id == Submission.id, Renewal.at < until)
              .order_by(Renewal.at.desc(), Renewal.id.desc()).limit(1).scalar_subquery())
    first = (select(Renewal.previous_due).where(Renewal.submission_id == Submission.id)
             .order_by(Renewal.at, Renewal.id).limit(1).scalar_subquery())
    return func.coalesce(before, first, Submission.review_due)


def in_force(until: dt.datetime) -> ColumnElement[bool]:
    """A submission whose name was blocked at `until` (approved before, not lifted by then)."""
    return and_(Submission.order_id.is_not(None), Submission.decided_at < until,
                or_(Submission.lifted_at.is_(None), Submission.lifted_at >= until))


def reviews(session: Session, span: Period) -> ReviewFigures:
    """Reviews concluded in the period (renewals, and lifts of blocks re-attested for their review), and blocks
    overdue for review on its last day (today while it runs), with the review dates as they stood then."""
    day = span.last_day
    renewed = session.execute(select(func.count()).select_from(Renewal).where(within(Renewal.at, span))).scalar_one()
    # Lifted at review: on a re-attestation that no renewal used (a lift by appeal or at any time rests on none).
    attested = exists().where(Attestation.submission_id == Submission.id, Attestation.at <= Submission.lifted_at,
                              ~exists().where(Renewal.attestation_id == Attestation.id))
    lifted = session.execute(select(func.count()).select_from(Submission).where(
        within(Submission.lifted_at, span), attested)).scalar_one()
    overdue = session.execute(select(func.count()).select_from(Submission).where(
        in_force(span.until), _due_then(span.until) < day)).scalar_one()
    return ReviewFigures(renewed=int(renewed), lifted=int(lifted), overdue=int(overdue), overdue_on=day)


@dataclass(frozen=True)
class AppealFigures:
    """Appeals received in the period, and decisions on appeals taken in it."""

    received: int
    upheld: int
    dismissed: int


def appeals(session: Session, span: Period) -> AppealFigures:
    """Appeals received in the period, and those upheld (the block lifted) and dismissed in it."""
    received = session.execute(select(func.count()).select_from(Appeal).where(
        within(Appeal.received_at, span))).scalar_one()
    decided: dict[str, int] = dict.fromkeys(APPEAL_OUTCOMES, 0)
    for outcome, count in session.execute(select(AppealDecision.outcome, func.count()).where(
            within(AppealDecision.decided_at, span)).group_by(AppealDecision.outcome)):
        decided[outcome] = int(count)
    return AppealFigures(received=int(received), upheld=decided["upheld"], dismissed=decided["dismissed"])


@dataclass(frozen=True)
class HostingFigures:
    """Where the names listed in the period were hosted, per country (ISO 3166-1 alpha-2 code)."""

    countries: dict[str, int]

    @property
    def belgium(self) -> int:
        """Names listed in the period hosted in Belgium."""
        return self.countries.get(BELGIUM, 0)

    @property
    def elsewhere(self) -> int:
        """Names listed in the period hosted outside Belgium."""
        return sum(count for country, count in self.countries.items() if country != BELGIUM)


def hosting(session: Session, span: Period) -> HostingFigures:
    """Hosting countries of the names listed in the period (records from before the country was recorded, which
    have none, are left out)."""
    rows = session.execute(select(Submission.hosting_country, func.count()).where(
        Submission.order_id.is_not(None), within(Submission.decided_at, span),
        Submission.hosting_country.is_not(None)).group_by(Submission.hosting_country))
    return HostingFigures(countries={str(country): int(count) for country, count in rows})
