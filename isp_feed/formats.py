"""The feed's formats, all rendered from one version: pure functions of data, deterministic byte for byte.

Formats: JSON envelope (everything), RPZ with CNAME to the stop page, RPZ with the stop page's A/AAAA
(Knot Resolver honours only these), plain list, hosts (exact names only: weaker, no subdomains), dnsmasq
(`address=/d/ip` always covers subdomains too), Unbound `local-zone` configuration.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass

FEED_FORMAT_VERSION = 1
SCOPES = ("domain_and_subdomains", "exact")


class FeedFormatError(Exception):
    """A feed document is not what the format requires; the message says which field is wrong."""


@dataclass(frozen=True, order=True)
class FeedEntry:
    """One blocked name (A-label), its Unicode form and its scope."""

    name: str
    unicode: str
    scope: str

    @property
    def subdomains(self) -> bool:
        """Whether every name under it is blocked too."""
        return self.scope == "domain_and_subdomains"


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


def _sorted(version: FeedVersion) -> list[FeedEntry]:
    return sorted(version.entries, key=lambda e: e.name)


def _header(version: FeedVersion, comment: str) -> str:
    return (f"{comment} be-blocklist feed serial {version.serial}, generated {_time(version.generated_at)}, "
            f"expires {_time(version.expires_at)}, {version.count} names\n")


def render_json(version: FeedVersion) -> bytes:
    """The JSON envelope: every field of the version and every name with its scope."""
    body = {
        "feed": "be-blocklist",
        "format": FEED_FORMAT_VERSION,
        "serial": version.serial,
        "generated_at": _time(version.generated_at),
        "expires_at": _time(version.expires_at),
        "previous_sha256": version.previous_sha256,
        "count": version.count,
        "stop_page": {"name": version.stop_page_name, "ipv4": version.stop_page_ipv4, "ipv6": version.stop_page_ipv6},
        "entries": [{"name": e.name, "unicode": e.unicode, "scope": e.scope} for e in _sorted(version)],
    }
    return (json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


def _rpz(version: FeedVersion, records: Callable[[str], list[str]]) -> bytes:
    # SOA serial = feed serial, so a resolver (and an operator) sees which version is loaded.
    lines = [
        _header(version, ";").rstrip("\n"),
        "$TTL 300",
        f"@ IN SOA localhost. hostmaster.blocklist.invalid. {version.serial} 3600 600 604800 300",
        "@ IN NS localhost.",
    ]
    for entry in _sorted(version):
        owners = [entry.name, f"*.{entry.name}"] if entry.subdomains else [entry.name]
        for owner in owners:
            lines.extend(f"{owner} {record}" for record in records(owner))
    return ("\n".join(lines) + "\n").encode()


def render_rpz_cname(version: FeedVersion) -> bytes:
    """RPZ: `d CNAME <stop-page-name>.` (and `*.d` when subdomains are in scope)."""
    target = version.stop_page_name.rstrip(".") + "."
    return _rpz(version, lambda _: [f"CNAME {target}"])


def _addresses(version: FeedVersion) -> list[str]:
    records = [f"A {version.stop_page_ipv4}"]
    if version.stop_page_ipv6:
        records.append(f"AAAA {version.stop_page_ipv6}")
    return records


def render_rpz_a(version: FeedVersion) -> bytes:
    """RPZ with the stop page's addresses (works in every resolver, Knot Resolver included)."""
    return _rpz(version, lambda _: _addresses(version))


def render_plain(version: FeedVersion) -> bytes:
    """One name per line; `*.d` follows `d` when subdomains are in scope."""
    lines = [_header(version, "#").rstrip("\n")]
    for e in _sorted(version):
        lines.append(e.name)
        if e.subdomains:
            lines.append(f"*.{e.name}")
    return ("\n".join(lines) + "\n").encode()


def render_hosts(version: FeedVersion) -> bytes:
    """hosts file: exact names only (a hosts file cannot block subdomains: weaker than RPZ)."""
    lines = [_header(version, "#").rstrip("\n"), "# hosts files block exact names only; prefer the RPZ feed"]
    for e in _sorted(version):
        lines.append(f"{version.stop_page_ipv4} {e.name}")
        if version.stop_page_ipv6:
            lines.append(f"{version.stop_page_ipv6} {e.name}")
    return ("\n".join(lines) + "\n").encode()


def render_dnsmasq(version: FeedVersion) -> bytes:
    """dnsmasq `address=/d/ip` (dnsmasq always includes subdomains, whatever the scope)."""
    lines = [_header(version, "#").rstrip("\n")]
    for e in _sorted(version):
        lines.append(f"address=/{e.name}/{version.stop_page_ipv4}")
        if version.stop_page_ipv6:
            lines.append(f"address=/{e.name}/{version.stop_page_ipv6}")
    return ("\n".join(lines) + "\n").encode()


def render_unbound(version: FeedVersion) -> bytes:
    """Unbound configuration: `redirect` zones for names with subdomains, `transparent` for exact names."""
    lines = [_header(version, "#").rstrip("\n"), "server:"]
    for e in _sorted(version):
        kind = "redirect" if e.subdomains else "transparent"
        lines.append(f'    local-zone: "{e.name}." {kind}')
        lines.extend(f'    local-data: "{e.name}. 300 IN {record}"' for record in _addresses(version))
    return ("\n".join(lines) + "\n").encode()


RENDERERS: dict[str, tuple[Callable[[FeedVersion], bytes], str]] = {
    "json": (render_json, "application/json"),
    "rpz": (render_rpz_cname, "text/dns; charset=utf-8"),
    "a.rpz": (render_rpz_a, "text/dns; charset=utf-8"),
    "txt": (render_plain, "text/plain; charset=utf-8"),
    "hosts": (render_hosts, "text/plain; charset=utf-8"),
    "dnsmasq.conf": (render_dnsmasq, "text/plain; charset=utf-8"),
    "unbound.conf": (render_unbound, "text/plain; charset=utf-8"),
}
EXTENSIONS = tuple(RENDERERS)
MEDIA_TYPES = {ext: media for ext, (_, media) in RENDERERS.items()}


def render_all(version: FeedVersion, only: str | None = None) -> dict[str, bytes]:
    """Every format of the version (or just `only`), as the exact bytes that are signed and served."""
    if only is not None and only not in RENDERERS:
        raise FeedFormatError(f"unknown feed format {only!r}; formats: {', '.join(EXTENSIONS)}")
    chosen = [only] if only is not None else list(EXTENSIONS)
    return {ext: RENDERERS[ext][0](version) for ext in chosen}


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


def parse_envelope(data: bytes) -> FeedVersion:
    """Read a JSON envelope strictly; FeedFormatError names the first wrong field."""
    try:
        body = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FeedFormatError(f"the envelope is not valid JSON ({exc})") from None
    if not isinstance(body, dict) or body.get("feed") != "be-blocklist":
        raise FeedFormatError("not a be-blocklist feed envelope")
    if body.get("format") != FEED_FORMAT_VERSION:
        raise FeedFormatError(f"unsupported envelope format {body.get('format')!r}")
    serial = body.get("serial")
    if not isinstance(serial, int) or serial < 1:
        raise FeedFormatError("serial must be a positive integer")
    stop = body.get("stop_page")
    if not isinstance(stop, dict) or not isinstance(stop.get("name"), str) or not isinstance(stop.get("ipv4"), str):
        raise FeedFormatError("stop_page must give name and ipv4")
    raw_entries = body.get("entries")
    if not isinstance(raw_entries, list):
        raise FeedFormatError("entries must be a list")
    entries = []
    for i, item in enumerate(raw_entries):
        if not isinstance(item, dict) or not all(isinstance(item.get(k), str) for k in ("name", "unicode", "scope")):
            raise FeedFormatError(f"entries[{i}] must have string name, unicode and scope")
        if item["scope"] not in SCOPES:
            raise FeedFormatError(f"entries[{i}] has unknown scope {item['scope']!r}")
        entries.append(FeedEntry(item["name"], item["unicode"], item["scope"]))
    if body.get("count") != len(entries):
        raise FeedFormatError(f"count {body.get('count')!r} does not match the {len(entries)} entries (truncated?)")
    previous = body.get("previous_sha256")
    if previous is not None and not isinstance(previous, str):
        raise FeedFormatError("previous_sha256 must be a string or null")
    return FeedVersion(
        serial=serial, generated_at=_parse_time(body.get("generated_at"), "generated_at"),
        expires_at=_parse_time(body.get("expires_at"), "expires_at"), previous_sha256=previous,
        entries=tuple(entries), stop_page_name=stop["name"], stop_page_ipv4=stop["ipv4"],
        stop_page_ipv6=stop.get("ipv6") if isinstance(stop.get("ipv6"), str) else None,
    )
