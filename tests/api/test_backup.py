"""`blocklist backup FILE` and `blocklist restore FILE`: restored into an empty install, the audit chain verifies,
the feed continues with the next serial under the same key and chained to the last manifest (so ISP clients keep
verifying); a non-empty install, a damaged archive and the other database's backup are refused, writing nothing."""

from __future__ import annotations

import io
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import create_engine, inspect

from api.cli import main
from api.runtime import Runtime
from blocklist.settings import Settings
from isp_feed import versions
from isp_feed.jobs import FeedJobContext, publish_feed
from isp_feed_client.manifest import manifest_sha256
from tests.support.binaries import require_binary
from tests.support.factories import approved, make_user
from tests.support.postgres import scratch_database


def run(url: str, data_dir: Path, *args: str) -> Result:
    env = {"DATABASE_URL": url, "BLOCKLIST_DATA_DIR": str(data_dir)}
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


@pytest.fixture
def empty_url(db_url: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of the same backend (no schema at all): the install a restore goes into."""
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored' / 'blocklist.sqlite3'}"
        return
    base: str = request.getfixturevalue("pg_base_url")
    with scratch_database(base, prefix="restore") as url:
        yield url


def _tables(url: str) -> list[str]:
    if url.startswith("sqlite") and not Path(url.removeprefix("sqlite:///")).exists():
        return []
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return inspect(connection).get_table_names()
    finally:
        engine.dispose()


def _latest(settings: Settings) -> tuple[int, str, str]:
    rt = Runtime(settings)
    try:
        with rt.database.reading() as s:
            row = versions.latest_version(s)
            assert row is not None and row.manifest is not None
            return row.serial, row.key_id, manifest_sha256(row.manifest.encode())
    finally:
        rt.database.dispose()


def test_backup_restores_into_an_empty_install_and_the_feed_continues(
        settings: Settings, empty_url: str, tmp_path: Path) -> None:
    rt = Runtime(settings)
    with rt.database.transaction() as s:
        officer, magistrate = make_user(s, "officer"), make_user(s, "magistrate")
        approved(s, officer, magistrate, "csam-gallery.test", "mirror-one.test")
    assert publish_feed(FeedJobContext.standalone(rt.database, settings)) == 1
    rt.database.dispose()
    serial, key_id, manifest_hash = _latest(settings)
    archive = tmp_path / "backups" / "install.tar"

    made = run(settings.database_url, settings.data_dir, "backup", str(archive))
    assert made.exit_code == 0, made.output
    assert "written to" in made.output and oct(archive.stat().st_mode & 0o777) == "0o600"
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
    assert "MANIFEST.json" in names and "data/keys/active.pub" in names
    assert not any(n.startswith("data/feed/") for n in names)  # derived files are rendered again, not backed up

    restored_data = tmp_path / "restored" / "data"
    done = run(empty_url, restored_data, "restore", str(archive))
    assert done.exit_code == 0, done.output
    assert run(empty_url, restored_data, "audit", "verify").exit_code == 0

    again = run(empty_url, restored_data, "restore", str(archive))
    assert again.exit_code == 2 and "empty install only" in again.output

    # The restored install publishes the next serial, with the same key, chained to the last manifest.
    after = Settings(BLOCKLIST_DATA_DIR=restored_data, DATABASE_URL=empty_url, scheduler=False,
                     session_cookie_secure=False)
    rt = Runtime(after)
    with rt.database.transaction() as s:
        officer, magistrate = make_user(s, "officer"), make_user(s, "magistrate")
        approved(s, officer, magistrate, "mirror-two.test")
    assert publish_feed(FeedJobContext.standalone(rt.database, after)) == serial + 1
    with rt.database.reading() as s:
        row = versions.latest_version(s)
        assert row is not None and row.manifest is not None
        assert versions.manifest_of(row).previous_sha256 == manifest_hash and row.key_id == key_id
        rpz = versions.file_bytes(s, row, "rpz", restored_data)
        signature = versions.artifact_of(s, versions.content_row(s, row), "rpz").signature
    rt.database.dispose()
    assert b"mirror-two.test" in rpz and b"csam-gallery.test" in rpz
    # An ISP's pinned public key (the one from before the backup) verifies the new file by hand.
    (tmp_path / "latest.rpz").write_bytes(rpz)
    (tmp_path / "latest.rpz.minisig").write_text(signature)
    by_hand = subprocess.run([require_binary("minisign"), "-V", "-p", str(settings.data_dir / "keys" / "active.pub"),
                              "-m", str(tmp_path / "latest.rpz")], capture_output=True, text=True)
    assert by_hand.returncode == 0, by_hand.stderr


def test_a_damaged_or_foreign_backup_is_refused_and_nothing_is_written(
        settings: Settings, empty_url: str, tmp_path: Path) -> None:
    rt = Runtime(settings)
    with rt.database.transaction() as s:
        make_user(s, "officer")
    rt.database.dispose()
    archive = tmp_path / "install.tar"
    assert run(settings.database_url, settings.data_dir, "backup", str(archive)).exit_code == 0

    damaged = tmp_path / "damaged.tar"
    with tarfile.open(archive) as source, tarfile.open(damaged, "w") as out:
        for member in source.getmembers():
            body = source.extractfile(member).read()  # type: ignore[union-attr]
            if member.name.startswith("database."):
                middle = len(body) // 2
                body = body[:middle] + bytes([body[middle] ^ 1]) + body[middle + 1:]  # one bit of the database
            member.size = len(body)
            out.addfile(member, io.BytesIO(body))
    restored_data = tmp_path / "restored" / "data"
    refused = run(empty_url, restored_data, "restore", str(damaged))
    assert refused.exit_code == 2 and "damaged" in refused.output
    assert not restored_data.exists() and _tables(empty_url) == []  # nothing written
    not_a_backup = tmp_path / "notes.tar"
    with tarfile.open(not_a_backup, "w") as out:
        info = tarfile.TarInfo("notes.txt")
        out.addfile(info, io.BytesIO(b""))
    foreign = run(empty_url, restored_data, "restore", str(not_a_backup))
    assert foreign.exit_code == 2 and "not a backup" in foreign.output
    other = "postgresql://nobody@127.0.0.1:1/none" if empty_url.startswith("sqlite") else \
        f"sqlite:///{tmp_path / 'other.sqlite3'}"
    wrong_kind = run(other, tmp_path / "other-data", "restore", str(archive))
    assert wrong_kind.exit_code == 2 and "cannot be restored into" in wrong_kind.output
