"""The one text check and the one id parser, and the core refusing before anything reaches the database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from blocklist import isps, reviews, users, workflow
from blocklist.db import Database
from blocklist.errors import InvalidInput, NotFound, Unauthenticated
from blocklist.models import AuditEvent, Submission, User
from blocklist.names import NamePolicy
from blocklist.schemas import CourtOrderIn
from blocklist.text import MAX_ID, clean_text, parse_id
from tests.blocklist.helpers import submission

# NUL (PostgreSQL refuses it), ESC (terminal sequences), CR, DEL, a C1 control, the bidi controls (the
# right-to-left override and its kin), a lone surrogate, and the Unicode line and paragraph separators.
REFUSED_EVERYWHERE = ["\x00", "\x1b", "\r", "\x7f", "\x85", "\u202e", "\u202d", "\u2066", "\u2069", "\u200f",
                      "\u061c", "\ud800", "\u2028", "\u2029", "\t"]


@pytest.mark.parametrize("char", [*REFUSED_EVERYWHERE, "\n"])
def test_one_line_fields_refuse_control_and_direction_characters(char: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        clean_text(f"FCCU{char}2026", field="case_number", max_length=100)
    assert refused.value.field == "case_number"
    assert refused.value.message.startswith("case_number contains ")
    assert f"U+{ord(char):04X}" in refused.value.message and "position 5" in refused.value.message


@pytest.mark.parametrize("char", REFUSED_EVERYWHERE)
def test_multi_line_fields_keep_line_feeds_only(char: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        clean_text(f"first line\nsecond{char} line", field="note", max_length=4000, multiline=True)
    assert refused.value.field == "note"


def test_multi_line_fields_store_browser_line_breaks_as_lf() -> None:
    assert clean_text("  one\r\ntwo\nthree  \r\n", field="note", max_length=100, multiline=True) == "one\ntwo\nthree"
    assert clean_text("Vérifié — ok ✓ 日本", field="note", max_length=100) == "Vérifié — ok ✓ 日本"
    assert clean_text("  FCCU-1 ", field="case_number", max_length=100) == "FCCU-1"


def test_length_and_type() -> None:
    assert clean_text("x" * 10, field="f", max_length=10) == "x" * 10
    with pytest.raises(InvalidInput, match="f is longer than 10 characters"):
        clean_text("x" * 11, field="f", max_length=10)
    with pytest.raises(InvalidInput, match="f must be text"):
        clean_text(12, field="f", max_length=10)


@pytest.mark.parametrize("good", ["1", "42", "0000000042", str(MAX_ID), 7, MAX_ID])
def test_ids_within_range(good: str | int) -> None:
    assert parse_id(good, field="id") == int(good)


@pytest.mark.parametrize("bad", ["", "0", "-1", "+1", " 1", "1 ", "1_000", "12.0", "1e3", "²", "١٢", "１",
                                 str(MAX_ID + 1), "99999999999999999999", "00000000001", "9" * 5000, "0x10",
                                 0, -1, MAX_ID + 1, 10**5000, True, None, 1.0],
                         ids=lambda v: repr(v)[:30] if not isinstance(v, int) or v < 10**30 else "huge int")
def test_everything_else_is_no_id(bad: object) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_id(bad, field="isp")
    assert refused.value.field == "isp" and "from 1 to 2147483647" in refused.value.message


def _counts(database: Database) -> tuple[int, int]:
    with database.transaction() as s:
        return (s.execute(select(func.count()).select_from(Submission)).scalar_one(),
                s.execute(select(func.count()).select_from(AuditEvent)).scalar_one())


@pytest.mark.parametrize(("field", "overrides"), [
    ("case_number", {"case_number": "FCCU\x00-1"}),
    ("evidence_ref", {"evidence_ref": "EVD\x1b[2J"}),
    ("note", {"note": "seen\x00"}),
    ("note", {"note": "line\rhidden"}),
    ("court_order.court", {"legal_basis": "court_order",
                           "court_order": CourtOrderIn(court="Tribunal\u202e", date="2025-01-05", reference="R-1")}),
    ("court_order.reference", {"legal_basis": "court_order",
                               "court_order": CourtOrderIn(court="Tribunal", date="2025-01-05", reference="R\n1")}),
])
def test_submit_refuses_before_writing(database: Database, people: dict[str, User], field: str,
                                       overrides: dict[str, object]) -> None:
    before = _counts(database)
    with database.transaction() as s, pytest.raises(InvalidInput) as refused:
        workflow.submit(s, actor=people["officer"], policy=NamePolicy.build(),
                        data=submission("csam-gallery.test", **overrides))
    assert refused.value.field == field
    assert _counts(database) == before


def test_a_note_keeps_its_lines(database: Database, people: dict[str, User]) -> None:
    with database.transaction() as s:
        sub = workflow.submit(s, actor=people["officer"], policy=NamePolicy.build(),
                              data=submission("csam-gallery.test", note="first\r\nsecond\n"))
        assert sub.note == "first\nsecond"


@pytest.mark.parametrize("char", ["\x00", "\x1b", "\r", "\u202e"])
def test_reasons_are_checked_by_every_decision(database: Database, people: dict[str, User], char: str) -> None:
    with database.transaction() as s:
        pending = workflow.submit(s, actor=people["officer"], policy=NamePolicy.build(),
                                  data=submission("pending.test")).id
        blocked = workflow.submit(s, actor=people["officer"], policy=NamePolicy.build(),
                                  data=submission("blocked.test")).id
    with database.transaction() as s:
        workflow.approve(s, actor=people["magistrate"], submission_ids=[blocked])
    before = _counts(database)
    reason = f"because{char} of it"
    attempts: list[Callable[[Session], object]] = [
        lambda s: workflow.reject(s, actor=people["magistrate"], submission_id=pending, reason=reason),
        lambda s: workflow.approve(s, actor=people["magistrate"], submission_ids=[pending], reason=reason),
        lambda s: workflow.withdraw(s, actor=people["officer"], submission_id=pending, reason=reason),
        lambda s: workflow.lift(s, actor=people["magistrate"], domain="blocked.test", reason=reason),
        lambda s: reviews.renew(s, actor=people["magistrate"], domain="blocked.test", reason=reason,
                                review_due=dt.date.today() + dt.timedelta(days=30)),
        lambda s: workflow.create_override(s, actor=people["magistrate"], domain="pending.test", reason=reason),
    ]
    for attempt in attempts:
        with database.transaction() as s, pytest.raises(InvalidInput) as refused:
            attempt(s)
        assert refused.value.field == "reason"
    assert _counts(database) == before


def test_searches_and_look_ups_never_send_a_nul(database: Database, people: dict[str, User]) -> None:
    # PostgreSQL refuses a NUL in any string parameter: each of these was a server error there.
    with database.transaction() as s:
        with pytest.raises(InvalidInput):
            workflow.list_submissions(s, case_number="FCCU\x00")
        with pytest.raises(NotFound):
            users.get_user(s, "officer\x00")
        with pytest.raises(Unauthenticated):
            users.check_password(s, "officer\x00", "correct horse battery")
        with pytest.raises(NotFound):
            isps.get_isp(s, "²")  # a digit to str.isdigit(), not to int()
        with pytest.raises(InvalidInput):
            isps.get_isp(s, "ISP\x00")
        with pytest.raises(InvalidInput):
            isps.get_isp(s, "99999999999999999999")
        assert workflow.list_submissions(s, case_number="FCCU-none") == []


def test_accounts_and_isps_refuse_control_characters(database: Database) -> None:
    with database.transaction() as s:
        for name in ("Ana\x00", "Ana\u202eLis", "Ana\nLis"):
            with pytest.raises(InvalidInput) as refused:
                users.create_user(s, actor="test", username="ana", role="auditor", display_name=name)
            assert refused.value.field == "display_name"
        for field, values in (("name", {"name": "ISP\x1b"}), ("operator_id", {"operator_id": "OP\x00"})):
            with pytest.raises(InvalidInput) as refused:
                isps.add_isp(s, actor="test", **{"name": "ISP", "email": "noc@isp.example", "language": "fr",
                                                 **values})  # type: ignore[arg-type]
            assert refused.value.field == field
    with database.transaction() as s:
        assert users.list_users(s) == [] and isps.list_isps(s) == []
