"""What a running process holds: the settings (built once) and the database, plus every migration folder."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import anyio
from sqlalchemy.orm import Session

import api
import isp_feed
import requisitions
from blocklist import audit
from blocklist import db as core_db
from blocklist.jobs import PolicyCache
from blocklist.names import NamePolicy
from blocklist.settings import Settings
from isp_feed.jobs import FeedJobContext
from isp_feed.keys import KeyStore


def migration_locations() -> list[Path]:
    """The Alembic version folders of the packages beyond the core (the core's is always included)."""
    folders = [Path(pkg.__file__).parent / "migrations" / "versions"
               for pkg in (requisitions, isp_feed, api) if pkg.__file__]
    return [f for f in folders if f.is_dir()]


def upgrade_database(url: str) -> None:
    """Migrate the database at `url` to the newest schema of every package."""
    core_db.upgrade(url, migration_locations())


@dataclass
class Runtime:
    """Settings and database of one process; build it once at start-up."""

    settings: Settings
    # The last walk of the whole audit chain and when it ran (the auditor page shows it; see api/web/auditor.py).
    chain_check: tuple[audit.ChainStatus, dt.datetime] | None = field(default=None, repr=False)

    @cached_property
    def database(self) -> core_db.Database:
        """The database named by the settings (created lazily, once)."""
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        return core_db.Database(self.settings.resolved_database_url(),
                                lock_timeout=self.settings.db_lock_timeout_seconds)

    @cached_property
    def request_slots(self) -> anyio.Semaphore:
        """How many HTTP requests may hold a database transaction at the same time."""
        return anyio.Semaphore(self.settings.db_request_slots)

    @cached_property
    def read_slots(self) -> anyio.Semaphore:
        """How many HTTP requests may hold a read-only transaction at the same time."""
        return anyio.Semaphore(self.settings.db_read_slots)

    @cached_property
    def keys(self) -> KeyStore:
        """The feed's signing keys, under the data directory (generated on first use)."""
        return KeyStore(self.settings.data_dir / "keys")

    def ensure_schema(self) -> None:
        """Create or migrate the schema (idempotent); every command that touches the database calls it."""
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        upgrade_database(self.settings.resolved_database_url())

    @cached_property
    def policies(self) -> PolicyCache:
        """The name checks of this process (one cache, shared by the requests and the scheduled jobs)."""
        return PolicyCache(self.settings)

    def name_policy(self, session: Session) -> NamePolicy:
        """The name checks with this deployment's extras and the ISPs' own domains (rebuilt when those change)."""
        return self.policies(session)

    @cached_property
    def job_context(self) -> FeedJobContext:
        """What every scheduled job receives: this process's database, settings, keys and name checks."""
        return FeedJobContext(self.database, self.settings, self.policies, self.keys)
