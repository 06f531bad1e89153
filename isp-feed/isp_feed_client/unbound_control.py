"""Apply a delta to a running Unbound through its control channel, instead of making it re-read a whole list.

At 1,000,000 names `unbound-control reload` of the `unbound.conf` format takes about 20 s; a one-name change through
`unbound-control local_zones` / `local_datas` / `local_zones_remove` (bulk input on stdin) takes milliseconds. The
lines sent are the very ones formats.py renders into the file for each entry and for the canary (no second
renderer): each `local-zone: "NAME." TYPE` line becomes the `local_zones` input `NAME. TYPE`, each
`local-data: "RR"` line the `local_datas` input `RR`, and the zone of each entry the delta removes (and of the
previous serial's canary) goes to `local_zones_remove`, which drops the zone with its records (`local_datas_remove`
would leave the zone itself behind, which Unbound loading the new file would not have).

Order: the new zones, then their records (a record is stored in the closest zone above it, as when Unbound reads the
file, so each entry's zone must exist first), then the removals. A name the delta changes (scope, Unicode form) is
re-added, never removed: `local_zones` changes the type of an existing zone and `local_datas` ignores a record that
is already there, so the name is never left unblocked in between.

pull.py decides when to use this (a delta proven against the signed file, not a first load) and falls back to the
whole file and the reload commands on any failure here or when the canary is not served afterwards.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shlex
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from isp_feed_client import formats
from isp_feed_client.delta import Delta

APPLY_RELOAD = "reload"  # the whole file, re-read by the `reload` commands
APPLY_CONTROL = "unbound-control"  # a delta through the control channel, the whole file only as a fallback
APPLY_MODES = (APPLY_RELOAD, APPLY_CONTROL)
EXT = "unbound.conf"  # the only format whose lines are also control-channel input
_TIMEOUT = 120.0  # seconds per command: a large delta is read line by line by Unbound's control thread
_TAIL = 4096  # bytes: more than the footer (the canary's two lines) takes
_COUNT = re.compile(r"(?:added|removed) (\d+) (?:zones|datas)")  # what each bulk command says last


@dataclass(frozen=True)
class Edit:
    """What to tell Unbound: zones to add (`NAME. TYPE`), records to add (`RR`), zones to remove (`NAME.`)."""

    zones: tuple[str, ...]
    datas: tuple[str, ...]
    removed: tuple[str, ...]

    def summary(self) -> str:
        return f"local zones +{len(self.zones)} -{len(self.removed)}, records +{len(self.datas)}"


def _control_lines(rendered: bytes) -> tuple[list[str], list[str]]:
    """The `local-zone` and `local-data` lines of rendered unbound.conf lines as the bulk commands read them."""
    zones: list[str] = []
    datas: list[str] = []
    for raw in rendered.decode("utf-8").splitlines():
        key, _, value = raw.strip().partition(": ")
        if key == "local-zone":  # "NAME." TYPE
            _, name, kind = value.split('"')
            zones.append(f"{name} {kind.strip()}")
        elif key == "local-data":  # "RR"
            datas.append(value.strip('"'))
        else:
            raise ValueError(f"not a local-zone or local-data line: {raw[:80]!r}")
    return zones, datas


def _body(version: formats.FeedVersion, entries: tuple[formats.FeedEntry, ...]) -> bytes:
    """The file's lines for `entries` (formats.py's renderer, as the file has them)."""
    some = dataclasses.replace(version, entries=entries)
    return bytes(formats.render_body(some, formats.prepare(some), EXT))


def footer(path: Path) -> bytes:
    """The footer lines (the canary) of an installed unbound.conf file: what the delta's removals add to."""
    with path.open("rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        handle.seek(max(0, size - _TAIL))
        lines = handle.read().splitlines(keepends=True)
    return b"".join(lines[-formats.LAYOUTS[EXT].footer:])


def plan(version: formats.FeedVersion, d: Delta, *, count: int, old_footer: bytes) -> Edit:
    """The edit that turns Unbound loaded with the old file into Unbound loaded with the new one: `version` is the
    new content (its stop page and serial; entries not read), `count` its number of names, `old_footer` the old
    file's canary lines. ValueError when the edit cannot be proven the same as the new file (below)."""
    readded = {e.name for e in d.added}
    if len(d.added) == count and readded & {e.name for e in d.removed}:
        # A changed name keeps its old records (only its zone type changes). That they equal the new ones is proven
        # by an entry the delta leaves alone: its lines were copied from the old file into one the signed hash
        # matched, so the stop page's addresses did not change. Without one, only the whole file is sure.
        raise ValueError("the delta changes every name, so the stop page may have changed too")
    zones, datas = _control_lines(_body(version, d.added) + formats.render_frame(version, EXT, count)[1])
    gone = tuple(e for e in d.removed if e.name not in readded)
    removed_zones, _ = _control_lines(_body(version, gone) + old_footer)
    new_zones = {zone.split(" ", 1)[0] for zone in zones}
    removed = [name for name in (zone.split(" ", 1)[0] for zone in removed_zones) if name not in new_zones]
    return Edit(tuple(zones), tuple(datas), tuple(removed))


def _invoke(argv: list[str], timeout: float, stdin: str | None = None) -> subprocess.CompletedProcess[str] | str:
    """Run one unbound-control command; its result, or why it could not run."""
    try:
        return subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{shlex.join(argv)} could not run: {exc}"


def _said(result: subprocess.CompletedProcess[str]) -> str:
    """What a failed command printed, on one line (unbound-control writes its errors to stdout)."""
    return " ".join((result.stderr.strip() or result.stdout.strip()).split())[:300] or "no output"


def status(prefix: Sequence[str], *, timeout: float = 10.0) -> str | None:
    """None when `prefix status` reaches a running Unbound through its control channel, else what went wrong
    (`isp-feed check`: a channel that does not answer would make every pull fall back to the whole reload)."""
    argv = [*prefix, "status"]
    result = _invoke(argv, timeout)
    if isinstance(result, str) or result.returncode == 0:
        return result if isinstance(result, str) else None
    return f"{shlex.join(argv)} exited {result.returncode}: {_said(result)}"


def _run(prefix: Sequence[str], command: str, lines: Sequence[str], timeout: float) -> str | None:
    """One bulk command; None when Unbound took every line, else what went wrong."""
    argv = [*prefix, command]
    result = _invoke(argv, timeout, "".join(line + "\n" for line in lines))
    if isinstance(result, str):
        return result
    said = result.stdout.strip().splitlines()
    # unbound-control exits 1 only when the first line it prints is an error: a bad line further on shows only in
    # the count of lines taken, so both are checked.
    last = _COUNT.fullmatch(said[-1]) if said else None
    if result.returncode == 0 and last is not None and int(last.group(1)) == len(lines) \
            and not any(line.startswith("error") for line in said):
        return None
    return f"{shlex.join(argv)} exited {result.returncode} after {len(lines)} lines: {_said(result)}"


def apply(prefix: Sequence[str], edit: Edit, *, timeout: float = _TIMEOUT) -> str | None:
    """Send the edit with the command `prefix` (e.g. `unbound-control -c /etc/unbound/unbound.conf`); None when
    Unbound took all of it, else what went wrong (it may then hold part of it: the caller reloads the whole file)."""
    for command, lines in (("local_zones", edit.zones), ("local_datas", edit.datas),
                           ("local_zones_remove", edit.removed)):
        if lines:
            failure = _run(prefix, command, lines, timeout)
            if failure is not None:
                return failure
    return None
