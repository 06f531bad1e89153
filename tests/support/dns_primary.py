"""The product's hidden primary (BIND 9, configured by isp_feed/primary.py) and the ISPs' resolvers that transfer the
RPZ zone from it, each with the configuration the ISP manual shows (docs/isp.md, `<!-- tested-config: NAME -->`):

- `run_primary(primary)`: the real `named` on the folder `isp_feed.primary.configure` wrote; `.stop()` and start
  again with `.start()` (a primary that was down);
- `primary_setup(rt, people, shards=K)`: three ISPs registered (BIND and PowerDNS with a key, Unbound by address),
  the primary configured and running, and the steps of a test (`approve`, `lift`, `sync`) as a `Setup`;
- `start_bind_secondary`, `start_pdns_secondary` (TSIG), `start_unbound_secondary` (unsigned, allowed by its
  address: Unbound 1.17 cannot sign a transfer): each `(tmp, primary, upstream, key, secret, port)`, `port`
  the one the ISP registered (NOTIFY goes there), and a `Resolver`. With `config` (`printed_config`: what
  `blocklist dns-primary secondary-config` prints, a sharded primary's) instead of the manual's single-zone blocks.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import dns.query
import dns.rdataclass
import dns.rdatatype
import dns.tsigkeyring
import dns.zone
from sqlalchemy import select

from api.runtime import Runtime
from blocklist import isps, workflow
from blocklist.models import User
from isp_feed import primary as primaries
from isp_feed.jobs import FeedJobContext, publish_feed, sync_primary
from isp_feed.models import FeedFetch
from isp_feed.primary import SECRET_PLACEHOLDER, Primary, SyncResult, primary_serial, secondary_config
from tests.support.binaries import require_binary
from tests.support.factories import approved
from tests.support.ports import free_port
from tests.support.processes import stop as stop_process
from tests.support.resolvers import (
    Resolver,
    _spawn,
    _unbound_common,
    _wait_ready,
    assert_resolves,
    assert_stop_page,
    bind_isp_options,
    documented_config,
    eventually,
    pdns_isp_settings,
)

# The address and port the manual's configurations give the primary, and the key name and secret they show.
DOC_PRIMARY = "192.0.2.53"
DOC_KEY = "isp-7"
DOC_SECRET = "PASTE-THE-SECRET-blocklist-isp-tsig-SHOWN-ONCE="
# The address the Unbound secondary transfers from, registered unsigned (Unbound binds no source address for a
# transfer: it is 127.0.0.1 on loopback); transfers without a key from any other address (OTHER_ADDRESS) are refused.
UNSIGNED_ADDRESS = "127.0.0.1"
OTHER_ADDRESS = "127.0.0.3"


@dataclass
class NamedPrimary:
    """A running `named` serving the primary's folder."""

    primary: Primary
    process: subprocess.Popen[bytes] | None = None
    starts: list[float] = field(default_factory=list)

    def start(self) -> NamedPrimary:
        named = require_binary("named", "bind9")
        require_binary("rndc", "bind9")
        log = (self.primary.folder / "named.stderr").open("ab")
        self.process = subprocess.Popen([named, "-f", "-c", str(self.primary.named_conf)], stdout=log,
                                        stderr=subprocess.STDOUT, cwd=self.primary.folder)
        deadline = time.monotonic() + 20
        while primary_serial(self.primary) is None:
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"named did not start:\n{self.log()}")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        stop_process(self.process)
        self.process = None

    def log(self) -> str:
        return "".join(path.read_text(errors="replace") for path in (
            self.primary.folder / "named.stderr", self.primary.folder / "named.log") if path.exists())


@contextmanager
def run_primary(primary: Primary) -> Iterator[NamedPrimary]:
    """The primary's named, stopped on exit."""
    named = NamedPrimary(primary).start()
    try:
        yield named
    finally:
        named.stop()


def _documented(name: str, primary: Primary, key: str, secret: str, **paths: Path) -> str:
    text = documented_config(name, dict(paths) if paths else None)
    return (text.replace(f"{DOC_PRIMARY} port 53", f"{primary.address} port {primary.port}")
            .replace(f"{DOC_PRIMARY}:53", f"{primary.address}:{primary.port}")
            .replace(f"{DOC_PRIMARY}@53", f"{primary.address}@{primary.port}")
            .replace(DOC_PRIMARY, primary.address).replace(DOC_SECRET, secret).replace(f'"{DOC_KEY}"', f'"{key}"'))


def printed_config(primary: Primary, resolver: str, key: str, secret: str) -> list[str]:
    """The parts `blocklist dns-primary secondary-config --resolver RESOLVER` prints for this primary, with the ISP's
    secret pasted where it says."""
    return [text.replace(SECRET_PLACEHOLDER, secret)
            for _, text in secondary_config(primary, resolver, key, "stop.blocklist.example")]


@contextmanager
def start_bind_secondary(tmp: Path, primary: Primary, upstream: Resolver, key: str, secret: str, port: int,
                         name: str = "bind-xfr", config: list[str] | None = None) -> Iterator[Resolver]:
    """An ISP's BIND 9 whose `response-policy` zones are secondaries of the primary, transferred with TSIG."""
    binary = require_binary("named", "bind9")
    folder = tmp / name
    folder.mkdir(parents=True, exist_ok=True)
    policy, zone = (config[0], config[1]) if config else (None, _documented("bind-secondary.conf", primary, key,
                                                                           secret))
    zone = zone.replace("/var/cache/bind/", f"{folder}/")
    (folder / "named.conf").write_text(f"{bind_isp_options(folder, port, upstream, policy)}\n{zone}")
    process = _spawn(name, [binary, "-g", "-c", str(folder / "named.conf")], folder)
    resolver = Resolver(name, "127.0.0.1", port, process, folder)
    with resolver:
        _wait_ready(resolver, "good.test")
        yield resolver


@contextmanager
def start_pdns_secondary(tmp: Path, primary: Primary, upstream: Resolver, key: str, secret: str, port: int,
                         name: str = "pdns-xfr", config: list[str] | None = None) -> Iterator[Resolver]:
    """An ISP's PowerDNS Recursor loading the zone(s) with the manual's `rpzPrimary` line(s) (TSIG)."""
    binary = require_binary("pdns_recursor", "pdns-recursor")
    folder = tmp / name
    folder.mkdir(parents=True, exist_ok=True)
    settings, lua = (config[0], config[1]) if config else (
        _documented("pdns-recursor-xfr.conf", primary, key, secret), _documented("pdns-recursor-xfr.lua", primary,
                                                                                 key, secret))
    (folder / "blocklist.lua").write_text(lua)
    (folder / "recursor.conf").write_text(f"lua-config-file={folder / 'blocklist.lua'}\n"
                                         + pdns_isp_settings(folder, port, upstream) + settings)
    process = _spawn(name, [binary, f"--config-dir={folder}"], folder)
    resolver = Resolver(name, "127.0.0.1", port, process, folder)
    with resolver:
        _wait_ready(resolver, "good.test")
        yield resolver


@contextmanager
def start_unbound_secondary(tmp: Path, primary: Primary, upstream: Resolver, port: int, name: str = "unbound-xfr",
                            config: list[str] | None = None) -> Iterator[Resolver]:
    """An ISP's Unbound whose `rpz:` zone(s) are transferred from the primary, unsigned, from UNSIGNED_ADDRESS."""
    binary = require_binary("unbound", "unbound")
    folder = tmp / name
    folder.mkdir(parents=True, exist_ok=True)
    control_port = free_port()
    rpz = (config[0] if config else _documented("unbound-xfr.conf", primary, "", "")).replace(
        "/var/lib/unbound/", f"{folder}/")
    text = _unbound_common(folder, port, control_port).replace(
        "server:\n", 'server:\n    module-config: "respip iterator"\n'
        "    do-not-query-localhost: no\n", 1)  # (its upstream and the primary are on loopback here)
    text += f"""forward-zone:
    name: "."
    forward-addr: 127.0.0.1@{upstream.port}
{rpz}"""
    conf = folder / "unbound.conf"
    conf.write_text(text)
    process = _spawn(name, [binary, "-d", "-c", str(conf)], folder)
    resolver = Resolver(name, "127.0.0.1", port, process, folder)
    with resolver:
        _wait_ready(resolver, "good.test")
        yield resolver


def transfer(primary: Primary, key: dict[str, str] | None, *, source: str = "127.0.0.1", zone: str | None = None
             ) -> list[str]:
    """An AXFR of the zone (or another of the primary's: a shard) from the primary (with `key` {name: secret}, or
    none): the names it holds."""
    keyring = dns.tsigkeyring.from_text({n: ("hmac-sha256", s) for n, s in key.items()}) if key else None
    keyname = next(iter(key)) if key else None
    got = dns.zone.from_xfr(dns.query.xfr(primary.address, zone or primary.zone, port=primary.port, keyring=keyring,
                                           keyname=keyname, keyalgorithm="hmac-sha256", source=source, timeout=5,
                                           lifetime=10))
    return sorted(str(n) for n, node in got.nodes.items()
                  if node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.CNAME) is not None)


@dataclass
class Setup:
    """A running primary, the ISPs registered for it, and a test's steps."""

    rt: Runtime
    people: dict[str, User]
    primary: Primary
    named: NamedPrimary
    keys: dict[str, tuple[str, str]]  # ISP name -> (key name, secret)
    ports: dict[str, int]  # "bind" | "pdns" | "unbound" -> the secondary's registered port

    @property
    def ctx(self) -> FeedJobContext:
        return self.rt.job_context

    def approve(self, *names: str) -> int:
        with self.rt.database.transaction() as s:
            approved(s, self.people["officer"], self.people["magistrate"], *names)
        return self.publish()

    def lift(self, name: str) -> int:
        with self.rt.database.transaction() as s:
            workflow.lift(s, actor=self.people["magistrate"], domain=name, reason="content removed")
        return self.publish()

    def publish(self) -> int:
        serial = publish_feed(self.ctx, push=False)  # the steps push themselves (sync), to see what each push did
        assert serial is not None
        return serial

    def sync(self) -> SyncResult:
        result = sync_primary(self.ctx)
        assert result is not None
        return result

    def transfers(self) -> list[tuple[int, int | None, str]]:
        """(ISP id, serial, ext) of every transfer in the fetch log."""
        with self.rt.database.reading() as s:
            return [(i, serial, ext) for i, serial, ext in s.execute(
                select(FeedFetch.isp_id, FeedFetch.serial, FeedFetch.ext).where(FeedFetch.ext.in_(("ixfr", "axfr"))))]

    def isp_id(self, name: str) -> int:
        with self.rt.database.reading() as s:
            return isps.get_isp(s, name).id

    def lift_everywhere(self, resolvers: Sequence[Resolver], name: str, still_blocked: str) -> int:
        """Lift `name` and push it: every resolver answers it (and a subdomain) normally again, `still_blocked`
        stays blocked; the lift's serial."""
        serial = self.lift(name)
        self.sync()
        for resolver in resolvers:
            eventually(lambda r=resolver: assert_resolves(r, name), seconds=5)  # type: ignore[misc]
            assert_resolves(resolver, f"a.b.{name}")
            assert_stop_page(resolver, still_blocked)
        return serial

    def assert_transferred_once(self, serial: int) -> None:
        """Each of the three ISPs has transferred `serial` by IXFR, logged once in the fetch log (a sharded
        primary's shards moved to the same serial are not counted again)."""

        def logged() -> None:
            self.sync()  # reads the primary's transfer log into the fetch log
            seen = self.transfers()
            for isp in ("ISP Bind", "ISP Pdns", "ISP Unbound"):
                assert seen.count((self.isp_id(isp), serial, "ixfr")) == 1, (isp, seen)

        eventually(logged, seconds=5)


def register_isp(rt: Runtime, name: str, *, signed: tuple[str, ...] = (), unsigned: tuple[str, ...] = ()
                 ) -> tuple[str, str]:
    """An ISP with a TSIG key and these secondaries: (key name, secret)."""
    with rt.database.transaction() as s:
        isp, _ = isps.add_isp(s, actor="test", name=name, email=f"noc@{name.lower().replace(' ', '-')}.example",
                              language="fr")
        key = primaries.issue_key(s, rt.settings, actor="test", isp=isp)
        isps.set_secondaries(s, actor="test", isp=isp, signed=signed, unsigned=unsigned)
        return key.name, key.secret


@contextmanager
def primary_setup(rt: Runtime, people: dict[str, User], *, shards: int = 1) -> Iterator[Setup]:
    """ISP Bind and ISP Pdns (TSIG) and ISP Unbound (by address), and the primary configured for them, running."""
    ports = {name: free_port() for name in ("bind", "pdns", "unbound")}
    keys = {"ISP Bind": register_isp(rt, "ISP Bind", signed=(f"127.0.0.1:{ports['bind']}",)),
            "ISP Pdns": register_isp(rt, "ISP Pdns", signed=(f"127.0.0.1:{ports['pdns']}",)),
            "ISP Unbound": register_isp(rt, "ISP Unbound", unsigned=(f"{UNSIGNED_ADDRESS}:{ports['unbound']}",))}
    configured = primaries.configure(rt.database, rt.settings, port=free_port(), control_port=free_port(),
                                     shards=shards)
    with run_primary(configured) as named:
        yield Setup(rt, people, configured, named, keys, ports)
