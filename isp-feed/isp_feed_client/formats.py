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
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain, compress, count, repeat
from operator import attrgetter, ne
from typing import NamedTuple

from isp_feed_client.canary import canary_name

FEED_FORMAT_VERSION = 2  # 2: files carry no expiry, previous hash or checkpoint (the manifest does)
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
    """One content version of the list: what every format file is rendered from.

    No expiry, no previous hash, no checkpoint: those belong to the signed manifest (isp_feed_client/manifest.py), so
    that the hourly re-issue is a new manifest pointing at the same files. `serial` is the serial that introduced this
    content (the RPZ SOA serial).
    """

    serial: int
    generated_at: dt.datetime
    entries: tuple[FeedEntry, ...]
    stop_page_name: str
    stop_page_ipv4: str
    stop_page_ipv6: str | None = None

    @property
    def count(self) -> int:
        """How many names."""
        return len(self.entries)


def _time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_time(value: dt.datetime) -> str:
    """A time as every feed document writes it (UTC, seconds)."""
    return _time(value)


def parse_time(value: object, field: str) -> dt.datetime:
    """A feed document's time field; FeedFormatError names the field when it is not `YYYY-MM-DDTHH:MM:SSZ`."""
    return _parse_time(value, field)


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


def _header(version: FeedVersion, comment: str, count: int) -> str:
    generated = _time(version.generated_at)
    return f"{comment} be-blocklist feed serial {version.serial}, generated {generated}, {count} names"


# The renderers below never loop over entries in Python: a national list is 1,000,000 names in eight formats. Each
# format is one template per scope (`%s` where the name goes, `%.0s` to pass over a copy an exact name does not use),
# the templates of all names are strung together by replacing each name's one-byte scope code, and one `bytes % args`
# fills in every name at once; both run in C. Each produces exactly the bytes of the straightforward version
# (tests/isp_feed/test_formats.py compares them). Every format is line-based: a fixed number of header lines, the
# lines of each entry in name order, and (JSON only) one footer line; isp_feed_client/splice.py relies on this to edit
# a file in place of re-rendering it. `count` is the number of names of the whole version (the body may be a few
# entries only).
SCOPE_CODES = {_SUBDOMAINS: 1, "exact": 2}  # one byte per name in Prepared.codes
OTHER_SCOPE = 3  # the code of a scope that is none of SCOPES (rendered as exact; named in Prepared.other)


@dataclass(frozen=True)
class Prepared:
    """A sorted list prepared once for every format: the names as bytes (A-labels are ASCII), one scope code per
    name (SCOPE_CODES), and, by position, the Unicode form of each name that has another and the scope of each name
    whose scope is none of SCOPES."""

    names: list[bytes]
    codes: bytes
    unicode: dict[int, str]
    other: dict[int, str]
    # Every name k times in a row, by k: the arguments of the templates that name it k times (several formats do).
    copies: dict[int, tuple[bytes, ...]] = field(default_factory=dict, compare=False, repr=False)
    memo: dict[str, bytes] = field(default_factory=dict, compare=False, repr=False)  # bodies other formats reuse

    def __len__(self) -> int:
        return len(self.names)


def prepared_of(entries: Sequence[FeedEntry]) -> Prepared:
    """Sorted entries, prepared (`Prepared`)."""
    names = [e.name.encode("ascii") for e in entries]
    codes = bytes(map(SCOPE_CODES.get, map(attrgetter("scope"), entries), repeat(OTHER_SCOPE)))
    differ = compress(count(), map(ne, map(attrgetter("unicode"), entries), map(attrgetter("name"), entries)))
    other = {i: entries[i].scope for i in compress(count(), map(OTHER_SCOPE.__eq__, codes))} \
        if OTHER_SCOPE in codes else {}
    return Prepared(names, codes, {i: entries[i].unicode for i in differ}, other)


def _lit(text: str) -> bytes:
    """A constant part of a template: its `%` doubled."""
    return text.encode().replace(b"%", b"%%")


def _templates(prep: Prepared, by_code: dict[int, bytes]) -> bytes:
    """Each name's template by its scope code, strung together."""
    if len(set(by_code.values())) == 1:
        return next(iter(by_code.values())) * len(prep)
    if any(code in template for template in by_code.values() for code in by_code):
        return b"".join(map(by_code.__getitem__, prep.codes))  # a template holding a code byte: the slow way
    joined = prep.codes
    for code, template in by_code.items():
        joined = joined.replace(bytes((code,)), template)
    return joined


def _copies(prep: Prepared, times: int) -> tuple[bytes, ...]:
    """Every name `times` times in a row: the arguments of templates that name it that often."""
    if times not in prep.copies:
        prep.copies[times] = tuple(chain.from_iterable(zip(*[prep.names] * times, strict=True)))
    return prep.copies[times]


def _filled(prep: Prepared, by_code: dict[int, bytes], times: int) -> bytes:
    """Every name's template (by scope) with the name in each of its `times` places."""
    return _templates(prep, by_code) % _copies(prep, times) if prep.names else b""


def _by_scope(covering: bytes, exact: bytes) -> dict[int, bytes]:
    """The templates of a format that differs by scope only (another scope renders as exact)."""
    return {1: covering, 2: exact, OTHER_SCOPE: exact}


def _with_fields(prep: Prepared, by_code: dict[int, bytes], unicode: Callable[[str], bytes],
                 scope: Callable[[str], bytes]) -> bytes:
    """Templates of two places per name, the name and its Unicode form (the name itself when it has no other), and,
    for a scope that is none of SCOPES, its scope in between."""
    if not prep.names:
        return b""
    if prep.other:  # never from the server's own tables (each scope is one of SCOPES): the slow way
        args: list[bytes] = []
        for i, name in enumerate(prep.names):
            args.append(name)
            if i in prep.other:
                args.append(scope(prep.other[i]))
            args.append(unicode(prep.unicode[i]) if i in prep.unicode else name)
        return _templates(prep, by_code) % tuple(args)
    if not prep.unicode:
        return _templates(prep, by_code) % _copies(prep, 2)
    pairs = list(_copies(prep, 2))
    for i, form in prep.unicode.items():
        pairs[2 * i + 1] = unicode(form)
    return _templates(prep, by_code) % tuple(pairs)


class _Parts(NamedTuple):
    """A format rendered: its header lines, the lines of its entries as they stand anywhere but first (JSON's open
    with a comma: LAYOUTS' separator), and its footer lines. Kept apart, so that a body of hundreds of MB is never
    copied again to be framed or cut out."""

    header: bytes
    body: bytes
    footer: bytes

    def whole(self, separator: bytes) -> bytes:
        return b"".join((self.header, memoryview(self.body)[len(separator):], self.footer))


def _lines(*lines: str) -> bytes:
    return "".join(line + "\n" for line in lines).encode()


def _json(version: FeedVersion, prep: Prepared, count: int) -> _Parts:
    quote = json.encoder.encode_basestring  # what json.dumps(ensure_ascii=False) uses for strings

    def entry(scope: str) -> bytes:
        return b',{"name":"%s","scope":' + _lit(quote(scope)) + b',"unicode":"%s"}\n'

    by_code = {code: entry(scope) for scope, code in SCOPE_CODES.items()}
    by_code[OTHER_SCOPE] = b',{"name":"%s","scope":%s,"unicode":"%s"}\n'
    # Keys are sorted: "count" < "entries" < every other key, so the entries are spliced in, one per line, every
    # line but the first opening with its comma.
    rest = {
        "feed": "be-blocklist",
        "format": FEED_FORMAT_VERSION,
        "serial": version.serial,
        "generated_at": _time(version.generated_at),
        "stop_page": {"name": version.stop_page_name, "ipv4": version.stop_page_ipv4, "ipv6": version.stop_page_ipv6},
    }
    tail = json.dumps(rest, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    body = _with_fields(prep, by_code, lambda form: quote(form)[1:-1].encode(), lambda scope: quote(scope).encode())
    return _Parts(f'{{"count":{count},"entries":[\n'.encode(), body, f"],{tail[1:]}\n".encode())


def _owned(prep: Prepared, records: list[str]) -> bytes:
    """For each entry `<name><record>` lines (and `*.<name><record>` when it covers subdomains)."""
    if records != ["\n"] and len(records) == 1 and records[0].endswith("\n") and records[0].count("\n") == 1:
        # One record: each line of the plain list (rendered once, kept for the other formats) with its record.
        return _owned(prep, ["\n"]).replace(b"\n", records[0].encode())
    if records == ["\n"] and "owners" in prep.memo:
        return prep.memo["owners"]
    records_b = [_lit(record) for record in records]
    own = b"".join(b"%s" + record for record in records_b)
    wildcards = b"".join(b"*.%s" + record for record in records_b)
    lines = _filled(prep, _by_scope(own + wildcards, own + b"%.0s" * len(records)), 2 * len(records))
    if records == ["\n"]:
        prep.memo["owners"] = lines
    return lines


def _canary(version: FeedVersion) -> str:
    return canary_name(version.serial, version.stop_page_name)


def _rpz(version: FeedVersion, prep: Prepared, count: int, records: list[str]) -> _Parts:
    # SOA serial = the serial of this content, so a resolver (and an operator) sees which version is loaded. The
    # last line is the serial's canary (isp_feed_client/canary.py), with the first record only: last, so that a resolver
    # that keeps the lines before a bad one (Unbound, Knot Resolver) is caught not serving the whole file.
    header = _lines(_header(version, ";", count), "$TTL 300",
                    f"@ IN SOA localhost. hostmaster.blocklist.invalid. {version.serial} 3600 600 604800 300",
                    "@ IN NS localhost.")
    return _Parts(header, _owned(prep, [f" {record}\n" for record in records]),
                  _lines(f"{_canary(version)} {records[0]}"))


def _addresses(version: FeedVersion) -> list[str]:
    records = [f"A {version.stop_page_ipv4}"]
    if version.stop_page_ipv6:
        records.append(f"AAAA {version.stop_page_ipv6}")
    return records


def _rpz_cname(version: FeedVersion, prep: Prepared, count: int) -> _Parts:
    return _rpz(version, prep, count, [f"CNAME {version.stop_page_name.rstrip('.')}."])


def _rpz_a(version: FeedVersion, prep: Prepared, count: int) -> _Parts:
    return _rpz(version, prep, count, _addresses(version))


def _plain(version: FeedVersion, prep: Prepared, count: int) -> _Parts:
    return _Parts(_lines(_header(version, "#", count)), _owned(prep, ["\n"]), b"")


def _hosts(version: FeedVersion, prep: Prepared, count: int) -> _Parts:
    header = _lines(_header(version, "#", count), "# hosts files block exact names only; prefer the RPZ feed")
    footer = _lines(f"{version.stop_page_ipv4} {_canary(version)}")
    prefixes = [_lit(f"{address} ") for address in (version.stop_page_ipv4, version.stop_page_ipv6) if address]
    template = b"".join(prefix + b"%s\n" for prefix in prefixes)
    return _Parts(header, _filled(prep, {1: template}, len(prefixes)), footer)


def _dnsmasq(version: FeedVersion, prep: Prepared, count: int) -> _Parts:
    header = _lines(_header(version, "#", count))
    footer = _lines(f"address=/{_canary(version)}/{version.stop_page_ipv4}")
    tails = [_lit(f"/{address}\n") for address in (version.stop_page_ipv4, version.stop_page_ipv6) if address]
    # `local=/d/` beside the addresses: dnsmasq 2.86+ forwards every other type (HTTPS, with the real server's
    # address hints) unless the domain is local, and then answers them with no data.
    template = b"".join(b"address=/%s" + tail for tail in tails) + b"local=/%s/\n"
    return _Parts(header, _filled(prep, {1: template}, len(tails) + 1), footer)


def _unbound(version: FeedVersion, prep: Prepared, count: int) -> _Parts:
    canary = _canary(version)
    header = _lines(_header(version, "#", count), "server:")
    footer = _lines(f'    local-zone: "{canary}." redirect',
                    f'    local-data: "{canary}. 300 IN A {version.stop_page_ipv4}"')
    records = [_lit(f'. 300 IN {record}"\n') for record in _addresses(version)]
    data = b"".join(b'    local-data: "%s' + record for record in records)
    zone = b'    local-zone: "%s."'
    templates = _by_scope(zone + b" redirect\n" + data, zone + b" transparent\n" + data)
    return _Parts(header, _filled(prep, templates, len(records) + 1), footer)


def _list(version: FeedVersion, prep: Prepared, count: int) -> _Parts:
    # The canonical list: no header, so that its SHA-256 identifies the set whatever the serial.
    by_code = {code: b"%s\t" + _lit(scope) + b"\t%s\n" for scope, code in SCOPE_CODES.items()}
    by_code[OTHER_SCOPE] = b"%s\t%s\t%s\n"
    return _Parts(b"", _with_fields(prep, by_code, str.encode, str.encode), b"")


def canonical_list(entries: Iterable[FeedEntry]) -> bytes:
    """The canonical bytes of a set of names (sorted `name TAB scope TAB unicode` lines): its SHA-256 identifies the
    set, the manifest signs it, and a client rebuilds it from a delta."""
    return "".join(f"{e.name}\t{e.scope}\t{e.unicode}\n" for e in sorted(entries, key=attrgetter("name"))).encode()


def in_order(entries: Iterable[tuple[str, FeedEntry]]) -> tuple[FeedEntry, ...]:
    """Entries, each with where it was read, that must come in strictly increasing name order (sorted, unique: the
    canonical form); FeedFormatError names the first that does not."""
    found: list[FeedEntry] = []
    previous = ""
    for where, entry in entries:
        if entry.name <= previous:
            raise FeedFormatError(f"{where}: {entry.name!r} is out of order or listed twice")
        previous = entry.name
        found.append(entry)
    return tuple(found)


def parse_list(data: bytes) -> tuple[FeedEntry, ...]:
    """Read a canonical list strictly (sorted, unique, known scopes, valid names)."""
    def read() -> Iterator[tuple[str, FeedEntry]]:
        for number, raw in enumerate(data.decode("utf-8").splitlines(), 1):
            parts = raw.split("\t")
            if len(parts) != 3:
                raise FeedFormatError(f"list line {number} is not name<TAB>scope<TAB>unicode")
            yield f"list line {number}", check_entry(parts[0], parts[2], parts[1], f"list line {number}")

    return in_order(read())


# Each format: how it is rendered from a sorted, prepared list, its media type, and what it is for.
_FORMATS: dict[str, tuple[Callable[[FeedVersion, Prepared, int], _Parts], str]] = {
    "json": (_json, "application/json"),  # every field of the version and every name with its scope
    "rpz": (_rpz_cname, "text/dns; charset=utf-8"),  # `d CNAME <stop page>.` (and `*.d` with subdomains)
    "a.rpz": (_rpz_a, "text/dns; charset=utf-8"),  # the stop page's A/AAAA: every resolver, Knot Resolver included
    "txt": (_plain, "text/plain; charset=utf-8"),  # one name per line; `*.d` follows `d` with subdomains
    "hosts": (_hosts, "text/plain; charset=utf-8"),  # exact names only: a hosts file cannot block subdomains
    "dnsmasq.conf": (_dnsmasq, "text/plain; charset=utf-8"),  # `address=/d/ip`, `local=/d/`: always with subdomains
    "unbound.conf": (_unbound, "text/plain; charset=utf-8"),  # `redirect` zones, `transparent` for exact names
    "list": (_list, "text/tab-separated-values; charset=utf-8"),  # the canonical list the manifest's hash covers
}
_ON_SORTED = {ext: renderer for ext, (renderer, _) in _FORMATS.items()}


def _whole(version: FeedVersion, prepared: Prepared, ext: str) -> bytes:
    return _ON_SORTED[ext](version, prepared, len(prepared)).whole(LAYOUTS[ext].separator)


def render(version: FeedVersion, ext: str) -> bytes:
    """One format of a version (its entries in any order)."""
    if ext not in _FORMATS:
        raise FeedFormatError(f"unknown feed format {ext!r}; formats: {', '.join(EXTENSIONS)}")
    return _whole(version, prepared_of(_sorted(version.entries)), ext)


EXTENSIONS = tuple(_FORMATS)
MEDIA_TYPES = {ext: media for ext, (_, media) in _FORMATS.items()}


def render_each(version: FeedVersion, only: str | None = None) -> Iterator[tuple[str, bytes]]:
    """Every format of the version (or just `only`) one at a time: only one body is held in memory at once."""
    if only is not None and only not in _FORMATS:
        raise FeedFormatError(f"unknown feed format {only!r}; formats: {', '.join(EXTENSIONS)}")
    prepared = prepared_of(_sorted(version.entries))  # sorted and encoded once for all formats
    for ext in [only] if only is not None else EXTENSIONS:
        yield ext, _whole(version, prepared, ext)


def prepare(version: FeedVersion) -> Prepared:
    """A version's names sorted and encoded once, for rendering several formats (`render_prepared`)."""
    return prepared_of(_sorted(version.entries))


def render_prepared(version: FeedVersion, prepared: Prepared, ext: str) -> bytes:
    """One format of a version whose names were prepared (`prepare`)."""
    return _whole(version, prepared, ext)


def render_all(version: FeedVersion, only: str | None = None) -> dict[str, bytes]:
    """Every format of the version (or just `only`), as the exact bytes that are signed and served."""
    return dict(render_each(version, only))


# --- the line structure the splicer edits ------------------------------------------------------------------------


@dataclass(frozen=True)
class LineLayout:
    """How a format's file is laid out in lines: header and footer line counts, and whose entry a body line is."""

    header: int
    footer: int
    owner: Callable[[bytes], bytes]  # a body line (no newline) -> the A-label of the entry it belongs to
    separator: bytes = b""  # opens every entry line but the first (JSON's comma)


def _rpz_owner(line: bytes) -> bytes:
    owner = line[:line.index(b" ")]
    return owner[2:] if owner.startswith(b"*.") else owner


def _json_owner(line: bytes) -> bytes:
    start = line.index(b'{"name":"') + 9
    return line[start:line.index(b'"', start)]


LAYOUTS: dict[str, LineLayout] = {
    "json": LineLayout(1, 1, _json_owner, b","),
    "rpz": LineLayout(4, 1, _rpz_owner),  # the footer: the canary (isp_feed_client/canary.py)
    "a.rpz": LineLayout(4, 1, _rpz_owner),
    "txt": LineLayout(1, 0, lambda line: line[2:] if line.startswith(b"*.") else line),
    "hosts": LineLayout(2, 1, lambda line: line[line.index(b" ") + 1:]),
    "dnsmasq.conf": LineLayout(1, 1, lambda line: line.split(b"/", 2)[1]),
    "unbound.conf": LineLayout(2, 2, lambda line: line.split(b'"', 2)[1].split(b" ", 1)[0][:-1]),
    "list": LineLayout(0, 0, lambda line: line[:line.index(b"\t")]),
}


def render_frame(version: FeedVersion, ext: str, count: int) -> tuple[bytes, bytes]:
    """The header and footer lines of one format for a version of `count` names (its entries are not read)."""
    parts = _ON_SORTED[ext](version, prepared_of([]), count)
    return parts.header, parts.footer


def render_block(version: FeedVersion, ext: str, entry: FeedEntry) -> bytes:
    """The body lines of one entry in one format, as they stand anywhere but first (JSON: with the comma)."""
    return _ON_SORTED[ext](version, prepared_of([entry]), 1).body


def trusted_comment(*, feed: str, serial: int, sha256: str, fmt: str, expires_at: dt.datetime | None = None) -> str:
    """The one-line signed comment: the client checks every field against what it downloaded.

    Format files carry no expiry (they outlive re-issues); the manifest's signature carries it.
    """
    expires = f" expires={_time(expires_at)}" if expires_at is not None else ""
    return f"feed={feed} serial={serial}{expires} sha256={sha256} format={fmt}"


@dataclass(frozen=True)
class SignedFacts:
    """What a trusted comment asserts."""

    feed: str
    serial: int
    expires_at: dt.datetime | None
    sha256: str
    fmt: str


def parse_trusted_comment(comment: str) -> SignedFacts:
    """Read the fields of a trusted comment, refusing anything missing or malformed."""
    fields = dict(part.split("=", 1) for part in comment.split() if "=" in part)
    try:
        serial = int(fields["serial"])
        expires = _parse_time(fields["expires"], "expires") if "expires" in fields else None
        return SignedFacts(fields["feed"], serial, expires, fields["sha256"], fields["format"])
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


def check_entry(name: object, unicode: object, scope: object, field: str) -> FeedEntry:
    """One entry of a feed document, each field checked; FeedFormatError names the field."""
    if not isinstance(name, str) or not isinstance(unicode, str) or not isinstance(scope, str):
        raise FeedFormatError(f"{field} must give string name, unicode and scope")
    _check_name(name, f"{field}.name")
    if scope not in _INTERNED_SCOPES:
        raise FeedFormatError(f"{field} has unknown scope {scope!r}")
    if not unicode or len(unicode) > 253 or any(c in unicode for c in "\t\n\r\"\\"):
        raise FeedFormatError(f"{field}.unicode {unicode[:80]!r} is not a domain name")
    return FeedEntry(name, name if unicode == name else unicode, _INTERNED_SCOPES[scope])


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


def parse_stop_page(stop: object) -> tuple[str, str, str | None]:
    """The `stop_page` object of a feed document: host name, IPv4 and optional IPv6, each checked."""
    if not isinstance(stop, dict) or not isinstance(stop.get("name"), str) or not isinstance(stop.get("ipv4"), str):
        raise FeedFormatError("stop_page must give name and ipv4")
    # The stop page is a host name the server operator chose (any case, a single label allowed), not a listed name.
    if not re.fullmatch(rf"(?:{_LABEL}\.)*{_LABEL}\.?", stop["name"].lower()):
        raise FeedFormatError(f"stop_page.name {stop['name'][:80]!r} is not a host name")
    _check_address(stop["ipv4"], 4, "stop_page.ipv4")
    if stop.get("ipv6") is not None:
        _check_address(stop["ipv6"], 6, "stop_page.ipv6")
    ipv6 = stop.get("ipv6")
    return stop["name"], stop["ipv4"], ipv6 if isinstance(ipv6, str) else None


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
    stop_name, stop_v4, stop_v6 = parse_stop_page(body.get("stop_page"))
    entries = _check_entries(body.get("entries"))
    if body.get("count") != len(entries):
        raise FeedFormatError(f"count {body.get('count')!r} does not match the {len(entries)} entries (truncated?)")
    return FeedVersion(
        serial=serial, generated_at=_parse_time(body.get("generated_at"), "generated_at"), entries=entries,
        stop_page_name=stop_name, stop_page_ipv4=stop_v4, stop_page_ipv6=stop_v6,
    )


def parse_embedded_checkpoint(raw: object) -> AuditCheckpoint | None:
    """The `audit_checkpoint` object of a manifest (None when absent); FeedFormatError when malformed."""
    return _envelope_checkpoint(raw)


def checkpoint_fields(checkpoint: AuditCheckpoint) -> dict[str, object]:
    """A checkpoint as a manifest embeds it."""
    return {"at": _time(checkpoint.at), "events": checkpoint.events, "head": checkpoint.head,
            "signature": checkpoint.signature}


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


def render_body(version: FeedVersion, prepared: Prepared, ext: str, *, first: bool = True) -> memoryview:
    """The body lines of a version's prepared entries in one format, without header and footer: a run of the lines
    of a bigger version (JSON: opened with the comma unless `first`). A view of the rendered bytes (no copy)."""
    body = memoryview(_ON_SORTED[ext](version, prepared, len(prepared)).body)
    return body[len(LAYOUTS[ext].separator):] if first else body
