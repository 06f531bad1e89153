"""Zone transfer from the product's hidden primary, end to end on loopback with real daemons: `blocklist
dns-primary`'s BIND 9 fed by the `feed.primary_sync` job (RFC 2136 updates with TSIG), and the ISPs' resolvers
transferring the RPZ zone from it with the configurations of the ISP manual: BIND (secondary `response-policy` zone,
TSIG), PowerDNS Recursor (`rpzPrimary`, TSIG) and Unbound (`rpz:` with `primary:`, unsigned from its registered
address). A name approved is blocked via NOTIFY and IXFR, a lift unblocks, a wrong or missing key is refused, and a
primary stopped during two publications catches up when it is back. (Times are measured by bench/bench_primary.py.)
"""

from __future__ import annotations

import base64
import subprocess
from collections.abc import Iterator
from pathlib import Path

import dns.exception
import dns.query
import dns.rcode
import dns.tsig
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from api.cli import main
from api.runtime import Runtime
from blocklist import isps
from blocklist.models import AuditEvent, User
from isp_feed import primary
from tests.support.binaries import require_binary
from tests.support.dns_primary import (
    OTHER_ADDRESS,
    UNSIGNED_ADDRESS,
    Setup,
    primary_setup,
    start_bind_secondary,
    start_pdns_secondary,
    start_unbound_secondary,
    transfer,
)
from tests.support.factories import approved
from tests.support.resolvers import assert_resolves, assert_stop_page, eventually, start_internet


@pytest.fixture
def setup(rt: Runtime, people: dict[str, User]) -> Iterator[Setup]:
    with primary_setup(rt, people) as running:
        yield running


def test_a_bind_secondary_blocks_an_approved_name_and_unblocks_a_lift(setup: Setup, tmp_path: Path) -> None:
    key, secret = setup.keys["ISP Bind"]
    serial = setup.approve("csam-gallery.test")
    result = setup.sync()
    assert result.whole and result.after == serial  # from the empty zone: the whole list once
    with start_internet(tmp_path) as internet, start_bind_secondary(tmp_path, setup.primary, internet, key,
                                                                    secret, setup.ports["bind"]) as bind:
        eventually(lambda: assert_stop_page(bind, "www.csam-gallery.test"))
        assert_resolves(bind, "good.test")
        second = setup.approve("second.test")
        result = setup.sync()
        assert result.updates == 1 and not result.whole and result.after == second
        eventually(lambda: assert_stop_page(bind, "second.test"))
        setup.lift("csam-gallery.test")
        setup.sync()
        eventually(lambda: assert_resolves(bind, "csam-gallery.test"))
        assert_stop_page(bind, "second.test")


def test_bind_pdns_and_unbound_block_via_notify_and_ixfr_and_the_transfers_are_logged(setup: Setup,
                                                                                     tmp_path: Path) -> None:
    setup.approve("csam-gallery.test")
    setup.sync()
    (bkey, bsecret), (pkey, psecret) = setup.keys["ISP Bind"], setup.keys["ISP Pdns"]
    with (start_internet(tmp_path) as internet,
          start_bind_secondary(tmp_path, setup.primary, internet, bkey, bsecret, setup.ports["bind"]) as bind,
          start_pdns_secondary(tmp_path, setup.primary, internet, pkey, psecret, setup.ports["pdns"]) as pdns,
          start_unbound_secondary(tmp_path, setup.primary, internet, setup.ports["unbound"]) as unbound):
        resolvers = (bind, pdns, unbound)
        for resolver in resolvers:
            eventually(lambda r=resolver: assert_stop_page(r, "a.b.csam-gallery.test"))  # type: ignore[misc]
            assert_resolves(resolver, "good.test")
        serial = setup.approve("second.test", "xn--bcher-kva.test")
        assert setup.sync().updates == 1
        for resolver in resolvers:  # NOTIFY, then IXFR (PowerDNS: its one-second SOA poll)
            eventually(lambda r=resolver: assert_stop_page(r, "second.test"), seconds=5)  # type: ignore[misc]
            assert_stop_page(resolver, "xn--bcher-kva.test")
            assert_stop_page(resolver, f"serial-{serial}.canary.stop.blocklist.example")
        setup.assert_transferred_once(setup.lift_everywhere(resolvers, "csam-gallery.test", "second.test"))
        assert any(ext == "axfr" for _, _, ext in set(setup.transfers()))  # each secondary's first load


def test_the_publish_job_hands_each_new_version_to_the_primary_at_once(setup: Setup, tmp_path: Path) -> None:
    """No wait for the sync job's next tick: the version is on the primary when the publish job returns."""
    from isp_feed.jobs import publish_feed

    key, secret = setup.keys["ISP Bind"]
    setup.approve("csam-gallery.test")
    setup.sync()
    with start_internet(tmp_path) as internet, start_bind_secondary(tmp_path, setup.primary, internet, key,
                                                                    secret, setup.ports["bind"]) as bind:
        eventually(lambda: assert_stop_page(bind, "csam-gallery.test"))
        with setup.rt.database.transaction() as s:
            approved(s, setup.people["officer"], setup.people["magistrate"], "second.test")
        serial = publish_feed(setup.ctx)
        assert serial is not None
        assert setup.sync().updates == 0  # nothing left for the sync job
        eventually(lambda: assert_stop_page(bind, "second.test"))


def test_a_transfer_needs_the_isps_own_key(setup: Setup) -> None:
    setup.approve("csam-gallery.test")
    setup.sync()
    key, secret = setup.keys["ISP Bind"]
    assert "csam-gallery.test" in transfer(setup.primary, {key: secret})
    other_key, other_secret = setup.keys["ISP Pdns"]
    wrong = base64.b64encode(b"x" * 32).decode()
    for attempt in ({key: wrong}, {"isp-999": secret}, {key: other_secret}):
        with pytest.raises((dns.tsig.PeerError, dns.query.TransferError, dns.exception.DNSException)):
            transfer(setup.primary, attempt)
    with pytest.raises(dns.query.TransferError) as refused:  # no key, from an address no ISP registered
        transfer(setup.primary, None, source=OTHER_ADDRESS)
    assert refused.value.rcode == dns.rcode.REFUSED
    # The address registered for an unsigned (Unbound) secondary transfers without a key: Unbound cannot sign.
    assert "csam-gallery.test" in transfer(setup.primary, None, source=UNSIGNED_ADDRESS)
    assert "csam-gallery.test" in transfer(setup.primary, {other_key: other_secret})

    with setup.rt.database.transaction() as s:  # rotation: the old secret stops working at the next sync
        new = isps.new_tsig_key(s, actor="test", isp=isps.get_isp(s, "ISP Bind"),
                                folder=primary.tsig_dir(setup.rt.settings))
    assert setup.sync().reconfigured

    def rotated() -> None:
        with pytest.raises((dns.tsig.PeerError, dns.query.TransferError, dns.exception.DNSException)):
            transfer(setup.primary, {key: secret})

    eventually(rotated)
    assert "csam-gallery.test" in transfer(setup.primary, {key: new})


def test_a_primary_that_was_down_catches_up_and_publication_never_waits(setup: Setup, tmp_path: Path) -> None:
    setup.approve("csam-gallery.test")
    setup.sync()
    key, secret = setup.keys["ISP Bind"]
    with start_internet(tmp_path) as internet, start_bind_secondary(tmp_path, setup.primary, internet, key, secret,
                                                                    setup.ports["bind"]) as bind:
        eventually(lambda: assert_stop_page(bind, "csam-gallery.test"))
        setup.named.stop()
        first = setup.approve("second.test")  # published while the primary is down
        down = setup.sync()
        assert not down.reachable and down.updates == 0
        second = setup.approve("xn--bcher-kva.test")
        assert second > first
        assert not setup.sync().reachable
        setup.named.start()
        back = setup.sync()
        assert back.reachable and back.before == first - 1 and back.updates == 2 and back.after == second
        assert primary.primary_serial(setup.primary) == second
        # The second NOTIFY may come during the first IXFR: BIND transfers again right after it.
        eventually(lambda: assert_stop_page(bind, f"serial-{second}.canary.stop.blocklist.example"), seconds=5)
        assert_stop_page(bind, "second.test")
        assert_stop_page(bind, "xn--bcher-kva.test")
        assert_stop_page(bind, "csam-gallery.test")
        assert_resolves(bind, "good.test")


def test_the_transfer_log_lines_bind_writes() -> None:
    line = ("2026-12-01T18:52:40.911Z client @0x7fb850cfec98 127.0.0.1#32921/key isp-1 (rpz.blocklist): transfer "
            "of 'rpz.blocklist/IN': AXFR ended: 1 messages, 6 records, 381 bytes, 0.001 secs (381000 bytes/sec) "
            "(serial 1)")
    parsed = primary.parse_transfer_line(line)
    assert parsed is not None and (parsed.key, parsed.kind, parsed.serial, parsed.address) == ("isp-1", "axfr", 1,
                                                                                               "127.0.0.1")
    assert primary.parse_transfer_line(line.replace("AXFR ended", "AXFR started")) is None
    shard = primary.parse_transfer_line(line.replace("rpz.blocklist", "rpz-02.blocklist"))  # a sharded primary's
    assert shard is not None and (parsed.zone, shard.zone) == ("rpz.blocklist", "rpz-02.blocklist")
    unsigned = primary.parse_transfer_line(line.replace("127.0.0.1#32921/key isp-1", "127.0.0.2#5000")
                                           .replace("AXFR ended", "IXFR ended"))
    assert unsigned is not None and (unsigned.key, unsigned.kind, unsigned.address) == (None, "ixfr", "127.0.0.2")


def test_the_commands_configure_the_primary_and_issue_keys_once(rt: Runtime, tmp_path: Path) -> None:
    settings = rt.settings
    env = {"DATABASE_URL": settings.database_url, "BLOCKLIST_DATA_DIR": str(settings.data_dir)}

    def run(*args: str) -> Result:
        return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)

    with rt.database.transaction() as s:
        isps.add_isp(s, actor="test", name="ISP One", email="noc@isp-one.example", language="nl")
    issued = run("isp", "tsig", "ISP One")
    assert issued.exit_code == 0, issued.output
    secret = issued.output.strip().splitlines()[-1]
    assert f'secret "{secret}"' in issued.output and len(base64.b64decode(secret)) == 32
    assert run("isp", "secondaries", "ISP One", "--signed", "192.0.2.7", "--unsigned", "192.0.2.8:5353").exit_code == 0
    refused = run("isp", "secondaries", "ISP One", "--signed", "not-an-address")
    assert refused.exit_code == 2 and "not an IP address" in refused.output
    assert run("isp", "tsig", "No Such ISP").exit_code == 2

    folder = tmp_path / "primary"
    configured = run("dns-primary", "--dir", str(folder), "--port", "5399", "--control-port", "5398")
    assert configured.exit_code == 0, configured.output
    assert "ExecStart=" in configured.output and str(folder / "named.conf") in configured.output
    conf = (folder / "named.conf").read_text()
    assert 'allow-transfer { key "isp-' in conf and "192.0.2.8;" in conf  # the key, and the unsigned address
    assert "192.0.2.7 port 53 key" in conf and "192.0.2.8 port 5353;" in conf  # NOTIFY to both
    assert secret in (folder / "keys.conf").read_text()
    assert secret not in conf and oct((folder / "keys.conf").stat().st_mode & 0o777) == "0o600"
    checked = subprocess.run([require_binary("named-checkconf", "bind9"), str(folder / "named.conf")],
                             capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    zone = subprocess.run([require_binary("named-checkzone", "bind9"), "rpz.blocklist", str(folder / "rpz.zone")],
                          capture_output=True, text=True)
    assert zone.returncode == 0 and "serial 0" in zone.stdout, zone.stdout
    with rt.database.reading() as s:
        actions = [e.action for e in s.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars()]
    assert "isp.tsig_created" in actions and "isp.secondaries_set" in actions


def test_the_manual_shows_the_unit_the_command_prints() -> None:
    page = (Path(__file__).resolve().parents[2] / "docs" / "operations" / "install.md").read_text()
    shown = page.split("<!-- dns-primary-unit -->\n```ini\n", 1)[1].split("```", 1)[0]
    documented = primary.Primary(Path("/var/lib/blocklist/dns-primary"), "192.0.2.53", 53, 953, "rpz.blocklist")
    assert shown == primary.unit_text(documented)
