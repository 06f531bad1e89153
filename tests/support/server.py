"""A real `blocklist` HTTP server (uvicorn) on a loopback port, in a thread, for end-to-end tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI

from api.app import create_app
from api.runtime import Runtime
from tests.support.ports import free_port
from tests.support.processes import stop as stop_process


@contextmanager
def live_server(rt: Runtime, *, app: FastAPI | None = None) -> Iterator[str]:
    """Serve the app (`app`, else a new one over `rt`) over HTTP on 127.0.0.1; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app or create_app(rt), host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.05)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)


class ServerProcess:
    """`blocklist serve` (or another serving `command`, e.g. `stop-page`) as a child process on a loopback port, to
    be killed with SIGKILL and started again; its log (stderr) goes to `output`, else to a temporary file.

    Never to a pipe: nobody reads it while the server runs, and once its 64 KiB were full of request log lines the
    server stopped in the middle of a log call, every request waiting out the client's timeout (test_crash took
    734 s instead of 150).
    """

    def __init__(self, env: dict[str, str], port: int | None = None, *, command: str = "serve",
                 output: Path | None = None, args: tuple[str, ...] = ()) -> None:
        self.env = {**os.environ, **env}
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.command = command
        self.temporary = output is None  # removed by stop(); a killed one stays for the next start
        if output is None:
            handle, name = tempfile.mkstemp(prefix="blocklist-server-", suffix=".log")
            os.close(handle)
            output = Path(name)
        self.output = output
        self.args = args  # more options of the command (`--workers 2`)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        """The process id of the running command (with --workers: of uvicorn's supervisor)."""
        return self.process.pid if self.process is not None else None

    def start(self, timeout: float = 60) -> None:
        blocklist = Path(sys.executable).with_name("blocklist")
        command = [str(blocklist), self.command, "--host", "127.0.0.1", "--port", str(self.port), *self.args]
        with self.output.open("ab") as log:  # the child keeps its own copy of the file
            self.process = subprocess.Popen(command, env=self.env, stdout=subprocess.DEVNULL, stderr=log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.output.read_bytes().decode()[-2000:]}")
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("server did not start")

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind runs."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        stop_process(self.process, grace=15)
        self.process = None
        if self.temporary:
            self.output.unlink(missing_ok=True)
