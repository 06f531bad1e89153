"""`isp-feed check`: is this installation able to pull? One line per check, in three classes, each needing the one
before; the first class that fails ends the run with its exit code (the same codes a pull uses):

1. configuration (exit 2): the public keys read (the CLI parsed them), the state dir and the --out directory
   writable, the state dir readable, each reload command found;
2. server (exit 4, 6 or 3): latest.manifest.json fetched with the token, its signature by a pinned key, not expired;
3. resolver (exit 5): each --resolver answers the canary of the serial in force with the stop page (before the first
   pull there is no serial in force: said, not failed); with `apply = "unbound-control"`, the control channel
   answers `status`.

It changes nothing: no state, no file, no acknowledgement."""

from __future__ import annotations

import datetime as dt
import os
import shlex
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from isp_feed_client import canary_check, errors, manifest, pull, trust, unbound_control

Check = Callable[[], str]  # returns what it found; raises CheckFailed (or a FeedError) when it fails


class CheckFailed(Exception):
    """A check that did not pass, with what it found."""


def _writable(what: str, folder: Path) -> Check:
    def check() -> str:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=folder, prefix=".isp-feed-check."):
                pass
        except OSError as exc:
            raise CheckFailed(f"{what} {folder} is not writable: {exc.strerror or exc}") from None
        return f"{what} {folder} is writable"
    return check


def _state(opts: pull.Options) -> Check:
    def check() -> str:
        try:
            in_force = pull.applied(opts.state_dir)
        except errors.FeedError as exc:
            raise CheckFailed(exc.explain()) from None
        return "nothing applied yet" if in_force is None else f"serial {in_force.serial} in force"
    return check


def _command(command: str) -> Check:
    def check() -> str:
        words = shlex.split(command)
        found = shutil.which(words[0]) if words else None
        if found is None:
            raise CheckFailed(f"reload command {command!r}: {words[0] if words else '(empty)'} not found")
        if not os.access(found, os.X_OK):
            raise CheckFailed(f"reload command {command!r}: {found} is not executable")
        return f"reload command {command!r} found ({found})"
    return check


def _server(opts: pull.Options, found: dict[str, manifest.Manifest]) -> Check:
    def check() -> str:
        _, data, _ = pull.get(opts, pull.MANIFEST_PATH, limit=manifest.MAX_MANIFEST_BYTES)
        _, signature, _ = pull.get(opts, f"{pull.MANIFEST_PATH}.minisig", limit=pull.MAX_SIGNATURE)
        m, _ = trust.verify_manifest(data, signature, opts.pubkeys)
        trust.check_not_expired(m.serial, m.expires_at, opts.now or dt.datetime.now(dt.UTC))
        found["manifest"] = m
        return (f"{opts.server}: latest.manifest.json serial {m.serial} ({m.count} names), signed by a pinned key, "
                f"expires {m.expires_at.isoformat(timespec='seconds')}")
    return check


def _resolver(opts: pull.Options, endpoint: canary_check.Endpoint, found: dict[str, manifest.Manifest]) -> Check:
    def check() -> str:
        in_force = pull.applied(opts.state_dir)
        if in_force is None:
            return f"resolver {endpoint[0]}:{endpoint[1]}: nothing applied yet, no canary to ask"
        m = found["manifest"]
        stop = canary_check.StopPage(m.stop_page_name, m.stop_page_ipv4)
        failure = canary_check.serves([endpoint], in_force.content_serial, stop, wait=1.0)
        if failure is not None:
            raise CheckFailed(f"serial {in_force.serial} is in force but {failure}")
        return (f"resolver {endpoint[0]}:{endpoint[1]} answers the canary of serial {in_force.content_serial} "
                "with the stop page")
    return check


def _control(opts: pull.Options) -> Check:
    def check() -> str:
        failure = unbound_control.status(opts.unbound_control)
        if failure is not None:
            raise CheckFailed(f"the control channel deltas go through does not answer: {failure}")
        return f"{shlex.join(opts.unbound_control)} status: Unbound answers its control channel"
    return check


def _classes(opts: pull.Options) -> list[tuple[str, int, list[Check]]]:
    found: dict[str, manifest.Manifest] = {}
    reloads = [opts.reload] if isinstance(opts.reload, str) else opts.reload or []
    keys = ", ".join(key.key_id_hex for key in opts.pubkeys)

    def pinned() -> str:
        return f"{len(opts.pubkeys)} public key(s) read: {keys}"

    configuration = [pinned, _writable("state dir", opts.state_dir), _state(opts),
                     _writable("--out directory", opts.out.parent), *(_command(c) for c in reloads)]
    return [("configuration", errors.EXIT_USAGE, configuration),
            ("server", errors.EXIT_FETCH, [_server(opts, found)]),
            ("resolver", errors.EXIT_RELOAD, [*(_resolver(opts, r, found) for r in opts.resolvers),
                                              *([_control(opts)] if opts.apply == unbound_control.APPLY_CONTROL
                                                else [])])]


def run(opts: pull.Options, *, say: Callable[[str], None] = print) -> int:
    """Run every check, class by class; 0 when all pass, else the exit code of the first class that failed."""
    for name, code, checks in _classes(opts):
        failed: int | None = None
        for check in checks:
            try:
                say(f"ok    {name}: {check()}")
            except CheckFailed as exc:
                say(f"FAIL  {name}: {exc}")
                failed = failed or code
            except errors.FeedError as exc:  # the server's own refusals keep their codes (6 not authorised…)
                say(f"FAIL  {name}: {exc.explain()}")
                failed = failed or exc.exit_code
        if failed is not None:
            return failed
    return errors.EXIT_OK
