"""The client's pure checks (`isp_feed_client.trust`): each raises its own class of `isp_feed_client.errors` on a
crafted input, passes a good one, and explains itself in one line with a hint and the exit code `isp-feed` uses."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import io

import pytest

from isp_feed_client import delta, errors, formats, listfile, manifest, signing, trust
from tests.support.feed_server import make_version, manifest_for, sign_manifest, signed_files

KEY = signing.SecretKey.generate()
OTHER = signing.SecretKey.generate()
PINNED = [KEY.public_key()]
NOW = dt.datetime(2030, 1, 1, 12, tzinfo=dt.UTC)


def _prehash(data: bytes) -> bytes:
    return trust.prehash(data)


def _signed(body: bytes, *, key: signing.SecretKey = KEY, fmt: str = "rpz", serial: int = 2,
            sha256: str | None = None, feed: str = "be-blocklist") -> bytes:
    comment = formats.trusted_comment(feed=feed, serial=serial, fmt=fmt,  # files carry no expiry
                                      sha256=sha256 or hashlib.sha256(body).hexdigest())
    return signing.sign(body, comment, key).encode()


def _explained(exc: errors.FeedError) -> str:
    line = exc.explain()
    assert "\n" not in line and exc.hint and line.endswith(f"(hint: {exc.hint})")
    return line


# --- signatures -------------------------------------------------------------------------------------------------

BODY = b"; a zone\ncsam-gallery.test CNAME stop.blocklist.example.\n"


def test_a_good_file_passes_and_its_facts_come_back() -> None:
    facts = trust.verify_file(_prehash(BODY), _signed(BODY), PINNED, fmt="rpz",
                              sha256=hashlib.sha256(BODY).hexdigest(), serial=2)
    assert (facts.feed, facts.serial, facts.fmt, facts.expires_at) == ("be-blocklist", 2, "rpz", None)


def test_a_key_not_pinned_is_unknown_key() -> None:
    with pytest.raises(errors.UnknownKey) as info:
        trust.verify_signature(_prehash(BODY), _signed(BODY, key=OTHER), PINNED, what="rpz")
    exc = info.value
    assert exc.key_id == OTHER.public_key().key_id_hex and exc.trusted == (KEY.public_key().key_id_hex,)
    assert exc.exit_code == errors.EXIT_REFUSED and isinstance(exc, errors.FeedRefused)
    line = _explained(exc)
    assert line.startswith("refused, keeping the last good list: rpz: signed with key")
    assert "which is not trusted" in line and "second --pubkey" in line
    # with both keys pinned (a rotation) the same file passes
    trust.verify_signature(_prehash(BODY), _signed(BODY, key=OTHER), [*PINNED, OTHER.public_key()], what="rpz")


@pytest.mark.parametrize(("signature", "reason"), [
    (_signed(BODY + b"x"), "signature does not match the data"),  # another body: tampered or truncated
    (b"not a signature\n", "malformed signature file"),
    (_signed(BODY).replace(b"serial=2", b"serial=9"), "the trusted comment was altered"),
])
def test_a_signature_that_does_not_verify_is_bad_signature(signature: bytes, reason: str) -> None:
    with pytest.raises(errors.BadSignature, match=reason) as info:
        trust.verify_signature(_prehash(BODY), signature, PINNED, what="rpz")
    assert info.value.what == "rpz" and "proxy or cache" in info.value.hint


def test_a_legacy_signature_by_the_pinned_key_is_bad_signature() -> None:
    text = _signed(BODY).decode().splitlines()
    blob = base64.b64decode(text[1])
    text[1] = base64.b64encode(b"Ed" + blob[2:]).decode()
    with pytest.raises(errors.BadSignature, match="legacy non-prehashed"):
        trust.verify_signature(_prehash(BODY), "\n".join(text) + "\n", PINNED, what="rpz")


def test_a_garbled_trusted_comment_is_malformed_feed() -> None:
    with pytest.raises(errors.MalformedFeed, match="trusted comment lacks or garbles"):
        trust.signed_facts("feed=be-blocklist serial=two", what="json")
    assert trust.signed_facts(formats.trusted_comment(feed="be-blocklist", serial=3, expires_at=NOW, sha256="ab",
                                                      fmt="json"), what="json").serial == 3


def test_a_body_other_than_the_signed_one_is_length_or_hash_mismatch() -> None:
    facts = formats.SignedFacts("be-blocklist", 2, NOW, "a" * 64, "rpz")
    with pytest.raises(errors.LengthOrHashMismatch) as info:
        trust.check_signed_file(facts, fmt="rpz", sha256="b" * 64, serial=2, what="rpz")
    assert (info.value.signed, info.value.received) == ("a" * 64, "b" * 64)
    line = _explained(info.value)
    assert "body does not match the signed SHA-256 (tampered or truncated)" in line
    assert f"signed {'a' * 16}, received {'b' * 16}" in line
    trust.check_signed_file(facts, fmt="rpz", sha256="a" * 64, serial=2, what="rpz")


def test_a_file_of_another_version_or_format_is_signed_facts_mismatch() -> None:
    facts = formats.SignedFacts("be-blocklist", 1, NOW, "a" * 64, "txt")
    with pytest.raises(errors.SignedFactsMismatch, match="signature is for be-blocklist/txt, not be-blocklist/rpz"):
        trust.check_signed_file(facts, fmt="rpz", sha256="a" * 64, serial=1, what="rpz")
    with pytest.raises(errors.SignedFactsMismatch, match="txt: signed serial 1 differs from 2"):
        trust.check_signed_file(facts, fmt="txt", sha256="a" * 64, serial=2, what="txt")
    other_feed = formats.SignedFacts("another-feed", 1, NOW, "a" * 64, "txt")
    with pytest.raises(errors.SignedFactsMismatch, match="another-feed/txt"):
        trust.check_signed_file(other_feed, fmt="txt", sha256="a" * 64, serial=None, what="txt")


# --- the manifest -----------------------------------------------------------------------------------------------


def _manifest(serial: int = 4, names: tuple[str, ...] = ("csam-gallery.test",), **changes: object) -> manifest.Manifest:
    version = make_version(serial, names, generated_at=NOW - dt.timedelta(hours=1))
    m = manifest_for(version, signed_files(version, KEY), generated_at=NOW - dt.timedelta(hours=1),
                     previous_sha256="cd" * 32)
    return dataclasses.replace(m, **changes)  # type: ignore[arg-type]


def test_a_good_manifest_passes_and_comes_back_with_its_hash() -> None:
    m = _manifest()
    data, signature = sign_manifest(m, KEY)
    parsed, sha256 = trust.verify_manifest(data, signature, PINNED)
    assert parsed == m and sha256 == hashlib.sha256(data).hexdigest()
    with pytest.raises(errors.UnknownKey, match="manifest: signed with key"):
        trust.verify_manifest(*sign_manifest(m, OTHER), PINNED)


def test_a_manifest_altered_after_signing_is_bad_signature() -> None:
    data, signature = sign_manifest(_manifest(), KEY)
    with pytest.raises(errors.BadSignature, match="manifest: signature does not match the data"):
        trust.verify_manifest(data.replace(b'"count":1', b'"count":2'), signature, PINNED)


def test_the_manifest_parses_strictly_or_is_malformed_feed() -> None:
    data = manifest.manifest_bytes(_manifest())
    assert trust.parse_manifest(data).serial == 4
    with pytest.raises(errors.MalformedFeed, match="manifest: the manifest is not valid JSON"):
        trust.parse_manifest(data[:-30])
    with pytest.raises(errors.MalformedFeed, match="recursion"):
        trust.parse_manifest(b"[" * 60_000)
    with pytest.raises(errors.MalformedFeed, match="canonical form"):
        trust.parse_manifest(data.replace(b',"count"', b', "count"'))
    # a manifest that would be valid when signed, but is too large to be one: refused before anything else
    with pytest.raises(errors.MalformedFeed, match="more than 65536 bytes"):
        trust.verify_manifest(b" " * 65537, _signed(b"", fmt="manifest"), PINNED)


def test_the_manifest_must_state_what_its_signature_asserts() -> None:
    m = _manifest()
    good = formats.SignedFacts("be-blocklist", 4, m.expires_at, "a" * 64, "manifest")
    trust.check_manifest_matches(good, m)
    for lying in (dataclasses.replace(good, serial=7), dataclasses.replace(good, expires_at=NOW + dt.timedelta(days=9)),
                  dataclasses.replace(good, expires_at=None)):
        with pytest.raises(errors.SignedFactsMismatch, match="differs from what its signature asserts"):
            trust.check_manifest_matches(lying, m)
    data = manifest.manifest_bytes(m)
    as_file = signing.sign(data, formats.trusted_comment(feed="be-blocklist", serial=4, sha256=hashlib.sha256(
        data).hexdigest(), fmt="json"), KEY)
    with pytest.raises(errors.SignedFactsMismatch, match="not be-blocklist/manifest"):
        trust.verify_manifest(data, as_file, PINNED)


def test_a_lower_serial_is_rollback() -> None:
    trust.check_serial(5, 5)
    trust.check_serial(6, 5)
    trust.check_serial(1, 0)  # the first load
    with pytest.raises(errors.Rollback) as info:
        trust.check_serial(4, 5)
    assert (info.value.offered, info.value.applied) == (4, 5)
    line = _explained(info.value)
    assert "rollback: offered serial 4 is older than the applied 5" in line and "a serial above 5" in line


def test_the_same_serial_with_another_manifest_is_refused() -> None:
    trust.check_same_serial_same_content(5, "a" * 64, 5, "a" * 64)
    trust.check_same_serial_same_content(6, "b" * 64, 5, "a" * 64)
    with pytest.raises(errors.SameSerialOtherContent) as info:
        trust.check_same_serial_same_content(5, "b" * 64, 5, "a" * 64)
    line = _explained(info.value)
    assert "serial 5 arrived with a different content than the one applied" in line
    assert f"manifest SHA-256 applied {'a' * 16}, offered {'b' * 16}" in line
    with pytest.raises(errors.SameSerialOtherContent, match="applied none"):  # a state without the hash
        trust.check_same_serial_same_content(5, "b" * 64, 5, None)


def test_the_direct_successor_must_chain_to_the_applied_manifest() -> None:
    trust.check_chain(6, "a" * 64, 5, "a" * 64)
    trust.check_chain(7, "b" * 64, 5, "a" * 64)  # further on: the manifests in between are not at hand
    trust.check_chain(6, "b" * 64, 5, None)  # nothing applied, or state from before manifests
    trust.check_chain(5, "b" * 64, 5, "a" * 64)  # the same serial: the same-serial check decides
    for stated in ("b" * 64, None):
        with pytest.raises(errors.ChainBroken) as info:
            trust.check_chain(6, stated, 5, "a" * 64)
        assert isinstance(info.value, errors.FeedRefused) and info.value.exit_code == errors.EXIT_REFUSED
        line = _explained(info.value)
        assert f"manifest 6 does not follow the applied serial 5: it names {(stated or 'none')[:16]} as its " \
               f"predecessor, the applied manifest is {'a' * 16}" in line
        assert "keep the state dir as evidence" in line


def test_an_expired_version_is_freeze() -> None:
    trust.check_not_expired(3, NOW, NOW)  # expiring this very second is still valid
    with pytest.raises(errors.Freeze) as info:
        trust.check_not_expired(3, NOW, NOW + dt.timedelta(seconds=1))
    assert not info.value.applied and info.value.expires_at == NOW
    assert "version 3 expired at 2030-01-01 12:00 UTC (freeze attack or stalled server)" in _explained(info.value)
    with pytest.raises(errors.Freeze, match="the feed is frozen: serial 3 expired at 2030-01-01 12:00 UTC and the "
                                            "server offers nothing newer"):
        trust.check_not_expired(3, NOW, NOW + dt.timedelta(hours=1), applied=True)


def test_a_file_other_than_the_manifest_names_is_length_or_hash_mismatch() -> None:
    ref = manifest.FileRef("a" * 64, 10)
    trust.check_file("rpz", ref, sha256="a" * 64, size=10)
    for sha256, size in (("b" * 64, 10), ("a" * 64, 9)):
        with pytest.raises(errors.LengthOrHashMismatch, match="rpz: body does not match the signed SHA-256"):
            trust.check_file("rpz", ref, sha256=sha256, size=size)


# --- the delta --------------------------------------------------------------------------------------------------

A, B, C = (formats.FeedEntry(f"{n}.test", f"{n}.test", "domain_and_subdomains") for n in "abc")


def test_a_delta_must_go_between_the_right_contents() -> None:
    step = delta.Delta(3, 5, (C,), (A,))
    data = delta.delta_bytes(step)
    assert trust.parse_delta(data, from_serial=3, to_serial=5, before=2, after=2) == step
    for kwargs, message in (({"from_serial": 2}, "from content 3 to 5, not from 2 to 5"),
                            ({"to_serial": 6}, "not from 3 to 6"),
                            ({"after": 3}, "turns 2 names into 2, not the manifest's 3")):
        with pytest.raises(delta.DeltaMismatch, match=message):
            trust.parse_delta(data, **{"from_serial": 3, "to_serial": 5, "before": 2, "after": 2, **kwargs})
    for garbage in (b"{}", b"[" * 100_000, b"\xff"):  # garbage: never a refusal (nor a crash): the client downloads
        with pytest.raises(formats.FeedFormatError):
            trust.parse_delta(garbage, from_serial=3, to_serial=5, before=2, after=2)


def test_a_delta_counts_a_changed_scope_once() -> None:
    changed = A._replace(scope="exact")
    step = delta.Delta(1, 2, (changed, C), (A, B))
    assert trust.delta_changes(step, before=40) == trust.Changes(added=1, removed=1, changed=1, before=40)
    assert trust.delta_changes(step, before=40).total == 3


def test_a_verified_deltas_content_is_checked() -> None:
    protected = set(trust.BUILTIN_PROTECTED) | {"isp-own.example"}
    step = delta.Delta(1, 2, (C,), (A,))
    assert trust.check_delta_content(2, step, before=100, protected=protected, max_share=0.1, min_changes=10).total == 2
    own = formats.FeedEntry("mail.isp-own.example", "mail.isp-own.example", "exact")
    with pytest.raises(errors.ProtectedName, match=r"mail\.isp-own\.example"):
        trust.check_delta_content(2, delta.Delta(1, 2, (own,), ()), before=100, protected=protected,
                                  max_share=0.1, min_changes=10)
    many = tuple(formats.FeedEntry(f"n{i:02d}.test", f"n{i:02d}.test", "exact") for i in range(11))
    with pytest.raises(errors.ChangeTooLarge, match=r"changes 11 of 100 names \(\+0 -11\)"):
        trust.check_delta_content(2, delta.Delta(1, 2, (), many), before=100, protected=protected, max_share=0.1,
                                  min_changes=10)
    with pytest.raises(errors.ChangeTooLarge, match=r"changes 11 of 100 names \(\+0 -0 ~11\)"):
        trust.check_delta_content(2, delta.Delta(1, 2, tuple(e._replace(scope="domain_and_subdomains") for e in many),
                                                 many), before=100, protected=protected, max_share=0.1,
                                  min_changes=10)


# --- the list ---------------------------------------------------------------------------------------------------


def test_protected_names_and_names_under_them() -> None:
    protected = set(trust.BUILTIN_PROTECTED) | {"isp-own.example"}
    trust.check_protected(2, ["csam-gallery.test", "notisp-own.example", "isp-own.example.evil.test"], protected)
    for name in (*trust.BUILTIN_PROTECTED[:2], "a.b.isp-own.example", "www.isp-own.example"):
        with pytest.raises(errors.ProtectedName) as info:
            trust.check_protected(2, ["csam-gallery.test", name], protected)
        assert info.value.names == (name,)
        assert f"version 2 contains protected name(s): {name}" in _explained(info.value)
    many = [f"n{i}.isp-own.example" for i in range(8)]
    with pytest.raises(errors.ProtectedName, match=r"n4\.isp-own\.example and 3 more$"):
        trust.check_protected(2, many, protected)


def _entries(*names: str, scope: str = "domain_and_subdomains") -> list[tuple[str, str]]:
    return [(name, f"{name}\t{scope}\t{name}\n") for name in names]


def test_compare_lists_merges_two_sorted_lists_in_one_pass() -> None:
    before = _entries("a.test", "b.test", "d.test")
    after = [*_entries("b.test"), *_entries("c.test"), *_entries("d.test", scope="exact"), *_entries("e.test")]
    count, changes = trust.compare_lists(2, iter(after), iter(before), protected=())
    assert count == 4 and changes == trust.Changes(added=2, removed=1, changed=1, before=3)
    assert trust.compare_lists(2, iter(after), None, protected=()) == (4, None)
    # a names-only list of an older client sees no scope change
    _, legacy = trust.compare_lists(2, iter(after), trust.legacy_names(["a.test", "b.test", "d.test"]), protected=())
    assert legacy == trust.Changes(added=2, removed=1, changed=0, before=3)
    assert trust.count_changes(iter(["a.test", "b.test", "d.test"]), ["b.test", "c.test", "e.test", "f.test"]) == (
        3, 2, 3)
    assert trust.count_changes(iter([]), ["a.test"]) == (1, 0, 0)
    assert trust.count_changes(iter(["a.test"]), []) == (0, 1, 1)


def test_a_change_above_the_share_is_change_too_large() -> None:
    trust.check_change_size(2, added=0, removed=20, before=200, max_share=0.10, min_changes=10)
    trust.check_change_size(2, added=10, removed=0, before=0, max_share=0.10, min_changes=10)  # min always passes
    with pytest.raises(errors.ChangeTooLarge) as info:
        trust.check_change_size(2, added=0, removed=30, before=200, max_share=0.10, min_changes=10)
    assert (info.value.added, info.value.removed, info.value.before, info.value.limit) == (0, 30, 200, 20)
    line = _explained(info.value)
    assert "version 2 changes 30 of 200 names (+0 -30), above the limit of 20" in line
    assert "--max-change-share" in line
    with pytest.raises(errors.ChangeTooLarge, match="changes 11 of 0 names"):
        trust.check_change_size(2, added=11, removed=0, before=0, max_share=0.10, min_changes=10)
    with pytest.raises(errors.ChangeTooLarge, match=r"changes 21 of 200 names \(\+1 -0 ~20\)") as info:
        trust.check_change_size(2, added=1, removed=0, changed=20, before=200, max_share=0.10, min_changes=10)
    assert info.value.changed == 20
    assert trust.change_limit(200, max_share=0.10, min_changes=10) == 20
    assert trust.change_limit(5, max_share=0.10, min_changes=10) == 10


def test_a_first_load_is_capped_only_when_asked() -> None:
    trust.check_initial_size(1, 10**6, None)
    trust.check_initial_size(1, 100, 100)
    with pytest.raises(errors.InitialTooLarge) as info:
        trust.check_initial_size(1, 200, 100)
    assert isinstance(info.value, errors.ChangeTooLarge)
    assert "first load: version 1 has 200 names, above --max-initial 100" in _explained(info.value)


def _content(serial: int, names: list[str], previous: list[str] | None, max_initial: int | None = None,
             count: int | None = None) -> trust.Changes | None:
    blocks = listfile.read_blocks(io.BytesIO("".join(line for _, line in _entries(*names)).encode()))
    return trust.check_content(serial, blocks, None if previous is None else iter(_entries(*previous)),
                               protected=set(trust.BUILTIN_PROTECTED), max_share=0.10, min_changes=10,
                               max_initial=max_initial, count=count)


def test_check_content_combines_count_protected_and_size() -> None:
    names = [f"n{i:03d}.test" for i in range(200)]
    assert _content(1, names, None, count=200) is None
    with pytest.raises(errors.InitialTooLarge):
        _content(1, names, None, max_initial=100)
    assert _content(2, names[:180], names) == trust.Changes(added=0, removed=20, changed=0, before=200)
    with pytest.raises(errors.ChangeTooLarge, match=r"\(\+0 -30\)"):
        _content(2, names[:170], names)
    with pytest.raises(errors.ProtectedName):  # before any size check, even on a first load
        _content(2, ["youtube.com"], None, max_initial=0)
    with pytest.raises(errors.MalformedFeed, match="list: it holds 200 names, the manifest says 201"):
        _content(1, names, None, count=201)


def test_the_protected_fingerprint_follows_the_set() -> None:
    builtin = trust.protected_fingerprint(trust.BUILTIN_PROTECTED)
    assert builtin == trust.protected_fingerprint(set(reversed(trust.BUILTIN_PROTECTED)))
    assert builtin != trust.protected_fingerprint({*trust.BUILTIN_PROTECTED, "isp-own.example"})


# --- audit checkpoints ------------------------------------------------------------------------------------------


def _checkpoint(events: int, head: str, *, key: signing.SecretKey = KEY, comment: str | None = None,
                at: dt.datetime = NOW) -> formats.AuditCheckpoint:
    body = formats.checkpoint_body(events, head, at)
    signature = signing.sign(body, comment or formats.checkpoint_comment(events, head, at), key)
    return formats.AuditCheckpoint(events, head, at, signature)


def test_a_checkpoint_must_be_signed_by_a_pinned_key() -> None:
    trust.verify_checkpoint(_checkpoint(5, "a" * 64), PINNED, serial=3)
    with pytest.raises(errors.BadCheckpoint, match="the audit checkpoint in version 3: signed with key"):
        trust.verify_checkpoint(_checkpoint(5, "a" * 64, key=OTHER), PINNED, serial=3)
    forged = formats.AuditCheckpoint(6, "a" * 64, NOW, _checkpoint(5, "a" * 64).signature)  # the count raised
    with pytest.raises(errors.BadCheckpoint, match="does not match the data"):
        trust.verify_checkpoint(forged, PINNED, serial=3)
    lying = _checkpoint(5, "a" * 64, comment="audit-checkpoint feed=be-blocklist events=9")
    with pytest.raises(errors.BadCheckpoint, match="differs from what its signature states") as info:
        trust.verify_checkpoint(lying, PINNED, serial=3)
    assert info.value.serial == 3 and not isinstance(info.value, errors.HistoryRewritten)


def test_a_checkpoint_must_extend_the_one_kept() -> None:
    kept = _checkpoint(5, "a" * 64)
    assert trust.checkpoint_is_new(kept, None, serial=3, kept_in="state/checkpoints.jsonl")
    assert not trust.checkpoint_is_new(_checkpoint(5, "a" * 64), kept, serial=3, kept_in="state/checkpoints.jsonl")
    assert trust.checkpoint_is_new(_checkpoint(6, "b" * 64), kept, serial=3, kept_in="state/checkpoints.jsonl")
    with pytest.raises(errors.HistoryRewritten) as info:
        trust.checkpoint_is_new(_checkpoint(4, "c" * 64), kept, serial=3, kept_in="state/checkpoints.jsonl")
    assert isinstance(info.value, errors.BadCheckpoint) and (info.value.events, info.value.kept_events) == (4, 5)
    line = _explained(info.value)
    assert "the server's audit history was cut: version 3 says 4 events" in line and "it said 5" in line
    assert "keep state/checkpoints.jsonl as evidence and tell the authority" in line
    with pytest.raises(errors.HistoryRewritten, match="was rewritten"):
        trust.checkpoint_is_new(_checkpoint(5, "d" * 64), kept, serial=3, kept_in="state/checkpoints.jsonl")


# --- the classes --------------------------------------------------------------------------------------------------


def test_every_class_has_its_exit_code_and_a_hint() -> None:
    refusals = [cls for cls in vars(errors).values()
                if isinstance(cls, type) and issubclass(cls, errors.FeedRefused) and cls is not errors.FeedRefused]
    assert {c.__name__ for c in refusals} >= {
        "BadSignature", "UnknownKey", "Rollback", "Freeze", "SameSerialOtherContent", "LengthOrHashMismatch",
        "ProtectedName", "ChangeTooLarge", "BadCheckpoint", "MalformedFeed", "ChainBroken"}
    assert all(c.exit_code == errors.EXIT_REFUSED for c in refusals)
    assert errors.FeedUnreachable("GET /x: HTTP 500").exit_code == errors.EXIT_FETCH
    assert errors.ReloadFailed("reload command exited 1").exit_code == errors.EXIT_RELOAD
    unauthorised = errors.NotAuthorised("/feed/v1/latest.json", 401, "no credential")
    assert unauthorised.exit_code == errors.EXIT_NOT_AUTHORISED == 6 and "--token" in unauthorised.hint
    assert not isinstance(unauthorised, errors.FeedUnreachable)  # a wrong token is not a network error
    disabled = errors.NotAuthorised("/feed/v1/latest.json", 403, "ISP disabled")
    assert "HTTP 403" in str(disabled) and "re-enable" in disabled.hint
    for exc in (unauthorised, disabled, errors.FeedUnreachable("x"), errors.ReloadFailed("x"),
                errors.StateUnreadable("state.json", "no serial"), errors.PullRunning("state")):
        _explained(exc)
