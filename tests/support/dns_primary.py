"""The product's hidden primary (BIND 9, configured by isp_feed/primary.py) and the ISPs' resolvers that transfer the
RPZ zone from it, each with the configuration the ISP manual shows (docs/isp.md, `<!-- tested-config: NAME -->`):

- `run_primary(primary)`: the real `named` on the folder `isp_feed.primary.configure` wrote; `.stop()` and start
  again with `.start()` (a primary that was down);
- `start_bind_secondary`, `start_pdns_secondary` (TSIG), `start_unbound_secondary` (unsigned, allowed by its
  address: Unbound 1.17 cannot sign a transfer): each `(tmp, primary, upstream, key, secret, port)`, `port`
  the one the ISP registered (NOTIFY goes there), and a `Resolver`.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import dns.query
import dns.rdataclass
import dns.rdatatype
import dns.tsigkeyring
import dns.zone

from isp_feed.primary import Primary, primary_serial
from tests.support.binaries import require_binary
from tests.support.ports import free_port
from tests.support.processes import stop as stop_process
from tests.support.resolvers import (
    Resolver,
    _spawn,
    _unbound_common,
    _wait_ready,
    bind_isp_options,
    documented_config,
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


@contextmanager
def start_bind_secondary(tmp: Path, primary: Primary, upstream: Resolver, key: str, secret: str, port: int,
                         name: str = "bind-xfr") -> Iterator[Resolver]:
    """An ISP's BIND 9 whose `response-policy` zone is a secondary of the primary, transferred with TSIG."""
    binary = require_binary("named", "bind9")
    folder = tmp / name
    folder.mkdir(parents=True, exist_ok=True)
    zone = _documented("bind-secondary.conf", primary, key, secret).replace(
        "/var/cache/bind/rpz.blocklist.db", str(folder / "rpz.blocklist.db"))
    (folder / "named.conf").write_text(f"{bind_isp_options(folder, port, upstream)}\n{zone}")
    process = _spawn(name, [binary, "-g", "-c", str(folder / "named.conf")], folder)
    resolver = Resolver(name, "127.0.0.1", port, process, folder)
    with resolver:
        _wait_ready(resolver, "good.test")
        yield resolver


@contextmanager
def start_pdns_secondary(tmp: Path, primary: Primary, upstream: Resolver, key: str, secret: str, port: int,
                         name: str = "pdns-xfr") -> Iterator[Resolver]:
    """An ISP's PowerDNS Recursor loading the zone with the manual's `rpzPrimary` line (TSIG)."""
    binary = require_binary("pdns_recursor", "pdns-recursor")
    folder = tmp / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "blocklist.lua").write_text(_documented("pdns-recursor-xfr.lua", primary, key, secret))
    (folder / "recursor.conf").write_text(f"lua-config-file={folder / 'blocklist.lua'}\n"
                                         + pdns_isp_settings(folder, port, upstream)
                                         + _documented("pdns-recursor-xfr.conf", primary, key, secret))
    process = _spawn(name, [binary, f"--config-dir={folder}"], folder)
    resolver = Resolver(name, "127.0.0.1", port, process, folder)
    with resolver:
        _wait_ready(resolver, "good.test")
        yield resolver


@contextmanager
def start_unbound_secondary(tmp: Path, primary: Primary, upstream: Resolver, port: int, name: str = "unbound-xfr"
                            ) -> Iterator[Resolver]:
    """An ISP's Unbound whose `rpz:` zone is transferred from the primary, unsigned, from UNSIGNED_ADDRESS."""
    binary = require_binary("unbound", "unbound")
    folder = tmp / name
    folder.mkdir(parents=True, exist_ok=True)
    control_port = free_port()
    rpz = _documented("unbound-xfr.conf", primary, "", "").replace(
        "/var/lib/unbound/rpz.blocklist.zone", str(folder / "rpz.blocklist.zone"))
    config = _unbound_common(folder, port, control_port).replace(
        "server:\n", 'server:\n    module-config: "respip iterator"\n'
        "    do-not-query-localhost: no\n", 1)  # (its upstream and the primary are on loopback here)
    config += f"""forward-zone:
    name: "."
    forward-addr: 127.0.0.1@{upstream.port}
{rpz}"""
    conf = folder / "unbound.conf"
    conf.write_text(config)
    process = _spawn(name, [binary, "-d", "-c", str(conf)], folder)
    resolver = Resolver(name, "127.0.0.1", port, process, folder)
    with resolver:
        _wait_ready(resolver, "good.test")
        yield resolver


def transfer(primary: Primary, key: dict[str, str] | None, *, source: str = "127.0.0.1") -> list[str]:
    """An AXFR of the zone from the primary (with `key` {name: secret}, or none): the names it holds."""
    keyring = dns.tsigkeyring.from_text({n: ("hmac-sha256", s) for n, s in key.items()}) if key else None
    keyname = next(iter(key)) if key else None
    zone = dns.zone.from_xfr(dns.query.xfr(primary.address, primary.zone, port=primary.port, keyring=keyring,
                                           keyname=keyname, keyalgorithm="hmac-sha256", source=source, timeout=5,
                                           lifetime=10))
    return sorted(str(n) for n, node in zone.nodes.items()
                  if node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.CNAME) is not None)
