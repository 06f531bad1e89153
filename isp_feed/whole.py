"""The first version of a list: every name read from the tables and every format written, on both cores.

Later versions are spliced from their predecessor (isp_feed_client/splice.py); the first has none. At national scale
(1,000,000 names) reading the list and rendering eight formats is seconds of single-threaded Python, so on SQLite
a big list is split by name: this process reads and renders the names before the split, a second process
(`isp_feed/render_half.py`) those from it on, each in its own snapshot, at the same time. The publisher writes its
own half into each file after the header, appends the other half's body (copied by the kernel, hashed as read),
then the footer; the files are byte for byte those of one whole render.

Both halves must describe one list. The second snapshot is taken after the first; if an approval, a lift or a
confirmation was recorded in between, the split is abandoned and the list read again whole, in one snapshot.
Any failure of the second process likewise: splitting is an optimisation, never a condition.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import uuid
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from blocklist import audit
from blocklist.db import Database
from blocklist.models import AuditEvent, AuditHead, Submission
from isp_feed import candidate, render_half
from isp_feed.render_half import version_job
from isp_feed_client import formats, splice

SPLIT_FROM = 100_000  # submissions (of any state) from which the list is read and rendered in two halves
_SAMPLE = 512  # rows looked at to choose the split name
log = logging.getLogger("isp_feed.whole")


@dataclass(frozen=True)
class Whole:
    """A whole list read and written: the audit head it was read at, its size, block orders, and each format's
    file (not yet at its content address) as written."""

    head: int
    count: int
    block_order_ids: frozenset[int]
    written: dict[str, tuple[Path, splice.Written]]
    snapshot: bytes | None = None  # the canonical list compressed (zlib), when asked for


def write(database: Database, *, content: formats.FeedVersion, incoming: Callable[[str], Path],
          split_from: int | None = None, snapshot: bool = False) -> Whole:
    """Read the whole approved list and write every format of `content` (whose entries are not used) with it;
    split in two halves from `split_from` submissions on (default SPLIT_FROM); with `snapshot`, also compress the
    canonical list (Whole.snapshot)."""
    with candidate.no_cyclic_gc():
        with database.reading() as session:
            head = audit.current_head(session)[0]
            split = _split_name(session, SPLIT_FROM if split_from is None else split_from)
            half = _Half.start(session, split, content, incoming) if split is not None else None
            mine, my_orders = _read(session, below=split if half is not None else None)
        theirs = half.counted() if half is not None else None
        if half is not None and (theirs is None or not _same_list(database, head, theirs["head"])):
            half.stop()
            log.info("feed: the halves of the first version were read across a change; reading it whole")
            return write(database, content=content, incoming=incoming, split_from=sys.maxsize, snapshot=snapshot)
        count = len(mine) + (theirs["count"] if theirs is not None else 0)
        orders = my_orders | frozenset(theirs["orders"] if theirs is not None else ())
        sinks: dict[str, splice.Sink] = {}
        their_files: dict[str, str] = {}
        try:
            mine_empty = not mine.names
            _write_mine(content, mine, count, incoming, sinks)
            del mine
            if half is not None:
                finished = half.finished()
                if finished is None:
                    raise _HalfFailed
                their_files = finished
            written, compressed = _finish(content, count, sinks, their_files, mine_empty=mine_empty,
                                          snapshot=snapshot)
        except _HalfFailed:
            for sink in sinks.values():
                sink.abort()
            log.warning("feed: the second half of the first version failed; reading it whole")
            return write(database, content=content, incoming=incoming, split_from=sys.maxsize, snapshot=snapshot)
        except BaseException:
            for sink in sinks.values():
                sink.abort()
            if half is not None:
                half.stop()
            raise
        finally:
            for path in their_files.values():
                Path(path).unlink(missing_ok=True)
    return Whole(head, count, orders, written, compressed)


class _HalfFailed(Exception):
    pass


def _read(session: Session, *, below: str | None) -> tuple[formats.Prepared, frozenset[int]]:
    """The approved names (before `below`, if given), prepared for rendering, and their block orders: on SQLite
    as one row of aggregates (render_half.list_sql), else, or if that row cannot be read so, row by row."""
    if session.get_bind().dialect.name == "sqlite":
        read = render_half.read_half(session.connection().connection.dbapi_connection, below=below)  # type: ignore[arg-type]
        if read is not None:
            return read
        log.warning("feed: the list cannot be read as aggregates; reading it row by row")
    found = candidate.current_candidate(session, hashed=False, below=below)
    return formats.prepared_of(found.entries), found.block_order_ids


def _write_mine(content: formats.FeedVersion, prepared: formats.Prepared, count: int,
                incoming: Callable[[str], Path], sinks: dict[str, splice.Sink]) -> None:
    """Header and this process's body of every format, each written and hashed by a thread while the next one
    renders (at most two bodies in memory)."""
    def write(sink: splice.Sink, header: bytes, body: memoryview) -> None:
        sink.write(header)
        for piece in splice.pieces(body):
            sink.write(piece)

    with ThreadPoolExecutor(max_workers=1) as pool:
        writing = None
        for ext in formats.EXTENSIONS:
            header, _ = formats.render_frame(content, ext, count)
            sinks[ext] = splice.Sink(incoming(ext), durable=False)
            queued = pool.submit(write, sinks[ext], header, formats.render_body(content, prepared, ext))
            if writing is not None:
                writing.result()
            writing = queued
        if writing is not None:
            writing.result()


def _finish(content: formats.FeedVersion, count: int, sinks: dict[str, splice.Sink], their_files: dict[str, str],
            mine_empty: bool, snapshot: bool) -> tuple[dict[str, tuple[Path, splice.Written]], bytes | None]:
    """Append the other half's bodies and the footers; two threads, as copying and hashing release the GIL. With
    `snapshot`, also the canonical list compressed (publish.SNAPSHOT_EVERY), by a third thread once the list is
    finished (first, as compressing takes longest), while the other files are."""
    def finish(ext: str) -> tuple[str, tuple[Path, splice.Written]]:
        sink = sinks[ext]
        if ext in their_files:
            # The other half's lines are rendered as lines after the first (JSON: opened with a comma); when this
            # half was empty, its first line is the file's first.
            sink.append_file(Path(their_files[ext]), len(formats.LAYOUTS[ext].separator) if mine_empty else 0)
        _, footer = formats.render_frame(content, ext, count)
        sink.write(footer)
        return ext, (sink.target, sink.commit())

    def size(ext: str) -> int:
        return -Path(their_files[ext]).stat().st_size if ext in their_files else 0

    order = sorted(sinks, key=lambda ext: (ext != "list", size(ext)))
    with ThreadPoolExecutor(max_workers=2) as pool, ThreadPoolExecutor(max_workers=1) as compressing:
        finished = [pool.submit(finish, ext) for ext in order]
        compressed = compressing.submit(lambda: zlib.compress(finished[0].result()[1][0].read_bytes(), 1)) \
            if snapshot and order and order[0] == "list" else None
        return dict(f.result() for f in finished), compressed.result() if compressed is not None else None


def _split_name(session: Session, split_from: int) -> str | None:
    """The name at which to split the list (about its middle), or None to read it in one piece: a small list, or
    a database other than a SQLite file (the second process reads the file itself)."""
    url = session.get_bind().engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    # Two scalar subqueries: SQLite finds a lone min() or max() of the key at once, but both in one SELECT by a scan.
    low, high = session.execute(select(select(func.min(Submission.id)).scalar_subquery(),
                                       select(func.max(Submission.id)).scalar_subquery())).one()
    if low is None or high - low + 1 < split_from:
        return None
    ids = sorted({low + (high - low) * i // _SAMPLE for i in range(_SAMPLE + 1)})
    names = sorted(session.execute(select(Submission.domain).where(Submission.id.in_(ids))).scalars())
    return names[len(names) // 2] if names else None


def _same_list(database: Database, head: int, their_head: int) -> bool:
    """Whether the list read at audit head `their_head` is the one at `head`: no approval, lift or confirmation
    was recorded in between (other events, a submission say, leave the list as it was)."""
    if their_head == head:
        return True
    if their_head < head:
        return False
    with database.reading() as session:
        return session.execute(select(AuditEvent.id).where(
            AuditEvent.id > head, AuditEvent.id <= their_head,
            AuditEvent.action.in_(candidate.CHANGE_EVENTS)).limit(1)).first() is None


class _Half:
    """The second process, reading and rendering the names from the split on."""

    def __init__(self, process: subprocess.Popen[str], folder: Path, prefix: str) -> None:
        self.process, self.folder, self.prefix = process, folder, prefix

    @classmethod
    def start(cls, session: Session, split: str, content: formats.FeedVersion,
              incoming: Callable[[str], Path]) -> _Half | None:
        url = session.get_bind().engine.url
        folder, prefix = incoming("half").parent, f".incoming-{uuid.uuid4().hex}-half-"
        job = {"database": url.database, "prefix": prefix,
               "head_sql": candidate.literal_sql(session, select(AuditHead.last_id).where(AuditHead.id == 1)),
               "from_name": split,
               "version": version_job(content), "exts": list(formats.EXTENSIONS), "dir": str(folder)}
        # The same code as this process, wherever it was imported from.
        root = str(Path(formats.__file__).resolve().parents[1])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
        try:
            process = subprocess.Popen([sys.executable, "-m", "isp_feed.render_half"], stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, text=True, env=env)
            assert process.stdin is not None
            process.stdin.write(json.dumps(job))
            process.stdin.close()
        except OSError as exc:
            log.warning("feed: cannot start the second renderer (%s); reading the list whole", exc)
            return None
        return cls(process, folder, prefix)

    def _line(self) -> dict[str, Any] | None:
        stdout: IO[str] | None = self.process.stdout
        line = stdout.readline() if stdout is not None else ""
        try:
            return json.loads(line) if line else None
        except json.JSONDecodeError:
            return None

    def counted(self) -> dict[str, Any] | None:
        """What it read (count, audit head, block orders), once read; None if it failed."""
        return self._line()

    def finished(self) -> dict[str, str] | None:
        """Format -> the file of its body, once written; None if it failed."""
        done = self._line()
        if self.process.wait() != 0 or done is None:
            return None
        files: dict[str, str] = done["files"]
        return files

    def stop(self) -> None:
        """Kill it, and remove whatever it wrote (its files all bear its own prefix)."""
        self.process.kill()
        self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        for path in self.folder.glob(f"{self.prefix}*"):
            path.unlink(missing_ok=True)
