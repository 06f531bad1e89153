"""The read side of published feed versions: one function per question.

How a version's list is stored (`canonical`, `entries_of`), which versions exist (`latest_version`, `get_version`,
`recent_versions`), the format-independent object every format is rendered from (`version_model` from parts at hand,
`load_version_model` from storage), the exact bytes of one format (`artifact_body`) and what changed between two
serials (`diff`). Writing versions (the candidate, the gate, holds, signing) is isp_feed/publish.py; fetch logging
and the ISPs' acknowledgements are isp_feed/serving.py.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from blocklist.errors import Conflict, InvalidInput, NotFound
from isp_feed import checkpoints, formats
from isp_feed.models import FeedArtifact, FeedEntrySet, FeedVersionRow


def canonical(entries: tuple[formats.FeedEntry, ...]) -> bytes:
    """The canonical bytes of a list of names: its SHA-256 identifies the set, and it is what a set row stores."""
    return json.dumps([[e.name, e.unicode, e.scope] for e in entries], separators=(",", ":"),
                      ensure_ascii=False).encode()


def latest_version(session: Session) -> FeedVersionRow | None:
    """The newest published version."""
    return session.execute(select(FeedVersionRow).order_by(FeedVersionRow.serial.desc()).limit(1)).scalar_one_or_none()


def get_version(session: Session, serial: int) -> FeedVersionRow:
    """A published version by serial, or NotFound."""
    row = session.get(FeedVersionRow, serial)
    if row is None:
        raise NotFound(f"no feed version {serial}")
    return row


def recent_versions(session: Session, limit: int = 50) -> list[FeedVersionRow]:
    """The newest `limit` versions (1 to 1000), newest first."""
    query = select(FeedVersionRow).order_by(FeedVersionRow.serial.desc()).limit(max(1, min(limit, 1000)))
    return list(session.execute(query).scalars())


def entries_of(session: Session, row: FeedVersionRow) -> tuple[formats.FeedEntry, ...]:
    """The names a version carries, sorted."""
    stored = session.get(FeedEntrySet, row.set_hash)
    if stored is None:
        raise NotFound(f"no feed entry set {row.set_hash[:12]}")
    return tuple(formats.FeedEntry(name=n, unicode=u, scope=s)
                 for n, u, s in json.loads(zlib.decompress(stored.entries)))


def version_model(row: FeedVersionRow, entries: tuple[formats.FeedEntry, ...],
                  checkpoint: formats.AuditCheckpoint | None = None) -> formats.FeedVersion:
    """The pure feed-format object of a version whose names (and checkpoint) are at hand."""
    return formats.FeedVersion(
        serial=row.serial, generated_at=row.generated_at, expires_at=row.expires_at,
        previous_sha256=row.previous_sha256, entries=entries, stop_page_name=row.stop_page_name,
        stop_page_ipv4=row.stop_page_ipv4, stop_page_ipv6=row.stop_page_ipv6, checkpoint=checkpoint,
    )


def load_version_model(session: Session, row: FeedVersionRow) -> formats.FeedVersion:
    """The feed-format object of a stored version: its names and the checkpoint it carries, from the database."""
    return version_model(row, entries_of(session, row), checkpoints.of_version(session, row.serial))


def artifact_body(session: Session, row: FeedVersionRow, ext: str, cache_dir: Path | None = None) -> bytes:
    """The exact bytes of one format of one version (re-rendered deterministically, checked against its hash)."""
    artifact = session.get(FeedArtifact, (row.serial, ext))
    if artifact is None:
        raise NotFound(f"feed version {row.serial} has no format {ext!r}")
    cached = cache_dir / f"{row.serial}.{ext}" if cache_dir is not None else None
    if cached is not None and cached.exists():
        body = cached.read_bytes()
        if hashlib.sha256(body).hexdigest() == artifact.sha256:
            return body
    body = formats.render_all(load_version_model(session, row), only=ext)[ext]
    if hashlib.sha256(body).hexdigest() != artifact.sha256:
        raise Conflict(f"feed version {row.serial}.{ext} no longer renders to its signed bytes")
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(cached.suffix + ".tmp")
        tmp.write_bytes(body)
        tmp.replace(cached)
    return body


@dataclass(frozen=True)
class Diff:
    """Names added and removed between two serials."""

    from_serial: int
    to_serial: int
    added: list[dict[str, str]]
    removed: list[dict[str, str]]


def diff(session: Session, *, from_serial: int, to_serial: int | None = None) -> Diff:
    """What changed from one version to another (default: to the latest)."""
    target = get_version(session, to_serial) if to_serial is not None else latest_version(session)
    if target is None:
        raise NotFound("no feed version has been published yet")
    if from_serial > target.serial:
        raise InvalidInput(f"from={from_serial} is newer than the latest serial {target.serial}", field="from")
    old = {e.name: e for e in entries_of(session, get_version(session, from_serial))}
    new = {e.name: e for e in entries_of(session, target)}
    added = [{"name": e.name, "unicode": e.unicode, "scope": e.scope}
             for name, e in sorted(new.items()) if name not in old or old[name].scope != e.scope]
    removed = [{"name": e.name, "unicode": e.unicode, "scope": e.scope}
               for name, e in sorted(old.items()) if name not in new or new[name].scope != e.scope]
    return Diff(from_serial, target.serial, added, removed)
