"""The nine attacks: each time the client refuses (exit 3, a clear message), the file the resolver loads is
byte-identical, and the real Unbound keeps blocking while the control name still resolves."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest

from api.runtime import Runtime
from blocklist import isps
from blocklist.models import User
from isp_feed import formats, signing
from isp_feed.client.cli import main as isp_feed_main
from isp_feed.jobs import publish_feed
from isp_feed.publish import FEED_NAME
from isp_feed.versions import latest_version, load_version_model
from tests.support.factories import approved
from tests.support.resolvers import STOP_NAME, TEST_INTERNET, addresses, cnames, query, start_unbound
from tests.support.server import live_server
from tests.support.tamper_proxy import tamper_proxy


def _forged(rt: Runtime, **changes: object) -> tuple[bytes, bytes]:
    """An envelope signed with the REAL key (a compromised signer or server bug), changed as asked."""
    with rt.database.transaction() as s:
        row = latest_version(s)
        assert row is not None
        base = load_version_model(s, row)
    fields = {**base.__dict__, **changes}
    version = formats.FeedVersion(**fields)  # type: ignore[arg-type]
    body = formats.render_json(version)
    comment = formats.trusted_comment(feed=FEED_NAME, serial=version.serial, expires_at=version.expires_at,
                                      sha256=hashlib.sha256(body).hexdigest(), fmt="json")
    return body, rt.keys.sign(body, comment).encode()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_nine_attacks_are_refused_and_the_block_stays(rt: Runtime, people: dict[str, User], tmp_path: Path) -> None:
    with rt.database.transaction() as s:
        _, token = isps.add_isp(s, actor="test", name="ISP One", email="noc@isp-one.example", language="fr")
    publish_feed(rt.job_context)  # serial 1, empty
    with rt.database.transaction() as s:
        approved(s, people["officer"], people["magistrate"], "csam-gallery.test")  # serial 2
    publish_feed(rt.job_context)
    pub = tmp_path / "feed.pub"
    pub.write_text(rt.keys.active_public_key().to_text())
    attacker = signing.SecretKey.generate()
    (tmp_path / "attacker.pub").write_text(attacker.public_key().to_text())
    rpz = tmp_path / "isp" / "feed.rpz"
    rpz.parent.mkdir()

    with live_server(rt) as url, tamper_proxy(url) as proxy, start_unbound(tmp_path, rpz) as unbound:
        def pull(pubkey: Path = pub) -> int:
            return isp_feed_main(["pull", "--server", proxy.url, "--token", token, "--pubkey", str(pubkey),
                                  "--state-dir", str(tmp_path / "state"), "--out", str(rpz),
                                  "--reload", " ".join(unbound.reload_command)])

        def still_enforced(before: bytes) -> None:
            assert rpz.read_bytes() == before
            blocked = query(unbound, "csam-gallery.test")
            assert STOP_NAME + "." in cnames(blocked)
            assert addresses(query(unbound, "good.test")) == {TEST_INTERNET["good.test"]}

        assert pull() == 0
        good = rpz.read_bytes()
        still_enforced(good)

        def attack(name: str, rewrites: dict[str, object], pubkey: Path = pub) -> None:
            proxy.rewrites = {path: (lambda _, v=value: v) if isinstance(value, bytes) else value  # type: ignore[misc]
                              for path, value in rewrites.items()}
            assert pull(pubkey) == 3, name
            still_enforced(good)
            proxy.rewrites = {}

        with rt.database.transaction() as s:
            # serial 3: the genuine new version every attack stands in for
            approved(s, people["officer"], people["magistrate"], "second.test")
        publish_feed(rt.job_context)
        # 1. a key the ISP does not trust
        attack("wrong key", {}, pubkey=tmp_path / "attacker.pub")
        # 2. a signature made with another key
        envelope_now = _forged(rt)[0]
        forged_sig = signing.sign(envelope_now, "feed=be-blocklist serial=3 expires=2030-01-01T00:00:00Z "
                                  f"sha256={hashlib.sha256(envelope_now).hexdigest()} format=json", attacker)
        attack("wrong signature", {"/feed/v1/latest.json.minisig": forged_sig.encode()})

        # 3. tampered body: the RPZ loses a name on the way
        attack("tampered", {"/feed/v1/versions/3.rpz": lambda b: b.replace(b"second.test", b"second.example")})
        # 4. truncated body
        attack("truncated", {"/feed/v1/versions/3.rpz": lambda b: b[: len(b) // 2]})
        # 5. rollback to an older, genuinely signed version
        old_body, old_sig = _forged(rt, serial=1, entries=())
        attack("rollback", {"/feed/v1/latest.json": old_body, "/feed/v1/latest.json.minisig": old_sig})
        # 6. the applied serial again, with other content
        same_body, same_sig = _forged(rt, serial=2)
        attack("same serial, other hash", {"/feed/v1/latest.json": same_body, "/feed/v1/latest.json.minisig": same_sig})
        # 7. an expired version (freeze)
        past = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
        exp_body, exp_sig = _forged(rt, serial=9, expires_at=past.replace(microsecond=0))
        attack("expired", {"/feed/v1/latest.json": exp_body, "/feed/v1/latest.json.minisig": exp_sig})
        # 8. a protected name
        with_google = (*_current_entries(rt), formats.FeedEntry("google.com", "google.com", "domain_and_subdomains"))
        prot_body, prot_sig = _forged(rt, serial=10, entries=with_google)
        attack("protected name", {"/feed/v1/latest.json": prot_body, "/feed/v1/latest.json.minisig": prot_sig})
        # 9. a size jump
        many = tuple(formats.FeedEntry(f"n{i}.test", f"n{i}.test", "exact") for i in range(40))
        jump_body, jump_sig = _forged(rt, serial=11, entries=(*_current_entries(rt), *many))
        attack("size jump", {"/feed/v1/latest.json": jump_body, "/feed/v1/latest.json.minisig": jump_sig})

        # Without the man in the middle the genuine version applies.
        assert pull() == 0
        assert STOP_NAME + "." in cnames(query(unbound, "second.test"))


def _current_entries(rt: Runtime) -> tuple[formats.FeedEntry, ...]:
    with rt.database.transaction() as s:
        row = latest_version(s)
        assert row is not None
        return load_version_model(s, row).entries
