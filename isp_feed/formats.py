"""The feed's formats, all rendered from one version: pure functions of data, deterministic byte for byte.

Formats: JSON envelope (everything), RPZ with CNAME to the stop page, RPZ with the stop page's A/AAAA
(Knot Resolver honours only these), plain list, hosts (exact names only: weaker, no subdomains), dnsmasq
(`address=/d/ip` always covers subdomains too), Unbound `local-zone` configuration.
"""

from __future__ import annotations

import datetime as dt
import gc
import ipaddress
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from operator import attrgetter
from typing import NamedTuple

FEED_FORMAT_VERSION = 1
SCOPES = ("domain_and_subdomains", "exact")
# A name of two or more A-labels as zone files and resolvers take it: nothing that could break a line of RPZ, hosts
# or dnsmasq, and never a bare TLD.
_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_NAME = re.compile(rf"(?:{_LABEL}\.)+{_LABEL}")


class FeedFormatError(Exception):
    """A feed document is not what the format requires; the message says which field is wrong."""


class FeedEntry(NamedTuple):
    """One blocked name (A-label), its Unicode form and its scope.

    A named tuple rather than a dataclass: a million of them are built per version, on both sides, and a tuple is
    several times cheaper to create (immutable, ordered and hashable all the same).
    """

    name: str
    unicode: str
    scope: str

    @property
    def subdomains(self) -> bool:
        """Whether every name under it is blocked too."""
        return self.scope == "domain_and_subdomains"


CHECKPOINT_TYPE = "audit-checkpoint"
_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class AuditCheckpoint:
    """The server's audit chain at one moment: `events` events long, ending with hash `head`, signed.

    Every envelope carries the newest one, so every ISP's client keeps a copy the server's operators cannot take
    back: a history rewritten later, even with every hash recomputed, no longer passes through it.
    """

    events: int
    head: str
    at: dt.datetime
    signature: str  # minisign signature of checkpoint_body(), trusted comment checkpoint_comment()


def checkpoint_body(events: int, head: str, at: dt.datetime) -> bytes:
    """The exact bytes a checkpoint's signature covers (one line of canonical JSON, `minisign -V` checks it)."""
    fields = {"at": _time(at), "events": events, "feed": "be-blocklist", "head": head, "type": CHECKPOINT_TYPE}
    return (json.dumps(fields, sort_keys=True, separators=(",", ":")) + "\n").encode()


def checkpoint_comment(events: int, head: str, at: dt.datetime) -> str:
    """The signed comment of a checkpoint: what `minisign -V` shows a person who checks one by hand."""
    return f"{CHECKPOINT_TYPE} feed=be-blocklist events={events} head={head} at={_time(at)}"


def _check_checkpoint_fields(events: object, head: object, at: object, where: str) -> dt.datetime:
    if not isinstance(events, int) or isinstance(events, bool) or events < 0:
        raise FeedFormatError(f"{where}events must be a non-negative integer")
    if not isinstance(head, str) or not _HEX64.fullmatch(head):
        raise FeedFormatError(f"{where}head must be 64 lower-case hex digits")
    return _parse_time(at, f"{where}at")


def parse_checkpoint_body(data: bytes) -> tuple[int, str, dt.datetime]:
    """Read a checkpoint document (events, head, time); FeedFormatError if it is not exactly one."""
    try:
        body = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FeedFormatError(f"the checkpoint is not valid JSON ({exc})") from None
    if not isinstance(body, dict) or body.get("type") != CHECKPOINT_TYPE or body.get("feed") != "be-blocklist":
        raise FeedFormatError("not a be-blocklist audit checkpoint")
    at = _check_checkpoint_fields(body.get("events"), body.get("head"), body.get("at"), "")
    if checkpoint_body(body["events"], body["head"], at) != data:
        raise FeedFormatError("the checkpoint is not in its canonical form")
    return body["events"], body["head"], at


def checkpoint_time(at: dt.datetime) -> str:
    """A checkpoint's time as it is signed."""
    return _time(at)


def checkpoint_line(checkpoint: AuditCheckpoint, *, serial: int, received_at: dt.datetime) -> str:
    """One line of a client's append-only `checkpoints.jsonl`: the checkpoint, its signature, where it came from."""
    return json.dumps({"at": _time(checkpoint.at), "events": checkpoint.events, "head": checkpoint.head,
                       "received_at": _time(received_at), "serial": serial, "signature": checkpoint.signature},
                      sort_keys=True, separators=(",", ":")) + "\n"


def parse_checkpoint_line(line: str) -> tuple[AuditCheckpoint, int | None]:
    """A checkpoint from a `checkpoints.jsonl` line, and the feed serial that carried it."""
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as exc:
        raise FeedFormatError(f"not a checkpoint line ({exc})") from None
    if not isinstance(raw, dict):
        raise FeedFormatError("not a checkpoint line")
    serial = raw.pop("serial", None)
    raw.pop("received_at", None)
    checkpoint = _envelope_checkpoint(raw)
    assert checkpoint is not None
    return checkpoint, serial if isinstance(serial, int) else None


@dataclass(frozen=True)
class FeedVersion:
    """One version of the list: what every format is rendered from."""

    serial: int
    generated_at: dt.datetime
    expires_at: dt.datetime
    previous_sha256: str | None
    entries: tuple[FeedEntry, ...]
    stop_page_name: str
    stop_page_ipv4: str
    stop_page_ipv6: str | None = None
    checkpoint: AuditCheckpoint | None = None

    @property
    def count(self) -> int:
        """How many names."""
        return len(self.entries)


def _time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(value: object, field: str) -> dt.datetime:
    if not isinstance(value, str):
        raise FeedFormatError(f"{field} must be a timestamp string")
    try:
        return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    except ValueError:
        raise FeedFormatError(f"{field} {value!r} is not YYYY-MM-DDTHH:MM:SSZ") from None


_SUBDOMAINS = "domain_and_subdomains"


def _sorted(entries: tuple[FeedEntry, ...]) -> list[FeedEntry]:
    return sorted(entries, key=attrgetter("name"))  # already-sorted input (the usual case) costs one pass


def _header(version: FeedVersion, comment: str) -> str:
    return (f"{comment} be-blocklist feed serial {version.serial}, generated {_time(version.generated_at)}, "
            f"expires {_time(version.expires_at)}, {version.count} names")


def _finish(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode()


# The renderers below are hand-written loops (1,000,000 names are a target), each producing exactly the bytes of
# the straightforward version: stored versions are re-rendered on serving and must match their signed hash.

def _json(version: FeedVersion, entries: list[FeedEntry]) -> bytes:
    quote = json.encoder.encode_basestring  # what json.dumps(ensure_ascii=False) uses for strings
    scopes = {scope: quote(scope) for scope in SCOPES}
    items = [f'{{"name":{quote(e.name)},"scope":{scopes.get(e.scope) or quote(e.scope)},'
             f'"unicode":{quote(e.unicode)}}}' for e in entries]
    # Keys are sorted: "audit_checkpoint" < "count" < "entries" < every other key, so the entries are spliced in.
    rest = {
        "feed": "be-blocklist",
        "format": FEED_FORMAT_VERSION,
        "serial": version.serial,
        "generated_at": _time(version.generated_at),
        "expires_at": _time(version.expires_at),
        "previous_sha256": version.previous_sha256,
        "stop_page": {"name": version.stop_page_name, "ipv4": version.stop_page_ipv4, "ipv6": version.stop_page_ipv6},
    }
    tail = json.dumps(rest, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    head = ""
    if version.checkpoint is not None:  # "audit_checkpoint" sorts first; absent, the bytes are as before it existed
        cp = version.checkpoint
        fields = {"at": _time(cp.at), "events": cp.events, "head": cp.head, "signature": cp.signature}
        head = '"audit_checkpoint":' + json.dumps(fields, sort_keys=True, separators=(",", ":")) + ","
    return f'{{{head}"count":{len(entries)},"entries":[{",".join(items)}],{tail[1:]}\n'.encode()


def _owner_records(records: list[str]) -> Callable[[str], str]:
    """A function giving the lines `<owner> <record>` for each record (specialised: it runs per owner)."""
    tails = [f" {record}" for record in records]
    if len(tails) == 1:
        (one,) = tails
        return lambda owner: owner + one
    if len(tails) == 2:
        first, second = tails
        return lambda owner: f"{owner}{first}\n{owner}{second}"
    return lambda owner: "\n".join(owner + tail for tail in tails)


def _rpz(version: FeedVersion, entries: list[FeedEntry], records: list[str]) -> bytes:
    # SOA serial = feed serial, so a resolver (and an operator) sees which version is loaded.
    lines = [
        _header(version, ";"),
        "$TTL 300",
        f"@ IN SOA localhost. hostmaster.blocklist.invalid. {version.serial} 3600 600 604800 300",
        "@ IN NS localhost.",
    ]
    owner_lines = _owner_records(records)
    append = lines.append
    for e in entries:
        name = e.name
        append(owner_lines(name))
        if e.scope == _SUBDOMAINS:
            append(owner_lines("*." + name))
    return _finish(lines)


def _addresses(version: FeedVersion) -> list[str]:
    records = [f"A {version.stop_page_ipv4}"]
    if version.stop_page_ipv6:
        records.append(f"AAAA {version.stop_page_ipv6}")
    return records


def _rpz_cname(version: FeedVersion, entries: list[FeedEntry]) -> bytes:
    return _rpz(version, entries, [f"CNAME {version.stop_page_name.rstrip('.')}."])


def _rpz_a(version: FeedVersion, entries: list[FeedEntry]) -> bytes:
    return _rpz(version, entries, _addresses(version))


def _plain(version: FeedVersion, entries: list[FeedEntry]) -> bytes:
    lines = [_header(version, "#")]
    append = lines.append
    for e in entries:
        append(f"{e.name}\n*.{e.name}" if e.scope == _SUBDOMAINS else e.name)
    return _finish(lines)


def _hosts(version: FeedVersion, entries: list[FeedEntry]) -> bytes:
    lines = [_header(version, "#"), "# hosts files block exact names only; prefer the RPZ feed"]
    v4, v6 = version.stop_page_ipv4, version.stop_page_ipv6
    if v6:
        lines.extend(f"{v4} {e.name}\n{v6} {e.name}" for e in entries)
    else:
        lines.extend(f"{v4} {e.name}" for e in entries)
    return _finish(lines)


def _dnsmasq(version: FeedVersion, entries: list[FeedEntry]) -> bytes:
    lines = [_header(version, "#")]
    v4, v6 = version.stop_page_ipv4, version.stop_page_ipv6
    if v6:
        lines.extend(f"address=/{e.name}/{v4}\naddress=/{e.name}/{v6}" for e in entries)
    else:
        lines.extend(f"address=/{e.name}/{v4}" for e in entries)
    return _finish(lines)


def _unbound(version: FeedVersion, entries: list[FeedEntry]) -> bytes:
    lines = [_header(version, "#"), "server:"]
    data = _owner_records([f'300 IN {record}"' for record in _addresses(version)])
    kinds = {_SUBDOMAINS: "redirect"}
    lines.extend(f'    local-zone: "{e.name}." {kinds.get(e.scope, "transparent")}\n'
                 + data(f'    local-data: "{e.name}.') for e in entries)
    return _finish(lines)


def render_json(version: FeedVersion) -> bytes:
    """The JSON envelope: every field of the version and every name with its scope."""
    return _json(version, _sorted(version.entries))


def render_rpz_cname(version: FeedVersion) -> bytes:
    """RPZ: `d CNAME <stop-page-name>.` (and `*.d` when subdomains are in scope)."""
    return _rpz_cname(version, _sorted(version.entries))


def render_rpz_a(version: FeedVersion) -> bytes:
    """RPZ with the stop page's addresses (works in every resolver, Knot Resolver included)."""
    return _rpz_a(version, _sorted(version.entries))


def render_plain(version: FeedVersion) -> bytes:
    """One name per line; `*.d` follows `d` when subdomains are in scope."""
    return _plain(version, _sorted(version.entries))


def render_hosts(version: FeedVersion) -> bytes:
    """hosts file: exact names only (a hosts file cannot block subdomains: weaker than RPZ)."""
    return _hosts(version, _sorted(version.entries))


def render_dnsmasq(version: FeedVersion) -> bytes:
    """dnsmasq `address=/d/ip` (dnsmasq always includes subdomains, whatever the scope)."""
    return _dnsmasq(version, _sorted(version.entries))


def render_unbound(version: FeedVersion) -> bytes:
    """Unbound configuration: `redirect` zones for names with subdomains, `transparent` for exact names."""
    return _unbound(version, _sorted(version.entries))


RENDERERS: dict[str, tuple[Callable[[FeedVersion], bytes], str]] = {
    "json": (render_json, "application/json"),
    "rpz": (render_rpz_cname, "text/dns; charset=utf-8"),
    "a.rpz": (render_rpz_a, "text/dns; charset=utf-8"),
    "txt": (render_plain, "text/plain; charset=utf-8"),
    "hosts": (render_hosts, "text/plain; charset=utf-8"),
    "dnsmasq.conf": (render_dnsmasq, "text/plain; charset=utf-8"),
    "unbound.conf": (render_unbound, "text/plain; charset=utf-8"),
}
_ON_SORTED: dict[str, Callable[[FeedVersion, list[FeedEntry]], bytes]] = {
    "json": _json, "rpz": _rpz_cname, "a.rpz": _rpz_a, "txt": _plain, "hosts": _hosts, "dnsmasq.conf": _dnsmasq,
    "unbound.conf": _unbound,
}
EXTENSIONS = tuple(RENDERERS)
MEDIA_TYPES = {ext: media for ext, (_, media) in RENDERERS.items()}


def render_each(version: FeedVersion, only: str | None = None) -> Iterator[tuple[str, bytes]]:
    """Every format of the version (or just `only`) one at a time: only one body is held in memory at once."""
    if only is not None and only not in RENDERERS:
        raise FeedFormatError(f"unknown feed format {only!r}; formats: {', '.join(EXTENSIONS)}")
    entries = _sorted(version.entries)  # sorted once for all formats
    for ext in [only] if only is not None else EXTENSIONS:
        yield ext, _ON_SORTED[ext](version, entries)


def render_all(version: FeedVersion, only: str | None = None) -> dict[str, bytes]:
    """Every format of the version (or just `only`), as the exact bytes that are signed and served."""
    return dict(render_each(version, only))


def trusted_comment(*, feed: str, serial: int, expires_at: dt.datetime, sha256: str, fmt: str) -> str:
    """The one-line signed comment: the client checks every field against what it downloaded."""
    return f"feed={feed} serial={serial} expires={_time(expires_at)} sha256={sha256} format={fmt}"


@dataclass(frozen=True)
class SignedFacts:
    """What a trusted comment asserts."""

    feed: str
    serial: int
    expires_at: dt.datetime
    sha256: str
    fmt: str


def parse_trusted_comment(comment: str) -> SignedFacts:
    """Read the fields of a trusted comment, refusing anything missing or malformed."""
    fields = dict(part.split("=", 1) for part in comment.split() if "=" in part)
    try:
        serial = int(fields["serial"])
        return SignedFacts(fields["feed"], serial, _parse_time(fields["expires"], "expires"), fields["sha256"],
                           fields["format"])
    except (KeyError, ValueError) as exc:
        raise FeedFormatError(f"trusted comment lacks or garbles {exc}: {comment!r}") from None


def _check_name(name: str, field: str) -> None:
    if len(name) > 253 or not _NAME.fullmatch(name):
        if "." not in name and _NAME.fullmatch(f"{name}.x"):
            raise FeedFormatError(f"{field} {name!r} is a top-level domain, never a blockable name")
        raise FeedFormatError(f"{field} {name[:80]!r} is not a lower-case A-label domain name")


def _check_address(value: object, version: int, field: str) -> None:
    try:
        parsed = ipaddress.ip_address(value)  # type: ignore[arg-type]
    except ValueError:
        raise FeedFormatError(f"{field} {value!r} is not an IPv{version} address") from None
    if parsed.version != version:
        raise FeedFormatError(f"{field} {value!r} is not an IPv{version} address")


_ENTRY_KEYS = frozenset(("name", "unicode", "scope"))
_INTERNED_SCOPES = {scope: scope for scope in SCOPES}


def _entry_hook(item: dict[str, object]) -> object:
    """Turn each well-formed entry into a FeedEntry as it is decoded (a million dicts never exist at once)."""
    if item.keys() == _ENTRY_KEYS:
        name, unicode, scope = item["name"], item["unicode"], item["scope"]
        if isinstance(name, str) and isinstance(unicode, str) and isinstance(scope, str):
            # Share equal strings: most names have no other Unicode form, and there are two scopes.
            return FeedEntry(name, name if unicode == name else unicode, _INTERNED_SCOPES.get(scope, scope))
    return item


def _decode(data: bytes) -> object:
    # The cyclic GC would rescan the growing heap of entries again and again; they hold no cycles.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return json.loads(data, object_hook=_entry_hook)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FeedFormatError(f"the envelope is not valid JSON ({exc})") from None
    finally:
        if enabled:
            gc.enable()


def _check_entries(raw: object) -> tuple[FeedEntry, ...]:
    if not isinstance(raw, list):
        raise FeedFormatError("entries must be a list")
    previous = ""
    for i, entry in enumerate(raw):
        if not isinstance(entry, FeedEntry):
            raise FeedFormatError(f"entries[{i}] must be an object of exactly string name, unicode and scope")
        if entry.scope not in _INTERNED_SCOPES:
            raise FeedFormatError(f"entries[{i}] has unknown scope {entry.scope!r}")
        name = entry.name
        if len(name) > 253 or not _NAME.fullmatch(name):
            _check_name(name, f"entries[{i}].name")
        # Sorted and unique is the canonical form every renderer produces; anything else is not ours.
        if name <= previous:
            why = "is listed twice" if name == previous else f"is out of order (after {previous!r})"
            raise FeedFormatError(f"entries[{i}].name {name!r} {why}")
        previous = name
    return tuple(raw)


def parse_envelope(data: bytes) -> FeedVersion:
    """Read a JSON envelope strictly; FeedFormatError names the first wrong field."""
    body = _decode(data)
    if not isinstance(body, dict) or body.get("feed") != "be-blocklist":
        raise FeedFormatError("not a be-blocklist feed envelope")
    if body.get("format") != FEED_FORMAT_VERSION:
        raise FeedFormatError(f"unsupported envelope format {body.get('format')!r}")
    serial = body.get("serial")
    if not isinstance(serial, int) or isinstance(serial, bool) or serial < 1:
        raise FeedFormatError("serial must be a positive integer")
    stop = body.get("stop_page")
    if not isinstance(stop, dict) or not isinstance(stop.get("name"), str) or not isinstance(stop.get("ipv4"), str):
        raise FeedFormatError("stop_page must give name and ipv4")
    # The stop page is a host name the server operator chose (any case, a single label allowed), not a listed name.
    if not re.fullmatch(rf"(?:{_LABEL}\.)*{_LABEL}\.?", stop["name"].lower()):
        raise FeedFormatError(f"stop_page.name {stop['name'][:80]!r} is not a host name")
    _check_address(stop["ipv4"], 4, "stop_page.ipv4")
    if stop.get("ipv6") is not None:
        _check_address(stop["ipv6"], 6, "stop_page.ipv6")
    entries = _check_entries(body.get("entries"))
    if body.get("count") != len(entries):
        raise FeedFormatError(f"count {body.get('count')!r} does not match the {len(entries)} entries (truncated?)")
    previous = body.get("previous_sha256")
    if previous is not None and not (isinstance(previous, str) and re.fullmatch(r"[0-9a-f]{64}", previous)):
        raise FeedFormatError("previous_sha256 must be 64 lower-case hex digits or null")
    generated_at = _parse_time(body.get("generated_at"), "generated_at")
    expires_at = _parse_time(body.get("expires_at"), "expires_at")
    if expires_at <= generated_at:
        raise FeedFormatError(f"expires_at {_time(expires_at)} is not after generated_at {_time(generated_at)}")
    return FeedVersion(
        serial=serial, generated_at=generated_at, expires_at=expires_at, previous_sha256=previous,
        entries=entries, stop_page_name=stop["name"], stop_page_ipv4=stop["ipv4"],
        stop_page_ipv6=stop.get("ipv6") if isinstance(stop.get("ipv6"), str) else None,
        checkpoint=_envelope_checkpoint(body.get("audit_checkpoint")),
    )


def _envelope_checkpoint(raw: object) -> AuditCheckpoint | None:
    if raw is None:
        return None  # versions from before checkpoints existed
    if not isinstance(raw, dict) or raw.keys() != {"at", "events", "head", "signature"}:
        raise FeedFormatError("audit_checkpoint must give exactly at, events, head and signature")
    at = _check_checkpoint_fields(raw["events"], raw["head"], raw["at"], "audit_checkpoint.")
    if not isinstance(raw["signature"], str) or len(raw["signature"]) > 2000:
        raise FeedFormatError("audit_checkpoint.signature must be a minisign signature")
    return AuditCheckpoint(raw["events"], raw["head"], at, raw["signature"])


@dataclass(frozen=True)
class EntriesDiff:
    """What changed between two lists: names added, removed, and kept with another scope or Unicode form."""

    added: tuple[FeedEntry, ...]
    removed: tuple[FeedEntry, ...]
    modified: tuple[tuple[FeedEntry, FeedEntry], ...]  # (old, new)

    @property
    def changed(self) -> int:
        """How many names differ in any way."""
        return len(self.added) + len(self.removed) + len(self.modified)


def diff(old_entries: Iterable[FeedEntry], new_entries: Iterable[FeedEntry]) -> EntriesDiff:
    """Compare two lists by name (sorted): what an incremental load has to add, remove or change."""
    old = {e.name: e for e in old_entries}
    new = {e.name: e for e in new_entries}
    return EntriesDiff(
        added=tuple(new[n] for n in sorted(new.keys() - old.keys())),
        removed=tuple(old[n] for n in sorted(old.keys() - new.keys())),
        modified=tuple((old[n], new[n]) for n in sorted(old.keys() & new.keys()) if old[n] != new[n]),
    )
