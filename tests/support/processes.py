"""Stopping a process a test started: SIGTERM, a grace period, then SIGKILL."""

from __future__ import annotations

import subprocess


def stop(process: subprocess.Popen[bytes] | subprocess.Popen[str] | None, grace: float = 10) -> int | None:
    """Terminate `process` (if it still runs), kill it after `grace` seconds; its exit status (None: no process)."""
    if process is None:
        return None
    if process.poll() is None:
        process.terminate()
        try:
            return process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
    return process.wait(timeout=10)
