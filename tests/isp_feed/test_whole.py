"""The first version read and written in two halves, in two processes (isp_feed/whole.py), is byte for byte the
version one process builds reading the list row by row: whichever half is empty, when the halves were read across a
change, when the second process fails; and it leaves no stray file behind. The list read as SQLite's aggregates
(render_half.list_sql) is the list candidate.approval_in_chain gives, rows an insider marked approved left out."""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
import zlib
from pathlib import Path

import pytest
from sqlalchemy import select, text

from api.runtime import Runtime
from blocklist import audit, workflow
from blocklist.settings import Settings
from isp_feed import candidate, render_half, whole
from isp_feed.jobs import publish_feed
from isp_feed.models import FeedArtifact, FeedSnapshot
from isp_feed_client import formats
from tests.support.factories import approved, make_user, submitted

MOMENT = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
# Reserved names in both scopes, IDNs among them (their Unicode form differs), in no particular order.
NAMES = [f"site-{i:03d}.test" for i in range(40, 0, -1)] + ["xn--bcher-kva.example", "xn--caf-dma.test",
                                                             "a-b.test", "z.example"]


@pytest.fixture(scope="module")
def populated(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Path:
    """A database holding the names above, approved in three orders, one of them later lifted, one pending."""
    folder = tmp_path_factory.mktemp("whole")
    shutil.copyfile(sqlite_template, folder / "db.sqlite3")
    rt = Runtime(_settings(folder))
    try:
        with rt.database.transaction() as s:
            officer, magistrate = make_user(s, "officer"), make_user(s, "magistrate")
            approved(s, officer, magistrate, *NAMES[:20])
            approved(s, officer, magistrate, *NAMES[20:36], scope="exact")
            approved(s, officer, magistrate, *NAMES[36:])
            workflow.lift(s, actor=magistrate, domain=NAMES[3], reason="content removed")
            submitted(s, officer, "pending-only.test")
            submitted(s, officer, "insider-approved.test")
        with rt.database.transaction() as s:  # what only someone with SQL access does: no approval in the chain
            s.execute(text("UPDATE submissions SET status = 'approved' WHERE domain = 'insider-approved.test'"))
            s.execute(text("UPDATE submissions SET status = 'approved' WHERE domain = :d"), {"d": NAMES[3]})  # lifted
    finally:
        rt.database.dispose()
    return folder / "db.sqlite3"


def _settings(folder: Path) -> Settings:
    return Settings(BLOCKLIST_DATA_DIR=folder / "data", DATABASE_URL=f"sqlite:///{folder / 'db.sqlite3'}",  # type: ignore[call-arg]
                    scheduler=False, session_cookie_secure=False)


def _first_version(populated: Path, folder: Path) -> tuple[dict[str, tuple[str, int]], dict[str, bytes]]:
    """Publish the first version from a copy of the populated database: each file's hash and size, and bytes."""
    folder.mkdir()
    shutil.copyfile(populated, folder / "db.sqlite3")
    rt = Runtime(_settings(folder))
    try:
        assert publish_feed(rt.job_context, now=MOMENT) == 1
        with rt.database.reading() as s:
            rows = s.query(FeedArtifact).all()
            signed = {r.ext: (r.sha256, r.size) for r in rows}
            files = {r.ext: (folder / "data" / r.path).read_bytes() for r in rows if r.path}
            snapshot = s.execute(select(FeedSnapshot.body)).scalar_one()
        assert zlib.decompress(snapshot) == files["list"]  # the list kept whole in the database, compressed
    finally:
        rt.database.dispose()
    strays = [p.name for p in (folder / "data" / "feed" / "files").iterdir() if p.name.startswith(".")]
    assert strays == [], "a temporary file was left behind"
    return signed, files


@pytest.fixture(scope="module")
def one_process(populated: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, tuple[str, int]],
                                                                                     dict[str, bytes]]:
    """The reference: one process, the list read row by row (the way PostgreSQL reads it)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(whole, "SPLIT_FROM", 10**12)
        patch.setattr(render_half, "prepared_of_aggregate", lambda row, first, forms: None)
        return _first_version(populated, tmp_path_factory.mktemp("single") / "run")


def test_one_process_reading_aggregates_gives_the_same_files(
        populated: Path, one_process: tuple[dict[str, tuple[str, int]], dict[str, bytes]], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(whole, "SPLIT_FROM", 10**12)
    assert _first_version(populated, tmp_path / "run") == one_process


@pytest.mark.parametrize("below", [None, "site-020.test"])
def test_the_aggregates_read_the_list_the_chain_approves(populated: Path, tmp_path: Path, below: str | None) -> None:
    shutil.copyfile(populated, tmp_path / "db.sqlite3")
    rt = Runtime(_settings(tmp_path))
    try:
        with rt.database.reading() as s:
            read = whole._read(s, below=below)
            rows = candidate.current_candidate(s, below=below, report=True)
    finally:
        rt.database.dispose()
    prepared, orders = read
    assert prepared == formats.prepared_of(rows.entries) and orders == rows.block_order_ids and orders
    assert [name for _, name in rows.unapproved] == [NAMES[3], "insider-approved.test"]
    assert prepared.unicode or below  # the IDNs' Unicode forms, at their places


@pytest.mark.parametrize(("row", "first", "forms"), [
    ((2, b"b.test\x01a.test", None), b"\x01", []),  # out of order
    ((2, b"a.test\x01a.test", None), b"\x01", []),  # one name twice (approved twice)
    ((2, b"a.test\x01b.test\nc.test", None), b"\x01", []),  # a name holding a newline
    ((1, b"a\x02.test", None), b"\x01", []),  # a name holding a code byte
    ((1, "bücher.test".encode(), None), b"\x01", []),  # not an A-label
    ((1, b"a.test", None), b"\x03", []),  # another scope, not named by the forms
    ((1, b"a.test", None), None, []),  # no first code
], ids=["unsorted", "twice", "newline", "code-byte", "not-ascii", "unnamed-scope", "no-first-code"])
def test_rows_the_aggregates_cannot_give_are_read_one_by_one(row: tuple[object, ...], first: bytes | None,
                                                             forms: list[tuple[str, str, str]]) -> None:
    assert render_half.prepared_of_aggregate(row, first, forms) is None


def test_the_forms_of_names_outside_the_list_are_passed_over() -> None:
    read = render_half.prepared_of_aggregate((2, b"a.test\x03xn--bcher-kva.test", "7,9"), b"\x02",
                                             [("xn--bcher-kva.test", "bücher.test", "other"),
                                              ("unlisted.test", "unlisted.test", "other")])
    assert read == (formats.Prepared([b"a.test", b"xn--bcher-kva.test"], b"\x02\x03", {1: "bücher.test"},
                                     {1: "other"}), frozenset({7, 9}))


def test_a_lifted_row_set_back_to_approved_is_left_out_however_it_is_read(populated: Path, tmp_path: Path) -> None:
    shutil.copyfile(populated, tmp_path / "db.sqlite3")
    connection = sqlite3.connect(tmp_path / "db.sqlite3")
    try:
        assert connection.execute(render_half.lifted_sql()).fetchone() == (1,)  # NAMES[3], by SQL
        with_check = connection.execute(render_half.list_sql(lifted=True)).fetchone()
        without = connection.execute(render_half.list_sql(lifted=False)).fetchone()
    finally:
        connection.close()
    assert NAMES[3].encode() not in with_check[1] and NAMES[3].encode() in without[1]


def test_two_halves_give_the_files_of_one_process(populated: Path, one_process: tuple[dict[str, tuple[str, int]],
                                                  dict[str, bytes]], tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(whole, "SPLIT_FROM", 1)
    started: list[str] = []
    real = whole._Half.start

    def start(*args: object, **kwargs: object) -> whole._Half | None:
        started.append("half")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(whole._Half, "start", start)
    signed, files = _first_version(populated, tmp_path / "run")
    assert started == ["half"]  # really split
    assert (signed, files) == one_process
    assert NAMES[3].encode() + b"\t" not in files["list"] and b"pending-only.test" not in files["list"]
    assert files["list"].count(b"\n") == len(NAMES) - 1


@pytest.mark.parametrize("split", ["0", "~"], ids=["this-half-empty", "other-half-empty"])
def test_an_empty_half_changes_nothing(populated: Path, one_process: tuple[dict[str, tuple[str, int]],
                                       dict[str, bytes]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       split: str) -> None:
    monkeypatch.setattr(whole, "_split_name", lambda session, split_from: split)
    assert _first_version(populated, tmp_path / "run") == one_process


def test_halves_read_across_a_change_are_read_again_whole(
        populated: Path, one_process: tuple[dict[str, tuple[str, int]], dict[str, bytes]], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(whole, "SPLIT_FROM", 1)
    calls: list[int | None] = []
    real = whole.write

    def write(*args: object, **kwargs: object) -> whole.Whole:
        calls.append(kwargs.get("split_from"))  # type: ignore[arg-type]
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(whole, "write", write)
    monkeypatch.setattr(whole, "_same_list", lambda database, head, their_head: False)
    assert _first_version(populated, tmp_path / "run") == one_process
    assert len(calls) == 2 and calls[1] is not None and calls[1] > 10**9  # the second time in one piece


def test_a_failing_second_process_falls_back_to_one(
        populated: Path, one_process: tuple[dict[str, tuple[str, int]], dict[str, bytes]], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(whole, "SPLIT_FROM", 1)
    monkeypatch.setattr(whole, "version_job", lambda version: {})  # the child's job lacks the version: it exits 1
    assert _first_version(populated, tmp_path / "run") == one_process


def test_only_an_approval_lift_or_confirmation_between_the_halves_counts_as_a_change(
        populated: Path, tmp_path: Path) -> None:
    shutil.copyfile(populated, tmp_path / "db.sqlite3")
    rt = Runtime(_settings(tmp_path))
    try:
        with rt.database.reading() as s:
            head = audit.current_head(s)[0]
        with rt.database.transaction() as s:
            officer = make_user(s, "officer")
            submitted(s, officer, "another-pending.test")
        with rt.database.reading() as s:
            after_submission = audit.current_head(s)[0]
        assert after_submission > head and whole._same_list(rt.database, head, after_submission)
        with rt.database.transaction() as s:
            magistrate = make_user(s, "magistrate")
            approved(s, officer, magistrate, "one-more.test")
        with rt.database.reading() as s:
            after_approval = audit.current_head(s)[0]
        assert not whole._same_list(rt.database, head, after_approval)
        assert not whole._same_list(rt.database, after_approval, head)  # an older snapshot is never the same
    finally:
        rt.database.dispose()
