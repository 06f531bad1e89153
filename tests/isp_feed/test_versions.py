"""The read side of versions (isp_feed/versions.py): what a stored version holds, renders to, and changed."""

from __future__ import annotations

import hashlib

import pytest

from blocklist import workflow
from blocklist.db import Database
from blocklist.errors import InvalidInput, NotFound
from blocklist.models import User
from blocklist.settings import Settings
from isp_feed import checkpoints, versions
from isp_feed.jobs import FeedJobContext, publish_feed
from isp_feed_client import formats
from isp_feed_client.delta import Delta, parse_delta
from tests.support.factories import approved


@pytest.fixture
def three(database: Database, people: dict[str, User], settings: Settings) -> None:
    """Serial 1 empty; 2 adds two names; 3 lifts one of them."""
    ctx = FeedJobContext.standalone(database, settings)
    assert publish_feed(ctx) == 1
    with database.transaction() as s:
        approved(s, people["officer"], people["magistrate"], "gallery-one.test", "gallery-two.test")
    assert publish_feed(ctx) == 2
    with database.transaction() as s:
        workflow.lift(s, actor=people["magistrate"], domain="gallery-one.test", reason="content removed")
    assert publish_feed(ctx) == 3


def test_nothing_published_yet(database: Database) -> None:
    with database.reading() as s:
        assert versions.latest_version(s) is None and versions.recent_versions(s) == []
        with pytest.raises(NotFound):
            versions.get_version(s, 1)
        with pytest.raises(NotFound):
            versions.diff(s, from_serial=1)


@pytest.mark.usefixtures("three")
def test_which_versions_exist(database: Database) -> None:
    with database.reading() as s:
        latest = versions.latest_version(s)
        assert latest is not None and latest.serial == 3
        assert versions.get_version(s, 2).serial == 2
        with pytest.raises(NotFound):
            versions.get_version(s, 4)
        assert [r.serial for r in versions.recent_versions(s)] == [3, 2, 1]
        assert [r.serial for r in versions.recent_versions(s, 2)] == [3, 2]
        assert [r.serial for r in versions.recent_versions(s, 0)] == [3]  # at least one, at most 1000


@pytest.mark.usefixtures("three")
def test_entries_and_models_are_what_was_signed(database: Database, settings: Settings) -> None:
    with database.reading() as s:
        rows = {serial: versions.get_version(s, serial) for serial in (1, 2, 3)}
        names = {serial: [e.name for e in versions.entries_of(s, row)] for serial, row in rows.items()}
        assert names == {1: [], 2: ["gallery-one.test", "gallery-two.test"], 3: ["gallery-two.test"]}
        for row in rows.values():
            entries = versions.entries_of(s, row)
            assert hashlib.sha256(formats.canonical_list(entries)).hexdigest() == row.set_hash
            signed = versions.manifest_of(row)
            assert signed.checkpoint == checkpoints.of_version(s, row.serial) and signed.checkpoint is not None
            assert signed.list_sha256 == row.set_hash and signed.count == len(entries)
            # the model renders to the signed bytes of every format, and those are the files served
            for ext, body in formats.render_all(versions.load_version_model(s, row)).items():
                assert hashlib.sha256(body).hexdigest() == signed.files[ext].sha256
                assert body == versions.file_bytes(s, row, ext, settings.data_dir)
        with pytest.raises(NotFound):
            versions.file_bytes(s, rows[3], "exe", settings.data_dir)


@pytest.mark.usefixtures("three")
def test_diffs_between_serials(database: Database) -> None:
    with database.reading() as s:
        everything = versions.diff(s, from_serial=1)
        assert (everything.from_serial, everything.to_serial) == (1, 3)
        assert [a.name for a in everything.added] == ["gallery-two.test"] and everything.removed == ()
        added = versions.diff(s, from_serial=1, to_serial=2)
        assert [a.name for a in added.added] == ["gallery-one.test", "gallery-two.test"]
        lifted = versions.diff(s, from_serial=2, to_serial=3)
        assert lifted.added == () and lifted.removed == (
            formats.FeedEntry("gallery-one.test", "gallery-one.test", "domain_and_subdomains"),)
        assert versions.diff(s, from_serial=3) == Delta(3, 3, (), ())
        # the stored one-step delta is the one the manifest signs
        body = versions.delta_file(s, versions.get_version(s, 3))
        assert hashlib.sha256(body).hexdigest() == versions.manifest_of(versions.get_version(s, 3)).delta.sha256  # type: ignore[union-attr]
        assert parse_delta(body) == lifted
        with pytest.raises(InvalidInput):
            versions.diff(s, from_serial=3, to_serial=2)
        with pytest.raises(NotFound):
            versions.diff(s, from_serial=1, to_serial=9)
