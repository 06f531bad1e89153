"""Pruning the files folder: the files of all but the latest lists go (they can be rendered again from the
database), files still shared with a kept list stay, and the temporary files of an interrupted write are swept
once they are old."""

from __future__ import annotations

import os
import time

from blocklist.db import Database
from blocklist.models import User
from blocklist.settings import Settings
from isp_feed import publish, versions
from isp_feed.jobs import FeedJobContext, publish_feed
from isp_feed_client import stored
from tests.support.factories import approved


def test_prune_keeps_the_latest_lists_and_sweeps_old_strays(database: Database, settings: Settings,
                                                            people: dict[str, User]) -> None:
    ctx = FeedJobContext.standalone(database, settings)
    for name in ("one.test", "two.test", "three.test", "four.test"):
        with database.transaction() as s:
            approved(s, people["officer"], people["magistrate"], name)
        assert publish_feed(ctx) is not None
    files = settings.data_dir / "feed" / "files"
    old_stray, new_stray = files / ".incoming-dead-rpz", files / ".incoming-live-rpz"
    old_stray.write_bytes(b"torn")
    new_stray.write_bytes(b"being written")
    an_hour_ago = time.time() - publish.STRAY_AFTER - 60
    os.utime(old_stray, (an_hour_ago, an_hour_ago))

    removed = publish.prune_files(database, settings.data_dir, keep=2)

    assert not old_stray.exists() and new_stray.exists()  # a write in progress is left alone
    with database.reading() as s:
        latest = versions.latest_version(s)
        assert latest is not None
        for ext in ("rpz", "list", "json"):
            assert stored.intact_size(versions.file_path(s, versions.content_row(s, latest), ext, settings.data_dir))
        second = versions.get_version(s, 2)  # spliced from the first: a pieces list (isp_feed_client/stored.py)
        gone = versions.file_path(s, second, "rpz", settings.data_dir)
        assert not stored.is_stored(gone) and str(stored.pieces_path(gone).relative_to(settings.data_dir)) in removed
        assert versions.restore_files(s, second, settings.data_dir) != []  # rendered again on demand, as signed
        assert gone.exists()  # whole, this time
