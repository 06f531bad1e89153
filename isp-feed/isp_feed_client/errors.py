"""Every way a pull of the feed can end other than "applied" or "already current": one class per cause.

Modelled on python-tuf's `tuf.api.exceptions` (a `RepositoryError` subclass per refusal) and sigstore-python's
errors (each explains itself and says what to do). Each message is one line naming what was refused and why, with
the serials and hashes involved; `hint` says what the ISP's operator can do about it; `exit_code` is what
`isp-feed` exits with:

- exit 3, `FeedRefused` and its subclasses: a version was refused (or the local state forbids a pull): nothing
  was written, the last good file stays and the resolver keeps enforcing it;
- exit 4, `FeedUnreachable`: the server could not be reached, broke off a transfer, or answered an HTTP error;
- exit 5, `ReloadFailed`: the resolver's reload command failed, or the resolver did not serve the new version's
  canary afterwards; the previous file was put back and reloaded;
- exit 6, `NotAuthorised`: the server refused the feed credential (HTTP 401: wrong or revoked token) or the ISP
  (403: disabled).

Pure: imports nothing but the standard library (the ISP client must run without the server's code).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import ClassVar

EXIT_OK = 0
EXIT_USAGE = 2  # argparse's own code for a bad command line
EXIT_REFUSED = 3
EXIT_FETCH = 4
EXIT_RELOAD = 5
EXIT_NOT_AUTHORISED = 6


def _short(sha: str | None) -> str:
    return sha[:16] if sha else "none"


def _utc(moment: dt.datetime) -> str:
    return f"{moment.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"


class FeedError(Exception):
    """Base of the feed client's errors: a one-line message, what it means for the resolver, and what to do."""

    exit_code: ClassVar[int] = 1
    consequence: ClassVar[str] = ""  # what the failure means for the file the resolver loads
    default_hint: ClassVar[str] = ""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint if hint is not None else self.default_hint

    def __str__(self) -> str:
        return self.message

    def explain(self) -> str:
        """The one line `isp-feed` prints: consequence, message, then the hint."""
        head = f"{self.consequence}: {self.message}" if self.consequence else self.message
        return f"{head} (hint: {self.hint})" if self.hint else head


# --- refusals (exit 3): nothing written, the last good file stays in force ------------------------------------


class FeedRefused(FeedError):
    """The client refused a version; the last good file stays exactly as it was and the resolver keeps it."""

    exit_code = EXIT_REFUSED
    consequence = "refused, keeping the last good list"
    default_hint = "the next pull tries again; if the refusal persists, tell the authority"


class FileRefused(FeedRefused):
    """A refusal of one downloaded file: `what` names it (`manifest`, a format, or `list`), `reason` says why."""

    def __init__(self, what: str, reason: str) -> None:
        super().__init__(f"{what}: {reason}" if what else reason)
        self.what, self.reason = what, reason


class MalformedFeed(FileRefused):
    """A document is not in the feed's format (a garbled manifest, list or trusted comment, an unsupported format
    version)."""

    default_hint = ("the server sent a document this client cannot read: update isp-feed if the feed format changed, "
                    "otherwise report it to the authority")


class UnknownKey(FeedRefused):
    """Signed by a key none of the pinned `--pubkey` files holds."""

    default_hint = ("if the authority rotated its feed key, pin the new public key with a second --pubkey (the "
                    "old one stays valid during the transition); otherwise someone else signed this file")

    def __init__(self, what: str, key_id: str, trusted: Sequence[str]) -> None:
        known = ", ".join(trusted) or "none"
        super().__init__(f"{what}: signed with key {key_id}, which is not trusted (trusted: {known})")
        self.what, self.key_id, self.trusted = what, key_id, tuple(trusted)


class BadSignature(FileRefused):
    """The signature is malformed or does not match the data or its trusted comment (tampered or wrong file)."""

    default_hint = ("the file was changed on the way or is not the one signed: check for a proxy or cache between "
                    "this host and the server")


class SignedFactsMismatch(FileRefused):
    """A genuine signature whose trusted comment names another feed, format, serial or expiry than its file
    (files of different versions or formats mixed up on the way)."""

    default_hint = ("a cache or proxy served a file of another version or format: clear it, or report it to the "
                    "authority if the server itself serves it")


class LengthOrHashMismatch(FeedRefused):
    """A downloaded body's SHA-256 or size is not the one the signed manifest (or its signature) states: tampered,
    truncated, or a file of another version."""

    default_hint = "a transfer was cut or altered on the way; the next pull downloads it again"

    def __init__(self, what: str, *, signed: str, received: str) -> None:
        super().__init__(f"{what}: body does not match the signed SHA-256 (tampered or truncated): signed "
                         f"{_short(signed)}, received {_short(received)}")
        self.what, self.signed, self.received = what, signed, received


class Rollback(FeedRefused):
    """The offered serial is lower than the one applied (an old, genuinely signed version replayed)."""

    def __init__(self, *, offered: int, applied: int) -> None:
        super().__init__(f"rollback: offered serial {offered} is older than the applied {applied}",
                         hint=f"someone is replaying an old version, or the server was restored from a backup: the "
                              f"authority must publish a serial above {applied}")
        self.offered, self.applied = offered, applied


class SameSerialOtherContent(FeedRefused):
    """The applied serial offered again with other content: two lists signed under one serial."""

    default_hint = ("two different lists carry one serial: keep the state dir as evidence and tell the authority; the "
                    "next serial will apply")

    def __init__(self, serial: int, *, applied_sha256: str | None, offered_sha256: str) -> None:
        super().__init__(f"serial {serial} arrived with a different content than the one applied (manifest SHA-256 "
                         f"applied {_short(applied_sha256)}, offered {_short(offered_sha256)})")
        self.serial, self.applied_sha256, self.offered_sha256 = serial, applied_sha256, offered_sha256


class ChainBroken(FeedRefused):
    """The manifest is the direct successor of the applied one (serial + 1) but names another manifest as its
    predecessor: two histories were signed (a fork), or a version was swapped in on the way."""

    default_hint = ("the server's versions no longer form one chain: keep the state dir as evidence and tell the "
                    "authority; a later serial applies again")

    def __init__(self, serial: int, *, applied: int, applied_sha256: str, stated_sha256: str | None) -> None:
        super().__init__(f"manifest {serial} does not follow the applied serial {applied}: it names "
                         f"{_short(stated_sha256)} as its predecessor, the applied manifest is "
                         f"{_short(applied_sha256)}")
        self.serial, self.applied = serial, applied
        self.applied_sha256, self.stated_sha256 = applied_sha256, stated_sha256


class Freeze(FeedRefused):
    """The newest version the server offers has expired (a freeze attack, a stalled server, or a wrong clock)."""

    default_hint = ("the server re-signs every version hourly: check that it is publishing and that this host's "
                    "clock is right; the last good list stays in force meanwhile")

    def __init__(self, serial: int, expires_at: dt.datetime, *, applied: bool) -> None:
        if applied:  # the server answers 304: nothing newer than the expired version this client holds
            message = (f"the feed is frozen: serial {serial} expired at {_utc(expires_at)} and the server offers "
                       "nothing newer")
        else:
            message = f"version {serial} expired at {_utc(expires_at)} (freeze attack or stalled server)"
        super().__init__(message)
        self.serial, self.expires_at, self.applied = serial, expires_at, applied


class ProtectedName(FeedRefused):
    """The version lists a protected name (built in, or from --protected-file) or a name under one."""

    default_hint = ("a list that would block a major platform or a government domain is never applied: tell the "
                    "authority")

    def __init__(self, serial: int, names: Sequence[str]) -> None:
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        super().__init__(f"version {serial} contains protected name(s): {shown}")
        self.serial, self.names = serial, tuple(names)


class ScopeNotExpressible(FeedRefused):
    """The version blocks a name with scope `exact` and the chosen format cannot block a name without its
    subdomains (dnsmasq's `address=`): loading it would block more than was ordered."""

    default_hint = ("use a resolver and format that honour the exact scope (an RPZ format with Unbound, BIND, "
                    "PowerDNS Recursor or Knot Resolver); the last good list stays in force meanwhile")

    def __init__(self, serial: int, fmt: str, names: Sequence[str]) -> None:
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        super().__init__(f"version {serial} blocks {shown} without its subdomains (scope exact), which the {fmt} "
                         "format cannot express: it would block every name under it too")
        self.serial, self.fmt, self.names = serial, fmt, tuple(names)


class ChangeTooLarge(FeedRefused):
    """The version changes more names than --max-change-share of the list (and more than --max-change-min)."""

    default_hint = ("if the authority confirms this change, `isp-feed accept SERIAL` lets that serial through on the "
                    "next pull (or pull once with a higher --max-change-share or --max-change-min)")

    def __init__(self, serial: int, *, added: int, removed: int, before: int, limit: int, changed: int = 0,
                 note: str = "") -> None:
        # `changed`: names kept with another scope or Unicode form, each counted once; `note`: why a confirmation the
        # manifest carries did not let it through
        detail = f"+{added} -{removed}" + (f" ~{changed}" if changed else "")
        super().__init__(f"version {serial} changes {added + removed + changed} of {before} names ({detail}), above "
                         f"the limit of {limit}" + (f"; {note}" if note else ""),
                         hint=self.default_hint.replace("SERIAL", str(serial)))
        self.serial, self.added, self.removed, self.before, self.limit = serial, added, removed, before, limit
        self.changed = changed


class InitialTooLarge(ChangeTooLarge):
    """A first load (empty state dir) has more names than --max-initial."""

    default_hint = "raise --max-initial, or leave it out: by default the first load takes the whole list"

    def __init__(self, serial: int, *, count: int, max_initial: int) -> None:
        FeedRefused.__init__(self, f"first load: version {serial} has {count} names, above --max-initial "
                                   f"{max_initial}")
        self.serial, self.added, self.removed, self.before, self.limit = serial, count, 0, 0, max_initial


class BadCheckpoint(FeedRefused):
    """The version's audit checkpoint is not signed by a pinned key, or its signed comment differs from it."""

    default_hint = "the version's audit checkpoint cannot be trusted: tell the authority"

    def __init__(self, serial: int, reason: str) -> None:
        super().__init__(f"the audit checkpoint in version {serial}: {reason}")
        self.serial, self.reason = serial, reason


class HistoryRewritten(BadCheckpoint):
    """The version's checkpoint shows fewer audit events than one kept before, or other hashes at the same count:
    the server's audit history was cut or rewritten."""

    def __init__(self, serial: int, *, events: int, head: str, kept_events: int, kept_head: str, kept_at: str,
                 kept_in: str) -> None:
        what = "rewritten" if events == kept_events else "cut"
        FeedRefused.__init__(
            self, f"the server's audit history was {what}: version {serial} says {events} events (head "
                  f"{head[:16]}), but on {kept_at} it said {kept_events} (head {kept_head[:16]})",
            hint=f"keep {kept_in} as evidence and tell the authority")
        self.serial, self.reason = serial, f"history {what}"
        self.events, self.head, self.kept_events, self.kept_head = events, head, kept_events, kept_head


class StateUnreadable(FeedRefused):
    """The client's own state file is damaged: without the applied serial there is no rollback protection."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"the state file {path} is unreadable ({reason})",
                         hint="restore it, or move the state dir away to start afresh (the next pull then accepts "
                              "any serial)")
        self.path, self.reason = path, reason


class PullRunning(FeedRefused):
    """Another pull holds the state dir's lock (a cron run overlapping a --loop)."""

    default_hint = "run one client per --state-dir: a cron job and a --loop on the same one take turns"

    def __init__(self, folder: str) -> None:
        super().__init__(f"another isp-feed pull is running on {folder}")
        self.folder = folder


# --- the server ------------------------------------------------------------------------------------------------


class FeedUnreachable(FeedError):
    """The server could not be reached, a transfer broke off, or the server answered an HTTP error."""

    exit_code = EXIT_FETCH
    consequence = "fetch failed, keeping the last good list"
    default_hint = "check the network path to --server and the server's health; the next pull retries"


class NotAuthorised(FeedError):
    """The server refused the credential (401: wrong, rotated or revoked token) or this ISP (403: disabled)."""

    exit_code = EXIT_NOT_AUTHORISED
    consequence = "not authorised, keeping the last good list"

    def __init__(self, path: str, status: int, detail: str) -> None:
        if status == 403:
            why = "the server knows this feed credential but refuses the ISP (disabled by the authority)"
            hint = "ask the authority to re-enable this ISP; --token is right"
        else:
            why = "the server does not accept the feed credential given with --token"
            hint = ("check --token: it must be this ISP's current feed credential (isp_...); a revoked or replaced "
                    "one needs a new credential from the authority")
        super().__init__(f"GET {path}: HTTP {status}: {why} ({detail})", hint=hint)
        self.path, self.status, self.detail = path, status, detail


# --- the resolver ----------------------------------------------------------------------------------------------


class ReloadFailed(FeedError):
    """The resolver's reload command failed; the previous file was put back and the state not advanced."""

    exit_code = EXIT_RELOAD
    default_hint = "fix the resolver's configuration or the --reload command; the next pull retries the same version"
