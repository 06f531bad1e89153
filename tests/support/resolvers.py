"""Real DNS resolvers on loopback for the tests: Unbound, BIND, PowerDNS Recursor, Knot Resolver and dnsmasq acting as
ISP resolvers, and a small "test internet" (an Unbound serving the `test.`, `example.` and `2.0.192.in-addr.arpa.`
zones authoritatively) that doubles as the control resolver that applies no block.

API (stable: other tests rely on it), all context managers that wait until the server answers and stop it on exit:
- `start_internet(tmp)`: the test internet, also the control resolver (blocks nothing);
- `start_unbound(tmp, rpz_file, policy="stoppage"|"nxdomain")`: an ISP's Unbound applying `rpz_file`
  (None: a non-compliant ISP without RPZ); `extra_config` is appended to its configuration (it may open its
  own `server:` clause, as the feed's unbound.conf format does);
  `unbound_control_command(resolver)`: its unbound-control command reading a file of the control clause only;
- `start_bind(tmp, rpz_file, upstream)`: an ISP's BIND 9 forwarding to `upstream` (a `start_internet` resolver);
- `start_pdns_recursor`, `start_knot_resolver` (a restart reloads it), `start_dnsmasq` (the dnsmasq.conf format; a
  restart), each `(tmp, file, upstream)` and configured with the blocks the ISP manual shows (`documented_config`);
each yields a `Resolver` with `.ip`, `.port`, `.reload()` (`.reload_args()`: the client's `--reload` options),
`.stop()`, `.log()`. The test internet also has HTTPS (type 65) records with the real `ipv4hint` for every test name
(`https_hints`), and the stop page address's PTR (`ptr_names`). Queries: `query(resolver, name)`,
then `addresses(answer)` / `cnames(answer)`. `TEST_INTERNET` maps every test name to its unblocked address;
`STOP_NAME`/`STOP_V4`/`STOP_V6` are the stop page the tests' feeds point to.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from itertools import takewhile
from pathlib import Path

import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import dns.rdtypes.svcbbase

from tests.support.binaries import require_binary
from tests.support.ports import free_port
from tests.support.processes import stop as stop_process

__all__ = ["EMPTY_RPZ", "RPZ_ZONE", "STOP_NAME", "STOP_PTR", "STOP_URL", "STOP_V4", "STOP_V6", "TEST_INTERNET",
           "Resolver", "addresses", "assert_blocked", "cnames", "documented_config", "ede", "https_hints", "ptr_names",
           "query", "start_bind", "start_dnsmasq", "start_internet", "start_knot_resolver", "start_pdns_recursor",
           "start_unbound", "unbound_control_command"]

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
    "xn--bcher-kva.test": "192.0.2.70",  # bücher.test: the IDN case
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
xn--bcher-kva IN A 192.0.2.70
""" + "".join(f"{owner} IN HTTPS 1 . alpn=h2 ipv4hint={address}\n" for owner, address in (
    # HTTPS (type 65) records with the real servers' address hints: a resolver that lets them through a block hands
    # browsers the real address (the leak the HTTPS assertions look for).
    ("good", "192.0.2.10"), ("csam-gallery", "192.0.2.66"), ("*.csam-gallery", "192.0.2.66"),
    ("exact-only", "192.0.2.67"), ("sub.exact-only", "192.0.2.68"), ("second", "192.0.2.69"),
    ("xn--bcher-kva", "192.0.2.70")))
_EXAMPLE_ZONE = f"""$TTL 300
@ IN SOA ns.example. hostmaster.example. 1 3600 600 86400 300
@ IN NS ns.example.
ns IN A 192.0.2.53
stop.blocklist IN A {STOP_V4}
stop.blocklist IN AAAA {STOP_V6}
"""
# The reverse zone of the stop page's address: asked for its PTR, a resolver must not answer a listed name.
STOP_PTR = "80.2.0.192.in-addr.arpa"
_REVERSE_ZONE = f"""$TTL 300
@ IN SOA ns.example. hostmaster.example. 1 3600 600 86400 300
@ IN NS ns.example.
80 IN PTR {STOP_NAME}.
"""
EMPTY_RPZ = "$TTL 300\n@ IN SOA localhost. hostmaster.blocklist.invalid. 0 3600 600 604800 300\n@ IN NS localhost.\n"


# Each daemon's Debian package (every package is in .ci/packages, which .ci/run installs).
_PACKAGES = {"named": "bind9", "rndc": "bind9", "rndc-confgen": "bind9", "pdns_recursor": "pdns-recursor",
             "rec_control": "pdns-recursor", "kresd": "knot-resolver", "dnsmasq": "dnsmasq-base"}


def _binary(name: str) -> str:
    return require_binary(name, _PACKAGES.get(name, "unbound"))


@dataclass
class Resolver:
    """A running resolver process on 127.0.0.1:port."""

    name: str
    ip: str
    port: int
    process: subprocess.Popen[bytes] | None  # None: a daemon restarted by its reload command (see `pidfile`)
    folder: Path
    reload_command: list[str] = field(default_factory=list)
    pidfile: Path | None = None  # where a restartable daemon keeps its process id
    after_reload: list[list[str]] = field(default_factory=list)  # commands the reload needs next (PowerDNS' cache)

    @property
    def reload_commands(self) -> list[list[str]]:
        """Every command of a reload, in order (the client's repeated --reload)."""
        return [self.reload_command, *self.after_reload]

    def reload_args(self) -> list[str]:
        """The client's `--reload` options for this resolver."""
        return [word for command in self.reload_commands for word in ("--reload", shlex.join(command))]

    def reload(self) -> None:
        """Make the resolver re-read its RPZ file (the commands the ISP client runs)."""
        for command in self.reload_commands:
            subprocess.run(command, check=True, capture_output=True, timeout=30)
        if self.process is None:  # restarted: answering again takes a moment
            _wait_ready(self, "good.test")

    def log(self) -> str:
        """What the server printed."""
        path = self.folder / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def __enter__(self) -> Resolver:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def running(self) -> bool:
        """Whether the server process is still there."""
        if self.process is not None:
            return self.process.poll() is None
        return _daemon_pid(self) is not None

    def stop(self) -> None:
        """Stop the process."""
        if self.process is None:
            pid = _daemon_pid(self)
            if pid is not None:
                os.kill(pid, signal.SIGTERM)
                _wait_gone(pid)
            return
        stop_process(self.process)


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
        if resolver.process is not None and resolver.process.poll() is not None:
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
    local-zone: "2.0.192.in-addr.arpa." nodefault
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
    (folder / "reverse.zone").write_text(_REVERSE_ZONE)
    flag = "yes" if downstream else "no"
    return "".join(f"""auth-zone:
    name: "{zone}."
    zonefile: "{folder}/{file}.zone"
    for-downstream: {flag}
    for-upstream: yes
    fallback-enabled: no
""" for zone, file in (("test", "test"), ("example", "example"), ("2.0.192.in-addr.arpa", "reverse")))


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


def unbound_control_command(resolver: Resolver) -> list[str]:
    """`unbound-control -c <a file of only the resolver's remote-control: clause>`, as the ISP manual configures the
    client's `unbound_control`: given the resolver's own configuration, unbound-control parses every file it includes
    (1.5 s per command with 1,000,000 local zones), only to learn where the control channel is."""
    text = (resolver.folder / "unbound.conf").read_text()
    clause = text[text.index("remote-control:\n"):].splitlines(keepends=True)
    lines = [clause[0], *takewhile(lambda line: line.startswith(" "), clause[1:])]
    path = resolver.folder / "control.conf"
    path.write_text("".join(lines))
    return [resolver.reload_command[0], "-c", str(path)]


def bind_isp_options(folder: Path, port: int, upstream: Resolver, policy: str | None = None) -> str:
    """The options of an ISP's BIND in the tests: recursive on loopback, forwarding to the test internet, applying
    the RPZ zone (a file of the client's, or a secondary of the hidden primary: tests/support/dns_primary.py);
    `policy`: another `response-policy` statement (the primary's shards)."""
    return f"""options {{
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
    {policy or f'response-policy {{ zone "{RPZ_ZONE}" min-update-interval 0; }};'}
}};"""


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
{bind_isp_options(folder, port, upstream)}
zone "{RPZ_ZONE}" {{ type primary; file "{rpz_file}"; allow-query {{ none; }}; }};
""")
    process = _spawn(name, [binary, "-g", "-c", str(folder / "named.conf")], folder)
    resolver = Resolver(name, "127.0.0.1", port, process, folder, [rndc, "-c", str(folder / "rndc.conf"), "reload"])
    _wait_ready(resolver, "good.test")
    try:
        yield resolver
    finally:
        resolver.stop()


# --- PowerDNS Recursor, Knot Resolver, dnsmasq: each loads the blocklist with the configuration the ISP manual
# shows (docs/isp.md, the fenced block after `<!-- tested-config: NAME -->`), its ordinary paths replaced by the
# test's own; the rest of each configuration (loopback ports, forwarding to the test internet) is the test's.

ISP_MANUAL = Path(__file__).resolve().parents[2] / "docs" / "isp.md"
STOP_URL = f"http://{STOP_NAME}/"  # the stop page's address, as the documented configurations give it


def documented_config(name: str, paths: dict[str, Path] | None = None) -> str:
    """The configuration block `name` of the ISP manual, each documented path in `paths` replaced by a real one."""
    found = re.search(rf"<!-- tested-config: {re.escape(name)} -->\n+```[^\n]*\n(.*?)^```", ISP_MANUAL.read_text(),
                      re.DOTALL | re.MULTILINE)
    if found is None:
        raise LookupError(f"docs/isp.md has no block marked <!-- tested-config: {name} -->")
    text = found.group(1)
    for documented, real in (paths or {}).items():
        if documented not in text:
            raise LookupError(f"the {name} block of docs/isp.md does not mention {documented}")
        text = text.replace(documented, str(real))
    return text


def _isp_folder(tmp: Path, name: str, list_file: Path, empty: str) -> tuple[Path, int]:
    """The resolver's own folder and a free port; the list file it loads, empty until the first pull writes it."""
    folder = tmp / name
    folder.mkdir(parents=True, exist_ok=True)
    if not list_file.exists():
        list_file.write_text(empty)
    return folder, free_port()


def _daemon_pid(resolver: Resolver) -> int | None:
    """The process id in a restartable daemon's pid file, when that process is alive (and no zombie)."""
    try:
        pid = int((resolver.pidfile or resolver.folder / "none").read_text().split()[0])
        with open(f"/proc/{pid}/status") as status:
            alive = "\nState:\tZ" not in status.read()
    except (OSError, ValueError, IndexError):
        return None
    return pid if alive else None


def _wait_gone(pid: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/status") as status:
                if "\nState:\tZ" in status.read():
                    return
        except OSError:
            return
        time.sleep(0.02)
    os.kill(pid, signal.SIGKILL)


def _restart_script(folder: Path, start: list[str], *, daemonizes: bool) -> tuple[Path, Path]:
    """A script standing in for `systemctl restart <resolver>`: stop the daemon in the pid file, start it again.
    Returns (script, pid file). A daemon that `daemonizes` writes the pid file itself and its start's exit status is
    the script's (dnsmasq refuses a bad configuration so); any other is started in the background."""
    pidfile = folder / "daemon.pid"
    run = shlex.join(start)
    if not daemonizes:
        run = f"setsid {run} </dev/null >>server.log 2>&1 &\necho $! > {shlex.quote(str(pidfile))}"
    script = folder / "restart"
    script.write_text(f"""#!/bin/sh
cd {shlex.quote(str(folder))}
if pid=$(cat {shlex.quote(str(pidfile))} 2>/dev/null) && kill "$pid" 2>/dev/null; then
    while [ -e /proc/$pid ] && ! grep -q '^State:.*Z' /proc/$pid/status 2>/dev/null; do sleep 0.02; done
fi
{run}
""")
    script.chmod(0o755)
    return script, pidfile


def _restartable(name: str, folder: Path, port: int, start: list[str], *, daemonizes: bool) -> Resolver:
    script, pidfile = _restart_script(folder, start, daemonizes=daemonizes)
    resolver = Resolver(name, "127.0.0.1", port, None, folder, [str(script)], pidfile)
    started = subprocess.run([str(script)], capture_output=True, text=True, timeout=30)
    if started.returncode != 0:
        raise RuntimeError(f"{name} did not start: {started.stderr}\n{resolver.log()}")
    try:
        _wait_ready(resolver, "good.test")
    except RuntimeError:
        resolver.stop()
        raise
    return resolver


def socket_dir(folder: Path) -> Path:
    """A short path to `folder`, for the UNIX socket a daemon makes there: a socket's path has at most 107 bytes, and
    pytest's temporary folders (under pytest-xdist `.../popen-gw0/<test name>/...`) may be longer. A symlink in the
    temporary directory named by the folder's hash, so that the daemon and its control command find the same one."""
    link = Path(tempfile.gettempdir()) / f"sock-{hashlib.sha256(str(folder).encode()).hexdigest()[:12]}"
    with suppress(FileExistsError):
        link.symlink_to(folder.resolve(), target_is_directory=True)
    return link


def pdns_isp_settings(folder: Path, port: int, upstream: Resolver) -> str:
    """The test's own recursor.conf lines: loopback only, no security poll, no root hints (nothing is ever asked of
    the real root), everything forwarded to the test internet."""
    return f"""local-address=127.0.0.1
local-port={port}
socket-dir={socket_dir(folder)}
daemon=no
disable-syslog=yes
threads=1
dnssec=off
security-poll-suffix=
hint-file=no
forward-zones-recurse=.=127.0.0.1:{upstream.port}
"""


@contextmanager
def start_pdns_recursor(tmp: Path, rpz_file: Path, upstream: Resolver, name: str = "pdns") -> Iterator[Resolver]:
    """An ISP's PowerDNS Recursor forwarding to `upstream`, loading `rpz_file` with the manual's `rpzFile` lines.

    Reload: `rec_control reload-lua-config`, then `rec_control wipe-cache '.$'` (`reload_commands`).
    """
    binary, control = _binary("pdns_recursor"), _binary("rec_control")
    folder, port = _isp_folder(tmp, name, rpz_file, EMPTY_RPZ)
    (folder / "blocklist.lua").write_text(documented_config(
        "pdns-recursor.lua", {"/var/lib/powerdns/blocklist.rpz": rpz_file}))
    # The documented recursor.conf line, then the test's own settings: loopback only, no security poll, no root
    # hints (nothing is ever asked of the real root), everything forwarded to the test internet.
    conf = documented_config("pdns-recursor.conf", {"/etc/powerdns/blocklist.lua": folder / "blocklist.lua"})
    conf += pdns_isp_settings(folder, port, upstream)
    (folder / "recursor.conf").write_text(conf)
    process = _spawn(name, [binary, f"--config-dir={folder}"], folder)
    rec = [control, f"--socket-dir={socket_dir(folder)}"]
    # Without the wipe, a name looked up before the reload stays unblocked until its TTL runs out.
    resolver = Resolver(name, "127.0.0.1", port, process, folder, [*rec, "reload-lua-config"],
                        after_reload=[[*rec, "wipe-cache", ".$"]])
    with resolver:
        _wait_ready(resolver, "good.test")
        yield resolver


@contextmanager
def start_knot_resolver(tmp: Path, rpz_file: Path, upstream: Resolver, name: str = "knot") -> Iterator[Resolver]:
    """An ISP's Knot Resolver forwarding to `upstream`, applying `rpz_file` with the manual's `policy.rpz` line;
    its reload command is a restart (Debian's kresd cannot watch the file: that needs lua-cqueues)."""
    binary = _binary("kresd")
    folder, port = _isp_folder(tmp, name, rpz_file, EMPTY_RPZ)
    documented = documented_config("kresd.conf", {"/var/lib/knot-resolver/blocklist.a.rpz": rpz_file})
    # The block comes before the forwarding rule: Knot applies the first policy rule that matches.
    (folder / "kresd.conf").write_text(f"""net.listen('127.0.0.1', {port}, {{ kind = 'dns' }})
trust_anchors.remove('.')
modules.unload('priming')
modules.unload('detect_time_skew')
modules.unload('ta_signal_query')
cache.size = 10 * MB
{documented}
policy.add(policy.all(policy.FORWARD('127.0.0.1@{upstream.port}')))
""")
    resolver = _restartable(name, folder, port, [binary, "-n", "-c", str(folder / "kresd.conf"), str(folder)],
                            daemonizes=False)
    with resolver:
        yield resolver


@contextmanager
def start_dnsmasq(tmp: Path, conf_file: Path, upstream: Resolver, name: str = "dnsmasq") -> Iterator[Resolver]:
    """An ISP's dnsmasq forwarding to `upstream`, reading `conf_file` (the dnsmasq.conf format) with the manual's
    `conf-file=` line; its reload command is a restart (SIGHUP does not re-read configuration files)."""
    binary = _binary("dnsmasq")
    folder, port = _isp_folder(tmp, name, conf_file, "")
    documented = documented_config("dnsmasq.conf", {"/var/lib/isp-feed/blocklist.dnsmasq.conf": conf_file})
    (folder / "dnsmasq.conf").write_text(f"""port={port}
listen-address=127.0.0.1
bind-interfaces
no-resolv
no-hosts
server=127.0.0.1#{upstream.port}
user=root
pid-file={folder / "daemon.pid"}
log-facility={folder / "server.log"}
{documented}""")
    resolver = _restartable(name, folder, port, [binary, f"--conf-file={folder / 'dnsmasq.conf'}"], daemonizes=True)
    with resolver:
        yield resolver


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


def assert_blocked(resolver: Resolver, name: str, *, cname: bool) -> None:
    """Blocked for every type a browser asks: A is the stop page (by CNAME when `cname`, else its address), AAAA
    carries no address but the stop page's, and HTTPS (type 65) no record at all (its address hints would lead
    browsers to the real server)."""
    answer = query(resolver, name)
    assert addresses(answer) == {STOP_V4} and (STOP_NAME + "." in cnames(answer)) == cname, (name, answer.to_text())
    assert addresses(query(resolver, name, "AAAA")) <= {STOP_V6}
    https = query(resolver, name, "HTTPS")
    assert https.rcode() == dns.rcode.NOERROR and not [r for r in https.answer if r.rdtype == dns.rdatatype.HTTPS], (
        name, https.to_text())


def https_hints(resolver: Resolver, name: str) -> set[str]:
    """The ipv4hint addresses of the HTTPS records the resolver answers for `name`."""
    answer = query(resolver, name, "HTTPS")
    return {str(address) for rrset in answer.answer if rrset.rdtype == dns.rdatatype.HTTPS for rd in rrset
            for key, value in rd.params.items() if key == dns.rdtypes.svcbbase.ParamKey.IPV4HINT
            for address in value.addresses}


def ptr_names(resolver: Resolver, reverse: str = STOP_PTR) -> set[str]:
    """The names a reverse (PTR) query answers: the stop page's address must never give a listed name."""
    answer = query(resolver, reverse, "PTR")
    return {rd.target.to_text(omit_final_dot=True) for rrset in answer.answer if rrset.rdtype == dns.rdatatype.PTR
            for rd in rrset}


def ede(resolver: Resolver, name: str) -> list[tuple[int, str]]:
    """The Extended DNS Errors (RFC 8914) of the answer to `name` (asked with EDNS)."""
    message = dns.message.make_query(name, "A", use_edns=0)
    response, _ = dns.query.udp_with_fallback(message, resolver.ip, port=resolver.port, timeout=3.0)
    return [(int(option.code), option.text or "") for option in response.extended_errors()]
