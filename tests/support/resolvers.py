"""Real DNS resolvers on loopback for the tests: Unbound and BIND acting as ISP resolvers, and a small
"test internet" (an Unbound serving the `test.` and `example.` zones authoritatively) that doubles as the
control resolver that applies no block.

API (stable: other tests rely on it), all context managers that wait until the server answers and stop it on exit:
- `start_internet(tmp)`: the test internet, also the control resolver (blocks nothing);
- `start_unbound(tmp, rpz_file, policy="stoppage"|"nxdomain")`: an ISP's Unbound applying `rpz_file`
  (None: a non-compliant ISP without RPZ); `extra_config` is appended to its configuration (it may open its
  own `server:` clause, as the feed's unbound.conf format does);
- `start_bind(tmp, rpz_file, upstream)`: an ISP's BIND 9 forwarding to `upstream` (a `start_internet` resolver);
each yields a `Resolver` with `.ip`, `.port`, `.reload()`, `.stop()`, `.log()`. Queries: `query(resolver, name)`,
then `addresses(answer)` / `cnames(answer)`. `TEST_INTERNET` maps every test name to its unblocked address;
`STOP_NAME`/`STOP_V4`/`STOP_V6` are the stop page the tests' feeds point to.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import dns.message
import dns.query
import dns.rcode
import dns.rdatatype

from tests.support.binaries import require_binary
from tests.support.ports import free_port

__all__ = ["EMPTY_RPZ", "RPZ_ZONE", "STOP_NAME", "STOP_V4", "STOP_V6", "TEST_INTERNET", "Resolver", "addresses",
           "cnames", "query", "start_bind", "start_internet", "start_unbound"]

STOP_NAME = "stop.blocklist.example"
STOP_V4 = "192.0.2.80"
STOP_V6 = "2001:db8::80"
# The test internet: every name the tests resolve, and the address it has when nothing blocks it.
TEST_INTERNET = {
    "good.test": "192.0.2.10",
    "csam-gallery.test": "192.0.2.66",
    "a.b.csam-gallery.test": "192.0.2.66",
    "mirror.csam-gallery.test": "192.0.2.66",
    "exact-only.test": "192.0.2.67",
    "sub.exact-only.test": "192.0.2.68",
    "second.test": "192.0.2.69",
}
RPZ_ZONE = "rpz.blocklist"

_TEST_ZONE = """$TTL 300
@ IN SOA ns.test. hostmaster.test. 1 3600 600 86400 300
@ IN NS ns.test.
ns IN A 192.0.2.53
good IN A 192.0.2.10
good IN AAAA 2001:db8::10
csam-gallery IN A 192.0.2.66
*.csam-gallery IN A 192.0.2.66
exact-only IN A 192.0.2.67
sub.exact-only IN A 192.0.2.68
second IN A 192.0.2.69
"""
_EXAMPLE_ZONE = f"""$TTL 300
@ IN SOA ns.example. hostmaster.example. 1 3600 600 86400 300
@ IN NS ns.example.
ns IN A 192.0.2.53
stop.blocklist IN A {STOP_V4}
stop.blocklist IN AAAA {STOP_V6}
"""
EMPTY_RPZ = "$TTL 300\n@ IN SOA localhost. hostmaster.blocklist.invalid. 0 3600 600 604800 300\n@ IN NS localhost.\n"


def _binary(name: str) -> str:
    return require_binary(name, "bind9" if name in ("named", "rndc", "rndc-confgen") else "unbound")


@dataclass
class Resolver:
    """A running resolver process on 127.0.0.1:port."""

    name: str
    ip: str
    port: int
    process: subprocess.Popen[bytes]
    folder: Path
    reload_command: list[str] = field(default_factory=list)

    def reload(self) -> None:
        """Make the resolver re-read its RPZ file (the command the ISP client runs)."""
        subprocess.run(self.reload_command, check=True, capture_output=True, timeout=30)

    def log(self) -> str:
        """What the server printed."""
        path = self.folder / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        """Stop the process."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def query(
    resolver: Resolver | tuple[str, int], name: str, rdtype: str = "A", timeout: float = 3.0
) -> dns.message.Message:
    """Ask a resolver (UDP, falling back to TCP on truncation)."""
    ip, port = (resolver.ip, resolver.port) if isinstance(resolver, Resolver) else resolver
    message = dns.message.make_query(name, rdtype)
    response, _ = dns.query.udp_with_fallback(message, ip, port=port, timeout=timeout)
    return response


def addresses(response: dns.message.Message) -> set[str]:
    """The A/AAAA addresses in an answer (after any CNAME)."""
    return {rd.to_text() for rrset in response.answer if rrset.rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA)
            for rd in rrset}


def cnames(response: dns.message.Message) -> set[str]:
    """CNAME targets in an answer."""
    return {rd.target.to_text() for rrset in response.answer if rrset.rdtype == dns.rdatatype.CNAME for rd in rrset}


def _wait_ready(resolver: Resolver, probe: str) -> None:
    deadline = time.monotonic() + 20
    last: Exception | None = None
    while time.monotonic() < deadline:
        if resolver.process.poll() is not None:
            raise RuntimeError(f"{resolver.name} exited at start:\n{resolver.log()}")
        try:
            response = query(resolver, probe, timeout=0.5)
            if response.rcode() == dns.rcode.NOERROR and response.answer:
                return
        except Exception as exc:  # not up yet
            last = exc
        time.sleep(0.1)
    resolver.stop()
    raise RuntimeError(f"{resolver.name} did not answer {probe} ({last}):\n{resolver.log()}")


def _spawn(name: str, command: list[str], folder: Path) -> subprocess.Popen[bytes]:
    log = (folder / "server.log").open("wb")
    return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=folder)


def _unbound_common(folder: Path, port: int, control_port: int) -> str:
    return f"""server:
    interface: 127.0.0.1@{port}
    port: {port}
    do-daemonize: no
    username: ""
    chroot: ""
    directory: "{folder}"
    pidfile: "{folder}/unbound.pid"
    use-syslog: no
    logfile: ""
    verbosity: 1
    num-threads: 1
    so-reuseport: no
    do-ip6: no
    access-control: 127.0.0.0/8 allow
    local-zone: "test." nodefault
    local-zone: "example." nodefault
    qname-minimisation: no
    root-hints: ""
remote-control:
    control-enable: yes
    control-interface: 127.0.0.1
    control-port: {control_port}
    control-use-cert: no
"""


def _auth_zones(folder: Path, *, downstream: bool) -> str:
    (folder / "test.zone").write_text(_TEST_ZONE)
    (folder / "example.zone").write_text(_EXAMPLE_ZONE)
    flag = "yes" if downstream else "no"
    return "".join(f"""auth-zone:
    name: "{zone}."
    zonefile: "{folder}/{zone}.zone"
    for-downstream: {flag}
    for-upstream: yes
    fallback-enabled: no
""" for zone in ("test", "example"))


def _start_unbound(name: str, folder: Path, config: str, control_port: int) -> Resolver:
    binary = _binary("unbound")
    control = _binary("unbound-control")
    conf = folder / "unbound.conf"
    conf.write_text(config)
    port = int(config.split("port: ", 1)[1].split("\n", 1)[0])
    process = _spawn(name, [binary, "-d", "-c", str(conf)], folder)
    resolver = Resolver(name, "127.0.0.1", port, process, folder, [control, "-c", str(conf), "reload"])
    _wait_ready(resolver, "good.test")
    return resolver


@contextmanager
def start_internet(tmp: Path) -> Iterator[Resolver]:
    """An Unbound that answers for the test internet and blocks nothing: upstream and control resolver."""
    folder = tmp / "internet"
    folder.mkdir(parents=True, exist_ok=True)
    port, control_port = free_port(), free_port()
    config = _unbound_common(folder, port, control_port).replace(
        "server:\n", 'server:\n    module-config: "iterator"\n', 1) + _auth_zones(folder, downstream=True)
    resolver = _start_unbound("internet", folder, config, control_port)
    try:
        yield resolver
    finally:
        resolver.stop()


@contextmanager
def start_unbound(
    tmp: Path, rpz_file: Path | None, policy: str = "stoppage", name: str = "unbound", log_queries: bool = False,
    extra_config: str = "",
) -> Iterator[Resolver]:
    """An ISP's Unbound: resolves the test internet itself and applies `rpz_file` (None: a non-compliant ISP).

    policy "nxdomain" overrides every RPZ action with NXDOMAIN (an ISP whose agreed block answer is NXDOMAIN).
    """
    if policy not in ("stoppage", "nxdomain"):
        raise ValueError(f"policy must be 'stoppage' or 'nxdomain', not {policy!r}")
    folder = tmp / name
    folder.mkdir(parents=True, exist_ok=True)
    port, control_port = free_port(), free_port()
    modules = "respip iterator" if rpz_file is not None else "iterator"
    extra = f'    module-config: "{modules}"\n' + ("    log-queries: yes\n" if log_queries else "")
    config = _unbound_common(folder, port, control_port).replace("server:\n", "server:\n" + extra, 1) + _auth_zones(
        folder, downstream=False)
    if rpz_file is not None:
        if not rpz_file.exists():
            rpz_file.write_text(EMPTY_RPZ)
        override = "    rpz-action-override: nxdomain\n" if policy == "nxdomain" else ""
        config += f'rpz:\n    name: "{RPZ_ZONE}."\n    zonefile: "{rpz_file}"\n    rpz-log: yes\n{override}'
    config += extra_config
    resolver = _start_unbound(name, folder, config, control_port)
    try:
        yield resolver
    finally:
        resolver.stop()


@contextmanager
def start_bind(tmp: Path, rpz_file: Path, upstream: Resolver, name: str = "bind") -> Iterator[Resolver]:
    """An ISP's BIND 9: recursive, forwarding to the test internet, applying `rpz_file` as a response policy."""
    binary, rndc, confgen = _binary("named"), _binary("rndc"), _binary("rndc-confgen")
    folder = tmp / name
    folder.mkdir(parents=True, exist_ok=True)
    port, control_port = free_port(), free_port()
    if not rpz_file.exists():
        rpz_file.write_text(EMPTY_RPZ)
    key_conf = subprocess.run([confgen, "-A", "hmac-sha256", "-k", "rndc-key"], check=True, capture_output=True,
                              text=True).stdout
    secret = key_conf.split('secret "', 1)[1].split('"', 1)[0]
    key = f'key "rndc-key" {{ algorithm hmac-sha256; secret "{secret}"; }};\n'
    (folder / "rndc.conf").write_text(
        key + f'options {{ default-key "rndc-key"; default-server 127.0.0.1; default-port {control_port}; }};\n')
    (folder / "named.conf").write_text(key + f"""
controls {{ inet 127.0.0.1 port {control_port} allow {{ 127.0.0.1; }} keys {{ "rndc-key"; }}; }};
options {{
    directory "{folder}";
    pid-file "{folder}/named.pid";
    listen-on port {port} {{ 127.0.0.1; }};
    listen-on-v6 {{ none; }};
    recursion yes;
    allow-query {{ 127.0.0.1; }};
    allow-recursion {{ 127.0.0.1; }};
    forward only;
    forwarders {{ 127.0.0.1 port {upstream.port}; }};
    dnssec-validation no;
    notify no;
    # BIND defers RPZ updates that come within 60 s of the last one by default; apply each pull at once.
    response-policy {{ zone "{RPZ_ZONE}" min-update-interval 0; }};
}};
zone "{RPZ_ZONE}" {{ type primary; file "{rpz_file}"; allow-query {{ none; }}; }};
""")
    process = _spawn(name, [binary, "-g", "-c", str(folder / "named.conf")], folder)
    resolver = Resolver(name, "127.0.0.1", port, process, folder, [rndc, "-c", str(folder / "rndc.conf"), "reload"])
    _wait_ready(resolver, "good.test")
    try:
        yield resolver
    finally:
        resolver.stop()


def eventually(check: Callable[[], None], seconds: float = 10.0) -> None:
    """Retry a check until it passes (a reload is asynchronous: `rndc reload` returns before the zone is
    loaded); re-raise its last failure."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            check()
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def assert_stop_page(resolver: Resolver, name: str) -> None:
    """The resolver answers `name` with the stop page (its CNAME and address)."""
    answer = query(resolver, name)
    assert STOP_NAME + "." in cnames(answer) and STOP_V4 in addresses(answer), (name, answer.to_text())


def assert_stop_page_address(resolver: Resolver, name: str) -> None:
    """Blocked with the stop page's own addresses, no CNAME (the a.rpz and unbound.conf formats)."""
    answer = query(resolver, name)
    assert addresses(answer) == {STOP_V4} and not cnames(answer), (name, answer.to_text())
    assert addresses(query(resolver, name, "AAAA")) == {STOP_V6}


def assert_resolves(resolver: Resolver, name: str) -> None:
    """The resolver answers `name` normally, with its address on the test internet."""
    answer = query(resolver, name)
    assert answer.rcode() == dns.rcode.NOERROR and addresses(answer) == {TEST_INTERNET[name]}, answer.to_text()
