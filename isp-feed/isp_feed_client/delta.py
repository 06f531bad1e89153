"""What changed from one content version of the list to another: pure, canonical, composable.

A delta names the entries removed from the older list and the entries of the newer one that it lacked (a name in
both changed scope or Unicode form). The server stores one per content version (isp_feed/models.FeedDelta), the
manifest signs the hash of the one from the previous serial, and `diff?from=` answers by composing the stored ones:
O(changes), never O(list). A client applies a delta to its copy of the list and checks the result against the hash
of the list the manifest signs, so a composed delta needs no signature of its own.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from isp_feed_client.formats import FeedEntry, FeedFormatError, check_entry, in_order

DELTA_TYPE = "delta"


class DeltaMismatch(FeedFormatError):
    """A delta does not fit the list it is applied to (it removes a name the list lacks, or adds one it has)."""


@dataclass(frozen=True)
class Delta:
    """Entries removed from the list of content serial `from_serial` and added to reach `to_serial` (both sorted)."""

    from_serial: int
    to_serial: int
    added: tuple[FeedEntry, ...]
    removed: tuple[FeedEntry, ...]

    @property
    def changed(self) -> int:
        """How many entries the delta touches (a changed name counts once on each side)."""
        return len(self.added) + len(self.removed)

    def names(self) -> list[str]:
        """Every name the delta touches, sorted, once each."""
        return sorted({e.name for e in self.added} | {e.name for e in self.removed})


def _entry(e: FeedEntry) -> dict[str, str]:
    return {"name": e.name, "scope": e.scope, "unicode": e.unicode}


def delta_document(delta: Delta) -> dict[str, object]:
    """The delta as a JSON object (what `diff?from=` answers)."""
    return {"added": [_entry(e) for e in delta.added], "feed": "be-blocklist", "from": delta.from_serial,
            "removed": [_entry(e) for e in delta.removed], "to": delta.to_serial, "type": DELTA_TYPE}


def delta_bytes(delta: Delta) -> bytes:
    """The canonical bytes of a delta (sorted keys, no spaces, one line): what the manifest's `delta` hash covers."""
    return (json.dumps(delta_document(delta), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            + "\n").encode()


def _entries(raw: object, field: str) -> tuple[FeedEntry, ...]:
    if not isinstance(raw, list):
        raise FeedFormatError(f"{field} must be a list")

    def read() -> Iterator[tuple[str, FeedEntry]]:
        for i, item in enumerate(raw):
            if not isinstance(item, dict) or item.keys() != {"name", "scope", "unicode"}:
                raise FeedFormatError(f"{field}[{i}] must be an object of exactly name, scope and unicode")
            yield f"{field}[{i}]", check_entry(item.get("name"), item.get("unicode"), item.get("scope"),
                                               f"{field}[{i}]")

    return in_order(read())


def parse_delta(data: bytes) -> Delta:
    """Read a delta document strictly; FeedFormatError names the first wrong field."""
    try:
        body = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise FeedFormatError(f"the delta is not valid JSON ({exc})") from None
    if not isinstance(body, dict) or body.get("feed") != "be-blocklist" or body.get("type") != DELTA_TYPE:
        raise FeedFormatError("not a be-blocklist delta")
    start, end = body.get("from"), body.get("to")
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in (start, end)):
        raise FeedFormatError("from and to must be serials")
    assert isinstance(start, int) and isinstance(end, int)
    if end < start:
        raise FeedFormatError(f"to={end} is before from={start}")
    return Delta(start, end, _entries(body.get("added"), "added"), _entries(body.get("removed"), "removed"))


def between(old: Iterable[FeedEntry], new: Iterable[FeedEntry], *, from_serial: int, to_serial: int) -> Delta:
    """The delta from one whole list to another (for a first snapshot and for tests; the server derives deltas from
    the audit chain's approvals and lifts instead)."""
    before = {e.name: e for e in old}
    after = {e.name: e for e in new}
    added = tuple(sorted((e for n, e in after.items() if before.get(n) != e), key=lambda e: e.name))
    removed = tuple(sorted((e for n, e in before.items() if after.get(n) != e), key=lambda e: e.name))
    return Delta(from_serial, to_serial, added, removed)


def compose(deltas: Sequence[Delta]) -> Delta:
    """One delta for a run of consecutive ones (each starting where the previous ended)."""
    if not deltas:
        raise ValueError("compose needs at least one delta")
    # name -> (the entry the first list had, or None; the entry the last list has, or None)
    net: dict[str, tuple[FeedEntry | None, FeedEntry | None]] = {}
    for position, step in enumerate(deltas):
        if position and step.from_serial != deltas[position - 1].to_serial:
            raise DeltaMismatch(f"delta {step.from_serial}->{step.to_serial} does not follow "
                                f"{deltas[position - 1].from_serial}->{deltas[position - 1].to_serial}")
        for e in step.removed:
            first = net[e.name][0] if e.name in net else e
            net[e.name] = (first, None)
        for e in step.added:
            first = net[e.name][0] if e.name in net else None
            net[e.name] = (first, e)
    names = sorted(net)
    added = tuple(new for n in names for old, new in [net[n]] if new is not None and new != old)
    removed = tuple(old for n in names for old, new in [net[n]] if old is not None and old != new)
    return Delta(deltas[0].from_serial, deltas[-1].to_serial, added, removed)


def apply(entries: Sequence[FeedEntry], delta: Delta) -> tuple[FeedEntry, ...]:
    """The list after the delta, in memory (the splicer does the same on files); DeltaMismatch if it does not fit."""
    current = {e.name: e for e in entries}
    for e in delta.removed:
        if current.get(e.name) != e:
            raise DeltaMismatch(f"the delta removes {e.name!r} ({e.scope}), which the list does not hold as such")
        del current[e.name]
    for e in delta.added:
        if e.name in current:
            raise DeltaMismatch(f"the delta adds {e.name!r}, which the list already holds")
        current[e.name] = e
    return tuple(current[n] for n in sorted(current))
