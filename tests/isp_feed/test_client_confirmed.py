"""A change the publication gate held and a magistrate confirmed reaches the resolver: the signed manifest carries the
confirmation, the client lets it past its own change limit (by policy), or its operator accepts the serial; an
unconfirmed change is still refused, and a confirmation added to a manifest breaks its signature."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from isp_feed_client import manifest
from isp_feed_client.cli import EXIT_OK, EXIT_REFUSED
from tests.isp_feed.test_client import Isp
from tests.support.feed_server import feed_server, make_version

CONFIRMED_AT = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)


def _names(count: int) -> list[str]:
    return [f"listed-{i:06d}.test" for i in range(count)]


def _confirmation(added: int, removed: int = 0, *, from_serial: int = 1) -> manifest.Confirmation:
    return manifest.Confirmation(hold=3, role="magistrate", user_id=7, confirmed_at=CONFIRMED_AT,
                                 from_serial=from_serial, added=added, removed=removed)


@pytest.fixture
def isp(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Iterator[Isp]:
    with feed_server() as feed:
        (tmp_path / "feed.pub").write_text(feed.public_key_text())
        yield Isp(feed, tmp_path, capsys)


def test_the_confirmation_is_signed_with_the_manifest_and_read_back() -> None:
    with feed_server() as feed:
        m = feed.publish(make_version(1, _names(3)), confirmation=_confirmation(3, from_serial=0))
        data = feed.manifest_bytes(1)
    document = json.loads(data)
    assert document["confirmation"] == {"hold": 3, "confirmed_by": {"role": "magistrate", "user_id": 7},
                                        "confirmed_at": "2026-12-01T09:30:00Z", "from": 0, "added": 3, "removed": 0}
    assert manifest.parse_manifest(data) == m and m.confirmation is not None
    assert "feed hold #3 confirmed by magistrate #7" in m.confirmation.describe()
    # A manifest without one keeps the bytes it had before confirmations existed.
    with feed_server() as feed:
        feed.publish(make_version(1, _names(3)))
        assert "confirmation" not in json.loads(feed.manifest_bytes(1))


def test_a_confirmed_growth_from_203_to_100000_names_passes(isp: Isp) -> None:
    isp.feed.publish(make_version(1, _names(203)))
    assert isp.pull()[0] == EXIT_OK
    isp.feed.publish(make_version(2, _names(100_000)), confirmation=_confirmation(100_000 - 203))
    # A client whose policy caps confirmed changes at half the list refuses it, and keeps the last good list.
    code, _, err = isp.pull("--max-confirmed-share", "0.5")
    assert code == EXIT_REFUSED and "ChangeTooLarge" not in err and "--max-confirmed-share 0.5" in err, err
    assert isp.stored()["serial"] == 1
    code, out, err = isp.pull()
    assert code == EXIT_OK, err
    assert "applied serial 2 (100000 names)" in out and "by the delta from serial 1 (+99797 -0)" in out
    assert "99797 changes, above the limit of 20" in out
    assert "confirmed: feed hold #3 confirmed by magistrate #7 at 2026-12-01T09:30:00Z" in out
    assert isp.stored()["count"] == 100_000 and isp.feed.applied[-1]["serial"] == 2


def test_an_unconfirmed_large_change_is_refused_until_the_operator_accepts_it(isp: Isp) -> None:
    from isp_feed_client.cli import main

    isp.feed.publish(make_version(1, _names(203)))
    assert isp.pull()[0] == EXIT_OK
    isp.feed.publish(make_version(2, _names(2000)))
    code, _, err = isp.pull()
    assert code == EXIT_REFUSED and "changes 1797 of 203 names" in err and "isp-feed accept 2" in err, err
    assert isp.stored()["serial"] == 1
    assert main(["accept", "2", "--state-dir", str(isp.state)]) == EXIT_OK
    assert json.loads((isp.state / "accepted.json").read_text())["serial"] == 2
    code, out, err = isp.pull()
    assert code == EXIT_OK, err
    assert "accepted by this ISP's operator (isp-feed accept 2)" in out
    assert not (isp.state / "accepted.json").exists()  # used: the next large change needs its own
    isp.feed.publish(make_version(3, _names(4000)))
    assert isp.pull()[0] == EXIT_REFUSED


def test_an_accepted_serial_still_passes_every_other_check(isp: Isp) -> None:
    from isp_feed_client.cli import main

    isp.feed.publish(make_version(1, _names(203)))
    assert isp.pull()[0] == EXIT_OK
    isp.feed.publish(make_version(2, [*_names(2000), "google.com"]))
    assert main(["accept", "2", "--state-dir", str(isp.state)]) == EXIT_OK
    code, _, err = isp.pull()
    assert code == EXIT_REFUSED and "google.com" in err, err


def test_a_client_that_refuses_confirmed_changes_refuses_one(isp: Isp) -> None:
    isp.feed.publish(make_version(1, _names(203)))
    assert isp.pull()[0] == EXIT_OK
    isp.feed.publish(make_version(2, _names(2000)), confirmation=_confirmation(1797))
    code, _, err = isp.pull("--refuse-confirmed-changes")
    assert code == EXIT_REFUSED and "refuses confirmed changes" in err and "feed hold #3" in err, err
    # A confirmation covers the change it confirms, not a larger one.
    isp.feed.publish(make_version(3, _names(4000)), confirmation=_confirmation(10, from_serial=2))
    code, _, err = isp.pull()
    assert code == EXIT_REFUSED and "covers 10 names, not 3797" in err, err


def test_a_confirmation_added_to_a_manifest_breaks_its_signature(isp: Isp) -> None:
    isp.feed.publish(make_version(1, _names(203)))
    assert isp.pull()[0] == EXIT_OK
    genuine = isp.feed.publish(make_version(2, _names(2000)))
    forged = manifest.manifest_bytes(dataclasses.replace(genuine, confirmation=_confirmation(1797)))
    isp.feed.overrides["latest.manifest.json"] = forged  # served with the genuine manifest's signature
    code, _, err = isp.pull()
    assert code == EXIT_REFUSED and "manifest: signature does not match the data" in err, err
    assert isp.stored()["serial"] == 1
