"""The canonical list file (`name TAB scope TAB unicode LF`, sorted by name, each name once), read strictly.

`read_blocks` reads it a few megabytes at a time and checks each block with whole-block operations that run in C
(a translate, a split, substring searches, comparisons mapped over lists): a first load of 1,000,000 names is
checked in about a second, where the line-by-line reader below took 8 s. The two readers accept exactly the same
files (tests/isp_feed/test_listfile.py checks it on generated and damaged lists): the fast checks only decide
whether a block is certainly good; a block they do not pass is read again by `list_entries`, line by line, whose
message names the first bad line. Pure: no I/O beyond the handle it is given.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import compress, islice, repeat
from operator import lt
from typing import BinaryIO

from isp_feed_client import errors, formats

BLOCK_BYTES = 4 << 20  # then extended to the end of its last line
MAX_NAME = 253
MAX_LABEL = 63
_SCOPES = frozenset(formats.SCOPES)
# Every byte but TAB, LF and the dot: deleting them leaves each line's separators and dots.
_ALL_BUT_SEPARATORS = bytes(range(256)).translate(None, b"\t\n.")
_SEPARATORS = b"\t\t\n"  # one line's, the dots taken out
_NAME_BYTES = b"abcdefghijklmnopqrstuvwxyz0123456789_-.\n"  # a name's characters, and the LF that joins names
# In names joined by LF: an empty label, or a label that starts or ends with a hyphen.
_BAD_PAIRS = ("..", ".-", "-.", "\n.", ".\n", "\n-", "-\n")
_NOT_IN_UNICODE = ('"', "\\", "\r")  # (tab and LF cannot be there: they end the field)


@dataclass(frozen=True)
class Block:
    """Consecutive entries of a list, checked: names[i] has scopes[i] and unicodes[i]."""

    names: list[str]
    scopes: list[str]
    unicodes: list[str]

    def lines(self) -> Iterator[str]:
        """Each entry as its line in the file (LF included)."""
        return map("{}\t{}\t{}\n".format, self.names, self.scopes, self.unicodes)


def read_blocks(handle: BinaryIO, *, what: str = "list") -> Iterator[Block]:
    """The list open in `handle` (binary), checked block by block as it streams by; MalformedFeed names the first
    bad line (`what` names the file in it)."""
    previous, first = "", 1
    while True:
        raw = handle.read(BLOCK_BYTES)
        if not raw:
            return
        if not raw.endswith(b"\n"):
            raw += handle.readline()
        block = _checked(raw, previous) or _line_by_line(raw, first=first, previous=previous, what=what)
        yield block  # (never empty: a block holds at least one line, and an empty one is refused)
        previous, first = block.names[-1], first + len(block.names)


def _checked(raw: bytes, previous: str) -> Block | None:
    """The block when every check passes, else None (then it is read line by line)."""
    if not raw.endswith(b"\n"):
        return None
    separators = raw.translate(None, _ALL_BUT_SEPARATORS)
    # name TAB scope TAB unicode LF on every line; a name with a dot (the first field of a line has one).
    if separators.replace(b".", b"") != _SEPARATORS * raw.count(b"\n"):
        return None
    if separators.startswith(b"\t") or b"\n\t" in separators or b"\t\n" in raw:  # (\t\n: an empty unicode)
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if any(c in text for c in _NOT_IN_UNICODE):
        return None
    fields = text.replace("\t", "\n").split("\n")
    fields.pop()  # after the last LF
    names, scopes, unicodes = fields[0::3], fields[1::3], fields[2::3]
    del fields
    if not _SCOPES.issuperset(scopes) or max(map(len, unicodes)) > MAX_NAME:
        return None
    joined = "\n".join(names)
    if not joined.isascii() or joined.encode().translate(None, _NAME_BYTES) or joined[0] in ".-" or \
            joined[-1] in ".-" or any(pair in joined for pair in _BAD_PAIRS):
        return None
    lengths = list(map(len, names))
    longest = max(lengths)
    if longest > MAX_NAME:
        return None
    if longest > MAX_LABEL:  # only a name longer than a label can hold a label too long
        long_names = compress(names, map(lt, repeat(MAX_LABEL), lengths))
        if max(map(len, ".".join(long_names).split("."))) > MAX_LABEL:
            return None
    if names[0] <= previous or not all(map(lt, names, islice(names, 1, None))):  # sorted, each name once
        return None
    return Block(names, scopes, unicodes)


def _line_by_line(raw: bytes, *, first: int, previous: str, what: str) -> Block:
    """The block read by `list_entries`: raises on the first bad line (which the fast checks saw somewhere)."""
    lines = raw.split(b"\n")
    ending = lines.pop()  # b"" after a final LF, else a last line cut short (the end of the file)
    pieces = [*(line + b"\n" for line in lines), *([ending] if ending else [])]
    decoded = (piece.decode("utf-8") for piece in pieces)  # a line that is not UTF-8 raises when its turn comes
    names, scopes, unicodes = [], [], []
    for name, line in list_entries(decoded, what=what, first=first, previous=previous):
        _, scope, unicode = line[:-1].split("\t")
        names.append(name)
        scopes.append(scope)
        unicodes.append(unicode)
    return Block(names, scopes, unicodes)


def list_entries(lines: Iterable[str], *, what: str = "list", first: int = 1,
                 previous: str = "") -> Iterator[tuple[str, str]]:
    """(name, line) for each line of a canonical list, read strictly line by line as it streams by: every name a
    valid A-label name, a known scope, sorted and unique (`first`: the number of the first line, `previous`: the
    name before it). MalformedFeed names the first bad line."""
    numbered = enumerate(lines, first)
    while True:
        try:
            number, line = next(numbered)
        except StopIteration:
            return
        except UnicodeDecodeError as exc:  # a file read as text decodes as it streams
            raise errors.MalformedFeed(what, f"not UTF-8 ({exc})") from None
        parts = line[:-1].split("\t") if line.endswith("\n") else ()
        if len(parts) != 3:
            raise errors.MalformedFeed(what, f"line {number} is not name<TAB>scope<TAB>unicode<LF>")
        name = parts[0]
        try:
            formats.check_entry(name, parts[2], parts[1], f"line {number}")
        except formats.FeedFormatError as exc:
            raise errors.MalformedFeed(what, str(exc)) from None
        if name <= previous:
            raise errors.MalformedFeed(what, f"line {number}: {name!r} is out of order or listed twice")
        previous = name
        yield name, line
