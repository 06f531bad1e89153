"""A large change through the REAL server's publication gate: held, confirmed by a second magistrate, published with
the confirmation in its signed manifest, and taken by `isp-feed pull` past its own change limit into a real Unbound
(refused by a client that refuses confirmed changes); the hourly re-issue carries the confirmation on."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from api.runtime import Runtime
from blocklist import isps
from blocklist.models import User
from isp_feed import publish, versions
from isp_feed.jobs import publish_feed
from isp_feed_client.cli import EXIT_OK, EXIT_REFUSED
from isp_feed_client.cli import main as isp_feed_main
from tests.support.factories import approved
from tests.support.resolvers import assert_resolves, assert_stop_page, start_unbound
from tests.support.server import live_server


def test_a_held_and_confirmed_change_reaches_the_resolver(rt: Runtime, people: dict[str, User], tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    with rt.database.transaction() as s:
        _, token = isps.add_isp(s, actor="test", name="ISP One", email="noc@isp-one.example", language="fr")
        approved(s, people["officer"], people["magistrate"], "csam-gallery.test", "second.test", "third.test")
    assert publish_feed(rt.job_context) == 1  # the first version: no gate
    (tmp_path / "feed.pub").write_text(rt.keys.active_public_key().to_text())
    rpz = tmp_path / "isp" / "feed.rpz"
    rpz.parent.mkdir()
    with live_server(rt) as url, start_unbound(tmp_path, rpz) as unbound:
        def pull(*extra: str) -> tuple[int, str]:
            capsys.readouterr()
            code = isp_feed_main(["pull", "--server", url, "--token", token, "--pubkey", str(tmp_path / "feed.pub"),
                                  "--state-dir", str(tmp_path / "state"), "--out", str(rpz), "--reload",
                                  " ".join(unbound.reload_command), *extra])
            captured = capsys.readouterr()
            return code, captured.out + captured.err

        assert pull()[0] == EXIT_OK
        with rt.database.transaction() as s:  # 40 more names: above the gate's 10 and the client's 10
            approved(s, people["officer"], people["magistrate"], *(f"gallery-{i:02d}.test" for i in range(40)))
        assert publish_feed(rt.job_context) is None  # held
        with rt.database.transaction() as s:
            (hold,) = publish.pending_holds(s)
            publish.confirm_hold(s, actor=people["magistrate2"], hold_id=hold.id)
        assert publish_feed(rt.job_context) == 2
        with rt.database.reading() as s:
            confirmation = versions.manifest_of(versions.get_version(s, 2)).confirmation
        assert confirmation is not None
        assert (confirmation.hold, confirmation.role, confirmation.user_id) == (hold.id, "magistrate",
                                                                                people["magistrate2"].id)
        assert (confirmation.from_serial, confirmation.added, confirmation.removed) == (1, 40, 0)

        code, said = pull("--refuse-confirmed-changes")
        assert code == EXIT_REFUSED and f"feed hold #{hold.id} confirmed by magistrate" in said, said
        assert b"gallery-07" not in rpz.read_bytes()  # the last good list stays in force
        code, said = pull()
        assert code == EXIT_OK and "40 changes, above the limit of 10, confirmed" in said, said
        assert_stop_page(unbound, "gallery-07.test")
        assert_stop_page(unbound, "csam-gallery.test")
        assert_resolves(unbound, "good.test")

    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=61)
    assert publish_feed(rt.job_context, now=later) == 3  # the hourly re-issue keeps its content's confirmation
    with rt.database.reading() as s:
        assert versions.manifest_of(versions.get_version(s, 3)).confirmation == confirmation
