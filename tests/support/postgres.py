"""A throwaway PostgreSQL cluster on loopback for one test session (Debian's binaries, no mock)."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.ports import free_port


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    return candidates[0] if candidates else None


def available() -> bool:
    """Whether initdb and pg_ctl are installed."""
    return bool(_pg_bin("initdb") and _pg_bin("pg_ctl"))


@contextmanager
def temporary_cluster() -> Iterator[str]:
    """Start a cluster with trust auth on 127.0.0.1 and yield the superuser's base URL (no database name)."""
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    assert initdb and pg_ctl, "PostgreSQL binaries not found"
    base = Path(tempfile.mkdtemp(prefix="blocklist-pg-"))
    datadir = base / "data"
    run_as: list[str] = []
    if os.geteuid() == 0:
        # PostgreSQL refuses to run as root: hand the directory to the postgres system user.
        pw = pwd.getpwnam("postgres")
        os.chown(base, pw.pw_uid, pw.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    subprocess.run([*run_as, initdb, "-D", str(datadir), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                    "--no-sync"], check=True, capture_output=True)
    options = f"-h 127.0.0.1 -p {port} -k {base} -F -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    subprocess.run([*run_as, pg_ctl, "-D", str(datadir), "-o", options, "-l", str(base / "log"), "-w", "start"],
                   check=True, capture_output=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run([*run_as, pg_ctl, "-D", str(datadir), "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


_databases = iter(range(1, 10**9))


@contextmanager
def scratch_database(base_url: str, *, template: str | None = None, prefix: str = "t") -> Iterator[str]:
    """A PostgreSQL database private to one test (a clone of `template`, else empty), dropped afterwards."""
    from sqlalchemy import create_engine, text

    name = f"{prefix}_{os.getpid()}_{next(_databases)}"
    admin = create_engine(f"{base_url}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"' + (f" TEMPLATE {template}" if template else "")))
    try:
        yield f"{base_url}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
