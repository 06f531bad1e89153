"""One pull of the feed: fetch, verify everything, write atomically, reload, remember, acknowledge.

On any refusal the last good file stays exactly as it was and the resolver keeps enforcing it. This module does
the I/O; whether a version may be applied is decided by the pure checks in `isp_feed.client.trust`, and every way a
pull fails is a class of `isp_feed.errors` (with its exit code and a hint). Imports nothing of the server: only the
standard library, `isp_feed.formats`, `isp_feed.signing` and `isp_feed.errors`.

Each version carries a signed checkpoint of the server's audit chain; the client appends every new one to
`checkpoints.jsonl` in its state dir, so that every ISP holds a copy of the history's hashes that no one at the
server can take back (`blocklist audit verify --checkpoints DIR` reads that file).

Memory stays modest for a million names: the chosen format streams to a temporary file while it is hashed (the
signature covers its BLAKE2b prehash), the previous list is compared as a sorted file, line by line, and the
previous resolver file is kept by a hard link, not read back.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import http.client
import json
import os
import shlex
import shutil
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from isp_feed import errors, formats, signing
from isp_feed.client import trust
from isp_feed.client.trust import BUILTIN_PROTECTED

CHECKPOINTS_FILE = "checkpoints.jsonl"  # append-only: every audit checkpoint this client was shown
_CHUNK = 1 << 20
_NOT_AUTHORISED = (401, 403)  # a credential or ISP the server refuses: not a network problem


@dataclass
class Options:
    """What `isp-feed pull` was told."""

    server: str
    token: str
    pubkeys: list[signing.PublicKey]
    state_dir: Path
    fmt: str
    out: Path
    reload: str | None = None
    max_change_share: float = 0.10
    max_change_min: int = 10
    # None: the first load (empty state dir) takes any size, as a new ISP bootstraps with the whole list.
    max_initial: int | None = None
    protected: set[str] = field(default_factory=lambda: set(BUILTIN_PROTECTED))
    timeout: float = 30.0
    now: dt.datetime | None = None


@dataclass(frozen=True)
class Outcome:
    """What a pull did."""

    applied: bool
    serial: int
    message: str


def _request(opts: Options, path: str, etag: str | None = None) -> urllib.request.Request:
    request = urllib.request.Request(opts.server.rstrip("/") + path, headers={"Authorization": f"Bearer {opts.token}"})
    if etag:
        request.add_header("If-None-Match", etag)
    return request


def _fetch_error(path: str, opts: Options, exc: Exception) -> errors.FeedError:
    if isinstance(exc, urllib.error.HTTPError):
        detail = " ".join(exc.read()[:300].decode(errors="replace").split())  # one line, whatever the server sent
        if exc.code in _NOT_AUTHORISED:
            return errors.NotAuthorised(path, exc.code, detail)
        return errors.FeedUnreachable(f"GET {path}: HTTP {exc.code} {detail}")
    return errors.FeedUnreachable(f"GET {path}: cannot reach {opts.server} or the transfer broke off ({exc!r})")


def _get(opts: Options, path: str, etag: str | None = None) -> tuple[int, bytes, str | None]:
    try:
        with urllib.request.urlopen(_request(opts, path, etag), timeout=opts.timeout) as response:
            return response.status, response.read(), response.headers.get("ETag")
    except urllib.error.HTTPError as exc:
        if exc.code == 304:
            return 304, b"", etag
        raise _fetch_error(path, opts, exc) from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        raise _fetch_error(path, opts, exc) from None


def _download(opts: Options, path: str, target: Path) -> tuple[str, bytes]:
    """Stream a body into `target` (fsynced); return its SHA-256 (hex) and BLAKE2b-512 prehash."""
    sha256, prehash = hashlib.sha256(), signing.prehasher()
    with target.open("wb") as handle:
        try:
            with urllib.request.urlopen(_request(opts, path), timeout=opts.timeout) as response:
                while chunk := response.read(_CHUNK):
                    sha256.update(chunk)
                    prehash.update(chunk)
                    handle.write(chunk)
                if response.length:  # read(n) returns b"" on a short body instead of raising
                    raise http.client.IncompleteRead(b"", response.length)
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            raise _fetch_error(path, opts, exc) from None
        handle.flush()
        os.fsync(handle.fileno())
    return sha256.hexdigest(), prehash.digest()


def _post(opts: Options, path: str, body: dict[str, object]) -> None:
    request = urllib.request.Request(opts.server.rstrip("/") + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Authorization": f"Bearer {opts.token}",
                                              "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=opts.timeout):
        pass


def _load_state(folder: Path) -> dict[str, object]:
    path = folder / "state.json"
    if not path.exists():
        return {}
    try:
        value = json.loads(path.read_text())
        if not isinstance(value, dict) or not isinstance(value.get("serial"), int):
            raise ValueError("no serial")
        names_file = value.get("names_file")
        if isinstance(names_file, str) and not (folder / names_file).is_file():
            raise ValueError(f"{names_file} is missing")
    except (OSError, ValueError) as exc:
        # Without the stored serial there is no rollback protection: stop rather than guess.
        raise errors.StateUnreadable(str(path), str(exc)) from None
    return value


def _previous_names(folder: Path, state: dict[str, object]) -> Iterator[str] | None:
    """The applied names in sorted order (streamed from the state dir), or None before the first load."""
    if isinstance(state.get("names_file"), str):
        return _lines(folder / str(state["names_file"]))
    legacy = state.get("names")  # state written by an older client
    if isinstance(legacy, list):
        return iter(sorted(str(n) for n in legacy))
    return None


def _lines(path: Path) -> Iterator[str]:
    with path.open() as handle:
        for line in handle:
            yield line.rstrip("\n")


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """One pull at a time per state dir (a cron run may overlap a --loop)."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "lock").open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise errors.PullRunning(str(folder)) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _fsync_dir(folder: Path) -> None:
    directory = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _write_atomically(path: Path, data: bytes | Iterable[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("wb") as handle:
        if isinstance(data, bytes):
            handle.write(data)
        else:
            for text in data:
                handle.write(text.encode())
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)
    _fsync_dir(path.parent)


def _last_checkpoint(path: Path) -> formats.AuditCheckpoint | None:
    """The newest complete line of the checkpoints file (only its tail is read: it grows by a line per version)."""
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, size - 65536))
            tail = handle.read()
    except FileNotFoundError:
        return None
    for line in reversed(tail.split(b"\n")[:-1]):  # after the last newline: a line cut by a crash
        with suppress(formats.FeedFormatError, UnicodeDecodeError):
            return formats.parse_checkpoint_line(line.decode())[0]
    return None


def _witness(opts: Options, version: formats.FeedVersion, now: dt.datetime) -> None:
    """Keep the signed audit checkpoint the version carries, so that this ISP can later attest what the server's
    history was: refuse one that is not signed, or that contradicts a checkpoint kept before (a cut history)."""
    checkpoint = version.checkpoint
    if checkpoint is None:
        return  # a server from before checkpoints
    trust.verify_checkpoint(checkpoint, opts.pubkeys, serial=version.serial)
    path = opts.state_dir / CHECKPOINTS_FILE
    if not trust.checkpoint_is_new(checkpoint, _last_checkpoint(path), serial=version.serial, kept_in=str(path)):
        return
    _drop_torn_tail(path)
    with path.open("ab") as handle:
        handle.write(formats.checkpoint_line(checkpoint, serial=version.serial, received_at=now).encode())
        handle.flush()
        os.fsync(handle.fileno())


def _drop_torn_tail(path: Path) -> None:
    """Cut what follows the last newline: a line a crash interrupted was never a checkpoint, and appending to it
    would make the next one unreadable too."""
    try:
        handle = path.open("r+b")
    except FileNotFoundError:
        return
    with handle:
        size = handle.seek(0, os.SEEK_END)
        end = size
        while end > 0:
            start = max(0, end - 4096)
            handle.seek(start)
            chunk = handle.read(end - start)
            newline = chunk.rfind(b"\n")
            if newline >= 0:
                end = start + newline + 1
                break
            end = start
        if end != size:
            handle.truncate(end)
            os.fsync(handle.fileno())


def pull(opts: Options) -> Outcome:
    """Apply the latest version if it passes every check; raise an `isp_feed.errors.FeedError` otherwise."""
    with _locked(opts.state_dir):
        return _pull(opts)


def _install(opts: Options, staged: Path) -> Path | None:
    """Put the verified file in place atomically; return a hard link to the file it replaced (for a rollback)."""
    backup = None
    if opts.out.exists():
        backup = opts.out.with_name(f".{opts.out.name}.previous")
        backup.unlink(missing_ok=True)
        try:
            os.link(opts.out, backup)
        except OSError:  # no hard links here: a streamed copy does as well
            shutil.copyfile(opts.out, backup)
    staged.replace(opts.out)
    _fsync_dir(opts.out.parent)
    return backup


def _reload(opts: Options, backup: Path | None) -> None:
    assert opts.reload
    try:
        result = subprocess.run(shlex.split(opts.reload), capture_output=True, text=True, timeout=120)
        failure = f"exited {result.returncode}: {result.stderr.strip()[:300]}" if result.returncode != 0 else None
    except (OSError, subprocess.TimeoutExpired) as exc:
        failure = f"could not run: {exc}"
    if failure is not None:
        if backup is not None:
            backup.replace(opts.out)
            _fsync_dir(opts.out.parent)
        raise errors.ReloadFailed(f"reload command {failure}; the previous file was put back and the state not "
                                  "advanced")


def _save_state(opts: Options, version: formats.FeedVersion, *, envelope_sha: str, body_sha: str,
                etag: str | None, now: dt.datetime) -> None:
    names_file = f"names-{version.serial}.txt"
    _write_atomically(opts.state_dir / names_file, (f"{e.name}\n" for e in version.entries))
    state = {"serial": version.serial, "envelope_sha256": envelope_sha, "sha256": body_sha, "etag": etag,
             "expires_at": version.expires_at.isoformat(), "format": opts.fmt, "applied_at": now.isoformat(),
             "count": version.count, "names_file": names_file}
    _write_atomically(opts.state_dir / "state.json", json.dumps(state, indent=1).encode())
    for old in opts.state_dir.glob("names-*.txt"):  # the client's own cache of earlier lists
        if old.name != names_file:
            old.unlink(missing_ok=True)


def _pull(opts: Options) -> Outcome:
    now = opts.now or dt.datetime.now(dt.UTC)
    state = _load_state(opts.state_dir)
    stored_serial = int(state.get("serial", 0))  # type: ignore[call-overload]
    status, envelope, etag = _get(opts, "/feed/v1/latest.json", etag=state.get("etag") if opts.out.exists() else None)  # type: ignore[arg-type]
    if status == 304:
        trust.check_not_expired(stored_serial, dt.datetime.fromisoformat(str(state["expires_at"])), now, applied=True)
        return Outcome(False, stored_serial, f"already current (serial {stored_serial})")
    _, envelope_sig, _ = _get(opts, "/feed/v1/latest.json.minisig")
    envelope_sha = hashlib.sha256(envelope).hexdigest()
    prehash = signing.prehasher()
    prehash.update(envelope)
    facts = trust.verify_file(prehash.digest(), envelope_sig, opts.pubkeys, fmt="json", sha256=envelope_sha,
                              serial=None)
    version = trust.parse_envelope(envelope)
    trust.check_envelope_matches(facts, version)
    applied_sha = state.get("envelope_sha256")
    trust.check_serial(version.serial, stored_serial)
    trust.check_same_serial_same_content(version.serial, envelope_sha, stored_serial,
                                         applied_sha if isinstance(applied_sha, str) else None)
    _witness(opts, version, now)
    trust.check_not_expired(version.serial, version.expires_at, now)
    if version.serial == stored_serial and opts.out.exists():
        return Outcome(False, stored_serial, f"already current (serial {stored_serial})")
    trust.check_content(version.serial, [e.name for e in version.entries],  # sorted: parse_envelope refuses others
                        _previous_names(opts.state_dir, state), protected=opts.protected,
                        max_share=opts.max_change_share, min_changes=opts.max_change_min,
                        max_initial=opts.max_initial)

    opts.out.parent.mkdir(parents=True, exist_ok=True)
    staged = opts.out.with_name(f".{opts.out.name}.tmp")
    try:
        if opts.fmt == "json":
            _write_atomically(staged, envelope)
            body_sha = envelope_sha
        else:
            del envelope  # the envelope may be large; the body streams to disk
            path = f"/feed/v1/versions/{version.serial}.{opts.fmt}"
            _, body_sig, _ = _get(opts, f"{path}.minisig")
            body_sha, body_prehash = _download(opts, path, staged)
            trust.verify_file(body_prehash, body_sig, opts.pubkeys, fmt=opts.fmt, sha256=body_sha,
                              serial=version.serial)
        backup = _install(opts, staged)
    finally:
        staged.unlink(missing_ok=True)  # a refused or broken download never lingers
    if opts.reload:
        _reload(opts, backup)
    if backup is not None:
        with suppress(OSError):
            backup.unlink()
    _save_state(opts, version, envelope_sha=envelope_sha, body_sha=body_sha, etag=etag, now=now)
    message = f"applied serial {version.serial} ({version.count} names) to {opts.out}"
    try:
        _post(opts, "/feed/v1/applied", {"serial": version.serial, "sha256": body_sha, "format": opts.fmt})
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        message += f"; warning: could not report it to the server ({exc})"
    return Outcome(True, version.serial, message)
