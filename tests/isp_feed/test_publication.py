"""Feed versions: built on change, re-issued, gated, signed, immutable, linked back to their orders."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from sqlalchemy import select

from blocklist import audit, workflow
from blocklist.db import Database
from blocklist.errors import Forbidden, NotFound
from blocklist.jobs import PolicyCache
from blocklist.models import Order, User
from blocklist.names import NamePolicy
from blocklist.settings import Settings
from isp_feed import file_signatures, publish, versions
from isp_feed.keys import KeyStore
from isp_feed.models import FeedArtifact
from isp_feed_client import formats, signing
from tests.support.factories import approved

POLICY = NamePolicy.build(extra_protected=["portal.gov.example"])


def _build(database: Database, settings: Settings, keys: KeyStore, **kw: object) -> int | None:
    row = publish.build(database, settings=settings, keys=keys, policy=PolicyCache(settings), **kw)  # type: ignore[arg-type]
    return row.serial if row else None


@pytest.fixture
def keys(settings: Settings) -> KeyStore:
    return KeyStore(settings.data_dir / "keys")


def test_version_per_change_signed_and_linked(
    database: Database, people: dict[str, User], settings: Settings, keys: KeyStore
) -> None:
    assert _build(database, settings, keys) == 1  # the first version, empty
    assert _build(database, settings, keys) is None  # nothing changed, not yet due
    with database.transaction() as s:
        order_id = approved(s, people["officer"], people["magistrate"], "csam-gallery.test",
                            "bücher-verboten.example").id
    assert _build(database, settings, keys) == 2
    with database.transaction() as s:
        row = versions.get_version(s, 2)
        assert (row.count, row.added, row.removed) == (2, 2, 0)
        assert row.previous_sha256 == versions.get_version(s, 1).manifest_sha256
        assert versions.manifest_of(row).previous_sha256 == versions.get_version(s, 1).manifest_sha256
        order = s.get(Order, order_id)
        assert order is not None and order.feed_serial == 2
        envelope = versions.file_bytes(s, row, "json", settings.data_dir)
        version = formats.parse_envelope(envelope)
        assert version.serial == 2 and [e.name for e in version.entries] == [
            "csam-gallery.test", "xn--bcher-verboten-gsb.example"]
        artifact = s.get(FeedArtifact, (2, "rpz"))
        assert artifact is not None and artifact.signature is None  # each file is signed after the commit
        rpz = versions.file_bytes(s, row, "rpz", settings.data_dir)
        early = file_signatures.signature_of(settings.data_dir, keys, artifact)  # asked for before: made at once
    assert file_signatures.sign_pending(database, settings.data_dir, keys) == len(formats.EXTENSIONS) * 2
    assert file_signatures.sign_pending(database, settings.data_dir, keys) == 0
    with database.transaction() as s:
        artifact = s.get(FeedArtifact, (2, "rpz"))
        assert artifact is not None and artifact.signature == early
        comment = signing.verify(rpz, artifact.signature, [keys.active_public_key()])
        facts = formats.parse_trusted_comment(comment)
        assert (facts.serial, facts.fmt, facts.sha256) == (2, "rpz", artifact.sha256)
        assert b"*.csam-gallery.test CNAME stop.blocklist.example." in rpz
        assert b"@ IN SOA localhost. hostmaster.blocklist.invalid. 2 " in rpz
        actions = [e.action for e in workflow.history(s, "csam-gallery.test")]
        assert "order.in_feed" in actions
        assert audit.verify(s).intact


def test_reissue_moves_expiry_and_serial_only_grows(
    database: Database, people: dict[str, User], settings: Settings, keys: KeyStore
) -> None:
    with database.transaction() as s:
        approved(s, people["officer"], people["magistrate"], "csam-gallery.test")
    assert _build(database, settings, keys) == 1
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=61)
    assert _build(database, settings, keys, now=later) == 2
    with database.transaction() as s:
        one, two = versions.get_version(s, 1), versions.get_version(s, 2)
        assert one.set_hash == two.set_hash and two.expires_at > one.expires_at and two.added == 0


def test_files_are_written_once_immutable_and_restorable(
    database: Database, people: dict[str, User], settings: Settings, keys: KeyStore
) -> None:
    with database.transaction() as s:
        approved(s, people["officer"], people["magistrate"], "csam-gallery.test")
    _build(database, settings, keys)
    with database.transaction() as s:
        before = {a.ext: (a.sha256, a.signature) for a in s.execute(select(FeedArtifact)).scalars()}
    with database.transaction() as s:
        approved(s, people["officer"], people["magistrate"], "second.test")
    _build(database, settings, keys)
    with database.reading() as s:
        row = versions.get_version(s, 1)
        for ext, (sha, sig) in before.items():
            artifact = s.get(FeedArtifact, (1, ext))
            assert artifact is not None and (artifact.sha256, artifact.signature) == (sha, sig)
            assert hashlib.sha256(versions.file_bytes(s, row, ext, settings.data_dir)).hexdigest() == sha
        assert set(before) == set(formats.EXTENSIONS)
        # A data dir restored without its files: they are rendered again, byte for byte as signed.
        lost = versions.file_path(s, row, "rpz", settings.data_dir)
        kept = lost.read_bytes()
        lost.unlink()
        assert versions.restore_files(s, row, settings.data_dir) == ["rpz"]
        assert lost.read_bytes() == kept


def test_gate_holds_a_large_change_until_a_magistrate_confirms(
    database: Database, people: dict[str, User], settings: Settings, keys: KeyStore
) -> None:
    strict = settings.model_copy(update={"feed_gate_min_changes": 2, "feed_gate_share": 0.10})
    with database.transaction() as s:
        approved(s, people["officer"], people["magistrate"], "a1.test", "a2.test")
    assert _build(database, strict, keys) == 1
    with database.transaction() as s:
        approved(s, people["officer"], people["magistrate"], "b1.test", "b2.test", "b3.test")
    assert _build(database, strict, keys) is None  # held: +3 of 2
    with database.transaction() as s:
        holds = publish.pending_holds(s)
        assert len(holds) == 1 and "changes 3 names" in holds[0].reasons
        with pytest.raises(Forbidden):
            publish.confirm_hold(s, actor=people["officer"], hold_id=holds[0].id)
    # While held, the last published set is still re-issued so that ISPs' copies do not expire.
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=61)
    assert _build(database, strict, keys, now=later) == 2
    with database.transaction() as s:
        assert versions.get_version(s, 2).count == 2
        publish.confirm_hold(s, actor=people["magistrate2"], hold_id=publish.pending_holds(s)[0].id)
    assert _build(database, strict, keys) == 3
    with database.transaction() as s:
        assert versions.get_version(s, 3).count == 5
        assert audit.verify(s).intact


def test_gate_holds_a_protected_name(
    database: Database, people: dict[str, User], settings: Settings, keys: KeyStore
) -> None:
    protected = settings.model_copy(update={"protected_extra": "portal.gov.example"})
    _build(database, protected, keys)
    with database.transaction() as s:
        workflow.create_override(s, actor=people["magistrate"], domain="portal.gov.example",
                                 reason="court-confirmed exception")
    with database.transaction() as s:
        approved(s, people["officer"], people["magistrate"], "portal.gov.example", scope="exact", policy=POLICY)
    assert _build(database, protected, keys) is None
    with database.transaction() as s:
        assert "protected" in publish.pending_holds(s)[0].reasons


def test_a_file_that_does_not_read_back_as_recorded_is_never_signed(
    database: Database, people: dict[str, User], settings: Settings, keys: KeyStore
) -> None:
    assert _build(database, settings, keys) == 1
    with database.transaction() as s:
        artifact = s.get(FeedArtifact, (1, "rpz"))
        assert artifact is not None and artifact.path is not None
        path = settings.data_dir / artifact.path
    path.chmod(0o644)
    path.write_bytes(path.read_bytes().replace(b"hostmaster", b"hostMASTER"))  # same size, other bytes
    assert file_signatures.sign_pending(database, settings.data_dir, keys) == len(formats.EXTENSIONS) - 1
    with database.transaction() as s:
        artifact = s.get(FeedArtifact, (1, "rpz"))
        assert artifact is not None and artifact.signature is None
        with pytest.raises(NotFound, match="rpz file of feed version 1"):
            file_signatures.signature_of(settings.data_dir, keys, artifact)
