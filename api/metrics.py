"""`/metrics` in Prometheus' text format (prometheus-client), for operators: never a listed name, never a person.

Two kinds of figures. What this process counts itself: HTTP requests by route template, method and status with
their latency (a histogram), and the scheduler's job runs and failures. And what the database says, read on
scrape and reused for `BLOCKLIST_METRICS_CACHE_SECONDS`, so that every process reports the same: the feed's serial
and age, per ISP its last fetch, applied serial, lag (serials and seconds) and the share blocked at its last
round, requisitions per status and overdue, verification rounds and name checks, the scheduler's heartbeat,
and the stop-page hits of every process together (a total, never per name).

Each figure is one cheap query through the packages' own helpers (isp_feed.versions, isp_feed.serving,
isp_feed.compliance, requisitions.service). The costly ones are kept: a finished verification round's figures
never change (its results are append-only), nor do the hit counts of days before yesterday.

Who may read it: Prometheus with `Authorization: Bearer <BLOCKLIST_METRICS_TOKEN>`; with no token configured,
only a client on the loopback interface that came through no proxy (a reverse proxy on the same host would make
every visitor a loopback client: set a token there).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.process_collector import ProcessCollector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from api.models import SchedulerHeartbeat, StopPageHit
from api.runtime import Runtime
from blocklist.models import utcnow
from isp_feed import compliance, serving, versions
from isp_feed.models import VerificationRound
from requisitions import service as requisitions
from requisitions.models import STATUSES as REQUISITION_STATUSES

log = logging.getLogger("api.metrics")
router = APIRouter(include_in_schema=False)
# Seconds: a page in a few milliseconds, a large export or a feed file in seconds.
HTTP_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
LAST_ROUNDS = 10  # the newest finished rounds looked at for each ISP's last share blocked
FORWARDED = (b"forwarded", b"x-forwarded-for", b"x-real-ip")  # a proxy passed the request on


@dataclass(frozen=True)
class IspFigures:
    """Where one active ISP stands."""

    name: str
    last_fetch_at: dt.datetime | None
    applied_serial: int | None
    lag_serials: int | None
    behind_since: dt.datetime | None  # when the oldest version it has not applied was published; None: current
    share_blocked: float | None


@dataclass(frozen=True)
class Figures:
    """What the database said at one scrape."""

    feed_serial: int | None
    feed_names: int | None
    feed_generated_at: dt.datetime | None
    isps: list[IspFigures]
    requisitions: dict[str, int]
    rounds: int
    checks: int
    last_round_at: dt.datetime | None
    heartbeat_at: dt.datetime | None
    stop_page_hits: int


class DatabaseFigures:
    """A Prometheus collector of the figures read from the database (see the module's docstring)."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._lock = threading.Lock()  # one scrape reads; a concurrent one waits and gets the same figures
        self._read: tuple[float, Figures | None] | None = None
        self._round_shares: dict[int, dict[int, float | None]] = {}  # round id -> ISP id -> share blocked
        self._older_hits: tuple[dt.date, int] | None = None  # (first day not included, hits before it)

    def describe(self) -> Iterable[Metric]:
        return ()  # the families depend on the data: nothing to check against other collectors at registration

    def figures(self) -> Figures | None:
        """The figures, read again when the cached ones are older than the setting; None: the database failed."""
        with self._lock:
            now = time.monotonic()
            if self._read is None or now - self._read[0] >= self.rt.settings.metrics_cache_seconds:
                self._read = (now, self._read_now())
            return self._read[1]

    def _read_now(self) -> Figures | None:
        try:
            with self.rt.database.reading() as session:
                return self._figures(session, utcnow())
        except (SQLAlchemyError, OSError) as exc:
            log.warning("metrics: the database could not be read (%s)", type(exc).__name__)
            return None

    def _figures(self, session: Session, now: dt.datetime) -> Figures:
        latest = versions.latest_version(session)
        shares = self._shares(session)
        isps = []
        for state in serving.feed_states(session):
            applied = state.applied_serial or 0
            behind = versions.next_version(session, applied) if latest is not None else None
            isps.append(IspFigures(state.isp_name, state.last_fetch_at, state.applied_serial,
                                   latest.serial - applied if latest is not None else None,
                                   behind.generated_at if behind is not None else None, shares.get(state.isp_id)))
        rounds, checks, last_round = session.execute(select(
            func.count(), func.coalesce(func.sum(VerificationRound.names * VerificationRound.resolvers), 0),
            func.max(VerificationRound.finished_at)).where(VerificationRound.finished_at.is_not(None))).one()
        heartbeat = session.get(SchedulerHeartbeat, 1)
        return Figures(latest.serial if latest else None, latest.count if latest else None,
                       latest.generated_at if latest else None, isps,
                       requisitions.status_counts(session, now=now), rounds, checks, last_round,
                       heartbeat.beat_at if heartbeat else None, self._hits(session, now.date()))

    def _shares(self, session: Session) -> dict[int, float | None]:
        """Per ISP id, the share blocked in the newest of the last finished rounds that checked it."""
        recent = list(session.execute(select(VerificationRound.id).where(VerificationRound.finished_at.is_not(None))
                                      .order_by(VerificationRound.id.desc()).limit(LAST_ROUNDS)).scalars())
        unknown = [round_id for round_id in recent if round_id not in self._round_shares]
        known = {round_id: self._round_shares.get(round_id, {}) for round_id in recent}
        for figure in compliance.round_figures(session, unknown):
            known.setdefault(figure.round_id, {})[figure.isp_id] = figure.share_blocked
        self._round_shares = known
        shares: dict[int, float | None] = {}
        for round_id in sorted(recent):  # the newer round's figure wins
            shares.update(known.get(round_id, {}))
        return shares

    def _hits(self, session: Session, today: dt.date) -> int:
        """Every stop-page hit stored; days before yesterday are summed once a day (only a flush held back for a
        whole day, the database down meanwhile, would add to them later, and it shows on the next day's sum)."""
        since = today - dt.timedelta(days=1)
        total = func.coalesce(func.sum(StopPageHit.count), 0)
        if self._older_hits is None or self._older_hits[0] != since:
            self._older_hits = (since, int(session.execute(select(total).where(StopPageHit.day < since)).scalar_one()))
        recent = int(session.execute(select(total).where(StopPageHit.day >= since)).scalar_one())
        return self._older_hits[1] + recent

    def collect(self) -> Iterator[Metric]:
        figures = self.figures()
        yield GaugeMetricFamily("blocklist_database_up", "1 when the figures below could be read from the database",
                                value=1 if figures is not None else 0)
        if figures is None:
            return
        now = utcnow()
        yield from _gauge("blocklist_feed_serial", "Serial of the latest published feed version", figures.feed_serial)
        yield from _gauge("blocklist_feed_names", "Names in the latest feed version", figures.feed_names)
        yield from _gauge("blocklist_feed_age_seconds", "Seconds since the latest feed version was published",
                          _seconds(now, figures.feed_generated_at))
        per_isp: dict[str, tuple[str, Callable[[IspFigures], float | None]]] = {
            "last_fetch_timestamp_seconds": ("When the ISP last fetched anything from the feed (Unix time)",
                                             lambda i: i.last_fetch_at.timestamp() if i.last_fetch_at else None),
            "applied_serial": ("The last serial the ISP's client acknowledged as applied",
                               lambda i: i.applied_serial),
            "lag_serials": ("Serials between the latest version and the one the ISP applied (0: current)",
                            lambda i: i.lag_serials),
            "lag_seconds": ("Seconds since the oldest version the ISP has not applied was published (0: current)",
                            lambda i: _seconds(now, i.behind_since) if i.behind_since else 0.0),
            "share_blocked": ("Share of the names checked at the ISP's last verification round found blocked",
                              lambda i: i.share_blocked),
        }
        for suffix, (documentation, value_of) in per_isp.items():
            family = GaugeMetricFamily(f"blocklist_isp_{suffix}", documentation, labels=["isp"])
            for isp in figures.isps:
                value = value_of(isp)
                if value is not None:
                    family.add_metric([isp.name], value)
            yield family
        by_status = GaugeMetricFamily("blocklist_requisitions", "Requisitions per delivery status", labels=["status"])
        for status in REQUISITION_STATUSES:
            by_status.add_metric([status], figures.requisitions.get(status, 0))
        yield by_status
        yield GaugeMetricFamily("blocklist_requisitions_overdue", "Requisitions pending or sent past their deadline",
                                value=figures.requisitions.get("overdue", 0))
        yield CounterMetricFamily("blocklist_verification_rounds", "Finished DNS verification rounds (probes' too)",
                                  value=figures.rounds)
        yield CounterMetricFamily("blocklist_verification_checks", "Names checked at an ISP resolver in finished "
                                  "rounds (each an A and an AAAA question; retries and the control's not counted)",
                                  value=figures.checks)
        yield from _gauge("blocklist_verification_last_round_timestamp_seconds",
                          "When the newest verification round finished (Unix time)",
                          figures.last_round_at.timestamp() if figures.last_round_at else None)
        yield from _gauge("blocklist_scheduler_heartbeat_age_seconds",
                          "Seconds since the running scheduler (in whichever process) last wrote its heartbeat",
                          _seconds(now, figures.heartbeat_at))
        yield CounterMetricFamily("blocklist_stop_page_hits", "Stop pages shown for listed names and stored, by every "
                                  "process together (a total, never per name)", value=figures.stop_page_hits)


def _gauge(name: str, documentation: str, value: float | None) -> Iterator[Metric]:
    """A gauge family, without a sample while there is nothing to report (no feed version yet...)."""
    family = GaugeMetricFamily(name, documentation)
    if value is not None:
        family.add_metric([], value)
    yield family


def _seconds(now: dt.datetime, then: dt.datetime | None) -> float | None:
    return max(0.0, (now - then).total_seconds()) if then is not None else None


class Metrics:
    """The registry of one app: the process's own counters and the database's figures."""

    def __init__(self, rt: Runtime) -> None:
        # No `_created` series beside each counter and histogram: in the text format each is one more gauge family
        # per metric (its children's creation times), which no dashboard here reads. (A process-wide switch of the
        # library, idempotent.)
        disable_created_metrics()  # type: ignore[no-untyped-call]  # the library leaves it unannotated
        self.registry = CollectorRegistry()
        self._requests = Histogram("blocklist_http_request_duration_seconds",
                                   "HTTP requests by route template, method and status, and how long they took",
                                   ("route", "method", "status"), registry=self.registry, buckets=HTTP_BUCKETS)
        self._job_runs = Counter("blocklist_scheduler_job_runs", "Scheduled job runs in this process", ("job",),
                                 registry=self.registry)
        self._job_failures = Counter("blocklist_scheduler_job_failures",
                                     "Scheduled job runs in this process that failed (logged, retried next tick)",
                                     ("job",), registry=self.registry)
        ProcessCollector(registry=self.registry)
        self.registry.register(DatabaseFigures(rt))

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        """Count one HTTP request (api.logs.RequestLogMiddleware calls this)."""
        self._requests.labels(route, method, str(status)).observe(seconds)

    def job_finished(self, job: str, *, failed: bool) -> None:
        """Count one run of a scheduled job (api/scheduler.py calls this)."""
        self._job_runs.labels(job).inc()
        if failed:
            self._job_failures.labels(job).inc()

    def exposition(self, accept: str) -> tuple[bytes, str]:
        """Every figure, and its content type: in the format the scraper's Accept asks for (Prometheus' text
        format unless it asks for OpenMetrics)."""
        encode, content_type = choose_encoder(accept)
        return encode(self.registry), content_type


def refusal(request: Request, token: str) -> tuple[int, str] | None:
    """Why this request may not read the metrics (status, reason), or None when it may."""
    if token:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and secrets.compare_digest(given.strip().encode(), token.encode()):
            return None
        return 401, "the metrics need Authorization: Bearer <BLOCKLIST_METRICS_TOKEN>"
    try:
        loopback = request.client is not None and ipaddress.ip_address(request.client.host).is_loopback
    except ValueError:
        loopback = False
    if loopback and not any(key in FORWARDED for key, _ in request.scope["headers"]):
        return None
    return 403, ("the metrics are answered only to loopback clients that came through no proxy while "
                 "BLOCKLIST_METRICS_TOKEN is not set")


@router.get("/metrics")
def metrics(request: Request) -> Response:
    """Prometheus' scrape: every figure, or a refusal with its reason."""
    rt: Runtime = request.app.state.runtime
    refused = refusal(request, rt.settings.metrics_token)
    if refused is not None:
        status, reason = refused
        return PlainTextResponse(reason + "\n", status_code=status,
                                 headers={"WWW-Authenticate": "Bearer"} if status == 401 else None)
    body, content_type = request.app.state.metrics.exposition(request.headers.get("accept", ""))
    return Response(body, headers={"Content-Type": content_type})
