"""The public transparency report of one period: every section put together, and its CSV.

The sections come from the package that owns their tables (blocklist/, requisitions/ and isp_feed/
transparency.py); only here, above all three, may they meet. Nothing in the report can name a listed site,
a case, a reporter or an appellant: each section holds counts, shares and medians by legal basis, outcome,
kind, country or ISP name.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass

from sqlalchemy.orm import Session

from blocklist import transparency as core
from blocklist.models import utcnow
from blocklist.transparency import AppealFigures, HostingFigures, Listings, Period, ReportFigures, ReviewFigures
from isp_feed import transparency as verification
from isp_feed.transparency import IspDelay, IspShare
from requisitions import transparency as documents
from requisitions.transparency import RemovalFigures, RequisitionFigures

CSV_COLUMNS = ("period", "section", "figure", "breakdown", "value")


@dataclass(frozen=True)
class TransparencyReport:
    """Every figure of one period, as published."""

    period: Period
    generated_at: dt.datetime
    listings: Listings
    reports: ReportFigures
    removal_notices: RemovalFigures
    requisitions: RequisitionFigures
    compliance: list[IspShare]
    time_to_block: list[IspDelay]
    reviews: ReviewFigures
    appeals: AppealFigures
    hosting: HostingFigures


def build(session: Session, span: Period, *, now: dt.datetime | None = None) -> TransparencyReport:
    """The report of one period, read in the caller's (read-only) transaction."""
    return TransparencyReport(
        period=span, generated_at=now or utcnow(),
        listings=core.listings(session, span), reports=core.reports(session, span),
        removal_notices=documents.removal_notices(session, span), requisitions=documents.requisitions(session, span),
        compliance=verification.compliance(session, span), time_to_block=verification.time_to_block(session, span),
        reviews=core.reviews(session, span), appeals=core.appeals(session, span),
        hosting=core.hosting(session, span))


Row = tuple[str, str, str, float | int | str | None]  # section, figure, breakdown, value


def rows(report: TransparencyReport) -> list[Row]:
    """Every figure as (section, figure, breakdown, value): stable English identifiers, raw numbers (shares
    from 0 to 1, delays in seconds, empty when there is nothing to measure)."""
    span, lists = report.period, report.listings
    out: list[Row] = [("period", "first_day", "", span.first_day.isoformat()),
                      ("period", "last_day", "", span.last_day.isoformat()),
                      ("period", "complete", "", int(span.complete))]
    for figure, counts in (("listed", lists.listed), ("lifted", lists.lifted), ("in_force_at_end", lists.in_force)):
        out.extend(("names", figure, basis, count) for basis, count in counts.items())
        out.append(("names", figure, "total", sum(counts.values())))
    for month in lists.months:
        out += [("names_per_month", "listed", month.month.strftime("%Y-%m"), month.listed),
                ("names_per_month", "lifted", month.month.strftime("%Y-%m"), month.lifted)]
    out.extend(("reports", "received", source, count) for source, count in report.reports.received.items())
    out.append(("reports", "received", "total", report.reports.received_total))
    out.append(("reports", "triaged", "total", report.reports.triaged))
    out.extend(("reports", "triaged", outcome, count) for outcome, count in report.reports.outcomes.items())
    notices = report.removal_notices
    out += [("removal_notices", "sent", "", notices.sent), ("removal_notices", "sites_removed", "", notices.removed),
            ("removal_notices", "median_delay_days", "", notices.median_removal_days)]
    reqs = report.requisitions
    out.extend(("requisitions", "sent", kind, count) for kind, count in reqs.sent.items())
    out += [("requisitions", "sent", "total", reqs.sent_total), ("requisitions", "acknowledged", "", reqs.acknowledged),
            ("requisitions", "acknowledged_late", "", reqs.acknowledged_late),
            ("requisitions", "median_ack_delay_seconds", "", reqs.median_ack_seconds)]
    for share in report.compliance:
        out += [("compliance", "names_checked", share.isp, share.checked),
                ("compliance", "names_blocked", share.isp, share.blocked),
                ("compliance", "share_blocked", share.isp, None if share.share_blocked is None
                 else round(share.share_blocked, 4))]
    for delay in report.time_to_block:
        out += [("time_to_block", "names_measured", delay.isp, delay.measured),
                ("time_to_block", "median_seconds", delay.isp, delay.median_seconds)]
    rev = report.reviews
    out += [("reviews", "done", "total", rev.done), ("reviews", "done", "renewed", rev.renewed),
            ("reviews", "done", "lifted", rev.lifted), ("reviews", "overdue", rev.overdue_on.isoformat(), rev.overdue)]
    app = report.appeals
    out += [("appeals", "received", "", app.received), ("appeals", "decided", "upheld", app.upheld),
            ("appeals", "decided", "dismissed", app.dismissed)]
    host = report.hosting
    out += [("hosting", "names_listed", "BE", host.belgium), ("hosting", "names_listed", "elsewhere", host.elsewhere)]
    out.extend(("hosting_country", "names_listed", country, count)
               for country, count in sorted(host.countries.items()))
    return out


def _cell(value: float | int | str | None) -> str:
    if value is None:
        return ""
    text = str(value)
    # A cell a spreadsheet would run as a formula (an ISP's name is typed by an administrator) is quoted.
    return f"'{text}" if not isinstance(value, int | float) and text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def to_csv(report: TransparencyReport) -> str:
    """The report as CSV (RFC 4180, CRLF line ends), one figure per line."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for section, figure, breakdown, value in rows(report):
        writer.writerow((report.period.id, section, figure, _cell(breakdown), _cell(value)))
    return out.getvalue()
