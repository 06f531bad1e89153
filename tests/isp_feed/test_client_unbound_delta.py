"""`apply = "unbound-control"`: the client applies a delta of the unbound.conf format to a REAL Unbound on loopback
through its control channel, with no reload; the first load, and any failure (a control channel that does not answer,
a canary not served), take the whole file and the reload command. The reload command here also writes a marker
file, so that the tests see whether it ran. After each version the delta-driven Unbound must answer exactly as an
Unbound that loaded the same file whole (and hold the same local zones and records)."""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

import pytest

from isp_feed_client import canary_check, formats, unbound_control
from isp_feed_client.canary import canary_name
from isp_feed_client.cli import EXIT_OK, EXIT_USAGE, main
from isp_feed_client.delta import Delta
from tests.support.feed_server import STOP_NAME, STOP_V4, FeedServer, make_version
from tests.support.ports import free_port
from tests.support.resolvers import (
    Resolver,
    addresses,
    assert_resolves,
    assert_stop_page_address,
    cnames,
    query,
    start_unbound,
    unbound_control_command,
)

BLOCKED = formats.FeedEntry("csam-gallery.test", "csam-gallery.test", "domain_and_subdomains")
EXACT = formats.FeedEntry("exact-only.test", "exact-only.test", "exact")
SECOND = formats.FeedEntry("second.test", "second.test", "domain_and_subdomains")
IDN = formats.FeedEntry("xn--bcher-kva.test", "bücher.test", "domain_and_subdomains")
# Every name whose answer the comparison with a whole reload looks at (the canaries of every serial included).
SAMPLE = ["csam-gallery.test", "a.b.csam-gallery.test", "mirror.csam-gallery.test", "exact-only.test",
          "sub.exact-only.test", "second.test", "xn--bcher-kva.test", "good.test",
          *(canary_name(serial, STOP_NAME) for serial in range(1, 8))]


@dataclass
class Isp:
    """An ISP's Unbound including the client's unbound.conf file, and the client's command line for it."""

    feed: FeedServer
    folder: Path
    conf: Path
    unbound: Resolver
    marker: Path  # one line per run of the reload command
    control: list[str]  # the unbound-control command the client is given

    @property
    def reloads(self) -> int:
        return len(self.marker.read_text().splitlines()) if self.marker.exists() else 0

    def argv(self, *extra: str) -> list[str]:
        return ["pull", "--server", self.feed.url, "--token", self.feed.token, "--pubkey",
                str(self.folder / "feed.pub"), "--state-dir", str(self.folder / "state"), "--format", "unbound.conf",
                "--out", str(self.conf), "--reload", str(self.folder / "reload.sh"), "--resolver",
                f"{self.unbound.ip}:{self.unbound.port}", *extra]

    def pull(self, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
        """Pull with --apply unbound-control (it must apply the latest version); what it printed."""
        code = main(self.argv("--apply", "unbound-control", "--unbound-control", shlex.join(self.control), *extra))
        said = capsys.readouterr()
        assert code == EXIT_OK, said.err
        assert self.conf.read_bytes() == self.feed.files[f"versions/{self.feed.latest}.unbound.conf"]
        return said.out


def _unbound_with_file(tmp: Path, conf: Path, name: str) -> AbstractContextManager[Resolver]:
    return start_unbound(tmp, None, name=name, extra_config=f'include: "{conf}"\n')


def _reload_script(folder: Path, unbound: Resolver, marker: Path) -> None:
    """The reload command: note that it ran, then reload Unbound whole."""
    script = folder / "reload.sh"
    script.write_text(f"#!/bin/sh\necho reload >> {shlex.quote(str(marker))}\n"
                      f"exec {shlex.join(unbound.reload_command)}\n")
    script.chmod(0o755)


@pytest.fixture
def isp(feed: FeedServer, tmp_path: Path) -> Iterator[Isp]:
    conf = tmp_path / "isp" / "blocklist.unbound.conf"
    conf.parent.mkdir()
    conf.write_text("server:\n")  # Unbound includes it from the start; the client replaces it
    with _unbound_with_file(tmp_path, conf, "unbound") as unbound:
        marker = tmp_path / "reloads.txt"
        _reload_script(tmp_path, unbound, marker)
        yield Isp(feed, tmp_path, conf, unbound, marker, unbound_control_command(unbound))


@pytest.fixture
def whole(tmp_path: Path, isp: Isp) -> Iterator[Resolver]:
    """A second Unbound that loads the client's file whole after every pull: what the delta-driven one must equal."""
    with _unbound_with_file(tmp_path, isp.conf, "whole") as unbound:
        yield unbound


def _answers(resolver: Resolver) -> dict[tuple[str, str], tuple[str, list[str], list[str]]]:
    """What the resolver answers for every sampled name, A and AAAA: rcode, addresses, CNAMEs."""
    found = {}
    for name in SAMPLE:
        for rdtype in ("A", "AAAA"):
            answer = query(resolver, name, rdtype)
            found[name, rdtype] = (str(answer.rcode()), sorted(addresses(answer)), sorted(cnames(answer)))
    return found


def _local(resolver: Resolver) -> tuple[list[str], list[str]]:
    """The local zones and records Unbound holds for the feed (test names and canaries), sorted."""
    def listed(command: str) -> list[str]:
        said = subprocess.run([*resolver.reload_command[:-1], command], capture_output=True, text=True, check=True,
                              timeout=30).stdout
        return sorted(line for line in said.splitlines() if ".test." in line or ".canary." in line)

    return listed("list_local_zones"), listed("list_local_data")


def _same_as_whole(isp: Isp, whole: Resolver) -> None:
    whole.reload()
    zones, datas = _local(isp.unbound)
    assert zones and datas and (zones, datas) == _local(whole)
    assert _answers(isp.unbound) == _answers(whole)


def _canary_served(resolver: Resolver, serial: int) -> bool:
    stop = canary_check.StopPage(STOP_NAME, STOP_V4)
    return canary_check.answer_of((resolver.ip, resolver.port), canary_name(serial, STOP_NAME), stop) is None


def test_deltas_go_through_the_control_channel_and_equal_a_whole_reload(
        isp: Isp, whole: Resolver, capsys: pytest.CaptureFixture[str]) -> None:
    unbound, feed = isp.unbound, isp.feed
    feed.publish(make_version(1, [BLOCKED]))
    said = isp.pull(capsys)
    assert isp.reloads == 1 and "not through unbound-control (no delta to apply" in said, said  # the first load
    assert_stop_page_address(unbound, "a.b.csam-gallery.test")
    assert _canary_served(unbound, 1)
    _same_as_whole(isp, whole)

    feed.publish(make_version(2, [BLOCKED, EXACT]))  # +1, of scope exact
    said = isp.pull(capsys)
    assert isp.reloads == 1 and "through unbound-control (local zones +2 -1, records +3), no reload" in said, said
    assert "by the delta from serial 1 (+1 -0)" in said
    assert_stop_page_address(unbound, "exact-only.test")
    assert_resolves(unbound, "sub.exact-only.test")  # exact: its subdomain is not blocked
    assert _canary_served(unbound, 2) and not _canary_served(unbound, 1)
    _same_as_whole(isp, whole)

    feed.publish(make_version(3, [BLOCKED, EXACT, SECOND, IDN]))  # +2
    isp.pull(capsys)
    assert isp.reloads == 1
    assert_stop_page_address(unbound, "second.test")
    assert_stop_page_address(unbound, "xn--bcher-kva.test")
    _same_as_whole(isp, whole)

    feed.publish(make_version(4, [BLOCKED, EXACT._replace(scope="domain_and_subdomains"), SECOND, IDN]))
    isp.pull(capsys)  # a changed scope: now with its subdomains
    assert isp.reloads == 1
    assert_stop_page_address(unbound, "sub.exact-only.test")
    assert_stop_page_address(unbound, "exact-only.test")
    _same_as_whole(isp, whole)

    feed.publish(make_version(5, [EXACT._replace(scope="domain_and_subdomains"), SECOND, IDN]))  # the lift (-1)
    said = isp.pull(capsys)
    assert isp.reloads == 1 and "(+0 -1)" in said and "local zones +1 -2, records +1" in said, said
    assert_resolves(unbound, "csam-gallery.test")
    assert_resolves(unbound, "a.b.csam-gallery.test")
    assert_stop_page_address(unbound, "second.test")
    assert_resolves(unbound, "good.test")
    _same_as_whole(isp, whole)

    feed.publish(make_version(6, [EXACT, SECOND, IDN]))  # back to exact: the subdomain resolves again
    isp.pull(capsys)
    assert isp.reloads == 1
    assert_resolves(unbound, "sub.exact-only.test")
    assert_stop_page_address(unbound, "exact-only.test")
    assert _canary_served(unbound, 6) and not _canary_served(unbound, 5)
    _same_as_whole(isp, whole)


def test_a_control_channel_that_does_not_answer_falls_back_to_the_whole_reload(
        isp: Isp, whole: Resolver, capsys: pytest.CaptureFixture[str]) -> None:
    isp.control = [*isp.control, "-s", f"127.0.0.1@{free_port()}"]  # no Unbound listens there
    isp.feed.publish(make_version(1, [BLOCKED]))
    isp.pull(capsys)
    isp.feed.publish(make_version(2, [BLOCKED, SECOND]))
    said = isp.pull(capsys)
    assert isp.reloads == 2 and "not through unbound-control (" in said and "local_zones exited 1" in said, said
    assert_stop_page_address(isp.unbound, "second.test")
    assert _canary_served(isp.unbound, 2) and not _canary_served(isp.unbound, 1)
    _same_as_whole(isp, whole)


def test_a_canary_not_served_after_the_control_channel_falls_back_to_the_whole_reload(
        isp: Isp, whole: Resolver, capsys: pytest.CaptureFixture[str]) -> None:
    # The control channel of another Unbound: the edit is taken, but not by the resolver the client checks.
    isp.control = unbound_control_command(whole)
    isp.feed.publish(make_version(1, [BLOCKED]))
    isp.pull(capsys)
    isp.feed.publish(make_version(2, [BLOCKED, SECOND]))
    said = isp.pull(capsys, "--resolver-wait", "1")
    assert isp.reloads == 2 and "serial-2.canary" in said and "the whole file reloaded" in said, said
    assert_stop_page_address(isp.unbound, "second.test")
    assert _canary_served(isp.unbound, 2)


def test_the_configuration_file_sets_the_mode(isp: Isp, capsys: pytest.CaptureFixture[str]) -> None:
    # the keys docs/isp.md shows (Unbound, local zones), with the tests' paths
    config = isp.folder / "isp-feed.toml"
    config.write_text(f'''server = "{isp.feed.url}"
token = "{isp.feed.token}"
pubkey = ["{isp.folder / 'feed.pub'}"]
state_dir = "{isp.folder / 'state'}"
format = "unbound.conf"
out = "{isp.conf}"
reload = ["{isp.folder / 'reload.sh'}"]
apply = "unbound-control"
unbound_control = {_toml_list(isp.control)}
resolver = ["{isp.unbound.ip}:{isp.unbound.port}"]
''')
    isp.feed.publish(make_version(1, [BLOCKED]))
    assert main(["pull", "--config", str(config)]) == EXIT_OK
    isp.feed.publish(make_version(2, [BLOCKED, SECOND]))
    assert main(["pull", "--config", str(config)]) == EXIT_OK
    assert "no reload" in capsys.readouterr().out and isp.reloads == 1
    assert_stop_page_address(isp.unbound, "second.test")


def _toml_list(words: list[str]) -> str:
    return "[" + ", ".join(f'"{word}"' for word in words) + "]"


@pytest.mark.parametrize(("extra", "why"), [(["--format", "rpz"], "needs --format unbound.conf"),
                                            (["--apply", "sideways"], "invalid choice")])
def test_the_mode_needs_the_unbound_conf_format(isp: Isp, capsys: pytest.CaptureFixture[str], extra: list[str],
                                                why: str) -> None:
    with pytest.raises(SystemExit) as exited:
        main([*isp.argv("--apply", "unbound-control"), *extra])
    assert exited.value.code == EXIT_USAGE and why in capsys.readouterr().err


def test_the_mode_needs_a_reload_command_to_fall_back_to(isp: Isp, capsys: pytest.CaptureFixture[str]) -> None:
    argv = isp.argv("--apply", "unbound-control")
    at = argv.index("--reload")
    with pytest.raises(SystemExit) as exited:
        main(argv[:at] + argv[at + 2:])
    assert exited.value.code == EXIT_USAGE and "and --reload" in capsys.readouterr().err


def test_the_edit_is_the_files_own_lines() -> None:
    version = make_version(7, [])
    d = Delta(6, 7, added=(EXACT, SECOND), removed=(BLOCKED, SECOND._replace(scope="exact")))
    old_footer = formats.render_frame(make_version(6, []), "unbound.conf", 0)[1]
    edit = unbound_control.plan(version, d, count=3, old_footer=old_footer)
    canary = canary_name(7, STOP_NAME)
    assert edit.zones == ("exact-only.test. transparent", "second.test. redirect", f"{canary}. redirect")
    records = [f"{name}. 300 IN {rr}" for name in ("exact-only.test", "second.test")
               for rr in ("A 192.0.2.80", "AAAA 2001:db8::80")]
    assert edit.datas == (*records, f"{canary}. 300 IN A 192.0.2.80")
    # second.test changed scope: re-added, never removed (it would be unblocked in between)
    assert edit.removed == ("csam-gallery.test.", f"{canary_name(6, STOP_NAME)}.")


def test_a_delta_that_changes_every_name_is_not_applied_by_the_control_channel() -> None:
    d = Delta(1, 2, added=(SECOND,), removed=(SECOND._replace(scope="exact"),))
    with pytest.raises(ValueError, match="stop page"):
        unbound_control.plan(make_version(2, []), d, count=1, old_footer=b"")


def test_check_asks_the_control_channel(isp: Isp, capsys: pytest.CaptureFixture[str]) -> None:
    """`isp-feed check` with the mode on: the control channel answers `status`, or the resolver class fails (5)."""
    isp.feed.publish(make_version(1, ["csam-gallery.test"]))
    check = ["check", *isp.argv()[1:], "--apply", "unbound-control"]
    assert main([*check, "--unbound-control", shlex.join(isp.control)]) == EXIT_OK
    out = capsys.readouterr().out
    assert "ok    resolver: " in out and "status: Unbound answers its control channel" in out, out
    wrong = [*isp.control, "-s", f"127.0.0.1@{free_port()}"]  # no Unbound listens there
    assert main([*check, "--unbound-control", shlex.join(wrong)]) == 5
    assert "FAIL  resolver: the control channel deltas go through does not answer" in capsys.readouterr().out
