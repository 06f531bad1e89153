"""The transparency figures (blocklist/, requisitions/, isp_feed/ transparency.py, put together by
api/transparency.py) on a known dataset, on SQLite and PostgreSQL; periods in Brussels time."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from api import transparency
from api.transparency import TransparencyReport
from blocklist.db import Database
from blocklist.errors import NotFound
from blocklist.models import utcnow
from blocklist.transparency import BRUSSELS, default_periods, parse_period, period, periods_since
from tests.support import transparency_data as data
from tests.support.transparency_data import ISP_ALPHA, ISP_BETA, at

NOW = at("2026-12-01 15:00")


def _report(database: Database, ident: str) -> TransparencyReport:
    with database.transaction() as s:
        data.build(s)
    with database.reading() as s:
        return transparency.build(s, parse_period(ident), now=NOW)


def test_periods_are_brussels_calendar_quarters_and_years() -> None:
    q3 = parse_period("2025-Q3", now=NOW)
    assert (q3.start, q3.end, q3.complete) == (at("2025-06-30 22:00"), at("2025-09-30 22:00"), True)
    assert (q3.first_day, q3.last_day) == (dt.date(2025, 7, 1), dt.date(2025, 9, 30))
    winter = parse_period("2025-Q1", now=NOW)
    assert winter.start == at("2024-12-31 23:00")  # CET in winter, CEST in summer
    year = parse_period("2026", now=NOW)
    assert not year.complete and year.until == NOW and year.last_day == dt.date(2026, 12, 1)
    assert [m[0].month for m in year.months()] == list(range(1, 13))
    last, to_date = default_periods(NOW)
    assert (last.id, to_date.id, last.complete, to_date.complete) == ("2026-Q3", "2026", True, False)
    assert default_periods(at("2027-02-10 10:00"))[0].id == "2026-Q4"
    assert [p.id for p in periods_since(2025, now=NOW)][:3] == ["2026", "2026-Q1", "2026-Q2"]
    assert "2025-Q4" in [p.id for p in periods_since(2025, now=NOW)]


@pytest.mark.parametrize("asked", ["2027", "2026-Q5", "2026Q1", "1999", "26", "2026-q1", "", "2026-Q1.pdf"])
def test_a_period_not_begun_or_malformed_is_not_found(asked: str) -> None:
    with pytest.raises(NotFound):
        parse_period(asked, now=NOW)


def test_names_by_legal_basis_and_per_month(database: Database) -> None:
    lists = _report(database, "2025-Q3").listings
    assert lists.listed == {"ecommerce_law": 1, "art39bis": 2, "court_order": 1}  # the rejected one is not listed
    assert lists.lifted == {"ecommerce_law": 1, "art39bis": 0, "court_order": 0}
    assert lists.in_force == {"ecommerce_law": 0, "art39bis": 2, "court_order": 1}
    assert [(m.month.month, m.listed, m.lifted) for m in lists.months] == [(7, 3, 0), (8, 1, 0), (9, 0, 1)]


def test_reports_by_source_and_outcome_at_the_edges_of_the_quarter(database: Database) -> None:
    figures = _report(database, "2025-Q3").reports
    assert figures.received == {"public": 2, "partner": 1}  # 1 July 00:30 in Brussels counts; 1 October does not
    assert figures.outcomes == {"dismissed": 1, "linked": 1, "merged": 0}
    assert (figures.received_total, figures.triaged, figures.dismissed) == (3, 2, 1)


def test_removal_notices_and_requisitions_with_median_delays(database: Database) -> None:
    report = _report(database, "2025-Q3")
    assert report.removal_notices == transparency.RemovalFigures(sent=2, removed=2, median_removal_days=5.0)
    reqs = report.requisitions
    assert reqs.sent == {"blocking": 2, "lifting": 1, "catch_up": 0}  # the one at 00:30 on 1 October is Q4's
    assert (reqs.acknowledged, reqs.acknowledged_late, reqs.median_ack_seconds) == (2, 1, 25 * 3600.0)


def test_compliance_at_the_latest_round_and_median_time_to_block(database: Database) -> None:
    report = _report(database, "2025-Q3")
    shares = {s.isp: (s.checked, s.blocked, s.share_blocked, s.round_at) for s in report.compliance}
    assert shares == {ISP_ALPHA: (2, 2, 1.0, at("2025-07-10 13:00")), ISP_BETA: (2, 1, 0.5, at("2025-07-10 13:00"))}
    delays = {d.isp: (d.measured, d.median_seconds) for d in report.time_to_block}
    assert delays == {ISP_ALPHA: (2, 7200.0), ISP_BETA: (2, 3600.0)}
    later = _report_again(database, "2025-Q4")
    assert {s.isp: s.share_blocked for s in later.compliance} == {ISP_ALPHA: 0.0, ISP_BETA: None}
    assert {d.isp: d.measured for d in later.time_to_block} == {ISP_ALPHA: 0, ISP_BETA: 0}


def _report_again(database: Database, ident: str) -> TransparencyReport:
    with database.reading() as s:
        return transparency.build(s, parse_period(ident), now=NOW)


def test_reviews_done_and_overdue_as_they_stood_at_the_end(database: Database) -> None:
    q3 = _report(database, "2025-Q3").reviews
    # Alpha was due on 15 September; Court on 20 September (renewed only in November); Beta renewed in August.
    assert (q3.renewed, q3.lifted, q3.done, q3.overdue, q3.overdue_on) == (1, 1, 2, 2, dt.date(2025, 9, 30))
    year = _report_again(database, "2025").reviews
    assert (year.renewed, year.done, year.overdue, year.overdue_on) == (2, 3, 1, dt.date(2025, 12, 31))


def test_appeals_and_hosting_countries(database: Database) -> None:
    report = _report(database, "2025-Q3")
    assert report.appeals == transparency.AppealFigures(received=3, upheld=1, dismissed=1)
    assert report.hosting.countries == {"BE": 2, "NL": 1, "US": 1}
    assert (report.hosting.belgium, report.hosting.elsewhere) == (2, 2)


def test_a_quarter_with_nothing_and_the_year(database: Database) -> None:
    empty = _report(database, "2025-Q2")
    assert empty.listings.listed_total == empty.reports.received_total == empty.requisitions.sent_total == 0
    assert [m.listed for m in empty.listings.months] == [0, 0, 0]
    assert all(s.share_blocked is None for s in empty.compliance)
    year = _report_again(database, "2025")
    assert year.listings.listed_total == 4 and year.reports.received_total == 4
    assert year.requisitions.sent == {"blocking": 2, "lifting": 2, "catch_up": 0}
    assert year.appeals == transparency.AppealFigures(received=3, upheld=1, dismissed=2)
    this_year = _report_again(database, str(utcnow().astimezone(BRUSSELS).year))
    assert this_year.listings.listed_total == 1 and not this_year.period.complete  # the name approved today


def test_csv_has_one_figure_per_line_and_raw_numbers(database: Database) -> None:
    report = _report(database, "2025-Q3")
    rows = list(csv.reader(io.StringIO(transparency.to_csv(report))))
    assert rows[0] == ["period", "section", "figure", "breakdown", "value"]
    found = {(r[1], r[2], r[3]): r[4] for r in rows[1:]}
    assert all(r[0] == "2025-Q3" for r in rows[1:])
    assert found[("names", "listed", "total")] == "4" and found[("names", "listed", "court_order")] == "1"
    assert found[("compliance", "share_blocked", ISP_BETA)] == "0.5"
    assert found[("time_to_block", "median_seconds", ISP_ALPHA)] == "7200.0"
    assert found[("requisitions", "median_ack_delay_seconds", "")] == "90000.0"
    assert found[("hosting_country", "names_listed", "US")] == "1"
    assert found[("reviews", "overdue", "2025-09-30")] == "2"


def test_a_spreadsheet_formula_in_an_isp_name_is_neutralised() -> None:
    assert transparency._cell("=HYPERLINK(\"x\")") == "'=HYPERLINK(\"x\")"
    assert transparency._cell(-3) == "-3" and transparency._cell(None) == ""


def test_period_of_a_quarter_is_counted_up_to_now() -> None:
    running = period(2026, 4, now=NOW)
    assert running.until == NOW and not running.complete
    assert [m[0] for m in running.months()] == [dt.date(2026, 10, 1), dt.date(2026, 11, 1), dt.date(2026, 12, 1)]
