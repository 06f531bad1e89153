"""The list file read block by block accepts exactly what the line-by-line reader accepts, with the same message."""

from __future__ import annotations

import io
import os

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from isp_feed_client import errors, formats, listfile

EXAMPLES = int(os.environ.get("LIST_EXAMPLES", "400"))  # raise it for a longer search: LIST_EXAMPLES=20000


def _lines(*entries: tuple[str, str, str]) -> list[str]:
    return [f"{name}\t{scope}\t{unicode}\n" for name, scope, unicode in entries]


def _by_lines(raw: bytes) -> tuple[str, object]:
    """What the line-by-line reader makes of a file, each line decoded in turn: its names, or its refusal."""
    lines = (line.decode("utf-8") for line in io.BytesIO(raw))
    try:
        return "ok", [name for name, _ in listfile.list_entries(lines)]
    except errors.MalformedFeed as exc:
        return "refused", "not UTF-8" if "not UTF-8" in str(exc) else str(exc)


def _by_blocks(raw: bytes) -> tuple[str, object]:
    try:
        blocks = list(listfile.read_blocks(io.BytesIO(raw)))
    except errors.MalformedFeed as exc:
        return "refused", "not UTF-8" if "not UTF-8" in str(exc) else str(exc)
    for block in blocks:  # what a block holds is what its lines say
        assert len(block.names) == len(block.scopes) == len(block.unicodes)
    return "ok", [name for block in blocks for name in block.names]


GOOD = _lines(("a.test", "exact", "a.test"), ("xn--bcher-kva.test", "domain_and_subdomains", "bücher.test"))


@pytest.mark.parametrize(("lines", "message"), [
    (["a.test\texact\n"], "line 1 is not name<TAB>scope<TAB>unicode"),
    ([*GOOD, "z.test\texact\tz.test"], "line 3 is not"),  # not terminated: cut
    ([*GOOD, "z.test\texact\tz\tx\n"], "line 3 is not"),  # a field too many
    (_lines(("b.test", "exact", "b.test"), ("a.test", "exact", "a.test")), "line 2: 'a.test' is out of order"),
    (_lines(("a.test", "exact", "a.test"), ("a.test", "exact", "a.test")), "listed twice"),
    (_lines(("Csam-Gallery.test", "exact", "Csam-Gallery.test")), "not a lower-case A-label"),
    (_lines(("com", "exact", "com")), "top-level domain"),
    (_lines(("a..test", "exact", "a")), "not a lower-case A-label"),
    (_lines(("-a.test", "exact", "a")), "not a lower-case A-label"),
    (_lines(("a-.test", "exact", "a")), "not a lower-case A-label"),
    (_lines((f"{'a' * 64}.test", "exact", "a")), "not a lower-case A-label"),
    (_lines((".".join(["a" * 63] * 4), "exact", "a")), "not a lower-case A-label"),  # 255 characters
    (_lines(("a.test", "everything", "a.test")), "unknown scope 'everything'"),
    (_lines(("a.test", "exact", 'a"b')), "is not a domain name"),
    (_lines(("a.test", "exact", "")), "is not a domain name"),
    (_lines(("a.test", "exact", "a" * 254)), "is not a domain name"),
])
def test_a_list_is_read_strictly_with_the_first_bad_line_named(lines: list[str], message: str) -> None:
    raw = "".join(lines).encode()
    for reader in (_by_lines, _by_blocks):
        outcome, said = reader(raw)
        assert outcome == "refused" and message in str(said), (reader.__name__, said)
    assert _by_blocks(raw) == _by_lines(raw)
    assert _by_lines(b"".join(line.encode() for line in GOOD)) == ("ok", ["a.test", "xn--bcher-kva.test"])
    with pytest.raises(errors.MalformedFeed, match="not UTF-8") as info:
        list(listfile.read_blocks(io.BytesIO(GOOD[0].encode() + b"\xff.test\texact\tx\n")))
    assert info.value.what == "list"


def test_a_good_list_is_checked_by_the_fast_path_across_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """A good block never needs the line-by-line reader (else a national list is checked 8x slower); blocks meet
    in order at their edges."""
    monkeypatch.setattr(listfile, "BLOCK_BYTES", 100)
    slow = []
    line_by_line = listfile._line_by_line
    monkeypatch.setattr(listfile, "_line_by_line", lambda raw, **kw: slow.append(raw) or line_by_line(raw, **kw))
    names = [f"site-{i:04d}.test" for i in range(300)] + [f"{'x' * 63}.{'y' * 63}.test"]
    raw = "".join(f"{n}\t{formats.SCOPES[i % 2]}\t{n}\n" for i, n in enumerate(names)).encode()
    blocks = list(listfile.read_blocks(io.BytesIO(raw)))
    assert len(blocks) > 10 and not slow
    assert [n for b in blocks for n in b.names] == names
    assert b"".join(line.encode() for b in blocks for line in b.lines()) == raw
    # The same name at the end of one block and the start of the next: refused, line numbered across blocks.
    twice = raw + f"{names[-1]}\texact\tx\n".encode()
    assert _by_blocks(twice) == _by_lines(twice) == ("refused", f"list: line 302: {names[-1]!r} is out of order or "
                                                     "listed twice")


_LABEL = st.text("abz09_-", min_size=1, max_size=4)
_NAME = st.lists(_LABEL, min_size=1, max_size=3).map(lambda labels: ".".join([*labels, "test"]))
_UNICODE = st.one_of(st.just(""), st.text("abé.-ü", min_size=1, max_size=5))
_LIST = st.lists(st.tuples(_NAME, st.sampled_from(formats.SCOPES), _UNICODE), max_size=12, unique_by=lambda e: e[0])
_NOISE = st.sampled_from([b"\t", b"\n", b".", b"-", b"_", b"A", b'"', b"\\", b"\r", b"\xff", "é".encode(), b"", b"a",
                          b"exact", b"\x00", b" "])


@settings(max_examples=EXAMPLES, deadline=None)
@given(entries=_LIST, sort=st.booleans(), edits=st.lists(st.tuples(st.integers(0, 400), st.integers(0, 2), _NOISE),
                                                          max_size=3), block=st.sampled_from([1, 17, 64, 1 << 20]))
@example(entries=[("a.test", "exact", "a")], sort=True, edits=[(6, 1, b"\t")], block=1 << 20)
def test_both_readers_agree_on_any_file(entries: list[tuple[str, str, str]], sort: bool,
                                        edits: list[tuple[int, int, bytes]], block: int) -> None:
    """Generated lists, sorted or not, with bytes inserted, replaced or deleted here and there, read in blocks of
    every size: the same names or the same refusal."""
    if sort:
        entries = sorted(entries)
    raw = bytearray("".join(_lines(*((n, s, u or n) for n, s, u in entries))).encode())
    for at, how, noise in edits:
        at = min(at, len(raw))
        if how == 0:
            raw[at:at] = noise
        elif how == 1:
            raw[at:at + 1] = noise
        else:
            del raw[at:at + 1]
    original = listfile.BLOCK_BYTES
    listfile.BLOCK_BYTES = block
    try:
        assert _by_blocks(bytes(raw)) == _by_lines(bytes(raw))
    finally:
        listfile.BLOCK_BYTES = original
