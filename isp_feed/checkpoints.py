"""Signed checkpoints of the audit chain: the anchor outside the database.

An insider with the database can rewrite an event and recompute every later hash and the head row; the chain then
checks again. A checkpoint (event count, head hash, time) signed with the feed key, made with every feed version
and at least hourly, travels inside the signed envelope to every ISP's client, which keeps it: those copies are
out of the insider's reach, and `blocklist audit verify --checkpoints DIR` finds a history that no longer passes
through them. The core's audit module only compares hashes (`audit.Witness`); the signatures are checked here.

Files: `audit-checkpoint-<events>-<time>.json` with `.minisig` beside it (`minisign -V -P <key> -m FILE` checks
one by hand), and the clients' append-only `checkpoints.jsonl` (one checkpoint per line, see formats.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from blocklist import audit
from blocklist.models import Base, UtcDateTime, utcnow
from isp_feed.keys import KeyStore
from isp_feed_client import formats, signing, splice

# The design's "at least hourly"; feed versions (re-issued hourly) usually make one sooner.
CHECKPOINT_EVERY = dt.timedelta(hours=1)
FILE_PREFIX = "audit-checkpoint-"
CLIENT_FILE = "checkpoints.jsonl"


class CheckpointRow(Base):
    """A checkpoint as made and signed (append-only: the database refuses UPDATE and DELETE)."""

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    events: Mapped[int] = mapped_column(Integer)
    head_hash: Mapped[str] = mapped_column(String(64))
    made_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    key_id: Mapped[str] = mapped_column(String(16))
    signature: Mapped[str] = mapped_column(Text)
    trigger: Mapped[str] = mapped_column(String(20))  # "feed version" | "hourly" | "cli"
    feed_serial: Mapped[int | None] = mapped_column(Integer, nullable=True, unique=True)

    def model(self) -> formats.AuditCheckpoint:
        """The feed-format object (what the envelope carries)."""
        return formats.AuditCheckpoint(self.events, self.head_hash, self.made_at, self.signature)


class CheckpointError(Exception):
    """A checkpoint file is malformed, unsigned, or signed by no trusted key."""


def make(session: Session, keys: KeyStore, *, trigger: str, now: dt.datetime | None = None,
         feed_serial: int | None = None, point: tuple[int, str] | None = None) -> formats.AuditCheckpoint:
    """Sign the chain's head now (or `point`, an (events, hash) already verified) and store the checkpoint.

    One made for a feed version is named in that version's `feed.published` event; any other is an event itself.
    """
    events, head = point if point is not None else audit.current_head(session)
    moment = (now or utcnow()).astimezone(dt.UTC).replace(microsecond=0)  # the signed text has seconds
    body, comment = formats.checkpoint_body(events, head, moment), formats.checkpoint_comment(events, head, moment)
    signature = keys.sign(body, comment)
    row = CheckpointRow(events=events, head_hash=head, made_at=moment, key_id=keys.active_key_id(),
                        signature=signature, trigger=trigger, feed_serial=feed_serial)
    session.add(row)
    session.flush()
    if feed_serial is None:
        audit.record(session, actor="system", action="audit.checkpoint", object_type="audit_checkpoint",
                     object_id=row.id, details={"events": events, "head": head, "at": formats.checkpoint_time(moment),
                                                "key_id": row.key_id, "trigger": trigger})
    return row.model()


def of_version(session: Session, serial: int) -> formats.AuditCheckpoint | None:
    """The checkpoint a feed version carries (None for versions made before checkpoints existed)."""
    row = session.execute(select(CheckpointRow).where(CheckpointRow.feed_serial == serial)).scalar_one_or_none()
    return row.model() if row is not None else None


def latest(session: Session) -> CheckpointRow | None:
    """The newest checkpoint made."""
    return session.execute(select(CheckpointRow).order_by(CheckpointRow.id.desc()).limit(1)).scalar_one_or_none()


def file_name(checkpoint: formats.AuditCheckpoint) -> str:
    """`audit-checkpoint-<events>-<time>.json`: sorted by name is sorted by chain length."""
    return f"{FILE_PREFIX}{checkpoint.events:012d}-{checkpoint.at.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}.json"


def write_file(folder: Path, checkpoint: formats.AuditCheckpoint) -> Path:
    """Write the checkpoint and its `.minisig` into `folder`; returns the checkpoint's path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / file_name(checkpoint)
    # The signature first: a checkpoint file is never seen without it.
    splice.write_chunks(path.with_name(path.name + ".minisig"), [checkpoint.signature.encode()])
    splice.write_chunks(path, [formats.checkpoint_body(checkpoint.events, checkpoint.head, checkpoint.at)])
    return path


def newest_file_time(folder: Path) -> dt.datetime | None:
    """When the newest checkpoint file in `folder` was made (from its name), None when there is none."""
    names = sorted(path.name for path in folder.glob(f"{FILE_PREFIX}*.json")) if folder.is_dir() else []
    times = []
    for name in names:
        with suppress(ValueError):
            times.append(dt.datetime.strptime(name[-len("YYYYmmddTHHMMSSZ.json"):-len(".json")],
                                              "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC))
    return max(times, default=None)


def trusted_keys(store: KeyStore) -> list[signing.PublicKey]:
    """Every key the server ever signed with: the active one and all retired ones, whatever their end date
    (a checkpoint stays evidence long after its key stopped signing feeds)."""
    keys = [store.active_public_key()]
    retired = store.folder / "retired"
    for pub in sorted(retired.glob("*.pub")) if retired.is_dir() else []:
        keys.append(signing.parse_public_key(pub.read_text()))
    return keys


def check(checkpoint: formats.AuditCheckpoint, keys: list[signing.PublicKey], label: str) -> audit.Witness:
    """The witness a checkpoint gives, once its signature and signed comment are checked."""
    body = formats.checkpoint_body(checkpoint.events, checkpoint.head, checkpoint.at)
    try:
        comment = signing.verify(body, checkpoint.signature, keys)
    except signing.SignatureError as exc:
        raise CheckpointError(f"{label}: {exc}") from None
    if comment != formats.checkpoint_comment(checkpoint.events, checkpoint.head, checkpoint.at):
        raise CheckpointError(f"{label}: the signed comment does not state this checkpoint")
    return audit.Witness(checkpoint.events, checkpoint.head,
                         f"the checkpoint of {formats.checkpoint_time(checkpoint.at)} ({label})")


@dataclass
class Witnessed:
    """What a set of checkpoint folders holds: the witnesses, and why any file or line was not one."""

    witnesses: list[audit.Witness] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _read_file(path: Path, keys: list[signing.PublicKey]) -> audit.Witness:
    signature = path.with_name(path.name + ".minisig")
    if not signature.is_file():
        raise CheckpointError(f"{path}: no signature ({signature.name} is missing)")
    try:
        events, head, at = formats.parse_checkpoint_body(path.read_bytes())
    except formats.FeedFormatError as exc:
        raise CheckpointError(f"{path}: {exc}") from None
    return check(formats.AuditCheckpoint(events, head, at, signature.read_text()), keys, str(path))


def _read_lines(path: Path, keys: list[signing.PublicKey], found: Witnessed) -> None:
    # Whatever follows the last newline was cut by a crash while being appended: it never was a checkpoint.
    lines = path.read_text(errors="replace").split("\n")[:-1]
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        label = f"{path}:{number}"
        try:
            checkpoint, _ = formats.parse_checkpoint_line(line)
            found.witnesses.append(check(checkpoint, keys, label))
        except formats.FeedFormatError as exc:
            found.problems.append(f"{label}: {exc}")
        except CheckpointError as exc:
            found.problems.append(str(exc))


def load(folders: Iterable[Path], keys: list[signing.PublicKey]) -> Witnessed:
    """Every checkpoint under the folders (exported files and ISP clients' state dirs), each signature checked."""
    found = Witnessed()
    for folder in folders:
        if not folder.is_dir():
            found.problems.append(f"{folder}: not a directory")
            continue
        for path in sorted(folder.rglob("*")):
            if not path.is_file():
                continue
            if path.name.startswith(FILE_PREFIX) and path.name.endswith(".json"):
                try:
                    found.witnesses.append(_read_file(path, keys))
                except CheckpointError as exc:
                    found.problems.append(str(exc))
            elif path.name == CLIENT_FILE:
                _read_lines(path, keys, found)
    return found
