"""The hidden primary: a real BIND 9 that serves the RPZ zone to the ISPs' secondaries by zone transfer (IXFR/AXFR).

The product configures it (`blocklist dns-primary` writes `named.conf`, the keys and the first zone into its folder)
and feeds it (`sync`, the `feed.primary_sync` job): every published content version reaches it as one RFC 2136
dynamic update signed with the product's own TSIG key, built from that version's delta (the names' records
deleted or added, `*.name` with them, the canary replaced, the SOA serial set to the content serial), so BIND
journals it and answers IXFR with exactly that change, and NOTIFYs the ISPs' registered secondaries. The job asks
the primary's SOA serial first and pushes every version it lacks, in order: a primary that was down catches up when
it is back, and publication never waits for it. When it is far behind, unknown, or a change is too large for one
DNS message, the whole zone is written from the version's stored RPZ file instead (`rndc freeze`, the file,
`rndc thaw`: `ixfr-from-differences` still gives the secondaries an IXFR). Only published versions exist, so the
publication gate applies before.

Each ISP transfers with its own TSIG key (blocklist/isps.py: HMAC-SHA256, shown once, rotatable); a secondary that
cannot sign (Unbound 1.17) is allowed by its registered address alone. The configuration follows the registry:
`sync` writes it again when a key or a secondary changed and has BIND re-read it (`rndc reconfig`). BIND's
transfer log (category xfer-out) is read by `sync` too and becomes part of the fetch log: one FeedFetch per
finished transfer, ext "ixfr" or "axfr", with the serial transferred.

Sharding (`blocklist dns-primary --shards K`, K > 1). Every resolver measured redoes work in proportion to the whole
policy zone after each transfer (BIND rebuilds its RPZ summary, PowerDNS Recursor copies the zone to apply a delta,
Unbound rewrites its whole zone file): at a million names that is seconds per version. So the list is spread over K
data zones, siblings of the configured zone (`shard_zones`), a name always in the same one (`shard_of`); a version
updates only the shards its names fall in, so only those move serial and are NOTIFYed, transferred and re-processed.
The configured zone becomes the META zone: SOA and NS and the version's canary only, updated last in every version,
so its serial is the version fully served (the one `primary_serial` reports and the transfer log counts).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import ipaddress
import json
import logging
import os
import re
import secrets
import shutil
import subprocess
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import dns.exception
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.tsig
import dns.tsigkeyring
import dns.update
from sqlalchemy import select
from sqlalchemy.orm import Session

from blocklist import isps
from blocklist.db import Database
from blocklist.files import write_secret_file
from blocklist.models import Isp, IspSecondary, User
from blocklist.settings import Settings
from isp_feed import versions
from isp_feed.models import FeedDelta, FeedVersionRow
from isp_feed.serving import FetchLog
from isp_feed_client import formats, stored
from isp_feed_client.canary import canary_name
from isp_feed_client.delta import Delta, parse_delta

log = logging.getLogger("isp_feed.primary")

UPDATE_KEY = "blocklist-update"  # the product's own key: dynamic updates and its SOA queries
RNDC_KEY = "blocklist-rndc"  # the control channel (freeze, thaw, reconfig)
ALGORITHM = "hmac-sha256"
TTL = 300  # as in the feed's files
MAX_STEPS = 200  # versions pushed one by one; further behind, the whole zone is written
TIMEOUT = 5.0
STATE = "primary.json"
MAX_SHARDS = 63  # BIND takes 64 zones in one response-policy statement; one is the meta zone


class PrimaryError(Exception):
    """The primary refused an update, or cannot be reached (the job retries at its next tick)."""


@dataclass(frozen=True)
class Primary:
    """Where the hidden primary lives and listens (`primary.json` in its folder, written by `configure`)."""

    folder: Path
    address: str
    port: int
    control_port: int
    zone: str
    shards: int = 1  # 1: the list is in `zone` itself; more: in `shard_zones`, `zone` holds the canary only

    @property
    def zone_file(self) -> Path:
        return self.folder / "rpz.zone"

    @property
    def data_zones(self) -> list[str]:
        """The zones that hold the list's names, in shard order (the zone itself when it is not sharded)."""
        return shard_zones(self.zone, self.shards) or [self.zone]

    @property
    def zones(self) -> list[str]:
        """Every zone the primary serves, the configured (meta) zone first: the order resolvers list them in."""
        return [self.zone, *shard_zones(self.zone, self.shards)]

    def file_of(self, zone: str) -> Path:
        return self.zone_file if zone == self.zone else self.folder / f"{zone}.zone"

    def data_zone_of(self, name: str | bytes) -> str:
        """The zone that holds a listed name's records."""
        return self.data_zones[shard_of(name, self.shards)] if self.shards > 1 else self.zone

    @property
    def named_conf(self) -> Path:
        return self.folder / "named.conf"

    @property
    def transfer_log(self) -> Path:
        return self.folder / "xfer.log"

    def secret(self, key: str) -> str:
        """The secret of one of the product's own keys (mode 0600 files in the folder)."""
        return (self.folder / f"{key}.secret").read_text().strip()

    def keyring(self) -> dict[dns.name.Name, dns.tsig.Key]:
        return dns.tsigkeyring.from_text({UPDATE_KEY: (ALGORITHM, self.secret(UPDATE_KEY))})

    def rndc(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run `rndc` against this primary's control channel."""
        binary = shutil.which("rndc") or "/usr/sbin/rndc"
        return subprocess.run([binary, "-c", str(self.folder / "rndc.conf"), *args], capture_output=True, text=True,
                              timeout=60)


def shard_zones(zone: str, shards: int) -> list[str]:
    """The data zones of a zone sharded K ways (none for K = 1): `rpz.blocklist` -> `rpz-00.blocklist`, ... Siblings,
    not children: a listed name (`x.test`, relative to the zone) can never fall inside a shard's own name."""
    if shards <= 1:
        return []
    first, _, rest = zone.rstrip(".").partition(".")
    return [f"{first}-{i:02d}{'.' + rest if rest else ''}" for i in range(shards)]


def shard_of(name: str | bytes, shards: int) -> int:
    """The shard of a listed name (its A-label): stable across versions, so a change touches that shard only."""
    data = name.encode() if isinstance(name, str) else name
    return int.from_bytes(hashlib.sha256(data).digest(), "big") % shards


def primary_dir(settings: Settings) -> Path:
    """The primary's folder: BLOCKLIST_DNS_PRIMARY_DIR, else `<data dir>/dns-primary`."""
    return Path(settings.dns_primary_dir) if settings.dns_primary_dir else settings.data_dir / "dns-primary"


def tsig_dir(settings: Settings) -> Path:
    """Where the ISPs' TSIG secrets are kept (the data dir's keys: a backup carries them)."""
    return settings.data_dir / "keys" / "tsig"


def load(settings: Settings, folder: Path | None = None) -> Primary | None:
    """The configured primary (None: `blocklist dns-primary` was never run, nothing to push)."""
    place = folder or primary_dir(settings)
    try:
        state = json.loads((place / STATE).read_text())
    except FileNotFoundError:
        return None
    return Primary(place, state["address"], state["port"], state["control_port"], state["zone"],
                   state.get("shards", 1))


# --- the configuration ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Transfer:
    """One ISP as the primary sees it: its key (None: none issued) and its current secondaries."""

    isp_id: int
    key: str
    secret: str | None
    signed: tuple[tuple[str, int], ...]
    unsigned: tuple[tuple[str, int], ...]


def transfers(session: Session, settings: Settings) -> list[Transfer]:
    """Every active ISP that has a TSIG key or a secondary, from the registry."""
    found = []
    for isp in session.execute(select(Isp).where(Isp.active.is_(True)).order_by(Isp.id)).scalars():
        rows = isp.secondaries
        secret = isps.tsig_secret(isp, tsig_dir(settings))
        if secret is None and not rows:
            continue
        if isp.tsig_fingerprint is not None and secret is None:
            log.error("dns primary: the TSIG secret of ISP %s is missing from %s", isp.name, tsig_dir(settings))
        found.append(Transfer(isp.id, isps.tsig_key_name(isp), secret,
                              tuple((r.address, r.port) for r in rows if r.tsig),
                              tuple((r.address, r.port) for r in rows if not r.tsig)))
    return found


@dataclass(frozen=True)
class IssuedKey:
    """An ISP's new TSIG key: its name and its secret (base64), shown once."""

    name: str
    secret: str

    def clause(self) -> str:
        """The `key` statement the ISP's secondaries configure."""
        return key_clause(self.name, self.secret).rstrip()


def issue_key(session: Session, settings: Settings, *, actor: User | str, isp: Isp) -> IssuedKey:
    """Give the ISP a new TSIG key, its secret where this primary reads it (tsig_dir); the old one stops working
    when the primary's configuration is next written."""
    secret = isps.new_tsig_key(session, actor=actor, isp=isp, folder=tsig_dir(settings))
    return IssuedKey(isps.tsig_key_name(isp), secret)


def key_clause(name: str, secret: str) -> str:
    return f'key "{name}" {{ algorithm {ALGORITHM}; secret "{secret}"; }};\n'


def render_keys(primary: Primary, isp_transfers: Sequence[Transfer]) -> str:
    """`keys.conf`: the product's keys and every ISP's (mode 0600, included by named.conf)."""
    text = key_clause(UPDATE_KEY, primary.secret(UPDATE_KEY)) + key_clause(RNDC_KEY, primary.secret(RNDC_KEY))
    return text + "".join(key_clause(t.key, t.secret) for t in isp_transfers if t.secret is not None)


def _v6(address: str) -> bool:
    return ipaddress.ip_address(address).version == 6


def render_named_conf(primary: Primary, isp_transfers: Sequence[Transfer]) -> str:
    """BIND's configuration: a hidden primary of the zone (and its shards), updated by the product's key only,
    transferred only with an ISP's key (or from an unsigned secondary's address), NOTIFY only to the registered
    secondaries."""
    folder, address, v6 = primary.folder, primary.address, _v6(primary.address)
    keyed = [t for t in isp_transfers if t.secret is not None]
    allowed = [f'key "{t.key}";' for t in keyed] + [f"{a};" for t in isp_transfers for a, _ in t.unsigned]
    notify = [f'{a} port {p} key "{t.key}";' for t in keyed for a, p in t.signed]
    notify += [f"{a} port {p};" for t in isp_transfers for a, p in t.unsigned]
    acl = " ".join(allowed) or "none;"
    zones = "".join(f"""zone "{zone}" {{
    type primary;
    file "{primary.file_of(zone)}";
    ixfr-from-differences yes;
    max-ixfr-ratio unlimited;  # a change goes as IXFR however small the zone (BIND's default sends a small zone whole)
    allow-update {{ key "{UPDATE_KEY}"; }};
    allow-transfer {{ {acl} }};
    allow-query {{ key "{UPDATE_KEY}"; {acl if allowed else ""} }};
    also-notify {{ {" ".join(notify)} }};
}};
""" for zone in primary.zones)
    listen = (f"listen-on {{ none; }};\n    listen-on-v6 port {primary.port} {{ {address}; }};" if v6 else
              f"listen-on port {primary.port} {{ {address}; }};\n    listen-on-v6 {{ none; }};")
    return f"""# Written by `blocklist dns-primary` and kept in step with the ISP registry by the feed's sync job:
# edits here are overwritten.
include "{folder}/keys.conf";
controls {{ inet {address} port {primary.control_port} allow {{ {address}; }} keys {{ "{RNDC_KEY}"; }}; }};
options {{
    directory "{folder}";
    pid-file "{folder}/named.pid";
    session-keyfile "{folder}/session.key";
    managed-keys-directory "{folder}";
    {listen}
    recursion no;
    dnssec-validation no;
    # A hidden primary: NOTIFY goes to the registered secondaries only (never to the zone's NS names).
    notify explicit;
    notify-delay 0;  # (default 5 s) a version reaches the secondaries at once
    # BIND sends the first NOTIFY at once and the rest in batches every 10/rate s: at its default (20) every NOTIFY
    # of a version but the first waited 500 ms (a version's zones times the ISPs' secondaries of NOTIFYs).
    notify-rate 1000;
    {"notify-source-v6" if v6 else "notify-source"} {address};
    allow-query {{ none; }};
    allow-transfer {{ none; }};
    # The feed sets the SOA serial itself (= the feed's content serial).
    serial-update-method increment;
}};
logging {{
    channel transfers {{ file "{folder}/xfer.log" versions 3 size 50m; print-time iso8601-utc; severity info; }};
    channel general {{ file "{folder}/named.log" versions 3 size 50m; print-time iso8601-utc; print-category yes;
                       severity info; }};
    category xfer-out {{ transfers; }};
    category default {{ general; }};
}};
{zones}"""


def soa_rdata(settings: Settings, serial: int) -> str:
    """The SOA of the primary's zone. Its expiry follows the feed's: a secondary cut off from the primary for
    longer than a feed version is valid stops serving the frozen list (BIND drops an expired zone)."""
    expire = max(settings.feed_expiry_hours * 3600, 3600)
    return f"localhost. hostmaster.blocklist.invalid. {serial} 300 60 {expire} {TTL}"


def _zone_header(settings: Settings, serial: int, stop_page_name: str | None) -> bytes:
    """SOA and NS, and the canary of `serial` (None: a shard, which holds names only)."""
    head = f"$TTL {TTL}\n@ IN SOA {soa_rdata(settings, serial)}\n@ IN NS localhost.\n"
    if stop_page_name is None:
        return head.encode()
    return (head + f"{canary_name(serial, stop_page_name)} CNAME {stop_page_name.rstrip('.')}.\n").encode()


def unit_text(primary: Primary) -> str:
    """The systemd unit that runs the primary (the manual shows it), with Debian's paths of bind9."""
    return f"""[Unit]
Description=be-blocklist hidden primary (BIND 9) for the RPZ zone {primary.zone}
After=network-online.target
Wants=network-online.target

[Service]
ExecStart=/usr/sbin/named -f -c {primary.named_conf}
ExecReload=/usr/sbin/rndc -c {primary.folder}/rndc.conf reconfig
Restart=on-failure
ProtectSystem=strict
ReadWritePaths={primary.folder}

[Install]
WantedBy=multi-user.target
"""


# --- the ISPs' side -------------------------------------------------------------------------------------------

SECONDARY_RESOLVERS = ("bind", "pdns", "unbound")
# The secret is shown once, when issued (`blocklist isp tsig`): the configuration printed later says where it goes.
SECRET_PLACEHOLDER = "PASTE-THE-SECRET-blocklist-isp-tsig-SHOWN-ONCE="


def secondary_config(primary: Primary, resolver: str, key: str, stop_page_host: str) -> list[tuple[str, str]]:
    """An ISP's secondary configuration of every zone for its resolver, as (a comment saying where it goes, in that
    file's own syntax; the text), the zones in
    the order the resolver applies them, the configured (meta) zone first. `key`: the ISP's TSIG key name (BIND
    and PowerDNS sign; Unbound 1.17 cannot: it is registered unsigned, by address)."""
    address, port, zones = primary.address, primary.port, primary.zones
    if resolver == "bind":
        policy = "".join(f'    zone "{zone}" min-update-interval 0;\n' for zone in zones)
        blocks = "".join(f"""zone "{zone}" {{
    type secondary;
    primaries {{ {address} port {port} key "{key}"; }};
    file "/var/cache/bind/{zone}.db";
    allow-query {{ none; }};
}};
""" for zone in zones)
        # BIND asks the first zone's serial at once and the others in batches every 10/rate s: at its default
        # (20) the second zone NOTIFYed (a version's meta zone, after its shard) waited 500 ms.
        rate = "serial-query-rate 1000;\n" if len(zones) > 1 else ""
        return [("# named.conf, in options { }:", f"{rate}response-policy {{\n{policy}}};\n"),
                ("# named.conf:", key_clause(key, SECRET_PLACEHOLDER) + blocks)]
    if resolver == "pdns":
        at = f"[{address}]:{port}" if _v6(address) else f"{address}:{port}"
        lines = "".join(
            f'rpzPrimary("{at}", "{zone}", {{tsigname="{key}", tsigalgo="{ALGORITHM}", tsigsecret="{SECRET_PLACEHOLDER}'
            f'", refresh=1, policyName="{zone}", extendedErrorCode=16, extendedErrorExtra="http://{stop_page_host}/"}})\n'
            for zone in zones)
        return [("# recursor.conf:", f"allow-notify-from={address}\nallow-notify-for={','.join(zones)}\n"
                                  "disable-packetcache=yes\n"),
                ("-- the Lua configuration file (lua-config-file=):", lines)]
    if resolver == "unbound":
        return [("# unbound.conf:", "".join(f"""rpz:
    name: "{zone}."
    primary: {address}@{port}
    allow-notify: {address}
    zonefile: "/var/lib/unbound/{zone}.zone"
    rpz-log: yes
""" for zone in zones))]
    raise ValueError(f"no secondary configuration for {resolver!r}: one of {', '.join(SECONDARY_RESOLVERS)}")


def secondary_config_text(primary: Primary, resolver: str, key: str, stop_page_host: str) -> str:
    """What `blocklist dns-primary secondary-config` prints: each part under a comment saying where it goes."""
    return "\n".join(f"{where}\n{text}" for where, text in secondary_config(primary, resolver, key, stop_page_host))


def configure(database: Database, settings: Settings, *, folder: Path | None = None, port: int = 53,
              control_port: int = 953, shards: int = 1) -> Primary:
    """Write the primary's folder: state, the product's keys (once), rndc.conf, keys.conf, named.conf, and the
    first zones (the latest published list, or empty zones of serial 0) when it has none yet or the number of
    shards changed (written with the primary stopped: the old zones' journals no longer apply, set aside)."""
    if not 1 <= shards <= MAX_SHARDS:
        raise PrimaryError(f"--shards must be between 1 and {MAX_SHARDS} (BIND's limit of policy zones), not {shards}")
    place = (folder or primary_dir(settings)).resolve()
    place.mkdir(parents=True, exist_ok=True)
    before = load(settings, place)
    primary = Primary(place, settings.dns_primary_address, port, control_port, settings.rpz_zone.rstrip("."),
                      shards)
    (place / STATE).write_text(json.dumps({"address": primary.address, "port": port, "control_port": control_port,
                                           "zone": primary.zone, "shards": shards}, indent=1) + "\n")
    for key in (UPDATE_KEY, RNDC_KEY):
        if not (place / f"{key}.secret").exists():
            write_secret_file(place / f"{key}.secret",
                              base64.b64encode(secrets.token_bytes(32)).decode().encode() + b"\n")
    write_secret_file(place / "rndc.conf", (key_clause(RNDC_KEY, primary.secret(RNDC_KEY)) + (
        f'options {{ default-key "{RNDC_KEY}"; default-server {primary.address}; default-port {control_port}; }};\n'
    )).encode(), exclusive=False)
    with database.reading() as session:
        write_config(primary, transfers(session, settings))
        resharded = before is not None and before.shards != shards
        if resharded or not all(primary.file_of(zone).exists() for zone in primary.zones):
            for zone in primary.zones:
                journal = primary.file_of(zone).with_name(primary.file_of(zone).name + ".jnl")
                if resharded and journal.exists():
                    os.replace(journal, journal.with_name(journal.name + f".before-{shards}-shards"))
            latest = versions.latest_version(session)
            if latest is not None and latest.manifest is not None:
                written = _zone_files(session, settings, primary, latest)
            else:
                written = {zone: _incoming(primary, zone, _zone_header(
                    settings, 0, settings.stop_page_host if zone == primary.zone else None)) for zone in primary.zones}
            for zone, incoming in written.items():
                os.replace(incoming, primary.file_of(zone))
    return primary


def write_config(primary: Primary, isp_transfers: Sequence[Transfer]) -> bool:
    """Write keys.conf and named.conf for these ISPs; whether either changed."""
    keys, conf = render_keys(primary, isp_transfers), render_named_conf(primary, isp_transfers)
    changed = False
    keys_file = primary.folder / "keys.conf"
    if not keys_file.exists() or keys_file.read_text() != keys:
        write_secret_file(keys_file, keys.encode(), exclusive=False)
        changed = True
    if not primary.named_conf.exists() or primary.named_conf.read_text() != conf:
        _atomic_write(primary.named_conf, conf.encode())
        changed = True
    return changed


def _atomic_write(path: Path, data: bytes) -> None:
    incoming = path.with_name(f".{path.name}.incoming")
    incoming.write_bytes(data)
    os.replace(incoming, path)


def _incoming(primary: Primary, zone: str, data: bytes) -> Path:
    """A zone's next file, written beside it (moved into place by the caller)."""
    incoming = primary.file_of(zone).with_name(f".{primary.file_of(zone).name}.incoming")
    incoming.write_bytes(data)
    return incoming


# --- pushing versions ------------------------------------------------------------------------------------------


def primary_serial(primary: Primary, zone: str | None = None) -> int | None:
    """The SOA serial the primary serves (asked with the product's key) in its configured zone (the version it
    serves whole), or in another of its zones; None when it cannot be reached."""
    query = dns.message.make_query(zone or primary.zone, dns.rdatatype.SOA)
    query.use_tsig(primary.keyring(), keyname=UPDATE_KEY, algorithm=ALGORITHM)
    try:
        answer = dns.query.tcp(query, primary.address, port=primary.port, timeout=TIMEOUT)
    except (OSError, dns.exception.DNSException):
        return None
    for rrset in answer.answer:
        if rrset.rdtype == dns.rdatatype.SOA:
            return int(rrset[0].serial)
    return None


def _stop_version(row: FeedVersionRow, serial: int) -> formats.FeedVersion:
    """A format-level version without entries: enough to render one entry's records (render_block)."""
    return formats.FeedVersion(serial, row.generated_at, (), row.stop_page_name, row.stop_page_ipv4,
                               row.stop_page_ipv6)


def _records(version: formats.FeedVersion, entry: formats.FeedEntry) -> Iterator[tuple[str, str, str]]:
    """(owner, type, data) of the records the RPZ file holds for one entry (the same renderer: the same records)."""
    for line in formats.render_block(version, "rpz", entry).decode().splitlines():
        owner, rtype, data = line.split(" ", 2)
        yield owner, rtype, data


def update_messages(primary: Primary, settings: Settings, step: Delta, row: FeedVersionRow
                    ) -> list[dns.update.UpdateMessage]:
    """The dynamic updates that take the primary from `step.from_serial` to `step.to_serial`: one per data zone the
    change touches (its names, its SOA serial set to the new one), the configured zone's (canary, SOA) last. Each
    is idempotent (RFC 2136 adds what is there, deletes what is not, as no-ops): after a failure half-way the next
    sync sends them all again from the serial the configured zone still has."""
    version = _stop_version(row, step.to_serial)
    updates: dict[str, dns.update.UpdateMessage] = {}

    def update_of(zone: str) -> tuple[dns.update.UpdateMessage, dns.name.Name]:
        if zone not in updates:
            updates[zone] = dns.update.UpdateMessage(zone, keyring=primary.keyring(),
                                                     keyname=dns.name.from_text(UPDATE_KEY), keyalgorithm=ALGORITHM)
        return updates[zone], dns.name.from_text(zone)

    for entry in step.removed:
        update, origin = update_of(primary.data_zone_of(entry.name))
        update.delete(dns.name.from_text(entry.name, origin=origin))
        update.delete(dns.name.from_text(f"*.{entry.name}", origin=origin))
    for entry in step.added:
        update, origin = update_of(primary.data_zone_of(entry.name))
        for owner, rtype, data in _records(version, entry):
            update.add(dns.name.from_text(owner, origin=origin), TTL,
                       dns.rdata.from_text(dns.rdataclass.IN, rtype, data))
    soa = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.SOA, soa_rdata(settings, step.to_serial))
    for zone, update in updates.items():
        if zone != primary.zone:
            update.replace(dns.name.from_text(zone), TTL, soa)
    meta, origin = update_of(primary.zone)
    meta.delete(dns.name.from_text(canary_name(step.from_serial, row.stop_page_name), origin=origin))
    stop = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.CNAME, row.stop_page_name.rstrip(".") + ".")
    meta.add(dns.name.from_text(canary_name(step.to_serial, row.stop_page_name), origin=origin), TTL, stop)
    meta.replace(origin, TTL, soa)
    return [update for zone, update in updates.items() if zone != primary.zone] + [meta]


def _send(primary: Primary, update: dns.update.UpdateMessage) -> None:
    try:
        answer = dns.query.tcp(update, primary.address, port=primary.port, timeout=TIMEOUT)
    except (OSError, dns.exception.Timeout) as exc:
        raise PrimaryError(f"the primary at {primary.address}:{primary.port} cannot be reached ({exc})") from None
    if answer.rcode() != dns.rcode.NOERROR:
        raise PrimaryError(f"the primary refused the update: {dns.rcode.to_text(answer.rcode())}")


def _steps(session: Session, after: int, through: int) -> list[Delta] | None:
    """The content versions' deltas from `after` to `through`, in order; None when they do not run unbroken from
    `after` (a serial the feed never had, deltas from before manifests, or more than MAX_STEPS)."""
    rows = list(session.execute(select(FeedDelta).where(FeedDelta.serial > after, FeedDelta.serial <= through)
                                .order_by(FeedDelta.serial).limit(MAX_STEPS + 1)).scalars())
    if not rows or len(rows) > MAX_STEPS:
        return None
    steps = [parse_delta(zlib.decompress(r.body)) for r in rows]
    expected = after
    for step in steps:
        if step.from_serial != expected:
            return None
        expected = step.to_serial
    return steps if expected == through else None


def _zone_files(session: Session, settings: Settings, primary: Primary, row: FeedVersionRow) -> dict[str, Path]:
    """Every zone's whole next file for a version (zone -> the file written beside its own), from the version's
    stored RPZ file: its records after the file's own header, each in its name's shard when sharded (there the
    file's footer, the canary, is left to the configured zone's header)."""
    content = versions.content_row(session, row)
    versions.restore_files(session, content, settings.data_dir)
    path = versions.file_path(session, content, "rpz", settings.data_dir)
    layout = formats.LAYOUTS["rpz"]
    meta = _zone_header(settings, content.serial, content.stop_page_name)
    with stored.open_stored(path) as buf:
        start = 0
        for _ in range(layout.header):
            start = buf.find(b"\n", start, buf.size) + 1
        if primary.shards == 1:
            incoming = primary.zone_file.with_name(f".{primary.zone_file.name}.incoming")
            with incoming.open("wb") as out:
                out.write(meta)
                for _, _, data, a, b in buf.spans(start, buf.size):
                    out.write(data[a:b])
            return {primary.zone: incoming}
        end = buf.size
        for _ in range(layout.footer):
            end = buf.rfind(b"\n", start, end - 1) + 1
        parts: list[list[bytes]] = [[] for _ in range(primary.shards)]
        carry, last_owner, last_shard = b"", b"", 0
        for _, _, data, a, b in buf.spans(start, end):
            lines = (carry + bytes(data[a:b])).split(b"\n")
            carry = lines.pop()  # a line cut by the end of a stored piece goes on in the next
            for line in lines:
                owner = layout.owner(line)
                if owner != last_owner:  # `name` and `*.name` come together: hash once
                    last_owner, last_shard = owner, shard_of(owner, primary.shards)
                parts[last_shard].append(line)
    header = _zone_header(settings, content.serial, None)
    written = {zone: _incoming(primary, zone, header + b"".join(line + b"\n" for line in lines))
               for zone, lines in zip(primary.data_zones, parts, strict=True)}
    return {**written, primary.zone: _incoming(primary, primary.zone, meta)}


def _reload_whole(session: Session, settings: Settings, primary: Primary, row: FeedVersionRow) -> None:
    """Replace every zone by the whole list of `row` while BIND keeps serving (per zone: freeze, the file, thaw),
    the shards first and the configured zone last, so its serial moves once the names are all there."""
    written = _zone_files(session, settings, primary, row)
    for zone in [*primary.zones[1:], primary.zone]:
        frozen = primary.rndc("freeze", zone)
        if frozen.returncode != 0:
            raise PrimaryError(f"rndc freeze {zone} failed: {frozen.stderr.strip() or frozen.stdout.strip()}")
        try:
            os.replace(written[zone], primary.file_of(zone))
        finally:
            thawed = primary.rndc("thaw", zone)
        if thawed.returncode != 0:
            raise PrimaryError(f"rndc thaw {zone} failed: {thawed.stderr.strip() or thawed.stdout.strip()}")


@dataclass
class SyncResult:
    """What one sync did."""

    reachable: bool
    before: int | None = None  # the primary's serial when asked
    after: int | None = None  # the serial it was brought to
    updates: int = 0  # dynamic updates sent
    whole: bool = False  # the whole zone was written instead
    reconfigured: bool = False
    transfers: int = 0  # finished transfers added to the fetch log
    errors: list[str] = field(default_factory=list)


def push(session: Session, settings: Settings, primary: Primary, result: SyncResult) -> None:
    """Bring the primary to the latest published content serial: each missing version in order, else whole."""
    latest = versions.latest_version(session)
    if latest is None or latest.manifest is None:
        return
    target = versions.content_row(session, latest)
    current = primary_serial(primary)
    result.before = current
    if current is None:
        result.reachable = False
        return
    if current == target.serial:
        result.after = current
        return
    if current > target.serial:
        log.error("dns primary: it serves serial %s, newer than the feed's %s (a restored database?); left as it is",
                  current, target.serial)
        result.after = current
        return
    steps = _steps(session, current, target.serial) if current > 0 else None
    if steps is not None:
        rows = {r.serial: r for r in session.execute(select(FeedVersionRow).where(
            FeedVersionRow.serial.in_([s.to_serial for s in steps]))).scalars()}
        try:
            messages = [m for step in steps for m in update_messages(primary, settings, step, rows[step.to_serial])]
            for message in messages:
                message.to_wire(max_size=65535)  # too large for one message: the whole zone instead
        except dns.exception.TooBig:
            steps = None
        else:
            for message in messages:
                _send(primary, message)
                result.updates += 1
    if steps is None:
        _reload_whole(session, settings, primary, target)
        result.whole = True
    result.after = target.serial


# --- the transfer log -------------------------------------------------------------------------------------------

# e.g. `2026-12-01T18:50:00.123Z client @0x7f3a 127.0.0.1#40135/key isp-3 (rpz.blocklist): transfer of
# 'rpz.blocklist/IN': IXFR ended: 1 messages, 6 records, 351 bytes, 0.001 secs (351000 bytes/sec) (serial 7)`
_ENDED = re.compile(r"^(?P<at>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3})Z client @\S+ (?P<ip>[0-9a-fA-F.:]+)#\d+"
                    r"(?:/key (?P<key>\S+))? \([^)]+\): transfer of '(?P<zone>[^/']+)[^']*': "
                    r"(?P<kind>AXFR|IXFR|AXFR-style IXFR) ended\b.*?(?:\(serial (?P<serial>\d+)\))?\s*$")


@dataclass(frozen=True)
class TransferLine:
    """One finished transfer from BIND's xfer-out log."""

    at: dt.datetime
    address: str
    key: str | None
    kind: str  # "ixfr" | "axfr"
    serial: int | None
    zone: str = ""


def parse_transfer_line(line: str) -> TransferLine | None:
    """A finished transfer, or None for any other line."""
    found = _ENDED.match(line.strip())
    if found is None:
        return None
    at = dt.datetime.strptime(found["at"], "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=dt.UTC)
    kind = "ixfr" if found["kind"] == "IXFR" else "axfr"
    return TransferLine(at, found["ip"], found["key"], kind, int(found["serial"]) if found["serial"] else None,
                        found["zone"])


def _new_lines(primary: Primary) -> tuple[list[str], int]:
    """Log lines after the position read last time (`xfer.offset`), and the position after them. BIND rolls the
    file over at its size limit: a file shorter than the position is a new one, read from its start."""
    offset_file = primary.folder / "xfer.offset"
    try:
        offset = int(offset_file.read_text())
    except (FileNotFoundError, ValueError):
        offset = 0
    try:
        with primary.transfer_log.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size < offset:
                offset = 0
            handle.seek(offset)
            data = handle.read()
    except FileNotFoundError:
        return [], 0
    complete = data[:data.rfind(b"\n") + 1]  # a line BIND is still writing is read next time
    return complete.decode(errors="replace").splitlines(), offset + len(complete)


def read_transfers(session: Session, primary: Primary, fetch_log: FetchLog) -> int:
    """Add the transfers BIND logged since last time to the fetch log (ISP by key name, or by the address of an
    unsigned secondary); how many. Only the configured zone's count: it moves with every version, last, so its
    transfer says which version the ISP then had (a shard's, beside it, would count the version again)."""
    lines, position = _new_lines(primary)
    by_key = {isps.tsig_key_name(i): i.id for i in session.execute(select(Isp)).scalars()}
    by_address = {r.address: r.isp_id for r in session.execute(
        select(IspSecondary).where(IspSecondary.removed_at.is_(None), IspSecondary.tsig.is_(False))).scalars()}
    count = 0
    for line in lines:
        transfer = parse_transfer_line(line)
        if transfer is None or transfer.zone.lower() != primary.zone.lower():
            continue
        isp_id = by_key.get(transfer.key) if transfer.key else by_address.get(transfer.address)
        if isp_id is None:
            log.warning("dns primary: a transfer by an unknown peer %s (key %s)", transfer.address, transfer.key)
            continue
        fetch_log.add(isp_id=isp_id, serial=transfer.serial, ext=transfer.kind, status=200, at=transfer.at)
        count += 1
    (primary.folder / "xfer.offset").write_text(str(position))
    return count


def sync(database: Database, settings: Settings, fetch_log: FetchLog, *, folder: Path | None = None
         ) -> SyncResult | None:
    """The job's work: the configuration in step with the registry, every missing version pushed, the transfer
    log read. None when no primary is configured. A primary that is down is reported, never waited for."""
    primary = load(settings, folder)
    if primary is None:
        return None
    result = SyncResult(reachable=True)
    with database.reading() as session:
        if write_config(primary, transfers(session, settings)):
            result.reconfigured = True
            reloaded = primary.rndc("reconfig")
            if reloaded.returncode != 0:
                result.errors.append(f"rndc reconfig: {reloaded.stderr.strip() or reloaded.stdout.strip()}")
        push(session, settings, primary, result)
        result.transfers = read_transfers(session, primary, fetch_log)
    if result.transfers:
        fetch_log.flush(database)
    if not result.reachable:
        log.warning("dns primary: %s:%s does not answer; the versions wait for it", primary.address, primary.port)
    return result
