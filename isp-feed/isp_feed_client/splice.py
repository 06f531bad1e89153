"""Writing format files: whole (first version, fallback) or by splicing a delta into the previous file.

Every format is line-based (`formats.LAYOUTS`): header lines, the lines of each entry in name order, footer lines.
A new version's file is therefore the new header, the old body with the delta's entries cut out or rendered in at
the places a binary search over the old file finds, and the new footer. The unchanged stretches are copied as
bytes, never parsed, so a one-name change to a 1,000,000-name file costs a few dozen seeks and one sequential copy,
and it is hashed as it is written. The server builds every version's files this way; the reference client rebuilds
its own list and resolver file the same way from a delta, and checks the result against the signed manifest.

Used on both sides: imports only the standard library and the pure feed modules.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from isp_feed_client import formats, stored
from isp_feed_client.delta import Delta, DeltaMismatch
from isp_feed_client.stored import Piece, Stored

_CHUNK = 1 << 20


@dataclass(frozen=True)
class Written:
    """A file as written: its SHA-256 (hex) and size. (No BLAKE2b prehash: a file's own minisign signature is made
    from the stored file after publication, isp_feed/file_signatures.py, and a client checks only SHA-256.)"""

    sha256: str
    size: int
    pieces: bool = False  # written as a pieces list (isp_feed_client/stored.py), not whole


class _Digest:
    """The SHA-256 and size of a file, fed as it is produced. With `deferred`, ranges of other files are only noted
    (and what follows them queued behind) until `drain`: a durable sink hashes them while the kernel writes the copy
    out (Sink.commit), instead of first hashing and then waiting for the disk."""

    def __init__(self, *, deferred: bool = False) -> None:
        self.sha256 = hashlib.sha256()
        self.size = 0
        self._buffer: memoryview | None = None
        self._deferred = deferred
        self._queue: list[bytes | tuple[int, int, int]] = []

    def update(self, data: bytes | memoryview) -> None:
        if self._queue:
            self._queue.append(bytes(data))
        else:
            self.sha256.update(data)
        self.size += len(data)

    def update_from(self, source: int, start: int, end: int) -> None:
        """Hash bytes [start, end) of the open file `source` (now, or at `drain` when deferred: `source` must then
        stay open until it)."""
        if self._deferred:
            self._queue.append((source, start, end))
        else:
            self._hash_range(source, start, end)
        self.size += end - start

    @property
    def pending(self) -> bool:
        return bool(self._queue)

    def drain(self) -> None:
        """Hash what was queued, in order."""
        queue, self._queue = self._queue, []
        for item in queue:
            if isinstance(item, bytes):
                self.sha256.update(item)
            else:
                self._hash_range(*item)

    def _hash_range(self, source: int, start: int, end: int) -> None:
        # Read into one reused buffer, not through a memory map, whose pages would count as this process's memory.
        if self._buffer is None:
            self._buffer = memoryview(bytearray(8 * _CHUNK))
        at = start
        while at < end:
            read = os.preadv(source, [self._buffer[:min(len(self._buffer), end - at)]], at)
            if read <= 0:
                raise OSError(f"the old file ended at byte {at}, before {end}")
            self.sha256.update(self._buffer[:read])
            at += read

    def written(self, *, pieces: bool = False) -> Written:
        self.drain()
        return Written(self.sha256.hexdigest(), self.size, pieces)


class Sink:
    """Writes to a temporary file beside the target, hashing as it goes; `commit` renames it into place (after an
    fsync when `durable`: the client's files are its only copy; the server's are derived data it can render again
    from the database, so they skip it)."""

    def __init__(self, target: Path, durable: bool = True, *, sync_dir: bool = True) -> None:
        self.target = target
        self.durable = durable
        self.sync_dir = durable and sync_dir  # False for a staged file: the rename that installs it is made durable
        self.tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        self.handle = self.tmp.open("wb")
        self.digest = _Digest(deferred=durable)

    def write(self, data: bytes | memoryview) -> None:
        self.digest.update(data)
        self.handle.write(data)

    def copy(self, source: int, start: int, end: int) -> None:
        """Append bytes [start, end) of the file open as `source`: the kernel copies them (copy_file_range: no trip
        through this process); they are hashed from `source`, at once or (a durable sink) during the fsync of
        `commit`, so `source` stays open until then."""
        self.handle.flush()
        out = self.handle.fileno()
        position = start
        while position < end:
            copied = os.copy_file_range(source, out, end - position, position)
            if copied <= 0:  # a file system that cannot: write them ourselves
                while position < end:
                    chunk = os.pread(source, min(8 * _CHUNK, end - position), position)
                    if not chunk:
                        raise OSError(f"the old file ended at byte {position}, before {end}")
                    self.handle.write(chunk)
                    position += len(chunk)
                self.handle.flush()
            else:
                position += copied
        self.handle.seek(0, os.SEEK_END)
        self.digest.update_from(source, start, end)

    def append_file(self, path: Path, skip: int = 0) -> None:
        """Append the file at `path` from byte `skip` on (copied by the kernel, hashed before it is closed)."""
        with path.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > skip:
                self.copy(handle.fileno(), skip, size)
                self.digest.drain()  # before the file closes

    def commit(self) -> Written:
        """Make the file durable (unless not `durable`) and rename it into place; the copied ranges are hashed
        meanwhile in this thread (reading them and the disk writing the copy overlap: fsync releases the GIL)."""
        self.handle.flush()
        if self.durable and self.digest.pending:
            with ThreadPoolExecutor(1) as pool:
                synced = pool.submit(os.fsync, self.handle.fileno())
                try:
                    self.digest.drain()
                finally:
                    synced.result()
        elif self.durable:
            os.fsync(self.handle.fileno())
        self.handle.close()
        self.tmp.replace(self.target)
        if self.sync_dir:
            fsync_dir(self.target.parent)
        return self.digest.written()

    def abort(self) -> None:
        self.handle.close()
        self.tmp.unlink(missing_ok=True)


def write_whole(path: Path) -> bool:
    """Write the stored file at `path` (content-addressed: its name is its SHA-256) whole, in place of the pieces it
    is listed as; the same bytes, checked. Readers that opened the pieces keep reading them. True if it was done."""
    listed = stored.pieces_path(path)
    if path.exists() or not listed.exists():
        return False
    sink = Sink(path, durable=False)
    try:
        with stored.open_stored(path) as data:
            for _, fd, _, a, b in data.spans(0, len(data)):
                sink.copy(fd, a, b)
    except BaseException:
        sink.abort()
        raise
    if sink.digest.written().sha256 != path.name:
        sink.abort()
        raise stored.StoredFileError(f"the pieces of {path.name} do not hash to its name")
    sink.commit()
    listed.unlink(missing_ok=True)
    return True


def fsync_dir(folder: Path) -> None:
    """Make a rename in `folder` durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_chunks(target: Path, chunks: Iterable[bytes | memoryview], *, durable: bool = True,
                 sync_dir: bool = True) -> Written:
    """Write `chunks` to `target` atomically (temporary file, fsync unless not `durable`, rename), hashing them."""
    target.parent.mkdir(parents=True, exist_ok=True)
    sink = Sink(target, durable, sync_dir=sync_dir)
    try:
        for chunk in chunks:
            sink.write(chunk)
    except BaseException:
        sink.abort()
        raise
    return sink.commit()


def render_file(target: Path, version: formats.FeedVersion, ext: str, *, durable: bool = True) -> Written:
    """Render one format of a whole version into `target`."""
    (_, body), = formats.render_each(version, only=ext)
    return write_body(target, body, durable=durable)


def write_body(target: Path, body: bytes, *, durable: bool = True) -> Written:
    """Write rendered bytes to `target` atomically, hashing them."""
    return write_chunks(target, pieces(body), durable=durable)


def pieces(body: bytes | memoryview) -> Iterable[memoryview]:
    """`body` in large pieces for writing and hashing: each piece's hashing releases the GIL, and needs it back
    before the next, which a rendering thread holds meanwhile (so, few and large)."""
    view, piece = memoryview(body), 16 * _CHUNK
    return (view[i:i + piece] for i in range(0, len(view), piece))


Source = Stored | bytes  # what the searches read: the stored file, or a copy of it in memory
SEARCH_IN_MEMORY = 16 << 20  # bytes: a file up to this size is copied once and searched in memory


def _searchable(buf: Stored) -> Source:
    """What the binary searches read: a small file copied once into one bytes object (each probe through the
    pieces' maps costs ten times as much, and an approval storm splices hundreds of names every version)."""
    return buf[0:len(buf)] if len(buf) <= SEARCH_IN_MEMORY else buf


def _line_end(buf: Source, start: int, hi: int) -> int:
    newline = buf.find(b"\n", start, hi)
    return hi if newline < 0 else newline + 1


def _lower_bound(buf: Source, lo: int, hi: int, name: bytes, layout: formats.LineLayout) -> int:
    """The start of the first line in [lo, hi) whose entry name is >= `name` (lo is a line start)."""
    owner = layout.owner
    while lo < hi:
        mid = max(lo, buf.rfind(b"\n", lo, (lo + hi) // 2) + 1)  # the start of the line holding the midpoint
        end = _line_end(buf, mid, hi)
        line = buf[mid:end].rstrip(b"\n")
        if layout.separator and line.startswith(layout.separator):
            line = line[len(layout.separator):]
        if owner(line) < name:
            lo = end
        else:
            hi = mid
    return lo


def _block_end(buf: Source, start: int, hi: int, name: bytes, layout: formats.LineLayout) -> int:
    """The end of the consecutive lines from `start` that belong to entry `name` (start itself if none do)."""
    position = start
    while position < hi:
        end = _line_end(buf, position, hi)
        line = buf[position:end].rstrip(b"\n")
        if layout.separator and line.startswith(layout.separator):
            line = line[len(layout.separator):]
        if layout.owner(line) != name:
            break
        position = end
    return position


def _frame_bounds(buf: Source, size: int, layout: formats.LineLayout) -> tuple[int, int]:
    """Where the old file's body starts and ends (after its header lines, before its footer lines)."""
    start = 0
    for _ in range(layout.header):
        start = _line_end(buf, start, size)
    end = size
    for _ in range(layout.footer):
        end = max(start, buf.rfind(b"\n", start, end - 1) + 1)
    return start, end


def splice_file(old: Path, target: Path, version: formats.FeedVersion, ext: str, count: int, delta: Delta, *,
                durable: bool = True, sync_dir: bool = True, max_pieces: int = 0) -> Written:
    """`target` := the file `old` (one format of the list before `delta`) with the delta applied, for `version`
    (whose entries are not read: header and footer come from its serial, time and stop page, and `count`).

    DeltaMismatch when the delta removes a name the old file lacks or adds one it has: the caller falls back to a
    whole render or download. Anything else wrong (a damaged old file) shows in the hash, which the caller checks.

    With `max_pieces` (the server), `target` becomes a pieces list (isp_feed_client/stored.py) of the old file's ranges
    and a new segment file beside it with the new lines, unless that makes more than `max_pieces` pieces; the old file
    may itself be stored as pieces. `sync_dir=False` for a staged target: its bytes are made durable, its name only
    by the rename that later installs it.
    """
    layout = formats.LAYOUTS[ext]
    header, footer = formats.render_frame(version, ext, count)
    removed = {e.name.encode() for e in delta.removed}
    added = {e.name.encode(): e for e in delta.added}
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with stored.open_stored(old) as buf:
            pieces = _plan(_searchable(buf), layout, version, ext, removed, added)
            if max_pieces:
                written = _write_pieces(buf, pieces, header, footer, target, max_pieces, durable=durable)
                if written is not None:
                    return written
            return _write_whole(buf, pieces, header, footer, Sink(target, durable, sync_dir=sync_dir))
    except stored.StoredFileError as exc:
        raise FileNotFoundError(str(exc)) from None


_Plan = list[tuple[int, int] | bytes]  # the new body: ranges of the old file and new blocks, in order


def _plan(buf: Source, layout: formats.LineLayout, version: formats.FeedVersion, ext: str, removed: set[bytes],
          added: dict[bytes, formats.FeedEntry]) -> _Plan:
    body_start, body_end = _frame_bounds(buf, len(buf), layout)
    # The body as pieces: ("old", start, end) ranges of the old file and new blocks, in order.
    pieces: list[tuple[int, int] | bytes] = []
    cursor = body_start
    for name in sorted(removed | set(added)):
        at = _lower_bound(buf, cursor, body_end, name, layout)
        end = _block_end(buf, at, body_end, name, layout)
        present = end > at
        if present and name not in removed:
            raise DeltaMismatch(f"the delta adds {name.decode()!r}, which the {ext} file already holds")
        if not present and name in removed:
            raise DeltaMismatch(f"the delta removes {name.decode()!r}, which the {ext} file does not hold")
        if at > cursor:
            pieces.append((cursor, at))
        if name in added:
            pieces.append(formats.render_block(version, ext, added[name]))
        cursor = end
    if body_end > cursor:
        pieces.append((cursor, body_end))
    if layout.separator:
        pieces = _fix_separators(buf, pieces, body_start, layout.separator)
    return pieces


def _write_whole(buf: Stored, pieces: _Plan, header: bytes, footer: bytes, sink: Sink) -> Written:
    try:
        sink.write(header)
        for piece in pieces:
            if isinstance(piece, bytes):
                sink.write(piece)
                continue
            for _, fd, _, a, b in buf.spans(*piece):
                sink.copy(fd, a, b)
        sink.write(footer)
    except BaseException:
        sink.abort()
        raise
    return sink.commit()


def _write_pieces(buf: Stored, plan: _Plan, header: bytes, footer: bytes, target: Path, max_pieces: int, *,
                  durable: bool) -> Written | None:
    """`target` := the pieces list of the new file, its new bytes in one content-addressed segment beside it; None
    (nothing written) when that would take more than `max_pieces` pieces. With `durable` (the client) the segment's
    and the list's bytes are synced; their names are made durable by the rename that installs the list."""
    segment = bytearray()
    listed: list[Piece | tuple[int, int]] = []  # pieces of old files, or ranges of the segment

    def add(piece: Piece | tuple[int, int]) -> None:
        last = listed[-1] if listed else None
        if isinstance(piece, tuple) and isinstance(last, tuple) and last[1] == piece[0]:
            listed[-1] = (last[0], piece[1])
        elif (isinstance(piece, Piece) and isinstance(last, Piece)
              and (last.name, last.end) == (piece.name, piece.start)):
            listed[-1] = Piece(last.name, last.start, piece.end)
        else:
            listed.append(piece)

    def new(data: bytes) -> None:
        if data:
            add((len(segment), len(segment) + len(data)))
            segment.extend(data)

    new(header)
    for item in plan:
        if isinstance(item, bytes):
            new(item)
        else:
            for piece in buf.pieces(*item):
                add(piece)
    new(footer)
    if len(listed) > max_pieces:
        return None
    segment_name = hashlib.sha256(segment).hexdigest()
    if segment and not (target.parent / segment_name).exists():
        write_chunks(target.parent / segment_name, [bytes(segment)], durable=durable, sync_dir=False)
    sources = {name: fd for name, fd, _, _, _ in buf.parts}
    digest, final = _Digest(), []
    for part in listed:
        if isinstance(part, tuple):
            digest.update(memoryview(segment)[part[0]:part[1]])
            final.append(Piece(segment_name, *part))
        else:
            digest.update_from(sources[part.name], part.start, part.end)
            final.append(part)
    stored.write_pieces(target, final, durable=durable)
    return digest.written(pieces=True)


def _fix_separators(buf: Source, pieces: list[tuple[int, int] | bytes], body_start: int,
                    separator: bytes) -> list[tuple[int, int] | bytes]:
    """Every entry line but the first opens with the separator: new blocks carry it, and so does every old line but
    the old first one. Give the old first line its separator when something now precedes it, and take it off
    whatever now comes first."""
    fixed: list[tuple[int, int] | bytes] = []
    for piece in pieces:
        if isinstance(piece, tuple) and piece[0] == body_start and fixed:
            fixed.append(separator)
        fixed.append(piece)
    if fixed:
        first = fixed[0]
        if isinstance(first, bytes):
            if first.startswith(separator):
                fixed[0] = first[len(separator):]
        elif buf[first[0]:first[0] + len(separator)] == separator:
            fixed[0] = (first[0] + len(separator), first[1])
    return fixed


def lookup(path: Path, names: Iterable[str]) -> dict[str, formats.FeedEntry]:
    """The entries of a canonical list file for `names` (those it holds), by binary search: O(k log n)."""
    layout = formats.LAYOUTS["list"]
    found: dict[str, formats.FeedEntry] = {}
    with stored.open_stored(path) as stored_buf:
        size = len(stored_buf)
        if not size:
            return found
        buf = _searchable(stored_buf)
        for name in names:
            key = name.encode()
            at = _lower_bound(buf, 0, size, key, layout)
            end = _line_end(buf, at, size)
            parts = buf[at:end].rstrip(b"\n").decode().split("\t")
            if at < size and parts[0] == name and len(parts) == 3:
                found[name] = formats.FeedEntry(parts[0], parts[2], parts[1])
    return found
