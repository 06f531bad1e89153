"""The feed formats: deterministic bytes, the content each resolver needs, a strict envelope parser, the canonical
list, the line layout the splicer edits, diffs. Files carry no expiry, previous hash or checkpoint: the manifest
does (test_trust.py). (That resolvers really load them is proven in test_client_resolvers.py.)"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import random
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isp_feed_client import formats
from isp_feed_client.formats import FeedEntry, FeedFormatError
from tests.support.binaries import require_binary

T0 = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)
ENTRIES = (
    FeedEntry("csam-gallery.test", "csam-gallery.test", "domain_and_subdomains"),
    FeedEntry("exact-only.test", "exact-only.test", "exact"),
    FeedEntry("xn--bcher-kva.example", "bücher.example", "domain_and_subdomains"),
)



def _json(v: formats.FeedVersion) -> bytes:
    return formats.render(v, "json")


def _list(v: formats.FeedVersion) -> bytes:
    return formats.render(v, "list")

def version(entries: tuple[FeedEntry, ...] = ENTRIES, **changes: object) -> formats.FeedVersion:
    base = formats.FeedVersion(serial=42, generated_at=T0, entries=entries, stop_page_name="stop.blocklist.example",
                               stop_page_ipv4="192.0.2.80", stop_page_ipv6="2001:db8::80")
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def lines(data: bytes) -> list[str]:
    return data.decode().splitlines()


# Stored versions are re-rendered when served and must match the hash that was signed, and a client splices its
# files with its own renderer (a byte of difference sends every client to the whole download): a renderer change that
# alters a single byte breaks every stored version. Change these only with a migration plan. (Issue #12 was one:
# format 2, no expiry in files, JSON one entry per line, the canonical list. Issue #16 another: each resolver
# format ends with its serial's canary, isp_feed_client/canary.py; an older client falls back to the download.)
GOLDEN_SHA256 = {
    "json": "b9452c01c6435a78281330fcebdbad339f9e80291e6e05cf44d5abee8436a143",
    "rpz": "20e13024b3e973b69525ce44c0997d7c5d9fb88536b7d71fa34de209512668b9",
    "a.rpz": "454bc02fddb231ee4173a418ed77b494f32f45570660e5195060c4513631b9f3",
    "txt": "be4f74bd353d9ebbe325c9eac13a940649882099fd76c70e5f5fbffce0b25aff",
    "hosts": "56799ce8c1f9be3921b035a1821ecbf4502726d62d1a812a73dc52e82068a54d",
    "dnsmasq.conf": "2929a69d294ca60055309734e9af87164eba044c7ecb6c8a3731d4a5c31ee17b",  # + local=/d/ (#16)
    "unbound.conf": "de43d932fc0374b5420bbbd8c6e6de02c6c8878b6e21446e1af23bd8f9877dfe",
    "list": "a2ef70bdcdee463ce851cc5f74c11629ff753ca80824c458301350f6c3375ba3",
}


def test_rendered_bytes_never_change() -> None:
    rendered = {ext: hashlib.sha256(body).hexdigest() for ext, body in formats.render_each(version())}
    assert rendered == GOLDEN_SHA256


def _straightforward(v: formats.FeedVersion, ext: str) -> bytes:
    """Each format written the obvious way, entry by entry: what the templated renderers must give, byte for byte."""
    entries = sorted(v.entries, key=lambda e: e.name)
    canary = formats.canary_name(v.serial, v.stop_page_name)
    head = f"be-blocklist feed serial {v.serial}, generated {formats.format_time(v.generated_at)}, {len(entries)} names"
    addresses = [f"A {v.stop_page_ipv4}"] + ([f"AAAA {v.stop_page_ipv6}"] if v.stop_page_ipv6 else [])
    ips = [a for a in (v.stop_page_ipv4, v.stop_page_ipv6) if a]

    def owned(records: list[str]) -> list[str]:
        return [f"{owner}{r}" for e in entries for owner in ([e.name, f"*.{e.name}"] if e.subdomains else [e.name])
                for r in records]

    if ext == "json":
        rest = json.dumps({"feed": "be-blocklist", "format": formats.FEED_FORMAT_VERSION, "serial": v.serial,
                           "generated_at": formats.format_time(v.generated_at),
                           "stop_page": {"name": v.stop_page_name, "ipv4": v.stop_page_ipv4,
                                         "ipv6": v.stop_page_ipv6}}, sort_keys=True, ensure_ascii=False,
                          separators=(",", ":"))
        items = [json.dumps({"name": e.name, "scope": e.scope, "unicode": e.unicode}, ensure_ascii=False,
                            separators=(",", ":")) for e in entries]
        return (f'{{"count":{len(entries)},"entries":[\n' + "".join(f"{',' if i else ''}{item}\n"
                for i, item in enumerate(items)) + f"],{rest[1:]}\n").encode()
    if ext in ("rpz", "a.rpz"):
        records = [f"CNAME {v.stop_page_name.rstrip('.')}."] if ext == "rpz" else addresses
        lines_ = [f"; {head}", "$TTL 300", f"@ IN SOA localhost. hostmaster.blocklist.invalid. {v.serial} 3600 600 "
                  "604800 300", "@ IN NS localhost.", *owned([f" {r}" for r in records]), f"{canary} {records[0]}"]
    elif ext == "txt":
        lines_ = [f"# {head}", *owned([""])]
    elif ext == "hosts":
        lines_ = [f"# {head}", "# hosts files block exact names only; prefer the RPZ feed",
                  *[f"{ip} {e.name}" for e in entries for ip in ips], f"{v.stop_page_ipv4} {canary}"]
    elif ext == "dnsmasq.conf":
        lines_ = [f"# {head}", *[line for e in entries for line in
                                 [f"address=/{e.name}/{ip}" for ip in ips] + [f"local=/{e.name}/"]],
                  f"address=/{canary}/{v.stop_page_ipv4}"]
    elif ext == "unbound.conf":
        lines_ = [f"# {head}", "server:", *[line for e in entries for line in
                  [f'    local-zone: "{e.name}." {"redirect" if e.subdomains else "transparent"}']
                  + [f'    local-data: "{e.name}. 300 IN {r}"' for r in addresses]],
                  f'    local-zone: "{canary}." redirect', f'    local-data: "{canary}. 300 IN A {v.stop_page_ipv4}"']
    else:
        lines_ = [f"{e.name}\t{e.scope}\t{e.unicode}" for e in entries]
    return "".join(line + "\n" for line in lines_).encode()


_LABEL = st.text("abz09-_%", min_size=1, max_size=4).filter(lambda t: t[0] not in "-%" and t[-1] not in "-%")
_ENTRY = st.builds(lambda labels, scope, unicode: FeedEntry(".".join(labels).replace("%", "p"), unicode or
                                                            ".".join(labels).replace("%", "p"), scope),
                   st.lists(_LABEL, min_size=2, max_size=3),
                   st.sampled_from([*formats.SCOPES, "odd-scope", "100%"]),
                   st.one_of(st.none(), st.text(min_size=1, max_size=6)))


@settings(max_examples=300, deadline=None)
@given(entries=st.lists(_ENTRY, max_size=12, unique_by=lambda e: e.name), v6=st.booleans(),
       ext=st.sampled_from(formats.EXTENSIONS))
def test_the_templated_renderers_give_the_straightforward_bytes(entries: list[FeedEntry], v6: bool,
                                                                 ext: str) -> None:
    """Any names, scopes (one that is none of SCOPES, one with a `%`), Unicode forms (quotes, `%`, control
    characters), with and without an IPv6 stop page."""
    v = version(tuple(entries), stop_page_ipv6="2001:db8::80" if v6 else None)
    assert formats.render(v, ext) == _straightforward(v, ext)


def test_json_escapes_unicode_forms_like_json_dumps() -> None:
    odd = (FeedEntry("odd.test", 'quote" back\\ tab\t nl\n \x01 😀 \u2028', "exact"),)
    body = json.loads(_json(version(odd)))
    assert body["entries"][0]["unicode"] == odd[0].unicode
    assert formats.parse_envelope(_json(version(odd))).entries == odd


def test_every_format_is_deterministic_whatever_the_entry_order() -> None:
    shuffled = list(ENTRIES)
    random.Random(7).shuffle(shuffled)
    assert formats.render_all(version()) == formats.render_all(version(tuple(shuffled)))
    assert set(formats.render_all(version())) == {"json", "rpz", "a.rpz", "txt", "hosts", "dnsmasq.conf",
                                                   "unbound.conf", "list"} == set(formats.EXTENSIONS)
    for ext in formats.EXTENSIONS:
        assert formats.render(version(), ext) == formats.render_all(version())[ext] and formats.MEDIA_TYPES[ext]
    with pytest.raises(formats.FeedFormatError, match="unknown feed format"):
        formats.render(version(), "exe")


def test_json_envelope_carries_every_field_and_round_trips() -> None:
    rendered = _json(version())
    body = json.loads(rendered)
    assert body["feed"] == "be-blocklist" and body["serial"] == 42 and body["count"] == 3 and body["format"] == 2
    assert body["generated_at"] == "2026-11-28T12:00:00Z"
    assert set(body) == {"count", "entries", "feed", "format", "generated_at", "serial", "stop_page"}
    assert body["stop_page"] == {"name": "stop.blocklist.example", "ipv4": "192.0.2.80", "ipv6": "2001:db8::80"}
    assert [e["name"] for e in body["entries"]] == sorted(e.name for e in ENTRIES)
    assert {"name": "xn--bcher-kva.example", "unicode": "bücher.example", "scope": "domain_and_subdomains"} in \
        body["entries"]
    parsed = formats.parse_envelope(_json(version()))
    assert parsed == version(tuple(sorted(ENTRIES, key=lambda e: e.name)))
    assert _json(parsed) == _json(version())
    # format 2: one entry per line (every one but the first opening with its comma), so a delta splices into it
    assert lines(rendered) == [
        '{"count":3,"entries":[',
        '{"name":"csam-gallery.test","scope":"domain_and_subdomains","unicode":"csam-gallery.test"}',
        ',{"name":"exact-only.test","scope":"exact","unicode":"exact-only.test"}',
        ',{"name":"xn--bcher-kva.example","scope":"domain_and_subdomains","unicode":"bücher.example"}',
        '],"feed":"be-blocklist","format":2,"generated_at":"2026-11-28T12:00:00Z","serial":42,"stop_page":{"ipv4":'
        '"192.0.2.80","ipv6":"2001:db8::80","name":"stop.blocklist.example"}}']
    assert lines(_json(version(()))) == [
        '{"count":0,"entries":[', '],"feed":"be-blocklist","format":2,"generated_at":"2026-11-28T12:00:00Z",'
        '"serial":42,"stop_page":{"ipv4":"192.0.2.80","ipv6":"2001:db8::80","name":"stop.blocklist.example"}}']


def test_no_file_carries_an_expiry_or_a_previous_hash() -> None:
    """Files outlive the hourly re-issue: expiry, chain and checkpoint are the manifest's."""
    for ext, body in formats.render_each(version()):
        assert b"expires" not in body and b"previous" not in body and b"checkpoint" not in body, ext
        assert b"18:00" not in body, ext
    # and a file's signed comment has no expiry either (the manifest's has)
    assert "expires" not in formats.trusted_comment(feed="be-blocklist", serial=42, sha256="ab" * 32, fmt="rpz")


def test_the_canonical_list_identifies_the_set() -> None:
    listed = _list(version())
    assert lines(listed) == ["csam-gallery.test\tdomain_and_subdomains\tcsam-gallery.test",
                             "exact-only.test\texact\texact-only.test",
                             "xn--bcher-kva.example\tdomain_and_subdomains\tbücher.example"]
    # no header: the same set gives the same bytes whatever its serial and time
    assert _list(version(serial=7, generated_at=T0 + dt.timedelta(days=3))) == listed
    assert formats.canonical_list(reversed(ENTRIES)) == listed
    assert formats.parse_list(listed) == tuple(sorted(ENTRIES, key=lambda e: e.name))
    assert _list(version(())) == b"" and formats.parse_list(b"") == ()
    assert formats.MEDIA_TYPES["list"].startswith("text/tab-separated-values")


@pytest.mark.parametrize(("data", "message"), [
    (b"a.test\texact\n", "list line 1 is not name<TAB>scope<TAB>unicode"),
    (b"b.test\texact\tb.test\na.test\texact\ta.test\n", "out of order or listed twice"),
    (b"a.test\texact\ta.test\na.test\texact\ta.test\n", "out of order or listed twice"),
    (b"A.test\texact\tA.test\n", "not a lower-case A-label"),
    (b"a.test\tall\ta.test\n", "unknown scope 'all'"),
])
def test_parse_list_is_strict(data: bytes, message: str) -> None:
    with pytest.raises(FeedFormatError, match=message):
        formats.parse_list(data)


@pytest.mark.parametrize("ext", formats.EXTENSIONS)
def test_every_format_is_header_entry_blocks_and_footer(ext: str) -> None:
    """The line layout isp_feed_client/splice.py relies on: the file is its frame around each entry's block, in
    order."""
    whole = formats.render_all(version(), only=ext)[ext]
    header, footer = formats.render_frame(version(()), ext, 3)
    blocks = [formats.render_block(version(()), ext, e) for e in sorted(ENTRIES, key=lambda e: e.name)]
    separator = formats.LAYOUTS[ext].separator
    assert header + blocks[0][len(separator):] + b"".join(blocks[1:]) + footer == whole
    layout = formats.LAYOUTS[ext]
    body = whole.splitlines()[layout.header:len(whole.splitlines()) - layout.footer]
    owners = [layout.owner(line[len(separator):] if separator and line.startswith(separator) else line)
              for line in body]
    assert sorted(set(owners)) == sorted(e.name.encode() for e in ENTRIES) and owners == sorted(owners)


def test_rpz_cname_variant() -> None:
    text = lines(formats.render(version(), "rpz"))
    assert "@ IN SOA localhost. hostmaster.blocklist.invalid. 42 3600 600 604800 300" in text  # SOA serial = feed
    assert "@ IN NS localhost." in text
    assert "csam-gallery.test CNAME stop.blocklist.example." in text
    assert "*.csam-gallery.test CNAME stop.blocklist.example." in text
    assert "exact-only.test CNAME stop.blocklist.example." in text
    assert not any(line.startswith("*.exact-only.test") for line in text)  # exact scope: no wildcard


def test_rpz_address_variant_for_knot() -> None:
    text = lines(formats.render(version(), "a.rpz"))
    assert "*.csam-gallery.test A 192.0.2.80" in text and "*.csam-gallery.test AAAA 2001:db8::80" in text
    assert "exact-only.test A 192.0.2.80" in text and not any("CNAME" in line for line in text)
    no_v6 = lines(formats.render(version(stop_page_ipv6=None), "a.rpz"))
    assert not any("AAAA" in line for line in no_v6)


def test_plain_hosts_dnsmasq_unbound() -> None:
    plain = lines(formats.render(version(), "txt"))
    assert plain[1:] == ["csam-gallery.test", "*.csam-gallery.test", "exact-only.test", "xn--bcher-kva.example",
                         "*.xn--bcher-kva.example"]
    hosts = lines(formats.render(version(), "hosts"))
    assert any("exact names only" in line for line in hosts if line.startswith("#"))  # documented as weaker
    assert "192.0.2.80 csam-gallery.test" in hosts and "2001:db8::80 csam-gallery.test" in hosts
    assert not any("*" in line for line in hosts if not line.startswith("#"))
    dnsmasq = lines(formats.render(version(), "dnsmasq.conf"))
    assert "address=/csam-gallery.test/192.0.2.80" in dnsmasq and "address=/exact-only.test/2001:db8::80" in dnsmasq
    unbound = lines(formats.render(version(), "unbound.conf"))
    assert unbound[1] == "server:"
    assert '    local-zone: "csam-gallery.test." redirect' in unbound
    assert '    local-zone: "exact-only.test." transparent' in unbound
    assert '    local-data: "exact-only.test. 300 IN A 192.0.2.80"' in unbound


def test_an_empty_version_renders_every_format() -> None:
    for ext, body in formats.render_all(version(())).items():
        assert b"serial 42" in body or b'"serial":42' in body or (ext == "list" and body == b""), ext
    assert formats.parse_envelope(_json(version(()))).count == 0


def test_rpz_loads_in_named_checkzone(tmp_path: Path) -> None:
    checkzone = require_binary("named-checkzone", "bind9-utils")
    for ext in ("rpz", "a.rpz"):
        (tmp_path / ext).write_bytes(formats.render_all(version(), only=ext)[ext])
        result = subprocess.run([checkzone, "rpz.blocklist", str(tmp_path / ext)], capture_output=True, text=True)
        assert result.returncode == 0 and "serial 42" in result.stdout, result.stdout + result.stderr


def test_unbound_conf_passes_unbound_checkconf(tmp_path: Path) -> None:
    checkconf = require_binary("unbound-checkconf", "unbound")
    (tmp_path / "feed.conf").write_bytes(formats.render(version(), "unbound.conf"))
    conf = tmp_path / "unbound.conf"
    conf.write_text(f'server:\n    chroot: ""\n    username: ""\n    directory: "{tmp_path}"\n'
                    f'include: "{tmp_path}/feed.conf"\n')
    result = subprocess.run([checkconf, str(conf)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_unknown_format_refused() -> None:
    with pytest.raises(FeedFormatError, match="unknown feed format 'zip'"):
        formats.render_all(version(), only="zip")


def _envelope(**changes: object) -> bytes:
    body = json.loads(_json(version()))
    for key, value in changes.items():
        if value is None:
            body.pop(key)
        else:
            body[key] = value
    return json.dumps(body).encode()


def _entries(*names: str) -> list[dict[str, str]]:
    return [{"name": n, "unicode": n, "scope": "exact"} for n in names]


@pytest.mark.parametrize(("data", "message"), [
    (b"", "not valid JSON"),
    (b"\xff\xfe", "not valid JSON"),
    (_json(version())[:-40], "not valid JSON"),  # truncated
    (b"[]", "not a be-blocklist feed envelope"),
    (_envelope(feed="other"), "not a be-blocklist feed envelope"),
    (_envelope(format=1), "unsupported envelope format 1"),
    (_envelope(format=None), "unsupported envelope format None"),
    (_envelope(serial=0), "serial must be a positive integer"),
    (_envelope(serial="7"), "serial must be a positive integer"),
    (_envelope(serial=True), "serial must be a positive integer"),
    (_envelope(count=2), "count 2 does not match the 3 entries"),
    (_envelope(count=None), "count None does not match"),
    (_envelope(entries={"a": 1}), "entries must be a list"),
    (_envelope(entries=[{"name": "a.test"}], count=1), r"entries\[0\] must be an object of exactly string name"),
    (_envelope(entries=[{"name": "a.test", "unicode": 1, "scope": "exact"}], count=1), "exactly string name"),
    (_envelope(entries=[{**_entries("a.test")[0], "extra": "x"}], count=1), "exactly string name"),
    (_envelope(entries=["a.test"], count=1), "exactly string name"),
    (_envelope(entries=_entries("b.test", "a.test"), count=2), r"entries\[1\].name 'a.test' is out of order"),
    (_envelope(entries=[{"name": "a.test", "unicode": "a.test", "scope": "all"}], count=1), "unknown scope 'all'"),
    (_envelope(entries=_entries("a.test", "a.test"), count=2), "listed twice"),
    (_envelope(entries=_entries("Upper.test"), count=1), "not a lower-case A-label"),
    (_envelope(entries=_entries("bad name.test"), count=1), "not a lower-case A-label"),
    (_envelope(entries=_entries("a.test\n*.evil.test CNAME ."), count=1), "not a lower-case A-label"),
    (_envelope(entries=_entries("trailing.test."), count=1), "not a lower-case A-label"),
    (_envelope(entries=_entries("*.wild.test"), count=1), "not a lower-case A-label"),
    (_envelope(entries=_entries("-dash.test"), count=1), "not a lower-case A-label"),
    (_envelope(entries=_entries("a" * 64 + ".test"), count=1), "not a lower-case A-label"),
    (_envelope(entries=_entries("com"), count=1), "top-level domain"),
    (_envelope(stop_page={"name": "stop.blocklist.example"}), "stop_page must give name and ipv4"),
    (_envelope(stop_page={"name": "stop.blocklist.example", "ipv4": "2001:db8::1"}), "not an IPv4 address"),
    (_envelope(stop_page={"name": "stop.blocklist.example", "ipv4": "192.0.2.80", "ipv6": "x"}), "not an IPv6"),
    (_envelope(stop_page={"name": "stop page", "ipv4": "192.0.2.80"}), "stop_page.name 'stop page' is not a host"),
    (_envelope(stop_page={"name": "stop..example", "ipv4": "192.0.2.80"}), "is not a host name"),
    (_envelope(generated_at="2026-11-28 12:00"), "generated_at '2026-11-28 12:00' is not YYYY-MM-DDTHH:MM:SSZ"),
    (_envelope(generated_at=None), "generated_at must be a timestamp string"),
])
def test_parse_envelope_is_strict(data: bytes, message: str) -> None:
    with pytest.raises(FeedFormatError, match=message):
        formats.parse_envelope(data)


def test_parse_envelope_accepts_no_ipv6() -> None:
    parsed = formats.parse_envelope(_json(version(stop_page_ipv6=None)))
    assert parsed.stop_page_ipv6 is None


@pytest.mark.parametrize("stop", ["Stop.Blocklist.Example", "stop.blocklist.example.", "stoppage"])
def test_any_host_name_serves_as_stop_page(stop: str) -> None:
    assert formats.parse_envelope(_json(version(stop_page_name=stop))).stop_page_name == stop


def test_trusted_comment_round_trip_and_refusals() -> None:
    comment = formats.trusted_comment(feed="be-blocklist", serial=42, sha256="cd" * 32, fmt="rpz")
    assert comment == f"feed=be-blocklist serial=42 sha256={'cd' * 32} format=rpz"  # a file: no expiry
    facts = formats.parse_trusted_comment(comment)
    assert (facts.feed, facts.serial, facts.expires_at, facts.fmt) == ("be-blocklist", 42, None, "rpz")
    signed = formats.trusted_comment(feed="be-blocklist", serial=43, expires_at=T0, sha256="cd" * 32, fmt="manifest")
    assert signed == f"feed=be-blocklist serial=43 expires=2026-11-28T12:00:00Z sha256={'cd' * 32} format=manifest"
    assert formats.parse_trusted_comment(signed).expires_at == T0
    for broken in ("serial=42", comment.replace("serial=42", "serial=x"), "timestamp:1 file:feed.rpz"):
        with pytest.raises(FeedFormatError, match="trusted comment"):
            formats.parse_trusted_comment(broken)


def test_diff() -> None:
    old = ENTRIES
    new = (ENTRIES[0], FeedEntry("exact-only.test", "exact-only.test", "domain_and_subdomains"),
           FeedEntry("second.test", "second.test", "exact"))
    change = formats.diff(old, new)
    assert [e.name for e in change.added] == ["second.test"]
    assert [e.name for e in change.removed] == ["xn--bcher-kva.example"]
    assert [(a.scope, b.scope) for a, b in change.modified] == [("exact", "domain_and_subdomains")]
    assert change.changed == 3
    assert formats.diff(old, reversed(old)).changed == 0

