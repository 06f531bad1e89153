"""The stop page users see when they reach a blocked name (ISPs point blocked names at this server).

Served for ANY path when the request's Host is the configured stop-page host, a blocked name, or a name under
one blocked with its subdomains, but /appeal: the public appeal form (api/web/appeal_form.py), which the stop page
links to with the blocked name, and which answers alike on every host. In French, Dutch, German and English
(?lang=, else Accept-Language, else French). The phone number to register disapproval is a `tel:` link.

Status 451 Unavailable For Legal Reasons (RFC 7725), with `Link: <...>; rel="blocked-by"`: the block is a legal
one, and a 451 tells browsers, crawlers and measurement tools (OONI and the like) exactly that, where a 200 would
pass the page off as the site's own content.

It logs and stores nothing about the visitor: no IP address, no user agent, no cookie, no referrer; only a count
per listed name per day. Counts are kept in memory and added to the table every few seconds (and at shutdown),
so a flood of visitors costs no database write each. The list of blocked names is cached and reloaded when the
audit chain moved (every approval and lift is an audit event), checked at most once a second: by a task of its
own in a real server (StopPageState.keep_fresh, started by the lifespan), so that no request touches the database
and a database down or locked does not stop the page; inline, by the request, where no lifespan runs. The page loads
nothing from any other host: inline style only, and a Content-Security-Policy that forbids everything else.
Its markup is in api/templates/stoppage/ (Jinja2, autoescaped, compiled once per language); its words are in the
catalogs (blocklist/i18n.py), the legal bases' in blocklist/labels.py.

Anyone can send any Host to this server and read the answer (451 listed, anything else not): the list can be
tested name by name without a credential. That is inherent to a stop page; its speed is not. GuessLimiter
gives each source address (an IPv6 /64 counts as one) a small budget of *unlisted* names, in memory only and
bounded; once it is spent, every name needing a look-up, listed or not, gets the same 429 until the budget
refills, so that a throttled answer tells nothing about the list. Listed names cost nothing (the many visitors
of blocked sites behind one carrier-grade NAT do not use up its budget), nor does asking again about one of the
few unlisted names last answered to that source (the server's own host names, on which the staff work). The look-up
walks every parent of the name whether or not one matched, so listed and unlisted names cost the same up to the
answer itself.
"""

from __future__ import annotations

import datetime as dt
import functools
import ipaddress
import logging
import math
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable
from html import escape
from pathlib import Path

import anyio
import jinja2
from anyio.abc import TaskStatus
from fastapi import FastAPI
from markupsafe import Markup
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.logs import name_route
from api.models import StopPageHit
from api.runtime import Runtime
from blocklist import i18n, labels
from blocklist.models import AuditEvent, AuditHead, Submission
from blocklist.names import ancestors
from blocklist.vocab import LANGUAGE_NAMES, LANGUAGES

log = logging.getLogger("api.stoppage")
CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
APPEAL_CSP = CSP.replace("form-action 'none'", "form-action 'self'")  # the appeal form posts to itself
# The public appeal form, on every host of the stop page too (api/web/appeal_form.py): the stop page links to it.
APPEAL_PATH = "/appeal"
# The public statistics (api/web/transparency.py) and their stylesheets: the stop page links to them, so the app
# answers them on the stop page's hosts too. They show no listed name, whatever the Host.
PUBLIC_PREFIXES = ("/transparency", "/static/")
NOT_COUNTED = ("/favicon.ico", "/robots.txt")  # a browser's own requests are not visits
# A refresh reads what changed when the chain moved by at most this many events (else the whole list again), and
# the whole list at least this often.
INCREMENTAL_EVENTS = 20_000
FULL_RELOAD_SECONDS = 300.0
THROTTLE_FROM = 50_000  # names from which reloads are spaced out (below, a reload costs milliseconds)
RELOAD_SHARE = 20  # a reload of the names waits 20 times as long as the last one took (at most 5% of a core)
ROUTE = "(stop page)"  # what logs and metrics call every answer of the stop page: never its Host or path
REFRESH_SECONDS = 1.0  # how stale the cached list of blocked names may get
FLUSH_SECONDS = 5.0  # how long hit counts wait in memory before they are added to the table
# Unlisted names per source: a burst, then a steady rate. A person mistyping or following a stale link never
# comes near it; a guesser gets ~1,800 names an hour from one source instead of ~900 a second.
GUESS_BURST = 30
GUESS_PER_SECOND = 0.5
GUESS_SOURCES = 16_384  # sources remembered at once (~8 MB at most); the least recently seen is forgotten first
GUESS_REMEMBERED = 4  # unlisted names per source answered again for free (the server's own host names)
RENDERED_PAGES = 4096  # stop pages kept rendered, by (language, listed name, basis): ~10 MB at most


def choose_language(query: str, accept_language: str, default: str = "fr") -> str:
    """?lang= first, then the most preferred supported language of Accept-Language (q-values), else `default`."""
    for part in query.split("&"):
        key, _, value = part.partition("=")
        if key == "lang" and value in LANGUAGES:
            return value
    best, best_q = default, 0.0
    for position, item in enumerate(accept_language.split(",")[:20]):
        code, *params = (p.strip() for p in item.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        code = code.lower()[:2]
        # Earlier entries win ties (a tiny penalty by position keeps the header's order).
        if code in LANGUAGES and q > 0 and q - position * 1e-6 > best_q:
            best, best_q = code, q - position * 1e-6
    return best


def _text(words: str) -> Markup:
    """Our own wording as element text: &, < and > escaped, quotes left as typed (never put in an attribute)."""
    return Markup(escape(words, quote=False))


def tel_uri(phone: str) -> str:
    """The `tel:` link of a configured phone number as people write it ("+32 2 000 00 00" -> tel:+3220000000)."""
    return "tel:" + "".join(c for c in phone if c.isdigit() or c == "+")


TEMPLATES = Path(__file__).parent / "templates" / "stoppage"


# Compiled once per language: a page is then one render of a cached template, with no file system access.
@functools.lru_cache(maxsize=len(LANGUAGES))
def _templates(lang: str) -> jinja2.Environment:
    env = i18n.environment(str(TEMPLATES), lang)
    env.filters["text"] = _text
    env.filters["tel"] = tel_uri
    env.globals["languages"] = tuple(LANGUAGE_NAMES.items())
    return env


# Pages depend on nothing of the request but its language and the listed name (no visitor data, no time), so a
# rendered page is kept: a flood of visitors to one name costs one render. Bounded by RENDERED_PAGES.
@functools.lru_cache(maxsize=RENDERED_PAGES)
def render(lang: str, domain: str | None, basis: str | None, phone: str) -> bytes:
    """The stop page: for a listed name its legal basis, for the bare stop-page host the possible ones."""
    words = labels.LEGAL_BASIS.get(basis or "", labels.ANY_LEGAL_BASIS)
    return _templates(lang).get_template("stop.html").render(
        lang=lang, domain=domain, basis=words.translate(lang), phone=phone).encode()


def render_appeal(lang: str, phone: str, **form: object) -> bytes:
    """The public appeal form in the stop page's frame, with what api/web/appeal_form.py fills in (`form`: name,
    text, contact, error, receipt, the query the language switcher keeps)."""
    values = {"name": "", "text": "", "contact": "", "error": None, "receipt": None, "keep": "", **form}
    return _templates(lang).get_template("appeal.html").render(lang=lang, phone=phone, **values).encode()


@functools.lru_cache(maxsize=len(LANGUAGES))
def render_limited(lang: str) -> bytes:
    """The answer to a source whose budget of unlisted names is spent: the same whatever name it asked about."""
    return _templates(lang).get_template("limited.html").render(lang=lang).encode()


def headers(lang: str, body: bytes, stop_host: str, *, csp: str = CSP) -> list[tuple[bytes, bytes]]:
    """The response headers of the stop page and the appeal form: no cookie, no cache, nothing external."""
    return [
        (b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(body)).encode()),
        (b"content-security-policy", csp.encode()), (b"cache-control", b"no-store"),
        (b"referrer-policy", b"no-referrer"), (b"content-language", lang.encode()),
        (b"x-content-type-options", b"nosniff"), (b"link", f'<http://{stop_host}/>; rel="blocked-by"'.encode()),
    ]


class _Budget:
    __slots__ = ("names", "stamp", "tokens")

    def __init__(self, tokens: float, stamp: float) -> None:
        self.tokens = tokens
        self.stamp = stamp
        self.names: tuple[int, ...] = ()  # hashes of the last unlisted names answered: never the names


class GuessLimiter:
    """A token bucket of unlisted names per source, in a bounded LRU dict; nothing of it is ever stored.

    Memory: at most `max_sources` entries of a few floats and `remembered` hashes each, whatever the traffic.
    Forgetting a source (the least recently seen, once the dict is full) only gives it a fresh budget, which a
    guesser with many addresses has anyway: the bound costs nothing the per-source budget promised.
    """

    def __init__(self, *, burst: float = GUESS_BURST, per_second: float = GUESS_PER_SECOND,
                 max_sources: int = GUESS_SOURCES, remembered: int = GUESS_REMEMBERED,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.burst = burst
        self.per_second = per_second
        self.max_sources = max_sources
        self.remembered = remembered
        self._clock = clock
        self._sources: OrderedDict[str, _Budget] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._sources)

    def allow(self, source: str, name: str, *, listed: bool) -> bool:
        """Whether to answer `source` about `name`; an unlisted name spends one token, a listed one none.

        With no token left the answer is no for listed names too: otherwise a throttled source would still
        read the list from the difference between 451 and 429.
        """
        key = hash(name)
        with self._lock:
            now = self._clock()
            budget = self._sources.get(source)
            if budget is None:
                budget = self._sources[source] = _Budget(self.burst, now)
                if len(self._sources) > self.max_sources:
                    self._sources.popitem(last=False)
            else:
                self._sources.move_to_end(source)
                budget.tokens = min(self.burst, budget.tokens + (now - budget.stamp) * self.per_second)
                budget.stamp = now
            # Both kinds of name do the same work here; only the values kept differ.
            remembered = (key, *budget.names[: self.remembered - 1])
            spent = 0.0 if listed else 1.0
            if key in budget.names:
                return True  # answered to this source already: asking again teaches it nothing new
            if budget.tokens < 1:
                return False
            budget.tokens -= spent
            budget.names = budget.names if listed else remembered
            return True

    def retry_after(self, source: str) -> int:
        """Seconds until `source` has a token again (for Retry-After)."""
        with self._lock:
            budget = self._sources.get(source)
            missing = 1 - budget.tokens if budget is not None else 0
        if missing <= 0:
            return 1
        return math.ceil(missing / self.per_second) if self.per_second > 0 else 3600


def source_of(scope: Scope) -> str:
    """Whose budget a request spends: its client address, an IPv6 /64 as one (one subscriber's prefix)."""
    client = scope.get("client")
    if not client:
        return ""
    try:
        address = ipaddress.ip_address(client[0])
    except ValueError:
        return str(client[0])
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return f"{int(address) >> 64:x}/64"
    return str(address)


class StopPageState:
    """The cached blocked names and the hit counts waiting to be stored, shared by every request of a process."""

    def __init__(self, runtime: Runtime, *, refresh_seconds: float = REFRESH_SECONDS,
                 flush_seconds: float = FLUSH_SECONDS, limiter: GuessLimiter | None = None) -> None:
        self.runtime = runtime
        self.limiter = limiter or GuessLimiter()
        self.refresh_seconds = refresh_seconds
        self.flush_seconds = flush_seconds
        self._names: dict[str, tuple[str, str]] = {}  # a-label -> (scope, legal basis)
        self._marker: int | None = None
        self._checked = float("-inf")
        self._loaded_at, self._load_took = float("-inf"), 0.0
        self._refreshing = anyio.Lock()
        self._hits: Counter[tuple[str, dt.date]] = Counter()
        self._hits_lock = threading.Lock()
        self._flushing = threading.Lock()
        self._flushed = time.monotonic()
        # Set by keep_fresh: a task of its own reloads the names and stores the counts, never a request.
        self.kept_fresh = False

    async def match(self, host: str) -> tuple[str, str] | None:
        """The blocked name covering `host` and its legal basis, or None (from the cache, reloaded when stale)."""
        if not self.kept_fresh and time.monotonic() - self._checked >= self.refresh_seconds:
            async with self._refreshing:
                if time.monotonic() - self._checked >= self.refresh_seconds:
                    await anyio.to_thread.run_sync(self.refresh)
        names = self._names
        match = None
        # Every parent is looked up even after a match: a listed name must not answer sooner than another.
        for candidate in ancestors(host):  # the name itself first, then each parent
            found = names.get(candidate)
            if (found is not None and match is None
                    and (candidate == host or found[0] == "domain_and_subdomains")):
                match = candidate, found[1]
        return match

    def refresh(self) -> None:
        """Bring the blocked names up to date if the audit chain moved since the last load.

        What moved is read from the chain: the submissions its new events are about, and the current state of just
        their names (every worker did this once a second during an approval storm, and reading the whole list each
        time cost more than the requests). The whole list is read again at first, after a big jump, and every
        FULL_RELOAD_SECONDS (a change made in SQL without an event is found there too); a whole reload of a big list
        waits at least RELOAD_SHARE times as long as the last one took, so that it never takes more than a small
        share of the process, however busy the staff are."""
        # Read-only: it never waits for (nor holds) SQLite's write lock, whatever a long approval is doing.
        with self.runtime.database.reading() as session:
            marker = session.execute(select(AuditHead.last_id).where(AuditHead.id == 1)).scalar_one_or_none()
            since_load = time.monotonic() - self._loaded_at
            if marker is None or marker != self._marker:
                if (marker is not None and self._marker is not None and 0 < marker - self._marker <= INCREMENTAL_EVENTS
                        and since_load < FULL_RELOAD_SECONDS):
                    self._apply(session, self._marker, marker)
                    self._marker = marker
                elif len(self._names) < THROTTLE_FROM or since_load >= RELOAD_SHARE * self._load_took:
                    self._load_all(session, marker)
        self._checked = time.monotonic()

    def _load_all(self, session: Session, marker: int | None) -> None:
        """Every blocked name, as of chain position `marker`."""
        started = time.monotonic()
        rows = session.execute(select(Submission.domain, Submission.scope, Submission.legal_basis)
                               .where(Submission.status == "approved")).all()
        self._names = {domain: (scope, basis) for domain, scope, basis in rows}
        self._marker = marker
        self._loaded_at = time.monotonic()
        self._load_took = self._loaded_at - started

    def _apply(self, session: Session, since: int, through: int) -> None:
        """The names of the submissions that events (since, through] are about, as the table holds them now."""
        ids = {int(i) for i in session.execute(
            select(AuditEvent.object_id).where(AuditEvent.id > since, AuditEvent.id <= through,
                                               AuditEvent.object_type == "submission")).scalars()}
        if not ids:
            return
        domains = set(session.execute(select(Submission.domain).where(Submission.id.in_(ids))).scalars())
        blocked = {domain: (scope, basis) for domain, scope, basis in session.execute(
            select(Submission.domain, Submission.scope, Submission.legal_basis)
            .where(Submission.domain.in_(domains), Submission.status == "approved"))}
        # In place (a copy of a big list would cost what this saves): requests only look names up, one at a time,
        # and each set or pop is atomic.
        for domain in domains:
            if domain in blocked:
                self._names[domain] = blocked[domain]
            else:
                self._names.pop(domain, None)

    def count(self, domain: str) -> None:
        """Count one visit of a listed name today (in memory until the next flush)."""
        with self._hits_lock:
            self._hits[(domain, dt.datetime.now(dt.UTC).date())] += 1

    def flush_due(self) -> bool:
        """True when counts have waited long enough to be stored."""
        return bool(self._hits) and time.monotonic() - self._flushed >= self.flush_seconds

    def flush(self, *, wait: bool = False) -> None:
        """Add the counts waiting in memory to the table (one transaction); they stay in memory if it fails.
        `wait`: at shutdown, wait for a flush running in another thread, then store what came after it."""
        if not self._flushing.acquire(blocking=wait):
            return  # another thread is storing them right now
        try:
            with self._hits_lock:
                pending, self._hits = self._hits, Counter()
                self._flushed = time.monotonic()
            if not pending:
                return
            try:
                with self.runtime.database.transaction() as session:
                    for (domain, day), hits in sorted(pending.items()):
                        _add(session, domain, day, hits)
            except Exception:
                with self._hits_lock:
                    self._hits.update(pending)  # kept for the next attempt: nothing is lost
                raise
        finally:
            self._flushing.release()


    async def keep_fresh(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Reload the names every `refresh_seconds` and store the counts when due, from this task, until cancelled
        (`task_group.start` returns once the first load was tried: a server then starts with the names).

        Requests then never touch the database: while it is unreachable or locked the page is served from the
        names last loaded, and the counts wait in memory. A failure is logged when it starts and when it ends.
        """
        self.kept_fresh = True
        failing: str | None = None
        while True:
            try:
                await anyio.to_thread.run_sync(self.refresh)
                if self.flush_due():
                    await anyio.to_thread.run_sync(self.flush)
            except Exception as exc:  # kept as they are; tried again at the next tick
                if failing is None:
                    log.warning("stop page: the database failed (%s); serving the %d names last loaded, counts "
                                "kept in memory", type(exc).__name__, len(self._names))
                failing = type(exc).__name__
            else:
                if failing is not None:
                    log.warning("stop page: the database answers again (%d names)", len(self._names))
                failing = None
            task_status.started()
            task_status = anyio.TASK_STATUS_IGNORED
            await anyio.sleep(self.refresh_seconds)


def _add(session: Session, domain: str, day: dt.date, hits: int) -> None:
    """count += hits for (domain, day), creating the row on the day's first visit."""
    where = (StopPageHit.domain == domain, StopPageHit.day == day)
    updated = session.execute(update(StopPageHit).where(*where).values(count=StopPageHit.count + hits))
    if updated.rowcount == 0:  # type: ignore[attr-defined]
        try:
            with session.begin_nested():
                session.add(StopPageHit(domain=domain, day=day, count=hits))
        except IntegrityError:  # another process created the row meanwhile
            session.execute(update(StopPageHit).where(*where).values(count=StopPageHit.count + hits))


class StopPageMiddleware:
    """Answers every request whose Host is listed (or the stop-page host) with the stop page."""

    def __init__(self, app: ASGIApp, state: StopPageState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, self._flush_at_shutdown(receive), send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = ""
        accept_language = ""
        for key, value in scope["headers"]:
            if key == b"host":
                host = value.decode("latin-1")
            elif key == b"accept-language":
                accept_language = value.decode("latin-1")
        host = _host_name(host)
        if not host or len(host) > 253 or host == "localhost" or "." not in host or _is_ip(host):
            await self.app(scope, receive, send)
            return
        stop_host = self.state.runtime.settings.stop_page_host.lower().rstrip(".")
        match = None
        lang = choose_language(scope.get("query_string", b"").decode("latin-1"), accept_language)
        if host != stop_host:
            match = await self.state.match(host)
            source = source_of(scope)
            if not self.state.limiter.allow(source, host, listed=match is not None):
                name_route(scope, ROUTE)
                await self._limited(scope, send, lang, self.state.limiter.retry_after(source))
                return
            if match is None:
                await self.app(scope, receive, send)
                return
        path = scope.get("path", "/")
        if path == APPEAL_PATH or path.startswith(PUBLIC_PREFIXES):  # answered by the app like on any other host
            await self.app(scope, receive, send)
            return
        name_route(scope, ROUTE)
        domain, basis = match if match else (None, None)
        body, status = render(lang, domain, basis, self.state.runtime.settings.stop_page_phone), 451
        await send({"type": "http.response.start", "status": status, "headers": headers(lang, body, stop_host)})
        await send({"type": "http.response.body", "body": b"" if scope.get("method") == "HEAD" else body})
        if match is not None and path not in NOT_COUNTED:
            self.state.count(match[0])
        if not self.state.kept_fresh and self.state.flush_due():
            try:  # after the answer: the visitor never waits for it
                await anyio.to_thread.run_sync(self.state.flush)
            except Exception as exc:  # the counts stay in memory for the next flush
                log.warning("stop-page hit counts not stored yet: %s", exc)

    @staticmethod
    async def _limited(scope: Scope, send: Send, lang: str, retry_after: int) -> None:
        body = render_limited(lang)
        # The stop page's headers without its Link rel="blocked-by": this answer says nothing about a block.
        sent = [(k, v) for k, v in headers(lang, body, "") if k != b"link"]
        await send({"type": "http.response.start", "status": 429,
                    "headers": [*sent, (b"retry-after", str(retry_after).encode())]})
        await send({"type": "http.response.body", "body": b"" if scope.get("method") == "HEAD" else body})

    def _flush_at_shutdown(self, receive: Receive) -> Receive:
        async def wrapped() -> Message:
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                await anyio.to_thread.run_sync(functools.partial(self.state.flush, wait=True))
            return message

        return wrapped


def _host_name(header: str) -> str:
    """The host of a Host header, without port, brackets or trailing dot, in lower case."""
    header = header.strip().lower()
    if header.startswith("["):  # an IPv6 literal, maybe with a port
        return header[1:].split("]", 1)[0]
    if header.count(":") == 1:
        header = header.split(":", 1)[0]
    return header.rstrip(".")


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def install(app: FastAPI, rt: Runtime) -> None:
    """Add the Host-based stop page in front of everything else (its state on `app.state.stop_page`)."""
    state = StopPageState(rt)
    app.state.stop_page = state
    app.add_middleware(StopPageMiddleware, state=state)
