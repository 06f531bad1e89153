"""The audit chain anchored outside the database, and a feed that carries only names approved in the chain.

- every feed version carries a signed checkpoint (event count, head hash, time) in its envelope; the hourly job
  makes one when no version did; `minisign -V` checks an exported one by hand;
- the reference client keeps every checkpoint it is shown (append-only `checkpoints.jsonl` in its state dir) and
  refuses a history that went back;
- an insider who rewrites an event and recomputes every later hash and the head passes plain `audit verify`, but
  no longer passes through the checkpoints the ISPs kept;
- a row set to 'approved' in SQL, without its approval event, never reaches the feed, and the build records that.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from api.runtime import Runtime
from blocklist import audit, isps, workflow
from blocklist.db import Database
from blocklist.models import AuditEvent, User
from blocklist.names import NamePolicy
from blocklist.settings import Settings
from isp_feed import checkpoints, publish, versions
from isp_feed.jobs import FeedJobContext, checkpoint_audit, publish_feed, reconcile_feed
from isp_feed.keys import KeyStore
from isp_feed_client import formats, manifest, signing
from isp_feed_client.cli import EXIT_OK, EXIT_REFUSED
from isp_feed_client.cli import main as isp_feed_main
from isp_feed_client.pull import CHECKPOINTS_FILE
from tests.blocklist.test_audit import _rewrite_from
from tests.support.binaries import require_binary
from tests.support.factories import approved, submitted
from tests.support.feed_server import FeedServer, feed_server, make_version
from tests.support.server import live_server

POLICY = NamePolicy.build()


@pytest.fixture
def keys(settings: Settings) -> KeyStore:
    return KeyStore(settings.data_dir / "keys")


def _names(database: Database, settings: Settings) -> list[str]:
    """The names the latest version's JSON file carries."""
    with database.reading() as s:
        row = versions.latest_version(s)
        assert row is not None
        return [e.name for e in formats.parse_envelope(versions.file_bytes(s, row, "json", settings.data_dir)).entries]


def _checkpoint(database: Database, serial: int) -> formats.AuditCheckpoint | None:
    """The checkpoint a version's signed manifest carries."""
    with database.reading() as s:
        return versions.manifest_of(versions.get_version(s, serial)).checkpoint


def _verify(database: Database, witnesses: list[audit.Witness] | None = None) -> audit.ChainStatus:
    with database.reading() as s:
        return audit.verify(s, witnesses=witnesses or [])


# --- a row approved in SQL never reaches the feed ------------------------------------------------------------------

def test_status_set_in_sql_is_left_out_of_the_feed_and_recorded(
    database: Database, people: dict[str, User], settings: Settings
) -> None:
    ctx = FeedJobContext.standalone(database, settings)
    with database.transaction() as s:
        approved(s, people["officer"], people["magistrate"], "csam-gallery.test")
        pending = submitted(s, people["officer"], "pending.test").id
    assert publish_feed(ctx) == 1
    with database.engine.begin() as conn:  # an insider, or a bug: the status without the magistrate's decision
        conn.execute(text("UPDATE submissions SET status = 'approved' WHERE id = :i"), {"i": pending})
    assert publish_feed(ctx, force=True) == 2
    assert _names(database, settings) == ["csam-gallery.test"]
    # The hourly reconciliation rebuilds the list from the tables and records what it had to leave out.
    assert "pending.test" in reconcile_feed(ctx)[0]
    with database.reading() as s:
        found = list(s.execute(select(AuditEvent.details).where(AuditEvent.action == publish.UNAPPROVED)).scalars())
    assert len(found) == 1
    details = json.loads(found[0])
    assert details["submissions"] == [pending] and details["domains"] == ["pending.test"]
    reconcile_feed(ctx)  # the same rows again: recorded once, not at every run
    with database.reading() as s:
        assert len(s.execute(select(AuditEvent.id).where(AuditEvent.action == publish.UNAPPROVED)).all()) == 1


@pytest.mark.parametrize("change", [
    "UPDATE submissions SET status = 'approved' WHERE domain = 'lifted.test'",  # a lifted block revived
    "UPDATE submissions SET domain = 'victim.test', unicode = 'victim.test' WHERE domain = 'blocked.test'",
])
def test_edited_approved_rows_are_left_out(database: Database, people: dict[str, User], settings: Settings,
                                           change: str) -> None:
    ctx = FeedJobContext.standalone(database, settings)
    with database.transaction() as s:
        approved(s, people["officer"], people["magistrate"], "blocked.test", "lifted.test", "kept.test")
    with database.transaction() as s:
        workflow.lift(s, actor=people["magistrate"], domain="lifted.test", reason="taken down")
    publish_feed(ctx)
    with database.engine.begin() as conn:
        conn.execute(text(change))
    publish_feed(ctx, force=True)
    names = _names(database, settings)
    assert "kept.test" in names and "lifted.test" not in names and "victim.test" not in names
    assert reconcile_feed(ctx)  # and the hourly rebuild from the tables reports the edited rows


# --- checkpoints in every version ----------------------------------------------------------------------------------

def test_every_version_carries_a_signed_checkpoint(database: Database, people: dict[str, User],
                                                   settings: Settings, keys: KeyStore) -> None:
    ctx = FeedJobContext.standalone(database, settings)
    with database.transaction() as s:
        approved(s, people["officer"], people["magistrate"], "csam-gallery.test")
    with database.reading() as s:
        before = audit.current_head(s)
    assert publish_feed(ctx) == 1
    checkpoint = _checkpoint(database, 1)
    assert checkpoint is not None and (checkpoint.events, checkpoint.head) == before
    body = formats.checkpoint_body(checkpoint.events, checkpoint.head, checkpoint.at)
    comment = signing.verify(body, checkpoint.signature, [keys.active_public_key()])
    assert comment == formats.checkpoint_comment(checkpoint.events, checkpoint.head, checkpoint.at)
    # the version's own publication event names it, and the hourly re-issue carries a newer one
    with database.reading() as s:
        published = s.execute(select(AuditEvent.details).where(AuditEvent.action == "feed.published")).scalar_one()
    assert json.loads(published)["checkpoint"] == {"events": before[0], "head": before[1]}
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=61)
    assert publish_feed(ctx, now=later) == 2
    again = _checkpoint(database, 2)
    assert again is not None and again.events > checkpoint.events and again.at > checkpoint.at
    assert _checkpoint(database, 1) == checkpoint  # a stored manifest is immutable
    assert _verify(database).intact


def test_hourly_job_makes_and_writes_a_checkpoint(database: Database, settings: Settings, keys: KeyStore) -> None:
    ctx = FeedJobContext.standalone(database, settings)
    folder = settings.data_dir / "checkpoints"
    now = dt.datetime.now(dt.UTC)
    path = checkpoint_audit(ctx, now=now)
    assert path is not None and path.parent == folder and path.with_name(path.name + ".minisig").is_file()
    assert checkpoint_audit(ctx, now=now + dt.timedelta(minutes=30)) is None  # not due yet
    assert checkpoint_audit(ctx, now=now + dt.timedelta(minutes=61)) is not None
    with database.reading() as s:
        made = s.execute(select(checkpoints.CheckpointRow).order_by(checkpoints.CheckpointRow.id)).scalars().all()
        assert [row.trigger for row in made] == ["hourly", "hourly"]
        actions = s.execute(select(AuditEvent.action).where(AuditEvent.action == "audit.checkpoint")).all()
        assert len(actions) == 2
    found = checkpoints.load([folder], checkpoints.trusted_keys(keys))
    assert not found.problems and len(found.witnesses) == 2
    assert _verify(database, found.witnesses).intact


def test_checkpoint_files_verify_with_minisign(database: Database, people: dict[str, User], keys: KeyStore,
                                               tmp_path: Path) -> None:
    minisign = require_binary("minisign")
    with database.transaction() as s:
        made = checkpoints.make(s, keys, trigger="cli")
    path = checkpoints.write_file(tmp_path / "out", made)
    pub = keys.active_public_key().to_base64()
    ok = subprocess.run([minisign, "-V", "-P", pub, "-m", str(path)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert f"events={made.events} head={made.head}" in ok.stdout
    assert made.events > 0
    path.write_bytes(path.read_bytes().replace(made.head.encode(), b"f" * 64))
    bad = subprocess.run([minisign, "-V", "-P", pub, "-m", str(path)], capture_output=True, text=True)
    assert bad.returncode != 0
    found = checkpoints.load([tmp_path / "out"], [keys.active_public_key()])
    assert not found.witnesses and "signature does not match" in found.problems[0]


def test_checkpoints_table_is_append_only(database: Database, keys: KeyStore) -> None:
    with database.transaction() as s:
        checkpoints.make(s, keys, trigger="cli")
    for statement in ("UPDATE audit_checkpoints SET events = 0", "DELETE FROM audit_checkpoints"):
        with pytest.raises(DBAPIError, match="append-only"), database.engine.begin() as conn:
            conn.execute(text(statement))


# --- the client keeps what it saw ----------------------------------------------------------------------------------

def _signed(feed: FeedServer, events: int, head: str, at: dt.datetime) -> formats.AuditCheckpoint:
    at = at.replace(microsecond=0)
    body, comment = formats.checkpoint_body(events, head, at), formats.checkpoint_comment(events, head, at)
    return formats.AuditCheckpoint(events, head, at, signing.sign(body, comment, feed.key))


def test_client_appends_every_checkpoint_it_is_shown(tmp_path: Path) -> None:
    with feed_server() as feed:
        (tmp_path / "feed.pub").write_text(feed.public_key_text())
        state = tmp_path / "state"

        def pull() -> int:
            return isp_feed_main(["pull", "--server", feed.url, "--token", feed.token, "--pubkey",
                                  str(tmp_path / "feed.pub"), "--state-dir", str(state), "--format", "rpz",
                                  "--out", str(tmp_path / "feed.rpz")])

        now = dt.datetime.now(dt.UTC)
        first = _signed(feed, 10, "a" * 64, now)
        feed.publish(make_version(1, ["csam-gallery.test"]), checkpoint=first)
        assert pull() == EXIT_OK
        assert pull() == EXIT_OK  # already current: nothing appended twice
        second = _signed(feed, 14, "b" * 64, now + dt.timedelta(minutes=1))
        feed.publish(make_version(2, ["csam-gallery.test"]), checkpoint=second)
        assert pull() == EXIT_OK
        lines = (state / CHECKPOINTS_FILE).read_text().splitlines()
        assert [formats.parse_checkpoint_line(line) for line in lines] == [(first, 1), (second, 2)]
        kept = (state / CHECKPOINTS_FILE).read_bytes()

        # the server's history went back (a cut) or was rewritten at a length already witnessed: refused
        for events, head in ((12, "c" * 64), (14, "d" * 64)):
            feed.publish(make_version(3, ["csam-gallery.test"]),
                         checkpoint=_signed(feed, events, head, now + dt.timedelta(minutes=2)))
            assert pull() == EXIT_REFUSED
            assert (state / CHECKPOINTS_FILE).read_bytes() == kept
        # a checkpoint signed by another key, in a manifest signed by the right one: refused
        forged = _signed(FeedServer(key=signing.SecretKey.generate(), token=""), 20, "e" * 64, now)
        feed.publish(make_version(3, ["csam-gallery.test"]), checkpoint=forged)
        assert pull() == EXIT_REFUSED
        # a torn last line (crash while appending) is not glued onto
        with (state / CHECKPOINTS_FILE).open("ab") as handle:
            handle.write(b'{"at":"20')
        third = _signed(feed, 30, "f" * 64, now + dt.timedelta(minutes=3))
        feed.publish(make_version(3, ["csam-gallery.test"]), checkpoint=third)
        assert pull() == EXIT_OK
        found = checkpoints.load([state], [feed.key.public_key()])
        assert [w.events for w in found.witnesses] == [10, 14, 30] and not found.problems


def test_client_without_checkpoints_still_pulls(tmp_path: Path) -> None:
    with feed_server() as feed:
        (tmp_path / "feed.pub").write_text(feed.public_key_text())
        feed.publish(make_version(1, ["csam-gallery.test"]))  # a server from before checkpoints
        code = isp_feed_main(["pull", "--server", feed.url, "--token", feed.token, "--pubkey",
                              str(tmp_path / "feed.pub"), "--state-dir", str(tmp_path / "state"),
                              "--out", str(tmp_path / "feed.rpz")])
        assert code == EXIT_OK and not (tmp_path / "state" / CHECKPOINTS_FILE).exists()


# --- the whole story: ISPs witness, an insider rewrites, the witnesses catch it ------------------------------------

def test_rewritten_history_fails_against_the_checkpoints_isps_kept(
    rt: Runtime, people: dict[str, User], tmp_path: Path
) -> None:
    with rt.database.transaction() as s:
        _, token = isps.add_isp(s, actor="test", name="ISP One", email="noc@isp-one.example", language="fr")
    with rt.database.transaction() as s:
        approved(s, people["officer"], people["magistrate"], "csam-gallery.test", "second.test")
    publish_feed(rt.job_context)
    pub = tmp_path / "feed.pub"
    pub.write_text(rt.keys.active_public_key().to_text())
    state = tmp_path / "isp-one-state"
    with live_server(rt) as url:
        code = isp_feed_main(["pull", "--server", url, "--token", token, "--pubkey", str(pub), "--state-dir",
                              str(state), "--out", str(tmp_path / "feed.rpz")])
    assert code == EXIT_OK
    found = checkpoints.load([state], checkpoints.trusted_keys(rt.keys))
    assert len(found.witnesses) == 1 and not found.problems
    assert _verify(rt.database, found.witnesses).intact

    # Who approved? An insider rewrites the approval's actor, recomputes every later hash and the head row.
    with rt.database.reading() as s:
        approval = s.execute(select(AuditEvent.id).where(AuditEvent.action == "submission.approved")
                             .order_by(AuditEvent.id).limit(1)).scalar_one()
    _rewrite_from(rt.database, approval, actor="user:magistrate2")
    assert _verify(rt.database).intact  # the chain alone cannot tell
    status = _verify(rt.database, found.witnesses)
    assert not status.intact and status.broken_at == found.witnesses[0].events
    assert "rewritten at or before" in (status.problem or "") and str(state) in (status.problem or "")


# --- formats and files ---------------------------------------------------------------------------------------------

def test_manifest_carries_the_checkpoint_and_parses_it_strictly() -> None:
    key = signing.SecretKey.generate()
    at = dt.datetime(2026, 12, 1, 12, 0, 5, tzinfo=dt.UTC)
    body, comment = formats.checkpoint_body(7, "ab" * 32, at), formats.checkpoint_comment(7, "ab" * 32, at)
    checkpoint = formats.AuditCheckpoint(7, "ab" * 32, at, signing.sign(body, comment, key))
    ref = manifest.FileRef("cd" * 32, 10)
    signed = manifest.Manifest(
        serial=3, content_serial=3, content_generated_at=at, generated_at=at, expires_at=at + dt.timedelta(hours=6),
        previous_sha256=None, count=1, files=dict.fromkeys(formats.EXTENSIONS, ref), delta=None,
        stop_page_name="stop.blocklist.example", stop_page_ipv4="192.0.2.80", stop_page_ipv6=None,
        checkpoint=checkpoint)
    rendered = manifest.manifest_bytes(signed)
    assert rendered.startswith(b'{"audit_checkpoint":{"at":"2026-12-01T12:00:05Z","events":7,')
    assert manifest.parse_manifest(rendered) == signed
    assert formats.parse_checkpoint_body(body) == (7, "ab" * 32, at)
    for bad in ({"events": -1}, {"head": "AB" * 32}, {"at": "yesterday"}, {"signature": 5}, {"extra": 1}):
        raw = json.loads(rendered)
        raw["audit_checkpoint"].update(bad)
        with pytest.raises(formats.FeedFormatError, match="audit_checkpoint"):
            manifest.parse_manifest(json.dumps(raw, sort_keys=True, separators=(",", ":")).encode() + b"\n")
    with pytest.raises(formats.FeedFormatError, match="canonical"):
        formats.parse_checkpoint_body(body.replace(b",", b", "))


def test_loading_reports_unsigned_and_damaged_checkpoints(database: Database, people: dict[str, User],
                                                          keys: KeyStore, tmp_path: Path) -> None:
    with database.transaction() as s:
        made = checkpoints.make(s, keys, trigger="cli")
    folder = tmp_path / "witness"
    path = checkpoints.write_file(folder, made)
    trusted = checkpoints.trusted_keys(keys)
    jsonl = folder / "isp" / checkpoints.CLIENT_FILE
    jsonl.parent.mkdir()
    line = formats.checkpoint_line(made, serial=1, received_at=made.at)
    jsonl.write_text(line + line.replace('"events":', '"events":9') + '{"at":"2026')  # forged, then torn
    found = checkpoints.load([folder], trusted)
    assert len(found.witnesses) == 2 and len(found.problems) == 1 and ":2: " in found.problems[0]
    path.with_name(path.name + ".minisig").unlink()
    assert any("no signature" in p for p in checkpoints.load([folder], trusted).problems)
    # a key rotated away still verifies the checkpoints it signed
    keys.rotate(transition_days=0)
    assert checkpoints.load([jsonl.parent], checkpoints.trusted_keys(keys)).witnesses


def test_the_hourly_checkpoint_is_a_scheduled_job() -> None:
    from api.scheduler import scheduled_jobs

    (job,) = [j for j in scheduled_jobs() if j.name == "audit.checkpoint"]
    assert job.func is checkpoint_audit and job.every_seconds <= 60
