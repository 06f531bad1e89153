"""The read side of published feed versions: one function per question.

Which versions exist (`latest_version`, `get_version`, `next_version`, `recent_versions`), whose files a
version carries (`content_row`, `artifacts_of`, `artifact_of`, `file_path`), its signed manifest (`manifest_of`),
what changed between two serials from the stored deltas (`diff`: O(changes)), the whole list of a version
(`entries_of`: the nearest snapshot plus the deltas after it) and putting a content's files back on disk from the
database (`restore_files`). Writing versions is isp_feed/publish.py; fetch logging and acknowledgements
isp_feed/serving.py.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from pathlib import Path

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from blocklist.errors import Conflict, InvalidInput, NotFound
from isp_feed.models import FeedArtifact, FeedDelta, FeedEntrySet, FeedSnapshot, FeedVersionRow
from isp_feed_client import formats, manifest, splice, stored
from isp_feed_client.delta import Delta, compose, parse_delta
from isp_feed_client.delta import apply as apply_delta


def latest_version(session: Session) -> FeedVersionRow | None:
    """The newest published version."""
    return session.execute(select(FeedVersionRow).order_by(FeedVersionRow.serial.desc()).limit(1)).scalar_one_or_none()


def get_version(session: Session, serial: int) -> FeedVersionRow:
    """A published version by serial, or NotFound."""
    row = session.get(FeedVersionRow, serial)
    if row is None:
        raise NotFound(f"no feed version {serial}")
    return row


def next_version(session: Session, serial: int) -> FeedVersionRow | None:
    """The oldest version after `serial` (None when `serial` is the latest): where an ISP that applied `serial`
    started falling behind."""
    return session.execute(select(FeedVersionRow).where(FeedVersionRow.serial > serial)
                           .order_by(FeedVersionRow.serial).limit(1)).scalar_one_or_none()


def recent_versions(session: Session, limit: int = 50) -> list[FeedVersionRow]:
    """The newest `limit` versions (1 to 1000), newest first."""
    query = select(FeedVersionRow).order_by(FeedVersionRow.serial.desc()).limit(max(1, min(limit, 1000)))
    return list(session.execute(query).scalars())


def recent_content_serials(session: Session, limit: int = 5) -> list[int]:
    """The serials of the newest `limit` versions that changed the list (re-issues skipped), newest first: those
    whose canaries tell which list a resolver serves."""
    query = (select(FeedVersionRow.serial).where(or_(FeedVersionRow.content_serial.is_(None),
                                                     FeedVersionRow.content_serial == FeedVersionRow.serial))
             .order_by(FeedVersionRow.serial.desc()).limit(max(1, limit)))
    return list(session.execute(query).scalars())


def content_row(session: Session, row: FeedVersionRow) -> FeedVersionRow:
    """The version that introduced the list `row` carries (itself unless `row` is a re-issue)."""
    if row.content_serial is None or row.content_serial == row.serial:
        return row
    return get_version(session, row.content_serial)


def artifacts_of(session: Session, row: FeedVersionRow) -> list[FeedArtifact]:
    """The format files of a version's content."""
    serial = content_row(session, row).serial
    return list(session.execute(select(FeedArtifact).where(FeedArtifact.serial == serial)
                                .order_by(FeedArtifact.ext)).scalars())


def artifact_of(session: Session, row: FeedVersionRow, ext: str) -> FeedArtifact:
    """One format file of a version's content, or NotFound."""
    artifact = session.get(FeedArtifact, (content_row(session, row).serial, ext))
    if artifact is None or artifact.path is None:
        raise NotFound(f"feed version {row.serial} has no {ext!r} file (versions from before manifests are kept in "
                       "the audit, not served)" if artifact is not None else f"feed version {row.serial} has no "
                       f"format {ext!r}")
    return artifact


def file_path(session: Session, row: FeedVersionRow, ext: str, data_dir: Path) -> Path:
    """Where one format file of a version lies on disk: that file, or the pieces listed beside it
    (isp_feed_client/stored.py: read it with `stored.open_stored`, test it with `stored.is_stored`)."""
    artifact = artifact_of(session, row, ext)
    assert artifact.path is not None
    return data_dir / artifact.path


def manifest_of(row: FeedVersionRow) -> manifest.Manifest:
    """The signed manifest of a version (NotFound for versions from before manifests)."""
    if row.manifest is None:
        raise NotFound(f"feed version {row.serial} predates manifests")
    return manifest.parse_manifest(row.manifest.encode())


def _legacy_entries(session: Session, row: FeedVersionRow) -> tuple[formats.FeedEntry, ...]:
    kept = session.get(FeedEntrySet, row.set_hash)
    if kept is None:
        raise NotFound(f"no feed entry set {row.set_hash[:12]}")
    return tuple(formats.FeedEntry(name=n, unicode=u, scope=s)
                 for n, u, s in json.loads(zlib.decompress(kept.entries)))


def _deltas(session: Session, after: int, through: int) -> list[Delta]:
    """The stored deltas of the content versions in (after, through], in order."""
    rows = session.execute(select(FeedDelta).where(FeedDelta.serial > after, FeedDelta.serial <= through)
                           .order_by(FeedDelta.serial)).scalars()
    return [parse_delta(zlib.decompress(r.body)) for r in rows]


def entries_of(session: Session, row: FeedVersionRow) -> tuple[formats.FeedEntry, ...]:
    """The names a version carries, sorted: the nearest snapshot, then the deltas after it."""
    if row.manifest is None:
        return _legacy_entries(session, row)
    serial = content_row(session, row).serial
    snapshot = session.execute(select(FeedSnapshot).where(FeedSnapshot.serial <= serial)
                               .order_by(FeedSnapshot.serial.desc()).limit(1)).scalar_one_or_none()
    if snapshot is None:
        raise NotFound(f"no snapshot of the list before serial {serial}")
    entries = formats.parse_list(zlib.decompress(snapshot.body))
    for step in _deltas(session, snapshot.serial, serial):
        entries = apply_delta(entries, step)
    return entries


def load_version_model(session: Session, row: FeedVersionRow) -> formats.FeedVersion:
    """The format-level version a stored version's files were rendered from (its content, with every name)."""
    content = content_row(session, row)
    if content.content_generated_at is None:
        return formats.FeedVersion(row.serial, row.generated_at, entries_of(session, row), row.stop_page_name,
                                   row.stop_page_ipv4, row.stop_page_ipv6)
    return formats.FeedVersion(content.serial, content.content_generated_at, entries_of(session, content),
                               content.stop_page_name, content.stop_page_ipv4, content.stop_page_ipv6)


def _intact(path: Path, artifact: FeedArtifact, check_hash: bool) -> bool:
    if stored.intact_size(path) != artifact.size:
        return False
    return not check_hash or stored.stored_sha256(path) == artifact.sha256


def restore_files(session: Session, row: FeedVersionRow, data_dir: Path, *, check_hashes: bool = False) -> list[str]:
    """Put back any missing, torn (or, with `check_hashes`, altered) file of a content version by rendering it again
    (rendering is deterministic: the bytes must hash as signed, or Conflict). Returns the formats restored; a data
    dir that kept its files costs a stat per format (and a read of each with `check_hashes`)."""
    artifacts = [a for a in artifacts_of(session, row) if a.path is not None]
    missing = [a for a in artifacts if not _intact(data_dir / a.path, a, check_hashes)]  # type: ignore[operator]
    if not missing:
        return []
    version = load_version_model(session, row)
    for artifact in missing:
        target = data_dir / artifact.path  # type: ignore[operator]
        incoming = target.with_name(f".restore-{artifact.ext}")
        written = splice.render_file(incoming, version, artifact.ext)
        if written.sha256 != artifact.sha256:
            incoming.unlink(missing_ok=True)
            raise Conflict(f"feed version {row.serial}.{artifact.ext} no longer renders to its signed bytes")
        incoming.replace(target)
        stored.pieces_path(target).unlink(missing_ok=True)  # whole again: the pieces list is not needed
    return [a.ext for a in missing]


def diff(session: Session, *, from_serial: int, to_serial: int | None = None) -> Delta:
    """What changed from the list of one version to that of another (default: the latest), from stored deltas:
    O(changes since `from_serial`). Its serials are content serials (a re-issue carries its content's)."""
    target = get_version(session, to_serial) if to_serial is not None else latest_version(session)
    if target is None:
        raise NotFound("no feed version has been published yet")
    if from_serial > target.serial:
        raise InvalidInput(f"from={from_serial} is newer than serial {target.serial}", field="from")
    start = get_version(session, from_serial)
    if start.manifest is None or target.manifest is None:
        raise NotFound(f"no deltas from serial {from_serial} (it predates manifests): download the list in full")
    first, last = content_row(session, start).serial, content_row(session, target).serial
    if first == last:
        return Delta(first, last, (), ())
    steps = _deltas(session, first, last)
    if not steps or steps[0].from_serial != first:
        raise NotFound(f"no deltas from serial {from_serial}: download the list in full")
    return compose(steps)


def delta_file(session: Session, row: FeedVersionRow) -> bytes:
    """The canonical bytes of the delta a version's manifest signs (from the previous content to its own)."""
    kept = session.get(FeedDelta, content_row(session, row).serial)
    if kept is None:
        raise NotFound(f"feed version {row.serial} has no delta (the first list, or from before manifests)")
    body = zlib.decompress(kept.body)
    if hashlib.sha256(body).hexdigest() != kept.sha256:
        raise Conflict(f"the stored delta of feed version {row.serial} does not match its hash")
    return body


def file_bytes(session: Session, row: FeedVersionRow, ext: str, data_dir: Path) -> bytes:
    """The exact bytes of one format file of a version, as served (read from the data dir, never rendered)."""
    return stored.read_all(file_path(session, row, ext, data_dir))
