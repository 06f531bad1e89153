"""The hidden primary with its list in shards (`blocklist dns-primary --shards K`): the configured zone holds the
canary only (the meta zone), the names are in K sibling zones, and a version moves only the shards it changes and
the meta zone. End to end on loopback with the real BIND primary and real BIND, PowerDNS Recursor and Unbound
secondaries configured with what `blocklist dns-primary secondary-config` prints (the manual shows it, K = 2).
(Times are measured by `bench/bench_primary.py --shards K`.)
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import dns.exception
import dns.query
import dns.rcode
import dns.tsig
import pytest
from click.testing import CliRunner, Result

from api.cli import main
from api.runtime import Runtime
from blocklist import isps
from blocklist.models import User
from isp_feed import primary
from isp_feed_client.canary import canary_name
from tests.support.binaries import require_binary
from tests.support.dns_primary import (
    DOC_KEY,
    OTHER_ADDRESS,
    UNSIGNED_ADDRESS,
    Setup,
    primary_setup,
    printed_config,
    start_bind_secondary,
    start_pdns_secondary,
    start_unbound_secondary,
    transfer,
)
from tests.support.resolvers import (
    ISP_MANUAL,
    assert_resolves,
    assert_stop_page,
    documented_config,
    eventually,
    start_internet,
)

SHARDS = 3
STOP = "stop.blocklist.example"
# Enough names that each of the three shards holds some (checked below, not assumed).
NAMES = tuple(f"csam-{i}.test" for i in range(12))


@pytest.fixture
def setup(rt: Runtime, people: dict[str, User]) -> Iterator[Setup]:
    with primary_setup(rt, people, shards=SHARDS) as running:
        yield running


def _serials(setup: Setup) -> dict[str, int | None]:
    return {zone: primary.primary_serial(setup.primary, zone) for zone in setup.primary.zones}


def _shard(name: str) -> str:
    return primary.shard_zones("rpz.blocklist", SHARDS)[primary.shard_of(name, SHARDS)]


def test_the_shards_are_siblings_named_from_the_zone() -> None:
    assert primary.shard_zones("rpz.blocklist", 3) == ["rpz-00.blocklist", "rpz-01.blocklist", "rpz-02.blocklist"]
    assert primary.shard_zones("rpz.blocklist", 1) == []
    assert primary.shard_zones("rpz.blocklist", 63)[-1] == "rpz-62.blocklist"
    assert primary.shard_of("second.test", 7) == primary.shard_of(b"second.test", 7)  # the same name, the same shard


def test_bind_pdns_and_unbound_block_and_unblock_from_a_sharded_primary(setup: Setup, tmp_path: Path) -> None:
    first = setup.approve("csam-gallery.test")
    assert setup.sync().whole
    (bkey, bsecret), (pkey, psecret) = setup.keys["ISP Bind"], setup.keys["ISP Pdns"]
    with (start_internet(tmp_path) as internet,
          start_bind_secondary(tmp_path, setup.primary, internet, bkey, bsecret, setup.ports["bind"],
                               config=printed_config(setup.primary, "bind", bkey, bsecret)) as bind,
          start_pdns_secondary(tmp_path, setup.primary, internet, pkey, psecret, setup.ports["pdns"],
                               config=printed_config(setup.primary, "pdns", pkey, psecret)) as pdns,
          start_unbound_secondary(tmp_path, setup.primary, internet, setup.ports["unbound"],
                                  config=printed_config(setup.primary, "unbound", "", "")) as unbound):
        resolvers = (bind, pdns, unbound)
        for resolver in resolvers:
            eventually(lambda r=resolver: assert_stop_page(r, "a.b.csam-gallery.test"))  # type: ignore[misc]
            assert_stop_page(resolver, canary_name(first, STOP))  # the meta zone
            assert_resolves(resolver, "good.test")
        names = ("second.test", "xn--bcher-kva.test")
        serial = setup.approve(*names)
        result = setup.sync()
        assert not result.whole and result.updates == len({_shard(n) for n in names}) + 1  # the shards, then meta
        for resolver in resolvers:  # NOTIFY, then IXFR of each changed shard and the meta zone (each on its own)
            for name in ("second.test", "www.xn--bcher-kva.test", canary_name(serial, STOP)):
                eventually(lambda r=resolver, n=name: assert_stop_page(r, n), seconds=5)  # type: ignore[misc]
        # Logged once per ISP: the meta zone's transfer, not the lifted name's shard's (at the same serial).
        setup.assert_transferred_once(setup.lift_everywhere(resolvers, "csam-gallery.test", "second.test"))


def test_one_approval_moves_only_its_shard_and_the_meta_zone(setup: Setup) -> None:
    first = setup.approve(*NAMES)
    setup.sync()
    assert set(_serials(setup).values()) == {first}
    key = {setup.keys["ISP Bind"][0]: setup.keys["ISP Bind"][1]}
    # Each name (and its `*.name`) is in its own shard and nowhere else; the meta zone holds the canary only.
    assert transfer(setup.primary, key) == [canary_name(first, STOP)]
    for zone in setup.primary.zones[1:]:
        mine = [n for n in NAMES if _shard(n) == zone]
        assert mine, zone  # (every shard holds some of these names)
        assert transfer(setup.primary, key, zone=zone) == sorted([*mine, *(f"*.{n}" for n in mine)])
    second = setup.approve("second.test")
    assert setup.sync().updates == 2
    assert _serials(setup) == {zone: second if zone in ("rpz.blocklist", _shard("second.test")) else first
                               for zone in setup.primary.zones}
    assert "second.test" in transfer(setup.primary, key, zone=_shard("second.test"))


def test_a_shard_transfer_needs_the_isps_own_key(setup: Setup) -> None:
    setup.approve("csam-gallery.test")
    setup.sync()
    shard = _shard("csam-gallery.test")
    key, secret = setup.keys["ISP Bind"]
    assert "csam-gallery.test" in transfer(setup.primary, {key: secret}, zone=shard)
    other_key, other_secret = setup.keys["ISP Pdns"]
    wrong = base64.b64encode(b"x" * 32).decode()
    for zone in setup.primary.zones[1:]:
        for attempt in ({key: wrong}, {"isp-999": secret}, {key: other_secret}):
            with pytest.raises((dns.tsig.PeerError, dns.query.TransferError, dns.exception.DNSException)):
                transfer(setup.primary, attempt, zone=zone)
        with pytest.raises(dns.query.TransferError) as refused:  # no key, from an address no ISP registered
            transfer(setup.primary, None, source=OTHER_ADDRESS, zone=zone)
        assert refused.value.rcode == dns.rcode.REFUSED
    assert "csam-gallery.test" in transfer(setup.primary, None, source=UNSIGNED_ADDRESS, zone=shard)
    assert "csam-gallery.test" in transfer(setup.primary, {other_key: other_secret}, zone=shard)


def test_a_sharded_primary_that_was_down_catches_up_with_the_whole_zones(setup: Setup, tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    setup.approve("csam-gallery.test")
    setup.sync()
    key, secret = setup.keys["ISP Bind"]
    with start_internet(tmp_path) as internet, start_bind_secondary(
            tmp_path, setup.primary, internet, key, secret, setup.ports["bind"],
            config=printed_config(setup.primary, "bind", key, secret)) as bind:
        eventually(lambda: assert_stop_page(bind, "csam-gallery.test"))
        setup.named.stop()
        setup.approve("second.test")  # published and lifted while the primary is down
        last = setup.lift("csam-gallery.test")
        assert not setup.sync().reachable
        setup.named.start()
        monkeypatch.setattr(primary, "MAX_STEPS", 1)  # two versions behind: too far, the whole zones instead
        back = setup.sync()
        assert back.reachable and back.whole and back.updates == 0 and back.after == last
        assert set(_serials(setup).values()) == {last}  # every zone written whole, each at the new serial
        eventually(lambda: assert_stop_page(bind, canary_name(last, STOP)), seconds=5)
        eventually(lambda: assert_stop_page(bind, "second.test"), seconds=5)
        eventually(lambda: assert_resolves(bind, "csam-gallery.test"), seconds=5)
        assert_resolves(bind, "good.test")


def test_the_command_shards_the_primary_and_prints_each_resolvers_secondary_configuration(rt: Runtime,
                                                                                          tmp_path: Path) -> None:
    settings = rt.settings
    env = {"DATABASE_URL": settings.database_url, "BLOCKLIST_DATA_DIR": str(settings.data_dir)}

    def run(*args: str) -> Result:
        return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)

    with rt.database.transaction() as s:
        isp, _ = isps.add_isp(s, actor="test", name="ISP One", email="noc@isp-one.example", language="nl")
        key = isps.tsig_key_name(isp)
    folder = tmp_path / "primary"
    assert run("dns-primary", "secondary-config", "--resolver", "bind", "--dir", str(folder)).exit_code == 2
    configured = run("dns-primary", "--dir", str(folder), "--port", "5399", "--control-port", "5398", "--shards", "3")
    assert configured.exit_code == 0, configured.output
    assert "rpz-00.blocklist, rpz-01.blocklist, rpz-02.blocklist" in configured.output
    assert json.loads((folder / "primary.json").read_text())["shards"] == 3
    conf = (folder / "named.conf").read_text()
    assert re.findall(r'^zone "([^"]+)"', conf, re.MULTILINE) == ["rpz.blocklist", "rpz-00.blocklist",
                                                                  "rpz-01.blocklist", "rpz-02.blocklist"]
    checked = subprocess.run([require_binary("named-checkconf", "bind9"), str(folder / "named.conf")],
                             capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    loaded = primary.load(settings, folder)
    assert loaded is not None and loaded.shards == 3
    for zone in loaded.zones:
        zoned = subprocess.run([require_binary("named-checkzone", "bind9"), zone, str(loaded.file_of(zone))],
                               capture_output=True, text=True)
        assert zoned.returncode == 0 and "serial 0" in zoned.stdout, zoned.stdout
    assert "canary" in loaded.zone_file.read_text() and "canary" not in loaded.file_of("rpz-00.blocklist").read_text()
    refused = run("dns-primary", "--dir", str(folder), "--shards", "64")
    assert refused.exit_code == 2 and "64" in refused.output
    for resolver in primary.SECONDARY_RESOLVERS:
        printed = run("dns-primary", "secondary-config", "--resolver", resolver, "--isp", "ISP One", "--dir",
                      str(folder))
        assert printed.exit_code == 0, printed.output
        assert printed.output == primary.secondary_config_text(loaded, resolver, key, settings.stop_page_host)
        zones = re.findall(r'(?:zone |rpzPrimary\("[^"]+", |name: )"(rpz[^"]*?)\.?"', printed.output)
        assert zones[-4:] == loaded.zones, zones  # the meta zone first
    bind = run("dns-primary", "secondary-config", "--resolver", "bind", "--isp", "ISP One", "--dir", str(folder))
    assert f'key "{key}"' in bind.output and primary.SECRET_PLACEHOLDER in bind.output
    assert run("dns-primary", "secondary-config", "--resolver", "bind", "--isp", "No Such ISP", "--dir",
               str(folder)).exit_code == 2


def _manual_block(marker: str) -> str:
    page = ISP_MANUAL.read_text()
    return page.split(f"<!-- {marker} -->\n```\n", 1)[1].split("```", 1)[0]


def test_the_manual_shows_what_secondary_config_prints() -> None:
    documented = primary.Primary(Path("/var/lib/blocklist/dns-primary"), "192.0.2.53", 53, 953, "rpz.blocklist", 2)
    for resolver in primary.SECONDARY_RESOLVERS:
        assert _manual_block(f"secondary-config: {resolver}") == primary.secondary_config_text(
            documented, resolver, DOC_KEY, STOP), resolver
    # Unsharded, the command prints the manual's single-zone configurations (tested above in test_primary.py).
    single = primary.Primary(documented.folder, "192.0.2.53", 53, 953, "rpz.blocklist")
    parts = {r: [text for _, text in primary.secondary_config(single, r, DOC_KEY, STOP)]
             for r in primary.SECONDARY_RESOLVERS}
    assert parts["bind"][1] == documented_config("bind-secondary.conf")
    assert parts["pdns"] == [documented_config("pdns-recursor-xfr.conf"), documented_config("pdns-recursor-xfr.lua")]
    assert parts["unbound"] == [documented_config("unbound-xfr.conf")]
