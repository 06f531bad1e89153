"""A throwaway PostgreSQL cluster on loopback for one test session (Debian's binaries, no mock)."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

from tests.support.ci import used
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
def temporary_cluster(*, durable: bool = False) -> Iterator[str]:
    """Start a cluster with trust auth on 127.0.0.1 and yield the superuser's base URL (no database name).

    Tests run it without fsync (nothing there survives the run); `durable` keeps PostgreSQL's defaults, each commit
    flushed to disk before it returns, as a benchmark of the production layout must."""
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
    options = f"-h 127.0.0.1 -p {port} -k {base}"
    if not durable:
        options += " -F -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
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


class Server:
    """One PostgreSQL server of a replicated pair (tests/api/test_failover.py): started, SIGKILLed, promoted."""

    def __init__(self, base: Path, name: str, run_as: list[str]) -> None:
        self.datadir, self.log, self.socket_dir = base / name, base / f"{name}.log", base
        self.port = free_port()
        self.run_as = run_as
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}"

    def _pg_ctl(self, *args: str) -> None:
        pg_ctl = _pg_bin("pg_ctl")
        assert pg_ctl, "PostgreSQL binaries not found"
        subprocess.run([*self.run_as, pg_ctl, "-D", str(self.datadir), *args], check=True, capture_output=True,
                       timeout=120)

    def start(self) -> None:
        # fsync stays off (a killed server is never started again); synchronous_commit stays on: a commit returns
        # only once the synchronous standby has it, which is what the failover test relies on.
        options = f"-h 127.0.0.1 -p {self.port} -k {self.socket_dir} -c fsync=off -c full_page_writes=off"
        self._pg_ctl("-o", options, "-l", str(self.log), "-w", "start")

    def sql(self, statement: str) -> list[tuple[object, ...]]:
        """Run one statement on the server's `postgres` database (autocommit)."""
        from sqlalchemy import create_engine, text

        engine = create_engine(f"{self.url}/postgres", isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                result = conn.execute(text(statement))
                return [tuple(row) for row in result] if result.returns_rows else []
        finally:
            engine.dispose()

    def kill(self) -> None:
        """SIGKILL the postmaster and every process it started: the host is gone, nothing is flushed or said."""
        pid = int((self.datadir / "postmaster.pid").read_text().split()[0])
        os.kill(pid, signal.SIGSTOP)  # forks no new backend while its children are listed
        children = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and _parent(p) == pid]
        for victim in (pid, *children):
            with suppress(ProcessLookupError):
                os.kill(victim, signal.SIGKILL)

    def promote(self) -> None:
        """Make the standby the primary (`pg_ctl promote`, waiting until it accepts writes)."""
        self._pg_ctl("-w", "promote")

    def stop(self) -> None:
        with suppress(subprocess.SubprocessError):
            self._pg_ctl("-m", "immediate", "stop")


def _parent(proc: Path) -> int | None:
    try:
        # The command name, in parentheses, may hold spaces: the parent's id is the second field after it.
        return int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def replication_available() -> bool:
    """Whether pg_basebackup is installed beside initdb and pg_ctl."""
    return available() and bool(_pg_bin("pg_basebackup"))


@contextmanager
def replicated_pair(timeout: float = 60) -> Iterator[tuple[Server, Server]]:
    """A primary and a synchronous streaming standby made from it with pg_basebackup, on two loopback ports.

    The standby is named in the primary's synchronous_standby_names only after the base backup (ALTER SYSTEM writes
    postgresql.auto.conf, which the standby then lacks): once promoted, it waits for no standby of its own.
    """
    initdb, basebackup = _pg_bin("initdb"), _pg_bin("pg_basebackup")
    assert initdb and basebackup, "PostgreSQL binaries not found"
    used("PostgreSQL")
    base = Path(tempfile.mkdtemp(prefix="blocklist-pg-pair-"))
    run_as: list[str] = []
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        os.chown(base, pw.pw_uid, pw.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    primary, standby = Server(base, "primary", run_as), Server(base, "standby", run_as)
    try:
        # initdb's pg_hba.conf trusts replication connections from 127.0.0.1; wal_level=replica is the default.
        subprocess.run([*run_as, initdb, "-D", str(primary.datadir), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                        "--no-sync"], check=True, capture_output=True)
        primary.start()
        # -R: standby.signal and primary_conninfo; the walreceiver's application_name is the standby's cluster_name.
        subprocess.run([*run_as, basebackup, "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
                        "-D", str(standby.datadir), "-X", "stream", "-R", "--no-sync"],
                       check=True, capture_output=True, timeout=120)
        with (standby.datadir / "postgresql.auto.conf").open("a") as conf:
            conf.write("cluster_name = 'standby'\n")
        standby.start()
        primary.sql("ALTER SYSTEM SET synchronous_standby_names = 'standby'")
        primary.sql("SELECT pg_reload_conf()")
        deadline = time.monotonic() + timeout
        while primary.sql("SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby'") != [
                ("sync",)]:
            assert time.monotonic() < deadline, "the standby did not become synchronous"
            time.sleep(0.1)
        yield primary, standby
    finally:
        for server in (standby, primary):
            server.stop()
        shutil.rmtree(base, ignore_errors=True)


def multi_host_url(servers: Sequence[Server], database: str) -> str:
    """A DATABASE_URL naming every server, of which libpq takes the one that accepts writes (SQLAlchemy's form of
    libpq's host list: one `host=` per server)."""
    hosts = "&".join(f"host=127.0.0.1:{s.port}" for s in servers)
    return f"postgresql+psycopg://postgres@/{database}?{hosts}&target_session_attrs=read-write"
