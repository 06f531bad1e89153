"""`isp-feed`: the reference client ISPs run (cron, systemd timer, or --loop)."""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
import time
from pathlib import Path
from types import FrameType

from isp_feed_client import canary_check, config, errors, formats, http, signing, unbound_control
from isp_feed_client import textfile as metrics
from isp_feed_client.errors import EXIT_FETCH, EXIT_NOT_AUTHORISED, EXIT_OK, EXIT_REFUSED, EXIT_RELOAD, EXIT_USAGE
from isp_feed_client.pull import Options, accept, pull

__all__ = ["EXIT_FETCH", "EXIT_NOT_AUTHORISED", "EXIT_OK", "EXIT_REFUSED", "EXIT_RELOAD", "EXIT_USAGE", "main",
           "run_once"]


_EPILOG = """what a pull fetches: latest.manifest.json (conditionally: 304 when nothing is new) and its signature;
  then, when a list is already applied, only diff?from=<applied serial> (a delta, spliced into the kept list and the
  --out file, both results checked against the hashes the manifest signs); a re-issue (same list, new expiry)
  downloads nothing. The first load, or a delta that does not fit, downloads the list and the --format file whole,
  each checked against its signed SHA-256 and size. Nothing is written over --out before every check passed.

checks, each refusing the version and keeping the last good file in force:
  manifest signed by a pinned key (--pubkey, repeatable during a key rotation), stating the serial, expiry and
  SHA-256 its signed comment states; serial never lower than the applied one (rollback) and never the same with
  another manifest; the direct successor of the applied manifest names it as its predecessor (a chain); not expired
  (freeze); every file is the one the manifest names (SHA-256 and size); no protected name (a built-in list of major
  platforms and government domains, plus --protected-file) nor a name under one; no change of more than
  --max-change-share of the list (changes of up to --max-change-min names always pass, so a list growing from empty
  takes at most that many names per version; a name whose scope or Unicode form changed counts once), unless the
  signed manifest carries the publication gate's confirmation of the change (which hold, confirmed by which
  magistrate, when, how many names): such a change passes up to --max-confirmed-share of the larger list new or gone
  (default 1: any confirmed change) unless --refuse-confirmed-changes; or unless this ISP's operator ran
  `isp-feed accept SERIAL` for that serial (the next pull lets it through the change limit; every other check
  still applies). The first
  load (empty --state-dir) has no list to compare with: it takes any size unless --max-initial is given. The
  dnsmasq.conf format (whose every block covers subdomains) takes no name of scope exact (ScopeNotExpressible).

reload: each --reload command runs in order (e.g. PowerDNS: `rec_control reload-lua-config`, then
  `rec_control wipe-cache '.$'`); then each --resolver is asked for the serial's canary (a name under the stop
  page's host that only that serial's file blocks) until it answers with the stop page. Only then is the serial
  recorded and acknowledged: a reload that exits 0 without loading the file (PowerDNS drops a bad file, BIND queues
  the reload) is caught. On failure the previous file is put back, reloaded and its canary checked.
  --apply unbound-control (--format unbound.conf): a delta is applied to the running Unbound through its control
  channel (`unbound-control local_zones`, `local_datas`, `local_zones_remove`, with --unbound-control's options)
  and the canary checked, with no reload; the first load, a whole download, or any failure there (the canary not
  served included) falls back to the whole file and --reload. The file is written either way.

audit checkpoints: each manifest carries a signed checkpoint of the server's audit chain (event count, head hash,
  time); the client appends every new one to <state-dir>/checkpoints.jsonl. Keep that file: it is this ISP's
  witness of the history (`blocklist audit verify --checkpoints DIR` reads it). A checkpoint not signed by a
  pinned key, or showing fewer events than one kept before (or other hashes at the same count), refuses the version.

formats: rpz (CNAME to the stop page), a.rpz (the stop page's A/AAAA; use it for Knot Resolver), json, txt,
  hosts (exact names only: a hosts file cannot block subdomains, so it is weaker), dnsmasq.conf, unbound.conf,
  list (the canonical list: name TAB scope TAB unicode).

state dir: state.json (the applied serial, manifest hash and expiry, the installed file's hash), list-<serial>.txt
  (the applied list, which deltas are applied to; a large one as list-<serial>.txt.pieces and segment files named
  by their SHA-256), checkpoints.jsonl, lock. One pull at a time per state dir.

exit codes (each failure prints one line: what it means, why, and a hint what to do):
  0  applied, re-issued (new expiry), or already current
  2  bad command line (or an unreadable --pubkey / --protected-file)
  3  refused: nothing written, the last good file stays in force. BadSignature, UnknownKey (a key not pinned with
     --pubkey), LengthOrHashMismatch (tampered, truncated, or not the file the manifest names), SignedFactsMismatch
     (the manifest differs from its signed comment), Rollback, SameSerialOtherContent, ChainBroken (a fork of the
     manifest chain), Freeze (expired), ProtectedName, ChangeTooLarge / InitialTooLarge, BadCheckpoint /
     HistoryRewritten, MalformedFeed, ScopeNotExpressible; also StateUnreadable and PullRunning (the state dir)
  4  FeedUnreachable: server unreachable, transfer broken off, or an HTTP error other than 401/403
  5  ReloadFailed: a reload command failed, or a --resolver did not answer the new serial's canary with the stop
     page within --resolver-wait: the previous file was put back and reloaded (and its own canary checked); the
     serial is not acknowledged
  6  NotAuthorised: the server refused --token (401: wrong, replaced or revoked) or this ISP (403: disabled)"""


_CONFIG_HELP = (f"TOML file with the options as keys (default: {config.DEFAULT_PATH} when it exists); flags given "
                "as well override it")


def _pull_options(p: argparse.ArgumentParser) -> None:
    """The options of a pull (also what `check` checks). No defaults here: config.KEYS has them, so that a flag not
    given leaves the configuration file's value."""
    p.add_argument("--config", type=Path, help=_CONFIG_HELP)
    p.add_argument("--server", help="e.g. https://blocklist.example (required: flag or `server` key)")
    p.add_argument("--token", help="this ISP's feed credential (better in the configuration file, mode 0600)")
    p.add_argument("--pubkey", action="append", type=Path,
                   help="trusted minisign public key file (repeat during a key rotation)")
    p.add_argument("--state-dir", type=Path)
    p.add_argument("--format", choices=formats.EXTENSIONS, help="default rpz")
    p.add_argument("--out", type=Path, help="file the resolver loads")
    p.add_argument("--reload", action="append",
                   help="command that makes the resolver re-read --out (repeat for several, run in order)")
    p.add_argument("--resolver", action="append", metavar="IP[:PORT]",
                   help="after the reload, acknowledge only once this resolver answers the serial's canary with the "
                        "stop page (repeatable)")
    p.add_argument("--resolver-wait", type=float,
                   help="seconds a --resolver may take to serve the new list after the reload (default 60: a resolver "
                        "reloading a national list takes seconds; the check ends as soon as the canary answers)")
    p.add_argument("--apply", choices=unbound_control.APPLY_MODES,
                   help="how a new version reaches the resolver: `reload` (default: the --reload commands) or "
                        "`unbound-control` (--format unbound.conf: a delta through Unbound's control channel, "
                        "--reload only for a first load or when that fails)")
    p.add_argument("--unbound-control", type=shlex.split, metavar="COMMAND",
                   help="the unbound-control command with its options, in one string (default `unbound-control`; "
                        "e.g. \"unbound-control -c /etc/unbound/unbound.conf\")")
    p.add_argument("--max-change-share", type=float,
                   help="refuse a version changing more than this share of the list (default 0.10)")
    p.add_argument("--max-change-min", type=int,
                   help="changes up to this many names are always accepted (default 10)")
    p.add_argument("--refuse-confirmed-changes", action="store_const", const=True,
                   help="refuse a change above the limit even when the manifest carries the gate's confirmation "
                        "(then only `isp-feed accept SERIAL` lets it through)")
    p.add_argument("--max-confirmed-share", type=float,
                   help="a confirmed change may make at most this share of the larger list new or gone (default 1)")
    p.add_argument("--max-initial", type=int,
                   help="refuse a first load (empty state dir) with more names than this (default: no limit)")
    p.add_argument("--protected-file", type=Path, help="extra names that must never be blocked, one per line")
    p.add_argument("--ca-file", type=Path,
                   help="CA bundle to verify the server's TLS certificate with (default: the system's)")
    p.add_argument("--connect-timeout", type=float, help="seconds to connect to the server (default 10)")
    p.add_argument("--read-timeout", type=float, help="seconds the server may stay silent (default 30)")
    p.add_argument("--retries", type=int,
                   help="retries of a GET on a connection error or a 5xx answer, with backoff (default 3)")
    p.add_argument("--backoff", type=float,
                   help="backoff factor in seconds: retries wait 0, 2x, 4x… this (default 0.5)")
    p.add_argument("--textfile", type=Path,
                   help="write Prometheus metrics here after every pull (node_exporter's textfile collector)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="isp-feed", description="Pull, verify and apply the signed blocklist feed.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("pull", help="apply the latest version if it passes every check", epilog=_EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter, argument_default=argparse.SUPPRESS)
    _pull_options(p)
    p.add_argument("--loop", action="store_const", const=True, help="keep pulling until stopped")
    p.add_argument("--interval", type=float, help="seconds between pulls with --loop (default 60); the server may "
                   "hold each poll that long (25 s at most) until a new version is published")
    c = sub.add_parser("check", help="check the configuration, the server (token, signature) and each --resolver "
                                     "(the canary of the serial in force); changes nothing",
                       argument_default=argparse.SUPPRESS)
    _pull_options(c)
    a = sub.add_parser("accept", help="let one serial through the change limit on the next pull (a change the "
                                      "authority confirmed to you); every other check still applies",
                       argument_default=argparse.SUPPRESS)
    a.add_argument("serial", type=int, help="the serial the refusal named (ChangeTooLarge)")
    a.add_argument("--state-dir", type=Path)
    a.add_argument("--config", type=Path, help=_CONFIG_HELP)
    return parser


def _values(args: argparse.Namespace, *, need: tuple[str, ...] = config.PULL_NEEDS) -> dict[str, object]:
    """The options: the defaults, the configuration file's, the flags given."""
    given = {name: value for name, value in vars(args).items() if name in config.KEYS}
    path: Path | None = getattr(args, "config", None)
    if path is None and config.DEFAULT_PATH.exists():
        path = config.DEFAULT_PATH
    try:
        return config.merged(config.load(path) if path is not None else {}, given, need=need)
    except config.ConfigError as exc:
        raise SystemExit(_fail(EXIT_USAGE, str(exc))) from None


def _options(v: dict[str, object]) -> Options:
    fmt = config.typed(v, "format", str)
    if fmt not in formats.EXTENSIONS:
        raise SystemExit(_fail(EXIT_USAGE, f"format {fmt!r} is not one of {', '.join(formats.EXTENSIONS)}"))
    try:
        keys = [signing.parse_public_key(path.read_text()) for path in config.many(v, "pubkey", Path)]
    except (OSError, signing.SignatureError) as exc:
        raise SystemExit(_fail(EXIT_USAGE, f"cannot read public key: {exc}")) from None
    share, confirmed_share = config.typed(v, "max_change_share", float), config.typed(v, "max_confirmed_share", float)
    positive = [config.typed(v, name, float) for name in ("interval", "resolver_wait", "connect_timeout",
                                                            "read_timeout")]
    transport = http.Transport(ca_file=config.optional(v, "ca_file", Path),
                               connect_timeout=config.typed(v, "connect_timeout", float),
                               read_timeout=config.typed(v, "read_timeout", float),
                               retries=config.typed(v, "retries", int), backoff=config.typed(v, "backoff", float))
    if not 0 <= share <= 1 or not 0 <= confirmed_share <= 1 or min(positive) <= 0 or transport.retries < 0 \
            or transport.backoff < 0:
        raise SystemExit(_fail(EXIT_USAGE, "--max-change-share and --max-confirmed-share must be within 0..1, "
                                           "--interval, --resolver-wait and the timeouts positive, --retries and "
                                           "--backoff not negative"))
    opts = Options(server=config.typed(v, "server", str), token=config.typed(v, "token", str), pubkeys=keys,
                   state_dir=config.typed(v, "state_dir", Path), fmt=fmt, out=config.typed(v, "out", Path),
                   reload=config.many(v, "reload", str), max_change_share=share,
                   max_change_min=config.typed(v, "max_change_min", int),
                   max_initial=config.optional(v, "max_initial", int),
                   resolver_wait=config.typed(v, "resolver_wait", float),
                   accept_confirmed=not config.typed(v, "refuse_confirmed_changes", bool),
                   max_confirmed_share=confirmed_share, transport=transport)
    opts.apply, opts.unbound_control = _apply_mode(v, opts)
    try:
        opts.resolvers = [canary_check.parse_resolver(text) for text in config.many(v, "resolver", str)]
    except ValueError as exc:
        raise SystemExit(_fail(EXIT_USAGE, f"--resolver {exc}")) from None
    protected_file = config.optional(v, "protected_file", Path)
    if protected_file is not None:
        try:
            lines = protected_file.read_text().splitlines()
        except OSError as exc:
            raise SystemExit(_fail(EXIT_USAGE, f"cannot read --protected-file: {exc}")) from None
        opts.protected |= {line.strip().lower().rstrip(".") for line in lines
                           if line.strip() and not line.lstrip().startswith("#")}
    return opts


def _apply_mode(v: dict[str, object], opts: Options) -> tuple[str, list[str]]:
    """`apply` and the unbound-control command, checked against the format and the reload commands."""
    mode = config.typed(v, "apply", str)
    if mode not in unbound_control.APPLY_MODES:
        raise SystemExit(_fail(EXIT_USAGE, f"apply {mode!r} is not one of {', '.join(unbound_control.APPLY_MODES)}"))
    words = config.many(v, "unbound_control", str)
    command = shlex.split(words[0]) if len(words) == 1 else words  # one string: a command line
    if mode == unbound_control.APPLY_CONTROL and (opts.fmt != unbound_control.EXT or not opts.reload or not command):
        raise SystemExit(_fail(EXIT_USAGE, "--apply unbound-control needs --format unbound.conf, an --unbound-control "
                                           "command, and --reload (the first load and every fallback reload the "
                                           "whole file)"))
    return mode, command


def _accept(state_dir: Path, serial: int) -> int:
    if serial < 1:
        return _fail(EXIT_USAGE, "accept: SERIAL must be a positive serial")
    try:
        accept(state_dir, serial)
    except OSError as exc:
        return _fail(EXIT_USAGE, f"accept: cannot write to {state_dir}: {exc}")
    print(f"isp-feed: the next pull lets serial {serial} through the change limit (every other check still applies)")
    return EXIT_OK


def _fail(code: int, message: str) -> int:
    print(f"isp-feed: {message}", file=sys.stderr)
    return code


def run_once(opts: Options) -> int:
    """One pull; the exit code says what happened."""
    return _pull_once(opts)[0]


def _pull_once(opts: Options) -> tuple[int, bool]:
    """One pull: the exit code, and whether a loop may pull again at once: the state advanced (a version applied,
    a re-issue's expiry), or the server held the poll until it answered that nothing is new."""
    try:
        outcome = pull(opts)
    except errors.FeedError as exc:  # one line per failure, so that a log or a cron mail shows it whole
        return _fail(exc.exit_code, exc.explain()), False
    print(f"isp-feed: {outcome.message}")
    return EXIT_OK, outcome.applied or outcome.held


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `isp-feed` command."""
    args = _parser().parse_args(argv)
    if args.command == "accept":
        values = _values(args, need=("state_dir",))
        return _accept(config.typed(values, "state_dir", Path), args.serial)
    values = _values(args)
    opts = _options(values)
    if args.command == "check":
        from isp_feed_client import check  # only for `check`: a pull does not import what it needs

        return check.run(opts)
    textfile = config.optional(values, "textfile", Path)

    def once() -> tuple[int, bool]:
        code, applied = _pull_once(opts)
        if textfile is not None:
            try:
                metrics.write(textfile, state_dir=opts.state_dir, code=code)
            except OSError as exc:  # the pull's own outcome stands; the operator learns why the metrics are stale
                print(f"isp-feed: warning: cannot write --textfile {textfile}: {exc}", file=sys.stderr)
        return code, applied

    if not config.typed(values, "loop", bool):
        return once()[0]
    interval = config.typed(values, "interval", float)
    # Each poll of a current client may be held by the server until a new version is published, up to the interval
    # (api/feed_not_modified.py; 25 s at most): after a held poll, or a version applied, the next poll starts at
    # once, to be held in its turn. A server that does not hold answers at once, and the loop sleeps out the
    # interval as it always did.
    opts.wait = interval
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    code = EXIT_OK
    while not stopping:
        deadline = time.monotonic() + interval
        code, again = once()
        while not again and not stopping and time.monotonic() < deadline:
            time.sleep(min(0.2, interval))
    return code


if __name__ == "__main__":
    sys.exit(main())
