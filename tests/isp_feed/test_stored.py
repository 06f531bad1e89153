"""Format files stored as pieces of older files (isp_feed_client/stored.py): a spliced version writes only its new
lines, reads and serves (whole, ranges, 304) exactly as the whole render, is written whole again after publication past
MAX_PIECES / 2 (its segments swept once old), and is rendered again whole when a piece is torn or missing."""

from __future__ import annotations

import hashlib
import os
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from api.runtime import Runtime
from blocklist import isps
from blocklist.models import User
from blocklist.settings import Settings
from isp_feed import publish, versions
from isp_feed.jobs import FeedJobContext, publish_feed
from isp_feed.models import FeedArtifact
from isp_feed_client import formats, stored
from tests.support.factories import approved, make_isp

NAMES = ["alpha.test", "csam-gallery.test", "mirror.example", "zulu.test"]


def _publish(rt: Runtime, people: dict[str, User], names: list[str]) -> int:
    ctx = FeedJobContext.standalone(rt.database, rt.settings)
    serial = 0
    for name in names:
        with rt.database.transaction() as s:
            approved(s, people["officer"], people["magistrate"], name)
        published = publish_feed(ctx)
        assert published is not None
        serial = published
    return serial


def _whole(rt: Runtime, serial: int) -> dict[str, bytes]:
    with rt.database.reading() as s:
        return formats.render_all(versions.load_version_model(s, versions.get_version(s, serial)))


def test_a_spliced_version_is_pieces_of_the_one_before_and_reads_as_the_whole_render(
        rt: Runtime, settings: Settings, people: dict[str, User]) -> None:
    folder = settings.data_dir / "feed" / "files"
    _publish(rt, people, NAMES[:1])
    before = {p.name: p.stat().st_size for p in folder.iterdir()}
    serial = _publish(rt, people, NAMES[1:2])
    new = {p.name: p.stat().st_size for p in folder.iterdir() if p.name not in before}
    whole = _whole(rt, serial)
    with rt.database.reading() as s:
        row = versions.get_version(s, serial)
        for ext, body in whole.items():
            path = versions.file_path(s, row, ext, settings.data_dir)
            assert not path.exists() and stored.pieces_path(path).exists(), ext  # not copied whole
            assert versions.file_bytes(s, row, ext, settings.data_dir) == body, ext
            assert stored.stored_sha256(path) == hashlib.sha256(body).hexdigest()
    # What the version wrote: a pieces list per format and one segment with the new lines of each (never a copy of
    # the old bytes; a national list's +1 writes kilobytes).
    assert sum(new.values()) < sum(len(b) for b in whole.values()) + 8 * 400


def test_pieces_are_served_like_a_file(rt: Runtime, people: dict[str, User]) -> None:
    serial = _publish(rt, people, NAMES)
    body = _whole(rt, serial)["rpz"]
    with rt.database.transaction() as s:
        credential = isps.rotate_credential(s, actor="test", isp=make_isp(s))
    client = TestClient(create_app(rt))
    auth = {"Authorization": f"Bearer {credential}"}
    full = client.get("/feed/v1/latest.rpz", headers=auth)
    assert full.status_code == 200 and full.content == body
    assert full.headers["content-length"] == str(len(body)) and full.headers["accept-ranges"] == "bytes"
    etag = full.headers["etag"]
    assert etag == f'"{hashlib.sha256(body).hexdigest()}"'
    assert client.get("/feed/v1/latest.rpz", headers={**auth, "If-None-Match": etag}).status_code == 304
    for asked, (start, end) in {"bytes=10-99": (10, 100), "bytes=-50": (len(body) - 50, len(body)),
                                "bytes=100-": (100, len(body))}.items():
        part = client.get("/feed/v1/latest.rpz", headers={**auth, "Range": asked})
        assert part.status_code == 206 and part.content == body[start:end], asked
        assert part.headers["content-range"] == f"bytes {start}-{end - 1}/{len(body)}"
    past = client.get("/feed/v1/latest.rpz", headers={**auth, "Range": f"bytes={len(body) + 5}-"})
    assert past.status_code == 416 and past.headers["content-range"] == f"bytes */{len(body)}"
    immutable = client.get(f"/feed/v1/versions/{serial}.rpz", headers={**auth, "Range": "bytes=0-0"})
    assert immutable.status_code == 206 and immutable.content == body[:1]


def test_a_format_is_written_whole_again_after_publication_past_half_max_pieces(
        rt: Runtime, settings: Settings, people: dict[str, User], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stored, "MAX_PIECES", 6)
    kinds = []
    for name in ["b1.test", "d1.test", "f1.test", "h1.test", "j1.test", "l1.test"]:
        serial = _publish(rt, people, [name])
        with rt.database.reading() as s:
            row = versions.get_version(s, serial)
            for ext in formats.EXTENSIONS:
                path = versions.file_path(s, row, ext, settings.data_dir)
                assert stored.pieces_count(path) <= 3, ext  # never left with more than MAX_PIECES / 2
            txt = versions.file_path(s, row, "txt", settings.data_dir)
            kinds.append("whole" if txt.exists() else "pieces")
            assert versions.file_bytes(s, row, "txt", settings.data_dir) == _whole(rt, serial)["txt"]
    assert kinds[0] == "whole" and "pieces" in kinds and kinds.count("whole") >= 2, kinds  # the first, and again


def test_segments_no_list_needs_any_more_are_swept_once_old(rt: Runtime, settings: Settings,
                                                            people: dict[str, User],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stored, "MAX_PIECES", 2)  # every spliced version is written whole again at once
    _publish(rt, people, NAMES)
    folder = settings.data_dir / "feed" / "files"
    with rt.database.reading() as s:
        kept = {a.path.rsplit("/", 1)[-1] for a in s.execute(select(FeedArtifact)).scalars() if a.path}
    orphans = [p for p in folder.iterdir() if not p.name.startswith(".") and p.name not in kept]
    assert orphans  # the segments of versions written whole again
    publish.prune_files(rt.database, settings.data_dir, keep=100)
    assert all(p.exists() for p in orphans)  # young: a version being written may need them
    old = time.time() - publish.STRAY_AFTER - 60
    for p in orphans:
        os.utime(p, (old, old))
    publish.prune_files(rt.database, settings.data_dir, keep=100)
    assert not any(p.exists() for p in orphans)
    with rt.database.reading() as s:
        latest = versions.latest_version(s)
        assert latest is not None
        for ext, body in _whole(rt, latest.serial).items():
            assert versions.file_bytes(s, latest, ext, settings.data_dir) == body


def test_a_torn_pieces_list_or_a_lost_piece_is_rendered_again_whole(
        rt: Runtime, settings: Settings, people: dict[str, User]) -> None:
    serial = _publish(rt, people, NAMES[:3])
    whole = _whole(rt, serial)
    with rt.database.reading() as s:
        row = versions.get_version(s, serial)
        rpz = versions.file_path(s, row, "rpz", settings.data_dir)
        stored.pieces_path(rpz).write_text("be-blocklist-pieces 1 12\ntorn")
        txt = versions.file_path(s, row, "txt", settings.data_dir)
        pieces, _ = stored.read_pieces(stored.pieces_path(txt))
        (txt.parent / pieces[0].name).unlink()  # the segment with this version's header line
        assert sorted(versions.restore_files(s, row, settings.data_dir)) == ["rpz", "txt"]
        for ext in ("rpz", "txt"):
            assert versions.file_bytes(s, row, ext, settings.data_dir) == whole[ext]
