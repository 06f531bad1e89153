"""One pull of the feed: fetch the signed manifest, verify everything, write atomically, reload, remember, acknowledge.

On any refusal the last good file stays exactly as it was, the state is not advanced, and the resolver keeps
enforcing the last good list. This module does the I/O; whether a version may be applied is decided by the pure
checks in `isp_feed_client.trust`, and every way a pull fails is a class of `isp_feed_client.errors` (with its exit
code and a hint). Imports nothing of the server: only the standard library, requests (HTTP: isp_feed_client/http.py),
dnspython (to ask the resolver for the canary) and the pure feed modules (`formats`, `manifest`, `delta`, `splice`,
`signing`, `errors`, `canary`; `unbound_control` runs `unbound-control`).

A pull, in order:

1. `latest.manifest.json`, conditionally on the stored ETag: 304 means nothing new (an expired version still refuses:
   a freeze).
2. Its signature by a pinned key; the manifest read strictly, and stating the serial, expiry and SHA-256 its signed
   comment states. Serial never lower than the applied one (rollback), the applied serial only with the very same
   manifest, the direct successor naming the applied manifest as its predecessor (a chain: ChainBroken), not expired
   (freeze). Its signed audit checkpoint is witnessed in `checkpoints.jsonl`.
3. The cheapest way to the files the manifest names:
   - a re-issue (the list and format file already installed): nothing is downloaded, the state takes the new serial
     and expiry;
   - the delta: `diff?from=<applied serial>&to=<serial>` is spliced into the kept list and into the installed file
     (isp_feed_client/splice.py). The delta is not signed: it is believed only once the list it gives hashes to the
     manifest's `list`, and the file it gives to the manifest's format file. If anything does not fit, the pull says
     so and falls back to
   - the download: the list and the format file stream to disk, hashed as they come, and must be the ones the
     manifest names.
   The content checks (protected names, the size of the change) read the proven delta, or the whole list line by
   line beside the previous one (never a million entries held at once).
4. Install atomically, run the reload commands, and ask each `--resolver` for the new serial's canary
   (isp_feed_client/canary.py) until it answers the stop page: only then save the state atomically, keep the list as
   `list-<content serial>.txt` and acknowledge with `POST applied`. If a reload fails or the canary is not served,
   the previous file is put back, reloaded, and its own canary checked; the pull fails (ReloadFailed).
   With `apply = "unbound-control"` (the unbound.conf format) a delta is applied to the running Unbound through its
   control channel instead (isp_feed_client/unbound_control.py; the file is written all the same), and the reload
   commands run only when there is no proven delta or that fails (the canary not served included).

Every audit checkpoint a manifest carries is appended to `checkpoints.jsonl` in the state dir, so that every ISP
holds a copy of the history's hashes that no one at the server can take back (`blocklist audit verify --checkpoints
DIR` reads that file).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import requests

from isp_feed_client import (
    canary_check,
    errors,
    formats,
    http,
    listfile,
    manifest,
    signing,
    splice,
    stored,
    trust,
    unbound_control,
)
from isp_feed_client.canary import canary_name
from isp_feed_client.delta import Delta
from isp_feed_client.trust import BUILTIN_PROTECTED

CHECKPOINTS_FILE = "checkpoints.jsonl"  # append-only: every audit checkpoint this client was shown
STATE_FILE = "state.json"
ACCEPTED_FILE = "accepted.json"  # `isp-feed accept SERIAL`: the serial the operator lets past the change limit
FEED_PATH = "/feed/v1"
MANIFEST_PATH = f"{FEED_PATH}/latest.{manifest.MANIFEST_EXT}"
_CHUNK = 1 << 20
_NOT_AUTHORISED = (401, 403)  # a credential or ISP the server refuses: not a network problem
MAX_SIGNATURE = 4096  # a minisign signature file is about 300 bytes
_DELTA_ENTRY_BYTES = 2048  # the most one entry of a delta takes in canonical JSON (two names of 253 characters)
_STAGED_LIST = ".list.tmp"
_OWN_LIST = re.compile(r"(list|names)-\d+\.txt(\.pieces)?")  # names-*.txt: the names files of older clients
_SEGMENT = re.compile(r"[0-9a-f]{64}")
# unbound-control changes the local zones before it returns: a canary not served within this is not coming (and the
# whole file is reloaded), however long --resolver-wait allows a reload to take.
_CONTROL_WAIT = 5.0


@dataclass
class Options:
    """What `isp-feed pull` was told."""

    server: str
    token: str
    pubkeys: list[signing.PublicKey]
    state_dir: Path
    fmt: str
    out: Path
    reload: str | list[str] | None = None  # one command, or several run in order (PowerDNS: reload, then wipe)
    # After the reload, each of these resolvers must answer the new serial's canary with the stop page before the
    # serial is acknowledged (isp_feed_client/canary_check.py); up to `resolver_wait` seconds.
    resolvers: list[tuple[str, int]] = field(default_factory=list)
    # A national list is slow to load: Unbound took 15-20 s for 1,000,000 names on 2 busy cores (a 10 s wait
    # refused every good reload there, put the old file back and began again). The check ends at the first answer.
    resolver_wait: float = 60.0
    # unbound_control.APPLY_CONTROL: apply a delta through Unbound's control channel, `unbound_control` the command
    # (with its options) the bulk commands are appended to; the reload commands remain the fallback.
    apply: str = unbound_control.APPLY_RELOAD
    unbound_control: list[str] = field(default_factory=lambda: ["unbound-control"])
    max_change_share: float = 0.10
    max_change_min: int = 10
    # A change the publication gate held and a magistrate confirmed (the signed manifest says so) passes the limit
    # above, up to this share of the larger list new or gone; `accept_confirmed` False refuses it all the same.
    accept_confirmed: bool = True
    max_confirmed_share: float = 1.0
    # None: the first load (empty state dir) takes any size, as a new ISP bootstraps with the whole list.
    max_initial: int | None = None
    protected: set[str] = field(default_factory=lambda: set(BUILTIN_PROTECTED))
    transport: http.Transport = field(default_factory=http.Transport)
    # Seconds the server may hold a poll of a client that is current until a new version is published (`Prefer:
    # wait`, RFC 7240; the server holds it at most 25 s): a --loop asks for its interval, so that a version is
    # pulled as soon as it is published. 0: never held.
    wait: float = 0.0
    # The client's own copy of a list of at least `list_pieces_from` bytes, moved on by a delta, is kept as pieces of
    # the list before and a segment of the new lines (isp_feed_client/stored.py), up to `list_max_pieces` pieces and
    # then written whole again: a +1 to 1,000,000 names then writes a line, not a 55 MB copy to sync and free.
    list_pieces_from: int = 1 << 20
    list_max_pieces: int = 64
    now: dt.datetime | None = None
    # One HTTP session per Options, made at the first request: a --loop keeps its connections and TLS sessions.
    _session: requests.Session | None = field(default=None, init=False, repr=False, compare=False)

    def session(self) -> requests.Session:
        if self._session is None:
            self._session = http.session(self.transport, self.token)
        return self._session


@dataclass(frozen=True)
class Outcome:
    """What a pull did: `applied` when the state advanced to `serial` (a new file, or a re-issue's new expiry)."""

    applied: bool
    serial: int
    message: str
    held: bool = False  # nothing new, said after the server held the poll (`Preference-Applied: wait`)


# --- HTTP -------------------------------------------------------------------------------------------------------


def _url(opts: Options, path: str) -> str:
    return opts.server.rstrip("/") + path


def _fetch_error(path: str, opts: Options, exc: Exception) -> errors.FeedError:
    return errors.FeedUnreachable(f"GET {path}: cannot reach {opts.server} or the transfer broke off ({exc!r})")


def _refused(path: str, response: requests.Response) -> errors.FeedError:
    """What an answer other than 200 and 304 means: the credential refused, or the server failing."""
    said = b""
    with suppress(requests.RequestException):  # what the server said, at most 300 bytes
        said = next(response.iter_content(300), b"")
    detail = " ".join(said.decode(errors="replace").split())  # on one line, whatever the server sent
    if response.status_code in _NOT_AUTHORISED:
        return errors.NotAuthorised(path, response.status_code, detail)
    return errors.FeedUnreachable(f"GET {path}: HTTP {response.status_code} {detail}")


def get(opts: Options, path: str, *, limit: int, etag: str | None = None) -> tuple[int, bytes, str | None]:
    """Status, body (or its first `limit + 1` bytes when it is longer: the caller refuses it unread) and ETag."""
    status, body, tag, _ = _get(opts, path, limit=limit, etag=etag)
    return status, body, tag


def _get(opts: Options, path: str, *, limit: int, etag: str | None = None, wait: float = 0.0
         ) -> tuple[int, bytes, str | None, bool]:
    """`get`, and whether a 304 came after the server held the request: with an `etag` and a `wait`, the server
    may hold it up to `wait` seconds until the answer changes."""
    headers = {"If-None-Match": etag} if etag else {}
    connect, read = opts.transport.timeout
    if etag and wait > 0:
        headers["Prefer"] = f"wait={wait:g}"
        read += wait  # no byte comes while the server holds it
    try:
        with opts.session().get(_url(opts, path), headers=headers, stream=True,
                                timeout=(connect, read)) as response:
            if response.status_code == 304:
                return 304, b"", etag, "wait" in response.headers.get("Preference-Applied", "")
            if response.status_code != 200:
                raise _refused(path, response)
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_content(min(_CHUNK, limit + 1)):  # a body shorter than its Content-Length raises
                chunks.append(chunk)
                size += len(chunk)
                if size > limit:
                    break
            return 200, b"".join(chunks)[: limit + 1], response.headers.get("ETag"), False
    except requests.RequestException as exc:
        raise _fetch_error(path, opts, exc) from None


def _download(opts: Options, path: str, target: Path, ref: manifest.FileRef, *, what: str) -> None:
    """Stream a body into `target` (fsynced), hashing it as it comes; it must be the file `ref` names (never more
    bytes than it states are read)."""
    sha256 = hashlib.sha256()
    size = 0
    with target.open("wb") as handle:
        try:
            with opts.session().get(_url(opts, path), stream=True, timeout=opts.transport.timeout) as response:
                if response.status_code != 200:
                    raise _refused(path, response)
                for chunk in response.iter_content(_CHUNK):
                    size += len(chunk)
                    sha256.update(chunk)
                    if size > ref.size:  # longer than signed: not the file, whatever follows
                        raise errors.LengthOrHashMismatch(what, signed=ref.sha256, received=sha256.hexdigest())
                    handle.write(chunk)
        except requests.RequestException as exc:
            raise _fetch_error(path, opts, exc) from None
        handle.flush()
        os.fsync(handle.fileno())
    trust.check_file(what, ref, sha256=sha256.hexdigest(), size=size)


def _post(opts: Options, path: str, body: dict[str, object]) -> None:
    """POST JSON; raises requests.RequestException on any failure (never retried: the next pull reports again)."""
    response = opts.session().post(_url(opts, path), json=body, timeout=opts.transport.timeout)
    response.raise_for_status()


def _acknowledge(opts: Options, serial: int, sha256: str) -> str:
    """POST applied; a failure is only a warning (the next pull reports again)."""
    try:
        _post(opts, f"{FEED_PATH}/applied", {"serial": serial, "sha256": sha256, "format": opts.fmt})
    except requests.RequestException as exc:
        return f"; warning: could not report it to the server ({exc})"
    return ""


# --- the state dir ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _State:
    """What the state dir says was applied. State from a client before manifests has `serial` and `legacy` (its
    names file, or its names) only: it is followed by a whole download."""

    serial: int
    manifest_sha256: str | None = None
    etag: str | None = None
    expires_at: dt.datetime | None = None
    content_serial: int = 0
    list_file: Path | None = None
    list_sha256: str = ""
    fmt: str = ""
    file_sha256: str = ""
    count: int = 0
    protected: str | None = None  # trust.protected_fingerprint of the protected names the list was checked with
    legacy: Path | list[str] | None = None
    file_stat: list[int] | None = None  # _identity of the installed file when it was installed (or moved on)


def _str(raw: dict[str, object], key: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str):
        raise ValueError(f"{key} is missing or malformed")
    return value


def _int(raw: dict[str, object], key: str) -> int:
    value = raw.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{key} is missing or malformed")
    return value


def _own_file(folder: Path, raw: dict[str, object], key: str, *, pieces: bool = False) -> Path:
    """The file of the state dir the state names under `key` (with `pieces`, it may be stored as pieces)."""
    name = _str(raw, key)
    path = folder / name
    if path.name != name or not (path.is_file() or (pieces and stored.intact_size(path) is not None)):
        raise ValueError(f"{name} is missing")
    return path


def _load_state(folder: Path) -> _State | None:
    path = folder / STATE_FILE
    if not path.exists():
        return None
    try:
        raw = json.loads(path.read_text())
        if not isinstance(raw, dict) or not isinstance(raw.get("serial"), int):
            raise ValueError("no serial")
        if "manifest_sha256" not in raw:  # written by a client before manifests
            legacy: Path | list[str] | None = None
            if raw.get("names_file") is not None:
                legacy = _own_file(folder, raw, "names_file")
            elif isinstance(raw.get("names"), list):
                legacy = [str(n) for n in raw["names"]]
            return _State(serial=raw["serial"], legacy=legacy)
        etag, protected = raw.get("etag"), raw.get("protected_sha256")
        return _State(
            serial=raw["serial"], manifest_sha256=_str(raw, "manifest_sha256"),
            etag=etag if isinstance(etag, str) else None,
            expires_at=dt.datetime.fromisoformat(_str(raw, "expires_at")),
            content_serial=_int(raw, "content_serial"), list_file=_own_file(folder, raw, "list_file", pieces=True),
            list_sha256=_str(raw, "list_sha256"), fmt=_str(raw, "format"), file_sha256=_str(raw, "file_sha256"),
            count=_int(raw, "count"), protected=protected if isinstance(protected, str) else None,
            file_stat=_stored_identity(raw.get("file_stat")))
    except (OSError, ValueError) as exc:
        # Without the stored serial there is no rollback protection: stop rather than guess.
        raise errors.StateUnreadable(str(path), str(exc)) from None


@dataclass(frozen=True)
class Applied:
    """What the state dir says is in force, for `isp-feed check` and the textfile."""

    serial: int
    content_serial: int
    expires_at: dt.datetime | None


def applied(folder: Path) -> Applied | None:
    """The version in force (None: none yet); StateUnreadable when the state dir cannot be read."""
    state = _load_state(folder)
    if state is None:
        return None
    return Applied(state.serial, state.content_serial or state.serial, state.expires_at)


@dataclass(frozen=True)
class _Offer:
    """The verified manifest on offer, how it came, and what lets it change more than the limit (if anything)."""

    manifest: manifest.Manifest
    sha256: str
    etag: str | None
    now: dt.datetime
    allowance: trust.Allowance | None = None


def accepted_serial(folder: Path) -> int | None:
    """The serial this ISP's operator accepted with `isp-feed accept` (None: none, or an unreadable file)."""
    try:
        raw = json.loads((folder / ACCEPTED_FILE).read_text())
    except (OSError, ValueError):
        return None
    serial = raw.get("serial") if isinstance(raw, dict) else None
    return serial if isinstance(serial, int) and not isinstance(serial, bool) else None


def accept(folder: Path, serial: int, *, now: dt.datetime | None = None) -> None:
    """`isp-feed accept SERIAL`: the next pull lets that serial (or a re-issue of its content) through the change
    limit; every other check still applies. Written atomically; replaces an earlier acceptance."""
    folder.mkdir(parents=True, exist_ok=True)
    at = (now or dt.datetime.now(dt.UTC)).isoformat()
    splice.write_chunks(folder / ACCEPTED_FILE, [json.dumps({"serial": serial, "accepted_at": at}).encode()])


def _beyond_limit(opts: Options, offer: _Offer, changes: trust.Changes) -> str:
    """What the outcome says of a change larger than the limit that an allowance let through (else nothing)."""
    limit = trust.change_limit(changes.before, max_share=opts.max_change_share, min_changes=opts.max_change_min)
    if offer.allowance is None or changes.total <= limit:
        return ""
    return f"; {changes.total} changes, above the limit of {limit}, {offer.allowance.why}"


def _save_state(opts: Options, offer: _Offer, *, list_file: Path, file_sha256: str) -> None:
    m = offer.manifest
    state = {"serial": m.serial, "manifest_sha256": offer.sha256, "etag": offer.etag,
             "expires_at": m.expires_at.isoformat(), "content_serial": m.content_serial, "list_file": list_file.name,
             "list_sha256": m.list_sha256, "format": opts.fmt, "file_sha256": file_sha256, "count": m.count,
             "protected_sha256": trust.protected_fingerprint(opts.protected), "applied_at": offer.now.isoformat(),
             "file_stat": _identity(opts.out)}
    splice.write_chunks(opts.state_dir / STATE_FILE, [json.dumps(state, indent=1).encode()])


def _drop_old_lists(opts: Options, keep: str) -> None:
    """Delete the client's own earlier copies of the list, and the files of pieces and segments (named by their
    SHA-256) only they needed (and the names files of older clients)."""
    needed = stored.referenced(opts.state_dir / keep)
    for old in opts.state_dir.iterdir():
        name = old.name
        if name not in needed and (_OWN_LIST.fullmatch(name) or _SEGMENT.fullmatch(name)):
            old.unlink(missing_ok=True)


@contextmanager
def _previous(state: _State | None) -> Iterator[Iterable[tuple[str, str | None]] | None]:
    """The applied list in name order, streamed from the state dir (None before the first load)."""
    if state is None or (state.list_file is None and state.legacy is None):
        yield None
    elif state.list_file is not None:
        with stored.open_text(state.list_file) as handle:
            yield ((line[:line.find("\t")], line) for line in handle)
    elif isinstance(state.legacy, Path):
        with state.legacy.open(encoding="utf-8", newline="\n") as handle:
            yield trust.legacy_names(line.rstrip("\n") for line in handle)
    else:
        yield trust.legacy_names(sorted(state.legacy or ()))


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


def _file_sha256(path: Path) -> str:
    sha256 = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            sha256.update(chunk)
    return sha256.hexdigest()


# --- audit checkpoints ------------------------------------------------------------------------------------------


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


def _witness(opts: Options, checkpoint: formats.AuditCheckpoint | None, serial: int, now: dt.datetime) -> None:
    """Keep the signed audit checkpoint the manifest carries, so that this ISP can later attest what the server's
    history was: refuse one that is not signed, or that contradicts a checkpoint kept before (a cut history)."""
    if checkpoint is None:
        return  # a server from before checkpoints
    trust.verify_checkpoint(checkpoint, opts.pubkeys, serial=serial)
    path = opts.state_dir / CHECKPOINTS_FILE
    if not trust.checkpoint_is_new(checkpoint, _last_checkpoint(path), serial=serial, kept_in=str(path)):
        return
    _drop_torn_tail(path)
    with path.open("ab") as handle:
        handle.write(formats.checkpoint_line(checkpoint, serial=serial, received_at=now).encode())
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


# --- the pull ---------------------------------------------------------------------------------------------------


def pull(opts: Options) -> Outcome:
    """Apply the latest version if it passes every check; raise an `isp_feed_client.errors.FeedError` otherwise."""
    with _locked(opts.state_dir):
        return _pull(opts)


def _sweep(opts: Options) -> None:
    """Remove what a pull killed midway (power cut, kill -9) left: under the lock no other pull is writing, so every
    temporary file of the state dir (all start with a dot) and the staged copies beside --out are stale."""
    for old in opts.state_dir.iterdir():
        if old.name.startswith(".") and not old.is_dir():
            old.unlink(missing_ok=True)
    if opts.out.parent.is_dir():
        staged = re.compile(rf"\.{re.escape(opts.out.name)}\.tmp|\.\.{re.escape(opts.out.name)}\.tmp\.\d+\.tmp")
        for old in opts.out.parent.iterdir():
            if staged.fullmatch(old.name):
                old.unlink(missing_ok=True)


def _pull(opts: Options) -> Outcome:
    now = opts.now or dt.datetime.now(dt.UTC)
    _sweep(opts)
    state = _load_state(opts.state_dir)
    applied = state.serial if state is not None else 0
    # A current state holds the very file installed in this format: only then is "nothing new" (304) enough.
    installed = (state is not None and state.list_file is not None and state.fmt == opts.fmt
                 and opts.out.exists())
    etag = state.etag if installed and state is not None else None
    status, data, etag, held = _get(opts, MANIFEST_PATH, etag=etag, limit=manifest.MAX_MANIFEST_BYTES, wait=opts.wait)
    if status == 304:
        assert state is not None and state.expires_at is not None
        trust.check_not_expired(applied, state.expires_at, now, applied=True)
        return Outcome(False, applied, f"already current (serial {applied})", held)
    _, signature, _ = get(opts, f"{MANIFEST_PATH}.minisig", limit=MAX_SIGNATURE)
    m, sha256 = trust.verify_manifest(data, signature, opts.pubkeys)
    known = state.manifest_sha256 if state is not None else None
    trust.check_serial(m.serial, applied)
    # State from before manifests knows no manifest hash: the same serial must then bring the same names (below).
    legacy_same_serial = state is not None and known is None and m.serial == applied
    if not legacy_same_serial:
        trust.check_same_serial_same_content(m.serial, sha256, applied, known)
    trust.check_chain(m.serial, m.previous_sha256, applied, known)
    _witness(opts, m.checkpoint, m.serial, now)
    trust.check_not_expired(m.serial, m.expires_at, now)
    if installed and m.serial == applied:
        return Outcome(False, applied, f"already current (serial {applied})")
    offer = _Offer(m, sha256, etag, now, trust.allowance_for(
        m, accepted=accepted_serial(opts.state_dir), accept_confirmed=opts.accept_confirmed,
        max_confirmed_share=opts.max_confirmed_share))
    if installed and state is not None and _is_reissue(opts, state, m):
        return _move_on(opts, state, offer)

    opts.out.parent.mkdir(parents=True, exist_ok=True)
    staged = _Staged(opts.state_dir / _STAGED_LIST, opts.out.with_name(f".{opts.out.name}.tmp"))
    try:
        if installed and state is not None:
            why_not = _by_delta(opts, state, offer, staged)
            if why_not is not None:
                whole = f"the {opts.fmt} file" if staged.list_ready else "the whole list"
                staged.how = f"; the delta did not fit ({why_not}), so {whole} was downloaded"
        if not staged.out_ready:
            _by_download(opts, state, offer, staged, same_names=legacy_same_serial)
        return _apply(opts, offer, staged, state)
    finally:  # a refused or broken pull leaves nothing behind (a segment made for it goes with the next old list)
        stored.unlink_stored(staged.list_path)
        staged.out_path.unlink(missing_ok=True)


@dataclass
class _Staged:
    """The new list and resolver file, written beside their final places until the pull commits."""

    list_path: Path
    out_path: Path
    list_ready: bool = False  # the list is verified and its content checks passed
    out_ready: bool = False  # the resolver file is verified
    how: str = ""  # how it came, for the outcome message
    delta: Delta | None = None  # the delta the resolver file was spliced with (None: downloaded whole)


def _is_reissue(opts: Options, state: _State, m: manifest.Manifest) -> bool:
    """The manifest carries the very list and file installed (a re-issue: only the serial and expiry are new). The
    installed file is hashed again only when its identity changed since it was installed (as git and rsync tell a
    file unchanged): any write, rename over or edit changes its inode, size, mtime or ctime, and no one can set a
    ctime back."""
    return (m.list_sha256 == state.list_sha256 and m.files[opts.fmt].sha256 == state.file_sha256
            and (state.file_stat == _identity(opts.out) or _file_sha256(opts.out) == state.file_sha256))


def _identity(path: Path) -> list[int]:
    """What tells that a file was not touched: device, inode, size, mtime and ctime (nanoseconds)."""
    st = path.stat()
    return [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def _stored_identity(value: object) -> list[int] | None:
    """The identity the state recorded (None for state from before it, or anything else: the file is hashed)."""
    if isinstance(value, list) and len(value) == 5 and all(type(v) is int for v in value):
        return value
    return None


def _move_on(opts: Options, state: _State, offer: _Offer) -> Outcome:
    """A re-issue: nothing is downloaded or installed; the state takes the new serial and expiry."""
    m = offer.manifest
    assert state.list_file is not None
    _recheck_protected(opts, state, state.list_file, m.serial)
    list_file = opts.state_dir / f"list-{m.content_serial}.txt"
    if list_file != state.list_file:  # the same list under another content serial (the `list` format has no header)
        stored.link_stored(state.list_file, list_file)
    _save_state(opts, offer, list_file=list_file, file_sha256=state.file_sha256)
    _drop_old_lists(opts, keep=list_file.name)
    message = (f"serial {m.serial} (re-issue of the list of serial {m.content_serial}): expiry moves on to "
               f"{formats.format_time(m.expires_at)}")
    return Outcome(True, m.serial, message + _acknowledge(opts, m.serial, state.file_sha256))


def _recheck_protected(opts: Options, state: _State, list_path: Path, serial: int) -> None:
    """A delta or a re-issue shows only what is new: when the protected names changed since the applied list was
    checked (another --protected-file), check the whole list against them again."""
    if state.protected == trust.protected_fingerprint(opts.protected):
        return
    with stored.open_text(list_path) as handle:
        trust.check_protected(serial, (line[:line.find("\t")] for line in handle), opts.protected)


def _delta_limit(opts: Options, before: int, m: manifest.Manifest, allowance: trust.Allowance | None) -> int:
    """The largest `diff` answer worth reading: one for the largest change this client accepts (a confirmed or
    accepted one included)."""
    changes = trust.change_limit(before, max_share=opts.max_change_share, min_changes=opts.max_change_min)
    if allowance is not None:
        changes += allowance.names if allowance.names is not None else before + m.count
    return 1024 + 2 * (changes + 1) * _DELTA_ENTRY_BYTES


def _by_delta(opts: Options, state: _State, offer: _Offer, staged: _Staged) -> str | None:
    """Stage the new list and resolver file from the delta; None when both are verified, else why not (the pull
    then downloads what is missing). Refuses (raises) only on what a verified delta shows."""
    assert state.list_file is not None
    m = offer.manifest
    path = f"{FEED_PATH}/diff?from={state.serial}&to={m.serial}"
    limit = _delta_limit(opts, state.count, m, offer.allowance)
    try:
        _, body, _ = get(opts, path, limit=limit)
    except errors.FeedUnreachable as exc:  # e.g. 404: the applied serial is older than the server keeps deltas
        return str(exc)
    if len(body) > limit:
        return f"GET {path}: more than {limit} bytes, a larger change than this client accepts"
    try:
        d = trust.parse_delta(body, from_serial=state.content_serial, to_serial=m.content_serial,
                              before=state.count, after=m.count)
    except formats.FeedFormatError as exc:  # DeltaMismatch included
        return f"GET {path}: {exc}"
    # The resolver file is spliced in a thread while the list is (copying and hashing release the GIL: two cores
    # halve a national +1); it is only staged, and believed once the list proves the delta.
    with ThreadPoolExecutor(1) as pool:
        out = pool.submit(splice.splice_file, opts.out, staged.out_path, m.content(), opts.fmt, m.count, d,
                          sync_dir=False)
        large = (stored.stored_size(state.list_file) or 0) >= opts.list_pieces_from
        try:
            written = splice.splice_file(state.list_file, staged.list_path, m.content(), "list", m.count, d,
                                         sync_dir=False, max_pieces=opts.list_max_pieces if large else 0)
        except formats.FeedFormatError as exc:
            return f"GET {path}: {exc}"
        except FileNotFoundError as exc:  # a piece of the kept list gone since the state was read
            return f"the kept list cannot be read ({exc})"
        if written.pieces:  # splice_file wrote the pieces list where the file would be: put it where it is read
            staged.list_path.replace(stored.pieces_path(staged.list_path))
        ref = m.files["list"]
        if (written.sha256, written.size) != (ref.sha256, ref.size):
            return f"GET {path}: it does not give the list the manifest signs"
        # The delta is proven: applied to the list checked before, it gives the signed list. Check what it changes.
        changes = trust.check_delta_content(m.serial, d, before=state.count, protected=opts.protected,
                                            max_share=opts.max_change_share, min_changes=opts.max_change_min,
                                            allowance=offer.allowance)
        _recheck_protected(opts, state, staged.list_path, m.serial)
        staged.list_ready = True
        try:
            written = out.result()
        except formats.FeedFormatError as exc:
            return f"{opts.out} does not take it: {exc}"
    ref = m.files[opts.fmt]
    if (written.sha256, written.size) != (ref.sha256, ref.size):
        return f"{opts.out} with the delta is not the {opts.fmt} file the manifest signs (changed locally?)"
    staged.out_ready = True
    staged.delta = d
    detail = f"+{changes.added} -{changes.removed}" + (f" ~{changes.changed}" if changes.changed else "")
    staged.how = f" by the delta from serial {state.serial} ({detail})" + _beyond_limit(opts, offer, changes)
    return None


def _by_download(opts: Options, state: _State | None, offer: _Offer, staged: _Staged, *,
                 same_names: bool) -> None:
    """Stage the new list and resolver file by downloading them whole (the list unless the delta gave it)."""
    m = offer.manifest
    if not staged.list_ready:
        _download(opts, f"{FEED_PATH}/versions/{m.serial}.list", staged.list_path, m.files["list"], what="list")
        with staged.list_path.open("rb") as handle, _previous(state) as previous:
            changes = trust.check_content(m.serial, listfile.read_blocks(handle), previous, protected=opts.protected,
                                          max_share=opts.max_change_share, min_changes=opts.max_change_min,
                                          max_initial=opts.max_initial, count=m.count, allowance=offer.allowance)
        if same_names and (changes is None or changes.added or changes.removed):
            # the applied serial again (state before manifests): only with the very names applied
            raise errors.SameSerialOtherContent(m.serial, applied_sha256=None, offered_sha256=offer.sha256)
        staged.list_ready = True
        if changes is not None:
            staged.how += _beyond_limit(opts, offer, changes)
    if opts.fmt == "list":
        shutil.copyfile(staged.list_path, staged.out_path)
        with staged.out_path.open("rb+") as handle:
            os.fsync(handle.fileno())
    else:
        _download(opts, f"{FEED_PATH}/versions/{m.serial}.{opts.fmt}", staged.out_path, m.files[opts.fmt],
                  what=opts.fmt)
    staged.out_ready = True


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
    splice.fsync_dir(opts.out.parent)
    return backup


def _run_reload(opts: Options) -> str | None:
    """Run the reload commands in order; None when each exited 0, else what went wrong."""
    for command in [opts.reload] if isinstance(opts.reload, str) else opts.reload or []:
        try:
            result = subprocess.run(shlex.split(command), capture_output=True, text=True, timeout=120)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"reload command {command!r} could not run: {exc}"
        if result.returncode != 0:
            said = " ".join((result.stderr.strip() or result.stdout.strip()).split())[:300]  # unbound-control: stdout
            return f"reload command {command!r} exited {result.returncode}: {said}"
    return None


def _served(opts: Options, serial: int, m: manifest.Manifest, *, wait: float | None = None) -> str | None:
    """None when every --resolver answers the canary of content serial `serial` with the stop page."""
    if not opts.resolvers:
        return None
    stop = canary_check.StopPage(m.stop_page_name, m.stop_page_ipv4)
    return canary_check.serves(opts.resolvers, serial, stop, wait=opts.resolver_wait if wait is None else wait)


def _by_control(opts: Options, m: manifest.Manifest, backup: Path | None, staged: _Staged) -> str | None:
    """Apply the staged delta to the running Unbound through its control channel and check its canary; None when it
    is served, else why not (the caller then reloads the whole file, which also undoes a half-applied edit)."""
    if opts.fmt != unbound_control.EXT:
        return f"the {opts.fmt} format is not Unbound's local zones"
    if staged.delta is None or backup is None:
        return "no delta to apply: a first load, or the file downloaded whole"
    try:
        edit = unbound_control.plan(m.content(), staged.delta, count=m.count,
                                    old_footer=unbound_control.footer(backup))
    except (OSError, ValueError) as exc:
        return str(exc)
    failure = unbound_control.apply(opts.unbound_control, edit)
    if failure is None:
        failure = _served(opts, m.content_serial, m, wait=min(opts.resolver_wait, _CONTROL_WAIT))
    if failure is None:
        staged.how += f"; through unbound-control ({edit.summary()}), no reload"
    return failure


def _load(opts: Options, m: manifest.Manifest, backup: Path | None, state: _State | None, staged: _Staged) -> None:
    """Make the resolver serve the installed file: through unbound-control when configured and a delta allows it,
    else (or when that fails) by the reload commands (ReloadFailed when those fail too)."""
    if opts.apply == unbound_control.APPLY_CONTROL:
        failure = _by_control(opts, m, backup, staged)
        if failure is None:
            return
        staged.how += f"; not through unbound-control ({failure}): the whole file reloaded"
    _reload(opts, m, backup, state)


def _reload(opts: Options, m: manifest.Manifest, backup: Path | None, state: _State | None) -> None:
    """Reload, then prove the resolver serves the new file; else put the previous file back, reload again, and
    check that the previous serial is served again (a refused reload may leave the resolver half-loaded)."""
    failure = _run_reload(opts) or _served(opts, m.content_serial, m)
    if failure is None:
        return
    if backup is None:
        message = (f"{failure}; there was no previous file to put back; serial {m.serial} is not acknowledged and "
                   "the state not advanced")
        _report_failure(opts, m, message)
        raise errors.ReloadFailed(message)
    backup.replace(opts.out)
    splice.fsync_dir(opts.out.parent)
    again = _run_reload(opts)
    if again is None and state is not None and _has_canary(opts.out, state.content_serial, m):
        again = _served(opts, state.content_serial, m)  # files from before canaries cannot be checked so
    restored = "reloaded and served again" if again is None else f"reloaded, but {again}"
    message = (f"{failure}; the previous file was put back and {restored}; serial {m.serial} is not acknowledged "
               "and the state not advanced")
    _report_failure(opts, m, message)
    raise errors.ReloadFailed(message)


def _report_failure(opts: Options, m: manifest.Manifest, message: str) -> None:
    """Tell the server the resolver did not take the serial (`applied` with `ok: false`); best effort."""
    with suppress(requests.RequestException):
        _post(opts, f"{FEED_PATH}/applied", {"serial": m.serial, "sha256": m.files[opts.fmt].sha256,
                                             "format": opts.fmt, "ok": False, "error": message[:500]})


def _has_canary(path: Path, serial: int, m: manifest.Manifest) -> bool:
    """Whether a resolver file carries the canary of `serial` (in its last lines: formats.py puts it there)."""
    with path.open("rb") as handle:
        handle.seek(max(0, os.fstat(handle.fileno()).st_size - 4096))
        return canary_name(serial, m.stop_page_name).encode() in handle.read(4096)


def _apply(opts: Options, offer: _Offer, staged: _Staged, state: _State | None) -> Outcome:
    """Install the staged file, reload and check it is served, then commit: keep the list, save the state,
    acknowledge."""
    m = offer.manifest
    file_sha256 = m.files[opts.fmt].sha256
    with stored.open_text(staged.list_path) as handle:
        trust.check_scopes_expressible(m.serial, opts.fmt, handle)
    backup = _install(opts, staged.out_path)
    if opts.reload or opts.resolvers or opts.apply == unbound_control.APPLY_CONTROL:
        _load(opts, m, backup, state, staged)
    list_file = opts.state_dir / f"list-{m.content_serial}.txt"
    stored.replace_stored(staged.list_path, list_file)
    splice.fsync_dir(opts.state_dir)
    _save_state(opts, offer, list_file=list_file, file_sha256=file_sha256)
    accepted = accepted_serial(opts.state_dir)
    if accepted is not None and accepted <= m.serial:  # used, or overtaken: it never lets a later serial through
        (opts.state_dir / ACCEPTED_FILE).unlink(missing_ok=True)
    message = f"applied serial {m.serial} ({m.count} names) to {opts.out}{staged.how}"
    # The state is committed: the previous file and list are garbage. Freeing a national list's blocks takes tens of
    # milliseconds, done while the server is told.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(_drop_previous, opts, backup, keep=list_file.name)
        return Outcome(True, m.serial, message + _acknowledge(opts, m.serial, file_sha256))


def _drop_previous(opts: Options, backup: Path | None, *, keep: str) -> None:
    if backup is not None:
        with suppress(OSError):
            backup.unlink()
    _drop_old_lists(opts, keep=keep)
