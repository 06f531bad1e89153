"""Periodic jobs of the feed (registered in api/scheduler.py)."""

from __future__ import annotations

from blocklist.db import Database
from blocklist.settings import Settings
from blocklist.workflow import name_policy
from isp_feed import publish
from isp_feed.keys import KeyStore


def publish_feed(database: Database, settings: Settings, *, force: bool = False) -> int | None:
    """Publish a version when the approved set changed (gate permitting) or the last one is due a re-issue."""
    with database.transaction() as session:
        policy = name_policy(session, extra_protected=settings.protected_extra_names(),
                             extra_platforms=settings.platform_extra_names())
        row = publish.build(session, settings=settings, keys=KeyStore(settings.data_dir / "keys"), policy=policy,
                            force=force)
        return row.serial if row is not None else None
