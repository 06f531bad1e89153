"""Format files as the server stores them: whole, or as pieces of files stored before.

A format file of a version lies at its content address `feed/files/<sha256>` — either as that file itself, or as
`<sha256>.pieces`: a short list of byte ranges of other stored files (older versions' files and small *segments*
holding the new lines) whose concatenation is exactly the file. A version spliced from the one before is stored
as pieces: one approval on a 1,000,000-name list then writes a few kilobytes instead of the 650 MB of seven full
formats, which at one version per approval kept the disk busy writing back copies of unchanged bytes. Every
`MAX_PIECES` or so versions a format is written whole again (a snapshot), so that no file is made of ever more
fragments. Readers never see the difference: `open_stored` gives one sequence of bytes (slices, `find`,
`rfind`, and the underlying ranges for copying and hashing without a trip through Python).

The client keeps its own copy of a large list the same way (`pull.py`): a +1 then writes a segment of one line
instead of copying and syncing 55 MB of unchanged names. Used on both sides: imports only the standard library.
"""

from __future__ import annotations

import bisect
import hashlib
import io
import mmap
import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

PIECES_SUFFIX = ".pieces"
# A spliced version adds about two pieces (its new lines, and the split of the range they land in). Past half this
# many, a format is written whole again after its version is published (`splice.write_whole`, off the publication's
# clock); a splice that would need more than this many writes the file whole itself.
MAX_PIECES = 400
_MAGIC = "be-blocklist-pieces 1"


class StoredFileError(Exception):
    """A stored file is missing, torn, or its pieces do not add up: render it again."""


@dataclass(frozen=True)
class Piece:
    """Bytes [start, end) of the stored file `name` (in the same folder)."""

    name: str
    start: int
    end: int


def pieces_path(path: Path) -> Path:
    """Where the pieces of the stored file at `path` are listed, when it is not stored whole."""
    return path.with_name(path.name + PIECES_SUFFIX)


def read_pieces(path: Path) -> tuple[list[Piece], int]:
    """The pieces listed at `path` (a `.pieces` file) and the size they add up to; StoredFileError if torn."""
    try:
        lines = path.read_text(encoding="ascii").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise StoredFileError(f"cannot read {path.name}: {exc}") from None
    try:
        magic, size_text = lines[0].rsplit(" ", 1)
        size = int(size_text)
        if magic != _MAGIC or lines[-1] != "end":
            raise ValueError("not a pieces list")
        pieces = []
        for line in lines[1:-1]:
            name, start, end = line.split(" ")
            if "/" in name or name.startswith(".") or not 0 <= int(start) <= int(end):
                raise ValueError(f"bad piece {line!r}")
            pieces.append(Piece(name, int(start), int(end)))
    except (IndexError, ValueError) as exc:
        raise StoredFileError(f"{path.name} is torn or not a pieces list ({exc})") from None
    if sum(p.end - p.start for p in pieces) != size:
        raise StoredFileError(f"the pieces of {path.name} do not add up to its size")
    return pieces, size


def write_pieces(path: Path, pieces: list[Piece], *, durable: bool = False) -> None:
    """List `pieces` at `path` (written beside and renamed: a reader sees the old list or the new one); with
    `durable`, its bytes are on disk before the rename (the rename itself is made durable by the caller)."""
    size = sum(p.end - p.start for p in pieces)
    text = "".join([f"{_MAGIC} {size}\n", *(f"{p.name} {p.start} {p.end}\n" for p in pieces), "end\n"])
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("w", encoding="ascii") as handle:
        handle.write(text)
        if durable:
            handle.flush()
            os.fsync(handle.fileno())
    tmp.replace(path)


def replace_stored(source: Path, target: Path) -> None:
    """Rename the stored file `source` (whole or pieces) to `target`, in place of whatever `target` was."""
    if source.exists():
        source.replace(target)
        pieces_path(target).unlink(missing_ok=True)
    else:
        pieces_path(source).replace(pieces_path(target))
        target.unlink(missing_ok=True)  # else it would be read instead of the pieces


def unlink_stored(path: Path) -> None:
    """Remove the stored file at `path`, whole or its pieces list (not the files the pieces are of)."""
    path.unlink(missing_ok=True)
    pieces_path(path).unlink(missing_ok=True)


def link_stored(source: Path, target: Path) -> None:
    """`target` := the same bytes as the stored file `source`: a hard link (or a copy) of the file or its list."""
    unlink_stored(target)
    whole = source.exists()
    a, b = (source, target) if whole else (pieces_path(source), pieces_path(target))
    try:
        os.link(a, b)
    except OSError:  # no hard links here
        b.write_bytes(a.read_bytes())


@contextmanager
def open_text(path: Path) -> Iterator[io.TextIOWrapper]:
    """The stored file at `path` as UTF-8 text, lines ending in \\n only (read through its pieces, if so stored).

    StoredFileError as `open_stored`."""
    if path.exists():
        with path.open(encoding="utf-8", newline="\n") as handle:
            yield handle
        return
    with open_stored(path) as data, io.TextIOWrapper(io.BufferedReader(_Reader(data), 1 << 20), encoding="utf-8",
                                                     newline="\n") as text:
        yield text


def is_stored(path: Path) -> bool:
    """Whether the stored file at `path` is there, whole or as pieces (not whether it is intact)."""
    return path.exists() or pieces_path(path).exists()


def referenced(path: Path) -> set[str]:
    """The names of the files (in the same folder) the stored file at `path` is made of, itself included."""
    if path.exists() or not pieces_path(path).exists():
        return {path.name}
    try:
        pieces, _ = read_pieces(pieces_path(path))
    except StoredFileError:
        return {pieces_path(path).name}
    return {pieces_path(path).name, *(p.name for p in pieces)}


class Stored:
    """The bytes of one stored file (whole or pieces), read through memory maps of what it is made of."""

    def __init__(self, parts: list[tuple[str, int, mmap.mmap | bytes, int, int]]) -> None:
        # (name, file descriptor, its map, start, end) per piece, empty pieces left out.
        self.parts = [p for p in parts if p[4] > p[3]]
        self.offsets: list[int] = []
        at = 0
        for part in self.parts:
            self.offsets.append(at)
            at += part[4] - part[3]
        self.size = at

    def __len__(self) -> int:
        return self.size

    def _index(self, position: int) -> int:
        return bisect.bisect_right(self.offsets, position) - 1

    def spans(self, start: int, end: int) -> Iterator[tuple[str, int, mmap.mmap | bytes, int, int]]:
        """The underlying ranges of bytes [start, end): (name, fd, map, from, to) in order."""
        if start >= end:
            return
        i = self._index(start)
        while i < len(self.parts) and self.offsets[i] < end:
            name, fd, buf, lo, hi = self.parts[i]
            base = self.offsets[i]
            a, b = lo + max(start - base, 0), lo + min(end - base, hi - lo)
            if b > a:
                yield name, fd, buf, a, b
            i += 1

    def __getitem__(self, key: slice) -> bytes:
        start, stop, _ = key.indices(self.size)
        return b"".join(buf[a:b] for _, _, buf, a, b in self.spans(start, stop))

    def find(self, sub: bytes, start: int, end: int) -> int:
        """The first position of the single byte `sub` in [start, end), or -1."""
        assert len(sub) == 1
        for_at = start
        for _, _, buf, a, b in self.spans(start, end):
            found = buf.find(sub, a, b)
            if found >= 0:
                return for_at + found - a
            for_at += b - a
        return -1

    def rfind(self, sub: bytes, start: int, end: int) -> int:
        """The last position of the single byte `sub` in [start, end), or -1."""
        assert len(sub) == 1
        spans = list(self.spans(start, end))
        at = end
        for _, _, buf, a, b in reversed(spans):
            at -= b - a
            found = buf.rfind(sub, a, b)
            if found >= 0:
                return at + found - a
        return -1

    def pieces(self, start: int, end: int) -> list[Piece]:
        """Bytes [start, end) as pieces of the underlying files."""
        return [Piece(name, a, b) for name, _, _, a, b in self.spans(start, end)]


class _Reader(io.RawIOBase):
    """A stored file's bytes as a raw stream, read with pread from the files of its pieces."""

    def __init__(self, data: Stored) -> None:
        self.data = data
        self.at = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        for _, fd, _, a, b in self.data.spans(self.at, min(self.at + len(view), len(self.data))):
            read = os.preadv(fd, [view[:b - a]], a)
            self.at += read
            return read  # a short read is allowed: the buffered reader asks again
        return 0


@contextmanager
def open_stored(path: Path) -> Iterator[Stored]:
    """The bytes of the stored file at `path`: the file itself, else the pieces listed beside it.

    StoredFileError when neither is there, or a piece's file is missing or shorter than listed."""
    with ExitStack() as stack:
        opened: dict[str, tuple[int, mmap.mmap | bytes, int]] = {}

        def source(file: Path) -> tuple[int, mmap.mmap | bytes, int]:
            if file.name not in opened:
                try:
                    handle = stack.enter_context(file.open("rb"))
                except FileNotFoundError:
                    raise StoredFileError(f"{file.name} is missing") from None
                size = os.fstat(handle.fileno()).st_size
                buf: mmap.mmap | bytes = (stack.enter_context(mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ))
                                          if size else b"")
                opened[file.name] = (handle.fileno(), buf, size)
            return opened[file.name]

        listed = pieces_path(path)
        try:
            pieces, _ = ([], 0) if path.exists() else read_pieces(listed)
        except StoredFileError:
            if not path.exists():  # else written whole meanwhile (`splice.write_whole`): read that
                raise StoredFileError(f"{path.name} is missing") from None
            pieces = []
        if not pieces:
            fd, buf, size = source(path)
            yield Stored([(path.name, fd, buf, 0, size)])
            return
        parts = []
        for piece in pieces:
            fd, buf, size = source(path.with_name(piece.name))
            if piece.end > size:
                raise StoredFileError(f"{piece.name} is shorter than the pieces of {path.name} need")
            parts.append((piece.name, fd, buf, piece.start, piece.end))
        yield Stored(parts)


def pieces_count(path: Path) -> int:
    """How many pieces the stored file at `path` is made of (0: whole, missing or unreadable)."""
    if path.exists():
        return 0
    try:
        return len(read_pieces(pieces_path(path))[0])
    except StoredFileError:
        return 0


def stored_size(path: Path) -> int | None:
    """The size of the stored file at `path` as its pieces list gives it (or the file's own), None if missing."""
    try:
        return path.stat().st_size
    except FileNotFoundError:
        pass
    try:
        return read_pieces(pieces_path(path))[1]
    except StoredFileError:
        return None


def read_all(path: Path) -> bytes:
    """Every byte of the stored file at `path` (StoredFileError if it is missing or torn)."""
    with open_stored(path) as data:
        return data[0:len(data)]


def stored_sha256(path: Path) -> str | None:
    """The SHA-256 of the stored file at `path` as it reads now (None if it cannot be read whole)."""
    digests = stored_digests(path, prehash=False)
    return None if digests is None else digests[0]


def stored_digests(path: Path, *, prehash: bool = True) -> tuple[str, bytes] | None:
    """The SHA-256 (hex) and, with `prehash`, the BLAKE2b-512 a minisign signature covers (else b"") of the stored
    file at `path` as it reads now, in one pass (None if it cannot be read whole)."""
    sha256 = hashlib.sha256()
    blake = hashlib.blake2b(digest_size=64) if prehash else None
    try:
        with open_stored(path) as data:
            for _, fd, _, start, end in data.spans(0, len(data)):
                at = start
                while at < end:
                    chunk = os.pread(fd, min(1 << 22, end - at), at)
                    if not chunk:
                        return None
                    sha256.update(chunk)
                    if blake is not None:
                        blake.update(chunk)
                    at += len(chunk)
    except StoredFileError:
        return None
    return sha256.hexdigest(), b"" if blake is None else blake.digest()


def intact_size(path: Path) -> int | None:
    """The size of the stored file at `path` when it and every piece it needs are there (else None)."""
    try:
        with open_stored(path) as data:
            return len(data)
    except StoredFileError:
        return None
