"""One pull of the feed: fetch, verify everything, write atomically, reload, remember, acknowledge.

On any refusal the last good file stays exactly as it was and the resolver keeps enforcing it.
Imports nothing of the server: only the standard library, `isp_feed.formats` and `isp_feed.signing`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shlex
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from isp_feed import formats, signing

# Names no version may ever contain (a built-in floor; --protected-file adds more). Denmark 2012.
BUILTIN_PROTECTED = ("google.com", "google.be", "youtube.com", "facebook.com", "wikipedia.org", "microsoft.com",
                     "apple.com", "amazon.com", "gov.be", "fgov.be", "belgium.be", "europa.eu")


class Refused(Exception):
    """The client refused a version; the last good list stays in force (exit 3)."""


class FetchFailed(Exception):
    """The server could not be reached or answered an error (exit 4)."""


class ReloadFailed(Exception):
    """The resolver's reload command failed; the previous file was put back (exit 5)."""


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
    protected: set[str] = field(default_factory=lambda: set(BUILTIN_PROTECTED))
    timeout: float = 30.0
    now: dt.datetime | None = None


@dataclass(frozen=True)
class Outcome:
    """What a pull did."""

    applied: bool
    serial: int
    message: str


def _get(opts: Options, path: str, etag: str | None = None) -> tuple[int, bytes, str | None]:
    request = urllib.request.Request(opts.server.rstrip("/") + path,
                                     headers={"Authorization": f"Bearer {opts.token}"})
    if etag:
        request.add_header("If-None-Match", etag)
    try:
        with urllib.request.urlopen(request, timeout=opts.timeout) as response:
            return response.status, response.read(), response.headers.get("ETag")
    except urllib.error.HTTPError as exc:
        if exc.code == 304:
            return 304, b"", etag
        detail = exc.read()[:300].decode(errors="replace")
        raise FetchFailed(f"GET {path}: HTTP {exc.code} {detail}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise FetchFailed(f"GET {path}: cannot reach {opts.server} ({exc})") from None


def _post(opts: Options, path: str, body: dict[str, object]) -> None:
    request = urllib.request.Request(opts.server.rstrip("/") + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Authorization": f"Bearer {opts.token}",
                                              "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=opts.timeout):
        pass


def _verified(opts: Options, body: bytes, signature: bytes, *, serial: int | None, fmt: str) -> formats.SignedFacts:
    try:
        comment = signing.verify(body, signature.decode(errors="replace"), opts.pubkeys)
        facts = formats.parse_trusted_comment(comment)
    except (signing.SignatureError, formats.FeedFormatError) as exc:
        raise Refused(f"{fmt}: {exc}") from None
    if facts.feed != "be-blocklist" or facts.fmt != fmt:
        raise Refused(f"signature is for {facts.feed}/{facts.fmt}, not be-blocklist/{fmt}")
    if facts.sha256 != hashlib.sha256(body).hexdigest():
        raise Refused(f"{fmt}: body does not match the signed SHA-256 (tampered or truncated)")
    if serial is not None and facts.serial != serial:
        raise Refused(f"{fmt}: signed serial {facts.serial} differs from {serial} (formats of different versions)")
    return facts


def _load_state(folder: Path) -> dict[str, object]:
    path = folder / "state.json"
    if not path.exists():
        return {}
    value: dict[str, object] = json.loads(path.read_text())
    return value


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _check_content(opts: Options, version: formats.FeedVersion, previous: list[str] | None) -> None:
    names = {e.name for e in version.entries}
    hits = sorted(n for n in names if any(n == p or n.endswith("." + p) for p in opts.protected))
    if hits:
        raise Refused(f"version {version.serial} contains protected name(s): {', '.join(hits[:5])}")
    if previous is None:
        return  # the first load has nothing to compare with
    before = set(previous)
    changed = len(names - before) + len(before - names)
    limit = max(opts.max_change_min, opts.max_change_share * len(before))
    if changed > limit:
        raise Refused(f"version {version.serial} changes {changed} of {len(before)} names "
                      f"(+{len(names - before)} -{len(before - names)}), above the limit of {int(limit)}")


def pull(opts: Options) -> Outcome:
    """Apply the latest version if it passes every check; raise Refused/FetchFailed/ReloadFailed otherwise."""
    now = opts.now or dt.datetime.now(dt.UTC)
    state = _load_state(opts.state_dir)
    stored_serial = int(state["serial"]) if "serial" in state else 0  # type: ignore[call-overload]
    status, envelope, etag = _get(opts, "/feed/v1/latest.json", etag=state.get("etag") if opts.out.exists() else None)  # type: ignore[arg-type]
    if status == 304:
        expires = dt.datetime.fromisoformat(str(state["expires_at"]))
        if expires < now:
            raise Refused(f"the feed is frozen: serial {stored_serial} expired at {expires:%Y-%m-%d %H:%M} UTC "
                          "and the server offers nothing newer")
        return Outcome(False, stored_serial, f"already current (serial {stored_serial})")
    _, envelope_sig, _ = _get(opts, "/feed/v1/latest.json.minisig")
    facts = _verified(opts, envelope, envelope_sig, serial=None, fmt="json")
    try:
        version = formats.parse_envelope(envelope)
    except formats.FeedFormatError as exc:
        raise Refused(str(exc)) from None
    if facts.serial != version.serial or facts.expires_at != version.expires_at:
        raise Refused("the envelope's serial or expiry differs from what its signature asserts")
    envelope_sha = hashlib.sha256(envelope).hexdigest()
    if version.serial < stored_serial:
        raise Refused(f"rollback: offered serial {version.serial} is older than the applied {stored_serial}")
    if version.serial == stored_serial and envelope_sha != state.get("envelope_sha256"):
        raise Refused(f"serial {version.serial} arrived with a different content than the one applied")
    if version.expires_at < now:
        raise Refused(f"version {version.serial} expired at {version.expires_at:%Y-%m-%d %H:%M} UTC (freeze attack or "
                      "stalled server)")
    if version.serial == stored_serial and opts.out.exists():
        return Outcome(False, stored_serial, f"already current (serial {stored_serial})")
    previous = state.get("names")
    _check_content(opts, version, list(previous) if isinstance(previous, list) else None)
    if opts.fmt == "json":
        body = envelope
    else:
        _, body, _ = _get(opts, f"/feed/v1/versions/{version.serial}.{opts.fmt}")
        _, body_sig, _ = _get(opts, f"/feed/v1/versions/{version.serial}.{opts.fmt}.minisig")
        _verified(opts, body, body_sig, serial=version.serial, fmt=opts.fmt)
    old = opts.out.read_bytes() if opts.out.exists() else None
    _write_atomically(opts.out, body)
    if opts.reload:
        result = subprocess.run(shlex.split(opts.reload), capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            if old is not None:
                _write_atomically(opts.out, old)
            raise ReloadFailed(f"reload command exited {result.returncode}: {result.stderr.strip()[:300]}; "
                               "the previous file was put back")
    body_sha = hashlib.sha256(body).hexdigest()
    new_state = {"serial": version.serial, "envelope_sha256": envelope_sha, "sha256": body_sha, "etag": etag,
                 "expires_at": version.expires_at.isoformat(), "format": opts.fmt, "applied_at": now.isoformat(),
                 "names": sorted(e.name for e in version.entries)}
    _write_atomically(opts.state_dir / "state.json", json.dumps(new_state, indent=1).encode())
    message = f"applied serial {version.serial} ({version.count} names) to {opts.out}"
    try:
        _post(opts, "/feed/v1/applied", {"serial": version.serial, "sha256": body_sha, "format": opts.fmt})
    except (urllib.error.URLError, OSError) as exc:
        message += f"; warning: could not report it to the server ({exc})"
    return Outcome(True, version.serial, message)
