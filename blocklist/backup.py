"""One consistent snapshot of an install in one file (`blocklist backup FILE`), and putting it back into an empty
install (`blocklist restore FILE`).

The file is a tar archive: `MANIFEST.json` (format, when, the database's dialect, schema revisions and audit head,
and the SHA-256 and size of every other member), the database — SQLite through its online backup API (a
consistent copy while the server runs), PostgreSQL through `pg_dump --format=custom` — and the data directory's
keys and secrets (feed signing keys, session secret, signed audit checkpoints). The feed's rendered files are left
out: they are derived data, rendered again from the database, as signed, on the first publication after a
restore (isp_feed/versions.py restore_files), so a national list does not put gigabytes into every backup.

A restore checks every member against the manifest before it writes anything, and refuses an install that is not
empty (a database with tables, or signing keys in the data directory): a backup never overwrites history.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url

from blocklist.db import Database, applied_revisions
from blocklist.errors import BlocklistError
from blocklist.files import sync_directory

FORMAT = 1
MANIFEST = "MANIFEST.json"
# What of the data directory a backup holds: small, and not derivable from the database.
DATA_MEMBERS = ("keys", "session_secret", "checkpoints")
SQLITE_MEMBER, POSTGRES_MEMBER = "database.sqlite3", "database.pgdump"


class BackupError(BlocklistError):
    """A backup could not be made, or a file is not a backup this install can restore (the message says why)."""


@dataclass(frozen=True)
class Summary:
    """What a backup holds, as its manifest says."""

    path: Path
    dialect: str
    events: int
    members: int
    created_at: str


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _libpq_url(url: str) -> str:
    """The SQLAlchemy URL as libpq takes it (no `+driver`), password included: for pg_dump and pg_restore."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _data_files(data_dir: Path) -> list[Path]:
    found: list[Path] = []
    for name in DATA_MEMBERS:
        top = data_dir / name
        if top.is_file():
            found.append(top)
        elif top.is_dir():
            found.extend(sorted(p for p in top.rglob("*") if p.is_file()))
    return found


def _snapshot_of_files(data_dir: Path) -> dict[str, str]:
    return {str(p.relative_to(data_dir)): _sha256(p) for p in _data_files(data_dir)}


def _dump_database(database: Database, url: str, target: Path) -> str:
    """Write one consistent copy of the database to `target`; returns the member name."""
    if database.dialect == "sqlite":
        source = make_url(url).database
        if not source or source == ":memory:":
            raise BackupError("an in-memory SQLite database cannot be backed up")
        with sqlite3.connect(source) as live, sqlite3.connect(target / SQLITE_MEMBER) as copy:
            live.backup(copy)  # the online backup API: a consistent snapshot, writers meanwhile are not stopped
        return SQLITE_MEMBER
    if shutil.which("pg_dump") is None:
        raise BackupError("pg_dump is not installed (Debian: apt install postgresql-client)")
    done = subprocess.run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges",
                           f"--file={target / POSTGRES_MEMBER}", f"--dbname={_libpq_url(url)}"],
                          capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        raise BackupError(f"pg_dump failed: {done.stderr.strip()[:500]}")
    return POSTGRES_MEMBER


def backup(database: Database, url: str, data_dir: Path, target: Path) -> Summary:
    """Write a backup of the install to `target` (written beside it, then renamed into place)."""
    from blocklist import audit  # the audit head recorded in the manifest, for the operator to compare

    target = target.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".backup-") as work:
        folder = Path(work)
        for _ in range(5):  # the keys read before and after the database copy must agree (a rotation meanwhile)
            before = _snapshot_of_files(data_dir)
            member = _dump_database(database, url, folder)
            if _snapshot_of_files(data_dir) == before:
                break
            (folder / member).unlink()
        else:
            raise BackupError("the data directory kept changing while the database was copied; try again")
        with database.reading() as session:
            events, head = audit.current_head(session)
            revisions = sorted(applied_revisions(session.connection()))
        members: dict[str, dict[str, Any]] = {member: {"sha256": _sha256(folder / member),
                                                       "size": (folder / member).stat().st_size}}
        files = _data_files(data_dir)
        for path in files:
            name = "data/" + str(path.relative_to(data_dir))
            members[name] = {"sha256": _sha256(path), "size": path.stat().st_size}
        created = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        manifest = {"format": FORMAT, "created_at": created,
                    "dialect": database.dialect, "revisions": revisions,
                    "audit": {"events": events, "head": head}, "members": members}
        partial = folder / "backup.tar"
        with tarfile.open(partial, "w") as archive:
            body = json.dumps(manifest, indent=2, sort_keys=True).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime, info.mode = len(body), int(dt.datetime.now(dt.UTC).timestamp()), 0o600
            archive.addfile(info, io.BytesIO(body))
            archive.add(folder / member, arcname=member)
            for path in files:
                archive.add(path, arcname="data/" + str(path.relative_to(data_dir)))
        with partial.open("rb") as handle:
            os.fsync(handle.fileno())
        os.chmod(partial, 0o600)  # it holds the signing keys
        os.replace(partial, target)
        sync_directory(target.parent)
    return Summary(target, database.dialect, events, len(members), created)


def read_manifest(archive: tarfile.TarFile) -> dict[str, Any]:
    """The manifest of a backup, checked for its format; BackupError if it is not one."""
    try:
        handle = archive.extractfile(MANIFEST)
        manifest: dict[str, Any] = json.loads(handle.read()) if handle else {}
    except (KeyError, json.JSONDecodeError) as exc:
        raise BackupError(f"not a backup of this system (no readable {MANIFEST}: {exc})") from None
    if manifest.get("format") != FORMAT or not isinstance(manifest.get("members"), dict):
        raise BackupError(f"a backup of format {manifest.get('format')!r}; this version restores format {FORMAT}")
    return manifest


def _checked_members(archive: tarfile.TarFile, manifest: dict[str, Any], folder: Path) -> None:
    """Extract every member the manifest lists into `folder`, each checked against its SHA-256; nothing else."""
    listed: dict[str, dict[str, Any]] = manifest["members"]
    present = {m.name for m in archive.getmembers() if m.isfile()} - {MANIFEST}
    if present != set(listed):
        extra, lacking = sorted(present - set(listed)), sorted(set(listed) - present)
        raise BackupError(f"the archive does not match its manifest (unlisted: {extra[:5]}, missing: {lacking[:5]})")
    for name, facts in listed.items():
        if name.startswith("/") or ".." in Path(name).parts:
            raise BackupError(f"the manifest names a path outside the install: {name!r}")
        source = archive.extractfile(name)
        assert source is not None
        out = folder / name
        out.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        with out.open("wb") as sink:
            while chunk := source.read(1 << 20):
                digest.update(chunk)
                sink.write(chunk)
        if digest.hexdigest() != facts.get("sha256"):
            raise BackupError(f"{name} does not match the SHA-256 in the manifest: the backup is damaged")


def _empty(url: str, data_dir: Path) -> str | None:
    """Why the install is not empty, or None."""
    if (data_dir / "keys").is_dir() and any((data_dir / "keys").iterdir()):
        return f"the data directory {data_dir} already holds signing keys"
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").exists():
        return None  # no database file yet (connecting would create it, or fail for want of its folder)
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            tables = inspect(connection).get_table_names()
    finally:
        engine.dispose()
    return f"the database already has tables ({', '.join(sorted(tables)[:5])})" if tables else None


def restore(url: str, data_dir: Path, source: Path) -> Summary:
    """Put the backup `source` into an empty install (database at `url`, data directory `data_dir`)."""
    try:
        archive = tarfile.open(source, "r")  # noqa: SIM115 - closed by the with-block below
    except (OSError, tarfile.TarError) as exc:
        raise BackupError(f"cannot read {source}: {exc}") from None
    dialect = make_url(url).get_backend_name()
    with archive, tempfile.TemporaryDirectory(prefix=".restore-", dir=data_dir.parent if data_dir.parent.exists()
                                              else None) as work:
        manifest = read_manifest(archive)
        if manifest.get("dialect") != dialect:
            raise BackupError(f"a backup of a {manifest.get('dialect')} database cannot be restored into {dialect}")
        why = _empty(url, data_dir)
        if why is not None:
            raise BackupError(f"restore goes into an empty install only: {why}")
        folder = Path(work)
        _checked_members(archive, manifest, folder)  # everything verified before anything is written
        if dialect == "sqlite":
            target = Path(make_url(url).database or "")
            target.parent.mkdir(parents=True, exist_ok=True)
            for leftover in (target, target.with_name(target.name + "-wal"), target.with_name(target.name + "-shm")):
                leftover.unlink(missing_ok=True)  # an empty file (no tables) and its journal: nothing to keep
            shutil.copyfile(folder / SQLITE_MEMBER, target)
            sync_directory(target.parent)
        else:
            if shutil.which("pg_restore") is None:
                raise BackupError("pg_restore is not installed (Debian: apt install postgresql-client)")
            done = subprocess.run(["pg_restore", "--no-owner", "--no-privileges", "--single-transaction",
                                   "--exit-on-error", f"--dbname={_libpq_url(url)}", str(folder / POSTGRES_MEMBER)],
                                  capture_output=True, text=True, timeout=3600)
            if done.returncode != 0:
                raise BackupError(f"pg_restore failed (nothing was restored): {done.stderr.strip()[:500]}")
        data = folder / "data"
        if data.is_dir():
            for path in sorted(p for p in data.rglob("*") if p.is_file()):
                out = data_dir / path.relative_to(data)
                out.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, out)
                os.chmod(out, 0o600)
        return Summary(source, dialect, int(manifest["audit"]["events"]), len(manifest["members"]),
                       str(manifest["created_at"]))
