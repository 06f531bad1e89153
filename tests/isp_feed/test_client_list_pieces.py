"""The client's own copy of a large list kept as pieces (isp_feed_client/pull.py, stored.py): a delta writes a
segment of the new lines and a pieces list of the list before, not a copy of it. The threshold is lowered to 0 here
so that lists of a few names take that path; a real list takes it from 1 MiB."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from isp_feed_client import errors, signing, splice, stored
from isp_feed_client import pull as pull_module
from isp_feed_client.cli import EXIT_OK, main
from tests.support.feed_server import FeedServer, feed_server, make_version


@dataclass
class Client:
    feed: FeedServer
    opts: pull_module.Options

    @property
    def state(self) -> Path:
        return self.opts.state_dir

    def pull(self) -> pull_module.Outcome:
        return pull_module.pull(dataclasses.replace(self.opts))

    def kept_list(self) -> bytes:
        return stored.read_all(self.state / str(self.stored_state()["list_file"]))

    def stored_state(self) -> dict[str, object]:
        value: dict[str, object] = json.loads((self.state / "state.json").read_text())
        return value

    def files(self) -> list[str]:
        return sorted(p.name for p in self.state.iterdir())

    def segments(self) -> list[str]:
        return [name for name in self.files() if len(name) == 64]


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Client]:
    with feed_server() as feed:
        opts = pull_module.Options(server=feed.url, token=feed.token,
                                   pubkeys=[signing.parse_public_key(feed.public_key_text())],
                                   state_dir=tmp_path / "state", fmt="rpz", out=tmp_path / "resolver" / "feed.rpz",
                                   list_pieces_from=0, list_max_pieces=8)
        yield Client(feed, opts)


def _names(n: int) -> list[str]:
    return [f"site-{i:03d}.test" for i in range(n)]


def test_a_delta_keeps_the_list_as_pieces_of_the_one_before(client: Client) -> None:
    client.feed.publish(make_version(1, _names(20)))
    client.pull()
    assert client.files() == ["list-1.txt", "lock", "state.json"]  # a first load is downloaded whole
    client.feed.publish(make_version(2, [*_names(20), "zz-new.test"]))
    outcome = client.pull()
    assert "by the delta from serial 1" in outcome.message
    assert client.kept_list() == client.feed.files["versions/2.list"]
    assert client.stored_state()["list_file"] == "list-2.txt"
    (segment,) = client.segments()
    assert client.files() == sorted(["list-1.txt", "list-2.txt.pieces", segment, "lock", "state.json"])
    assert b"zz-new.test" in (client.state / segment).read_bytes()  # the new line, and not the old ones
    assert b"site-001.test" not in (client.state / segment).read_bytes()
    assert client.opts.out.read_bytes() == client.feed.files["versions/2.rpz"]  # the resolver's file is whole


def test_random_changes_give_the_signed_list_and_leave_only_what_it_needs(client: Client) -> None:
    rng = random.Random(12)
    names = set(_names(30))
    client.feed.publish(make_version(1, sorted(names)))
    client.pull()
    saw_pieces = saw_whole_again = False
    for serial in range(2, 40):
        for _ in range(rng.randint(1, 3)):
            if rng.random() < 0.4 and len(names) > 5:
                names.discard(rng.choice(sorted(names)))
            else:
                names.add(f"new-{serial:02d}-{rng.randint(0, 99):02d}.test")
        client.feed.publish(make_version(serial, sorted(names)))
        outcome = client.pull()
        assert outcome.serial == serial and "by the delta" in outcome.message, outcome.message
        assert client.kept_list() == client.feed.files[f"versions/{serial}.list"]
        current = client.state / f"list-{serial}.txt"
        needed = stored.referenced(current)
        # nothing but the current list, what it is made of, and the state's own files
        assert set(client.files()) == needed | {"lock", "state.json"}
        if stored.pieces_path(current).exists():
            saw_pieces = True
            assert len(stored.read_pieces(stored.pieces_path(current))[0]) <= client.opts.list_max_pieces
        elif saw_pieces:
            saw_whole_again = True  # past list_max_pieces, written whole again; the old parts went
    assert saw_pieces and saw_whole_again


def test_a_reissue_and_a_lift_carry_on_from_pieces(client: Client) -> None:
    client.feed.publish(make_version(1, _names(10)))
    client.pull()
    client.feed.publish(make_version(2, _names(11)))
    client.pull()
    client.feed.reissue()
    outcome = client.pull()
    assert outcome.serial == 3 and "re-issue" in outcome.message
    assert client.kept_list() == client.feed.files["versions/2.list"]
    client.feed.publish(make_version(4, _names(11)[1:]))
    outcome = client.pull()
    assert outcome.serial == 4 and "(+0 -1)" in outcome.message, outcome.message
    assert client.kept_list() == client.feed.files["versions/4.list"]
    assert set(client.files()) == stored.referenced(client.state / "list-4.txt") | {"lock", "state.json"}


def test_a_lost_segment_makes_the_state_unreadable_not_a_wrong_list(client: Client) -> None:
    client.feed.publish(make_version(1, _names(10)))
    client.pull()
    client.feed.publish(make_version(2, [*_names(10), "zz-new.test"]))
    client.pull()
    (segment,) = client.segments()
    (client.state / segment).unlink()
    client.feed.publish(make_version(3, [*_names(10), "zz-new.test", "zz-newer.test"]))
    with pytest.raises(errors.StateUnreadable, match=r"list-2\.txt is missing"):
        client.pull()
    assert client.opts.out.read_bytes() == client.feed.files["versions/2.rpz"]  # the resolver keeps its list


def test_a_protected_name_is_found_through_the_pieces(client: Client) -> None:
    client.feed.publish(make_version(1, _names(10)))
    client.pull()
    client.feed.publish(make_version(2, [*_names(10), "zz-new.test"]))
    client.pull()
    # another protected list: the whole kept list (pieces) is read again, and a name in it now refused
    client.opts.protected = {*client.opts.protected, "site-003.test"}
    client.feed.reissue()
    with pytest.raises(errors.ProtectedName):
        client.pull()


# --- the helpers it stands on -------------------------------------------------------------------------------------


def test_a_pieces_file_reads_as_text_across_piece_boundaries(tmp_path: Path) -> None:
    text = "één.test\tdomain_and_subdomains\txn--n-fiab.test\n" * 3 + "zulu.test\texact\tzulu.test\n"
    data = text.encode()
    (tmp_path / "a").write_bytes(data[:7])  # cuts a line, and the two bytes of an "é"
    (tmp_path / "b").write_bytes(b"xx" + data[7:] + b"yy")
    target = tmp_path / "list-1.txt"
    stored.write_pieces(stored.pieces_path(target), [stored.Piece("a", 0, 7), stored.Piece("b", 2, 2 + len(data) - 7)],
                        durable=True)
    with stored.open_text(target) as handle:
        assert list(handle) == text.splitlines(keepends=True)
    stored.link_stored(target, tmp_path / "list-2.txt")
    stored.replace_stored(tmp_path / "list-2.txt", tmp_path / "list-3.txt")
    assert stored.read_all(tmp_path / "list-3.txt") == data
    assert not stored.is_stored(tmp_path / "list-2.txt")
    stored.unlink_stored(target)
    assert not stored.is_stored(target) and (tmp_path / "a").exists()  # the files of its pieces stay


def test_a_durable_sink_hashes_what_it_copied_while_it_syncs(tmp_path: Path) -> None:
    source = tmp_path / "old"
    source.write_bytes(os.urandom(3 << 20))
    sink = splice.Sink(tmp_path / "new")
    sink.write(b"header\n")
    with source.open("rb") as handle:
        sink.copy(handle.fileno(), 5, (3 << 20) - 5)
        sink.write(b"middle\n")
        sink.copy(handle.fileno(), 0, 5)
        written = sink.commit()
    body = (tmp_path / "new").read_bytes()
    assert body == b"header\n" + source.read_bytes()[5:(3 << 20) - 5] + b"middle\n" + source.read_bytes()[:5]
    assert (written.sha256, written.size) == (hashlib.sha256(body).hexdigest(), len(body))


def test_a_pull_killed_at_any_moment_leaves_the_last_good_list_and_the_next_pull_mends_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """kill -9 of a real `isp-feed pull` process at random moments of a delta to a list above the 1 MiB threshold
    (pieces, segments, the staged rpz): the next pull applies the version, the kept list and the resolver file are
    the signed ones, and nothing but what the list needs is left in the state dir or beside the file."""
    names = [f"site-{i:05d}.test" for i in range(25_000)]  # about 1.3 MB of list: kept as pieces
    rng = random.Random(7)
    with feed_server() as feed:
        (tmp_path / "feed.pub").write_text(feed.public_key_text())
        out, state = tmp_path / "resolver" / "feed.rpz", tmp_path / "state"
        argv = ["pull", "--server", feed.url, "--token", feed.token, "--pubkey", str(tmp_path / "feed.pub"),
                "--state-dir", str(state), "--out", str(out), "--max-change-min", "100"]
        feed.publish(make_version(1, names))
        assert main(argv) == EXIT_OK
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
        killed = 0
        for serial in range(2, 14):
            names = sorted({*names[1:], f"new-{serial:02d}.test"}) if serial % 3 else [*names, f"zz-{serial}.test"]
            feed.publish(make_version(serial, names))
            process = subprocess.Popen([sys.executable, "-m", "isp_feed_client.cli", *argv], env=env,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            # Killed once it has begun to write (a staged or temporary file shows), at a random moment after.
            while process.poll() is None and not _writing(state, out):
                time.sleep(0.001)
            time.sleep(rng.uniform(0, 0.03))
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                killed += 1
            process.wait()
            capsys.readouterr()
            assert main(argv) == EXIT_OK, capsys.readouterr()
            kept = json.loads((state / "state.json").read_text())
            assert kept["serial"] == serial
            assert stored.read_all(state / kept["list_file"]) == feed.files[f"versions/{serial}.list"]
            assert out.read_bytes() == feed.files[f"versions/{serial}.rpz"]
            left = {p.name for p in state.iterdir()} - {"lock", "state.json"}
            assert left == stored.referenced(state / kept["list_file"]), left
            assert sorted(p.name for p in out.parent.iterdir()) == ["feed.rpz"]
        assert killed >= 6  # most pulls were cut off midway


def _writing(state: Path, out: Path) -> bool:
    return any(p.name.startswith(".") for folder in (state, out.parent) for p in folder.iterdir())
