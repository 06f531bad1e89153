"""The Prometheus textfile (`--textfile PATH`, for node_exporter's textfile collector): written atomically after
every pull, success or not, so an alert can fire on a client that stopped applying (the serial stands still, the
last success gets old, the expiry comes near) rather than on a list that is already frozen.

    isp_feed_serial                            the serial in force (0: none yet)
    isp_feed_expires_timestamp_seconds         when that version expires (the client then refuses it: Freeze)
    isp_feed_last_success_timestamp_seconds    the last pull that ended with exit 0 (applied or already current)
    isp_feed_last_exit_code                    the exit code of the last pull (isp-feed/README.md lists them)

The last success outlives the process (one run per timer tick): it is kept in `<state-dir>/last-success`."""

from __future__ import annotations

import datetime as dt
from contextlib import suppress
from pathlib import Path

from isp_feed_client import errors, pull, splice

LAST_SUCCESS_FILE = "last-success"

_METRICS = (
    ("isp_feed_serial", "The feed serial in force on this resolver (0: none applied yet)."),
    ("isp_feed_expires_timestamp_seconds", "When the version in force expires, in Unix time (0: unknown)."),
    ("isp_feed_last_success_timestamp_seconds", "The end of the last pull that exited 0, in Unix time (0: never)."),
    ("isp_feed_last_exit_code", "The exit code of the last pull (0 applied or current; see isp-feed/README.md)."),
)


def _last_success(state_dir: Path, code: int, now: dt.datetime) -> float:
    path = state_dir / LAST_SUCCESS_FILE
    if code == errors.EXIT_OK:
        splice.write_chunks(path, [f"{now.timestamp():.3f}\n".encode()])
        return now.timestamp()
    try:
        return float(path.read_text())
    except (OSError, ValueError):
        return 0.0


def write(target: Path, *, state_dir: Path, code: int, now: dt.datetime | None = None) -> None:
    """Write the metrics of the pull that just ended with `code` to `target` (atomically: a scrape never reads half
    a file)."""
    now = now or dt.datetime.now(dt.UTC)
    in_force = None
    with suppress(errors.FeedError, OSError):  # an unreadable state dir: the metrics say 0, the exit code says why
        in_force = pull.applied(state_dir)
    values = (
        in_force.serial if in_force is not None else 0,
        in_force.expires_at.timestamp() if in_force is not None and in_force.expires_at is not None else 0,
        _last_success(state_dir, code, now),
        code,
    )
    lines = []
    for (name, help_text), value in zip(_METRICS, values, strict=True):
        shown = f"{value:.3f}" if isinstance(value, float) else str(value)
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge", f"{name} {shown}"]
    splice.write_chunks(target, ["\n".join(lines).encode() + b"\n"])
