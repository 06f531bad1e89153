"""The systemd units shipped with the client (isp-feed/systemd): a hardened oneshot `isp-feed pull` from the
configuration file, started every minute by its timer; both pass `systemd-analyze verify`."""

from __future__ import annotations

import configparser
import subprocess
import sys
from pathlib import Path

from tests.support.binaries import require_binary

UNITS = Path(__file__).resolve().parents[2] / "isp-feed" / "systemd"


def _unit(name: str) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string((UNITS / name).read_text())
    return parser


def test_the_service_is_a_hardened_oneshot_pull() -> None:
    service = _unit("isp-feed.service")["Service"]
    assert service["Type"] == "oneshot" and service["ExecStart"].endswith("isp-feed pull --config /etc/isp-feed.toml")
    assert service["NoNewPrivileges"] == "yes" and service["ProtectSystem"] == "strict"
    assert service["User"] != "root" and service["StateDirectory"] == "isp-feed"


def test_the_timer_starts_it_every_minute() -> None:
    timer = _unit("isp-feed.timer")
    assert timer["Timer"]["OnCalendar"] == "minutely" and timer["Install"]["WantedBy"] == "timers.target"


def test_systemd_accepts_both_units(tmp_path: Path) -> None:
    analyze = require_binary("systemd-analyze", "systemd")
    # verify needs ExecStart to exist: point it at this interpreter's installed command
    isp_feed = Path(sys.executable).parent / "isp-feed"
    (tmp_path / "isp-feed.service").write_text(
        (UNITS / "isp-feed.service").read_text().replace("/usr/local/bin/isp-feed", str(isp_feed)))
    (tmp_path / "isp-feed.timer").write_text((UNITS / "isp-feed.timer").read_text())
    verified = subprocess.run([analyze, "verify", str(tmp_path / "isp-feed.service"), str(tmp_path / "isp-feed.timer")],
                              capture_output=True, text=True, timeout=60)
    assert verified.returncode == 0 and not verified.stderr.strip(), verified.stderr
