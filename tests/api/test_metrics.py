"""/metrics: Prometheus' text format with the series operations watch, never a listed name; token or loopback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from api import health, scheduler
from api.app import create_app
from api.runtime import Runtime
from blocklist import isps
from blocklist.settings import Settings
from isp_feed import jobs as feed_jobs
from isp_feed import serving, versions
from tests.support import transparency_data as data

LOOPBACK = ("127.0.0.1", 50000)


def scrape(client: TestClient, **headers: str) -> dict[str, list[Sample]]:
    """The samples of one scrape by metric name (a counter's `_total`, a histogram's `_count`... separately)."""
    answer = client.get("/metrics", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples: dict[str, list[Sample]] = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append(sample)
    return samples


def value(samples: dict[str, list[Sample]], name: str, **labels: str) -> float:
    (found,) = [s.value for s in samples[name] if all(s.labels.get(k) == v for k, v in labels.items())]
    return found


@pytest.fixture
def figures(rt: Runtime) -> dict[str, object]:
    """The transparency dataset (names, ISPs, requisitions, rounds), a published feed version fetched and applied by
    ISP Alpha only, and a scheduler heartbeat."""
    with rt.database.transaction() as s:
        data.build(s)
        credential = isps.rotate_credential(s, actor="test", isp=isps.get_isp(s, data.ISP_ALPHA))
    serial = feed_jobs.publish_feed(rt.job_context)
    assert serial is not None
    health.beat(rt.job_context)
    return {"serial": serial, "credential": credential}


def test_the_series_operations_watch(rt: Runtime, figures: dict[str, object]) -> None:
    app = create_app(rt)
    client = TestClient(app, client=LOOPBACK)
    # ISP Alpha polls the feed and acknowledges the version; ISP Beta never did.
    assert client.get("/feed/v1/latest.manifest.json",
                      headers={"Authorization": f"Bearer {figures['credential']}"}).status_code == 200
    rt.job_context.fetch_log.flush(rt.database)
    with rt.database.transaction() as s:
        version = versions.latest_version(s)
        assert version is not None
        serving.record_applied(s, isp=isps.get_isp(s, data.ISP_ALPHA), serial=version.serial,
                               sha256=versions.artifacts_of(s, version)[0].sha256)
    # A visitor of a listed name, counted and stored; a scheduled job that ran and one that failed.
    assert client.get("/", headers={"Host": f"www.{data.ALPHA}"}).status_code == 451
    app.state.stop_page.flush()

    def fails(_: object) -> None:
        raise RuntimeError("test")

    scheduler._guarded(scheduler.ScheduledJob("test.fails", fails, 1), rt, app.state.metrics)()
    beat = next(job for job in scheduler.scheduled_jobs() if job.name == "scheduler.heartbeat")
    scheduler._guarded(beat, rt, app.state.metrics)()

    answer = client.get("/metrics")
    samples = scrape(client)
    serial = float(str(figures["serial"]))
    assert value(samples, "blocklist_database_up") == 1
    assert value(samples, "blocklist_feed_serial") == serial
    assert value(samples, "blocklist_feed_names") == 4  # alpha, beta, court, later
    assert 0 <= value(samples, "blocklist_feed_age_seconds") < 3600
    assert value(samples, "blocklist_isp_applied_serial", isp=data.ISP_ALPHA) == serial
    assert value(samples, "blocklist_isp_lag_serials", isp=data.ISP_ALPHA) == 0
    assert value(samples, "blocklist_isp_lag_seconds", isp=data.ISP_ALPHA) == 0
    assert value(samples, "blocklist_isp_last_fetch_timestamp_seconds", isp=data.ISP_ALPHA) > 1.7e9
    assert value(samples, "blocklist_isp_lag_serials", isp=data.ISP_BETA) == serial
    assert value(samples, "blocklist_isp_lag_seconds", isp=data.ISP_BETA) >= 0
    assert [s for s in samples["blocklist_isp_applied_serial"] if s.labels["isp"] == data.ISP_BETA] == []
    # The newest round that checked each ISP: Alpha blocked neither name in October; Beta one of two in July.
    assert value(samples, "blocklist_isp_share_blocked", isp=data.ISP_ALPHA) == 0.0
    assert value(samples, "blocklist_isp_share_blocked", isp=data.ISP_BETA) == 0.5
    assert value(samples, "blocklist_requisitions", status="sent") == 2
    assert value(samples, "blocklist_requisitions", status="acknowledged") == 2
    assert value(samples, "blocklist_requisitions", status="failed") == 0
    assert value(samples, "blocklist_requisitions_overdue") == 2  # the two liftings were never acknowledged
    assert value(samples, "blocklist_verification_rounds_total") == 4
    assert value(samples, "blocklist_verification_checks_total") == 4 * 2 * 2
    assert value(samples, "blocklist_verification_last_round_timestamp_seconds") == data.at(
        "2025-10-05 10:00").timestamp()
    assert 0 <= value(samples, "blocklist_scheduler_heartbeat_age_seconds") < 60
    assert value(samples, "blocklist_scheduler_job_runs_total", job="test.fails") == 1
    assert value(samples, "blocklist_scheduler_job_failures_total", job="test.fails") == 1
    assert value(samples, "blocklist_scheduler_job_runs_total", job="scheduler.heartbeat") == 1
    assert [s for s in samples["blocklist_scheduler_job_failures_total"] if s.labels["job"] == "scheduler.heartbeat"
            ] == []  # a series appears with its first failure
    assert value(samples, "blocklist_stop_page_hits_total") == 1
    assert value(samples, "blocklist_http_request_duration_seconds_count", route="(stop page)", method="GET",
                 status="451") == 1
    assert value(samples, "blocklist_http_request_duration_seconds_count", route="/feed/v1/latest.{filename}",
                 method="GET", status="200") == 1
    assert value(samples, "blocklist_http_request_duration_seconds_count", route="/metrics", method="GET",
                 status="200") == 1  # the scrape before this one
    assert "process_cpu_seconds_total" in samples
    for secret in data.SECRETS:  # no listed name, case, reference... in any label or help text
        assert secret not in answer.text


def test_figures_are_reused_for_a_while(rt: Runtime, figures: dict[str, object]) -> None:
    client = TestClient(create_app(rt), client=LOOPBACK)
    first = value(scrape(client), "blocklist_feed_serial")
    feed_jobs.publish_feed(rt.job_context, force=True)  # a re-issue: the next serial
    assert value(scrape(client), "blocklist_feed_serial") == first  # within BLOCKLIST_METRICS_CACHE_SECONDS
    rt.settings.metrics_cache_seconds = 0
    assert value(scrape(client), "blocklist_feed_serial") == first + 1


def test_a_database_down_leaves_the_process_figures(tmp_path: Path) -> None:
    folder = tmp_path / "not-a-database"
    folder.mkdir()
    rt = Runtime(Settings(BLOCKLIST_DATA_DIR=tmp_path / "data",  # type: ignore[call-arg]
                          DATABASE_URL=f"sqlite:///{folder}", scheduler=False))
    client = TestClient(create_app(rt), client=LOOPBACK)
    samples = scrape(client)
    assert value(samples, "blocklist_database_up") == 0 and "blocklist_feed_serial" not in samples
    assert value(scrape(client), "blocklist_http_request_duration_seconds_count", route="/metrics",
                 method="GET", status="200") == 1
    rt.database.dispose()


def test_loopback_only_without_a_token(rt: Runtime) -> None:
    app = create_app(rt)
    assert TestClient(app, client=LOOPBACK).get("/metrics").status_code == 200
    assert TestClient(app, client=("::1", 50000)).get("/metrics").status_code == 200
    outside = TestClient(app, client=("192.0.2.7", 50000)).get("/metrics")
    assert outside.status_code == 403 and "BLOCKLIST_METRICS_TOKEN" in outside.text
    # Through a reverse proxy on the same host every client looks local: a forwarded request is refused.
    proxied = TestClient(app, client=LOOPBACK).get("/metrics", headers={"X-Forwarded-For": "192.0.2.7"})
    assert proxied.status_code == 403


def test_with_a_token_only_the_token(rt: Runtime) -> None:
    rt.settings.metrics_token = "metrics-token-for-tests-only"
    app = create_app(rt)
    local = TestClient(app, client=LOOPBACK)
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic metrics-token-for-tests-only"}):
        refused = local.get("/metrics", headers=headers)
        assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer", headers
        assert "metrics-token-for-tests-only" not in refused.text
    remote = TestClient(app, client=("192.0.2.7", 50000))
    assert remote.get("/metrics", headers={"Authorization": "Bearer metrics-token-for-tests-only"}).status_code == 200


def test_not_in_the_api_schema(client: TestClient) -> None:
    paths = json.loads(client.get("/openapi.json").text)["paths"]
    assert not {"/metrics", "/healthz", "/readyz"} & set(paths)


def test_openmetrics_when_asked(rt: Runtime) -> None:
    client = TestClient(create_app(rt), client=LOOPBACK)
    answer = client.get("/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/openmetrics-text")
    assert answer.text.endswith("# EOF\n") and "blocklist_database_up 1" in answer.text
