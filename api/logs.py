"""Server logs: one line per request, as JSON lines (BLOCKLIST_LOG_FORMAT=json, the default) or plain text.

Everything goes through the standard logging module, configured once by `logging_config` (uvicorn is handed the
same dictionary, so its own lines come out in the same format). Each request gets an id: a valid incoming
X-Request-ID (a reverse proxy's), else a new one; it is echoed as X-Request-ID (but on the stop page, which sends
its own headers and nothing else) and added to every line logged while the request runs.

A request's line holds its id, method, route TEMPLATE (`/api/v1/submissions/{submission_id}`, `(stop page)`),
status and duration, and nothing else of the request: never its path or query string (a public form's, a listed
name on the stop page), a header (tokens, cookies, feed credentials, user agents) or the client's address.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import queue
import re
import threading
import time
import uuid
from collections.abc import Callable
from http import HTTPMethod
from typing import Any

from fastapi import routing as fastapi_routing
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("api.request")
REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
# What a proxy's request id may look like (a UUID, a hex or base64url token, "host-1234.5"): anything else is
# replaced, so that a log line never carries what a client chose to write into it.
_VALID_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_ROUTE_KEY = "blocklist.route"
UNMATCHED = "(unmatched)"  # no route took the request (a 404): its path is not logged
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
# Loggers whose INFO lines are ours; everything else only from WARNING (apscheduler's line per job run, httpx's
# line per request with its URL).
OWN_LOGGERS = ("api", "blocklist", "isp_feed", "requisitions", "scheduler", "uvicorn")
# A LogRecord's own attributes: what a JSON line leaves out unless asked (anything else came through `extra=`).
_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime",
                                                                                    "request_id"}

Observer = Callable[[str, str, int, float], None]  # route, method, status, seconds


class RequestIdFilter(logging.Filter):
    """Adds the running request's id (or "-") to every record, for both formats."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, request id, the `extra=` fields, a trace."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage(),
            "request_id": getattr(record, "request_id", REQUEST_ID.get()),
        }
        line.update((key, value) for key, value in vars(record).items() if key not in _RECORD_FIELDS)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


class BackgroundStreamHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Formats each line where it is logged and writes it from a thread of its own, so that a slow or stalled reader
    of the stream never stops the server.

    Written from the event loop, a log line blocked the whole process once the stream's reader fell behind: a pipe
    nobody read held 64 KiB, and then every request waited inside a log call. Here a full buffer (LINES) drops the
    newest lines instead, and the writer says how many once it can write again; flush (at shutdown) waits a moment
    for what is buffered.
    """

    LINES = 2_000  # about 10 s of a busy server's lines, 600 KB

    def __init__(self, stream: Any = None) -> None:
        super().__init__(stream)
        self._lines: queue.Queue[str] = queue.Queue(self.LINES)
        self._dropped = 0
        self._dropped_lock = threading.Lock()  # counted by every logging thread, taken back by the writer
        threading.Thread(target=self._write_all, name="log-writer", daemon=True).start()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + self.terminator
        except Exception:  # logging's own convention: report and go on
            self.handleError(record)
            return
        try:
            self._lines.put_nowait(line)
        except queue.Full:
            with self._dropped_lock:
                self._dropped += 1

    def _write_all(self) -> None:
        while True:
            line = self._lines.get()
            with self._dropped_lock:
                dropped, self._dropped = self._dropped, 0
            if dropped:
                line = f"{dropped} log lines dropped: the log's reader was too slow\n{line}"
            try:
                self.stream.write(line)
                self.stream.flush()
            except Exception:  # a stream that fails: there is nothing else to write to
                pass
            finally:
                self._lines.task_done()

    def flush(self) -> None:
        deadline = time.monotonic() + 2.0
        while self._lines.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.005)


def logging_config(fmt: str) -> dict[str, Any]:
    """The logging configuration of a server process (for logging.config.dictConfig and uvicorn's log_config)."""
    formatter: dict[str, Any] = {"()": JsonFormatter} if fmt == "json" else {"format": TEXT_FORMAT}
    return {
        "version": 1, "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"main": formatter},
        "handlers": {"stderr": {"class": "api.logs.BackgroundStreamHandler", "stream": "ext://sys.stderr",
                                "formatter": "main", "filters": ["request_id"]}},
        "root": {"level": "WARNING", "handlers": ["stderr"]},
        "loggers": {
            **{name: {"level": "INFO", "handlers": [], "propagate": True} for name in OWN_LOGGERS},
            "uvicorn.error": {"level": "INFO", "handlers": [], "propagate": True},
            # uvicorn's access log writes the client's address and the whole path: never switched on.
            "uvicorn.access": {"level": "CRITICAL", "handlers": [], "propagate": False},
        },
    }


def name_route(scope: Scope, route: str) -> None:
    """Name the route that answered a request no router matched (the stop page answers before any router). Its
    answer goes out without an X-Request-ID: the stop page sends its own headers and nothing else."""
    scope[_ROUTE_KEY] = route


def route_template(scope: Scope, templates: dict[int, str] | None = None) -> str:
    """The template of the route that answered (`/api/v1/submissions/{submission_id}`), never the path itself.

    `templates`: each route's full template by the route's id, for routers included with a prefix (the route of
    the scope knows only its path inside its router); see `full_templates`.
    """
    named: str | None = scope.get(_ROUTE_KEY)
    if named is not None:
        return named
    route = scope.get("route")
    if templates is not None and id(route) in templates:
        return templates[id(route)]
    path = getattr(route, "path", None)
    if not isinstance(path, str):
        return UNMATCHED
    return f"{path}/{{path}}" if isinstance(route, Mount) else path


def full_templates(app: object) -> dict[int, str]:
    """Every route of the app with its full template, through FastAPI's walk of included routers (where this
    FastAPI has none, a route's own path is the full one)."""
    contexts = getattr(fastapi_routing, "iter_route_contexts", None)
    routes = getattr(app, "routes", None)
    if contexts is None or routes is None:
        return {}
    return {id(context.original_route): context.path_format for context in contexts(routes)}


def request_id(scope: Scope) -> str:
    """The incoming X-Request-ID if it looks like one, else a new random id."""
    for key, value in scope["headers"]:
        if key == b"x-request-id":
            candidate: str = value.decode("latin-1")
            if _VALID_ID.fullmatch(candidate):
                return candidate
            break
    return uuid.uuid4().hex


class RequestLogMiddleware:
    """Outermost: gives each HTTP request its id, then logs its line and hands its figures to `observe`."""

    def __init__(self, app: ASGIApp, observe: Observer | None = None) -> None:
        self.app = app
        self.observe = observe
        self._templates: dict[int, str] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = request_id(scope)
        token = REQUEST_ID.set(rid)
        started = time.perf_counter()
        status = 500  # unless the app starts an answer: an exception escaped, and the server answers 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                if _ROUTE_KEY not in scope:
                    message = {**message, "headers": [*message.get("headers", ()), (b"x-request-id", rid.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            method = scope["method"] if scope["method"] in HTTPMethod.__members__ else "other"  # a bounded label
            answered_by = scope.get("route")
            if answered_by is not None and id(answered_by) not in self._templates:  # the first request, a new route
                self._templates = full_templates(scope.get("app"))
                self._templates.setdefault(id(answered_by), route_template(scope))  # unknown to the walk: its path
            route = route_template(scope, self._templates)
            if self.observe is not None:
                self.observe(route, method, status, seconds)
            log.info("%s %s %d %.1f ms", method, route, status, seconds * 1000,
                     extra={"method": method, "route": route, "status": status,
                            "duration_ms": round(seconds * 1000, 3)})
            REQUEST_ID.reset(token)
