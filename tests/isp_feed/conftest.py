"""Fixtures of the feed's tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.feed_server import FeedServer, feed_server


@pytest.fixture
def feed(tmp_path: Path) -> Iterator[FeedServer]:
    """The stand-in feed server, its public key pinned in `tmp_path/feed.pub`."""
    with feed_server() as server:
        (tmp_path / "feed.pub").write_text(server.public_key_text())
        yield server
