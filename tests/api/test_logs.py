"""Server logs: one line per request with its id (echoed as X-Request-ID), route template, status and duration;
never a token, a password, a cookie, a public form's query string, a listed name or a visitor's details."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from api.cli import main
from api.logs import BackgroundStreamHandler, JsonFormatter, RequestIdFilter, logging_config
from api.runtime import Runtime
from blocklist import isps, users
from blocklist.models import User
from blocklist.settings import Settings
from tests.support.factories import approved
from tests.support.ports import free_port
from tests.support.server import ServerProcess
from tests.support.web import PASSWORD, csrf, give_passwords

LISTED = "csam-gallery.test"


def test_request_id_taken_or_made(client: TestClient) -> None:
    given = client.get("/healthz", headers={"X-Request-ID": "proxy-4f1c.2:7"})
    assert given.headers["x-request-id"] == "proxy-4f1c.2:7"
    made = {client.get("/healthz").headers["x-request-id"] for _ in range(3)}
    assert len(made) == 3 and all(re.fullmatch(r"[0-9a-f]{32}", m) for m in made)
    for odd in ("has spaces", "x" * 129, "quote\"and<angle>", "é"):
        replaced = client.get("/healthz", headers={"X-Request-ID": odd.encode()})
        assert re.fullmatch(r"[0-9a-f]{32}", replaced.headers["x-request-id"]), odd


def test_one_line_per_request_in_either_format(client: TestClient, tokens: dict[str, str],
                                               caplog: pytest.LogCaptureFixture) -> None:
    caplog.handler.addFilter(RequestIdFilter())  # as the configured handler does: the id of the running request
    with caplog.at_level(logging.INFO, logger="api.request"):
        answer = client.get("/api/v1/submissions/12345?secret=query-value",
                            headers={"Authorization": f"Bearer {tokens['officer']}", "X-Request-ID": "rid-1"})
    assert answer.status_code == 404
    (record,) = [r for r in caplog.records if r.name == "api.request"]
    line = json.loads(JsonFormatter().format(record))
    assert {k: line[k] for k in ("level", "logger", "request_id", "method", "route", "status")} == {
        "level": "info", "logger": "api.request", "request_id": "rid-1", "method": "GET",
        "route": "/api/v1/submissions/{submission_id}", "status": 404}
    assert line["duration_ms"] >= 0 and line["time"].endswith("+00:00")
    text = logging.Formatter(logging_config("text")["formatters"]["main"]["format"]).format(record)
    assert "[rid-1]" in text and "GET /api/v1/submissions/{submission_id} 404" in text
    for leaked in (tokens["officer"], "12345", "query-value"):
        assert leaked not in json.dumps(line) and leaked not in text


def test_blocklist_serve_writes_json_lines_without_secrets(settings: Settings, rt: Runtime, people: dict[str, User],
                                                            tmp_path: Path) -> None:
    """The real `blocklist serve`: every line of its output is JSON, one per request, and none holds a secret."""
    give_passwords(rt, "officer")
    with rt.database.transaction() as s:
        approved(s, people["officer"], people["magistrate"], LISTED)
        token = users.issue_token(s, actor="test", user=users.get_user(s, "officer"))
        feed_credential = isps.add_isp(s, actor="test", name="ISP Logs", email="noc@isp-logs.example",
                                       language="fr")[1]
    output = tmp_path / "serve.log"
    server = ServerProcess({"DATABASE_URL": settings.database_url, "BLOCKLIST_DATA_DIR": str(settings.data_dir),
                            "BLOCKLIST_SCHEDULER": "false", "BLOCKLIST_LOG_FORMAT": "json",
                            "BLOCKLIST_SESSION_COOKIE_SECURE": "false", "PYTHONUNBUFFERED": "1"}, output=output)
    server.start()  # its /healthz polls until it answers: the first lines of the log
    answers: list[httpx.Response] = []
    try:
        with httpx.Client(base_url=server.base, timeout=10) as http:
            answers.append(http.get("/healthz", headers={"X-Request-ID": "probe-1"}))
            answers.append(http.get("/api/v1/submissions", headers={"Authorization": f"Bearer {token}"}))
            form = http.get("/login")
            answers.append(form)
            logged_in = http.post("/login", data={"username": "officer", "password": PASSWORD,
                                                  "csrf": csrf(form.text)}, follow_redirects=True)
            answers.extend([*logged_in.history, logged_in])
            cookie = http.cookies.get("blocklist_session")
            assert cookie and logged_in.status_code == 200
            answers.append(http.get(f"/appeal?name={LISTED}&lang=fr"))  # a public form's query string
            answers.append(http.get("/no/such/page?q=secret-query"))
            answers.append(http.get("/feed/v1/latest.manifest.json",
                                    headers={"Authorization": f"Bearer {feed_credential}"}))
        answers.append(httpx.get(f"{server.base}/private-visitor-path?q=visitor-query", timeout=5, headers={
            "Host": f"www.{LISTED}", "User-Agent": "Visitor-Agent/9.9", "X-Forwarded-For": "198.51.100.7",
            "Cookie": "tracker=visitor-cookie"}))
        assert answers[-1].status_code == 451
    finally:
        server.stop()
    lines = [json.loads(line) for line in output.read_text().splitlines() if line.strip()]  # JSON, every one
    assert any("Application startup complete" in line["message"] for line in lines)
    every = [line for line in lines if line["logger"] == "api.request"]
    assert len(every) == 1 + len(answers)  # the poll of ServerProcess.start that was answered, then ours
    requests = every[1:]
    # The id each answer echoed; the stop page's has its id in the log only (it sends its own headers, no other).
    assert [line["request_id"] for line in requests[:-1]] == [a.headers["x-request-id"] for a in answers[:-1]]
    assert "x-request-id" not in answers[-1].headers and re.fullmatch(r"[0-9a-f]{32}", requests[-1]["request_id"])
    assert requests[0]["request_id"] == "probe-1"
    assert [(line["route"], line["status"]) for line in requests] == [
        ("/healthz", 200), ("/api/v1/submissions", 200), ("/login", 200), ("/login", 303), ("/officer", 200),
        ("/appeal", 200), ("(unmatched)", 404), ("/feed/v1/latest.{filename}", answers[-2].status_code),
        ("(stop page)", 451)]
    log = output.read_text()
    for secret in (token, PASSWORD, cookie, feed_credential, LISTED, "secret-query", "private-visitor-path",
                   "visitor-query", "Visitor-Agent", "198.51.100.7", "visitor-cookie"):
        assert secret not in log, f"{secret!r} appears in the server's output"
    assert all("127.0.0.1" not in json.dumps(line) for line in requests)  # no client address either


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # the log's behaviour, whatever the database
def test_a_log_nobody_reads_never_stops_the_server(settings: Settings, tmp_path: Path) -> None:
    """The finding reproduced: `blocklist serve` with its stderr a pipe that nobody read stopped after about 250
    request lines (64 KiB), every request then waiting inside a log call. Now the lines beyond the buffer are
    dropped, and counted in the log once its reader is back."""
    command = [str(Path(sys.executable).with_name("blocklist")), "serve", "--host", "127.0.0.1", "--port",
               str(port := free_port())]
    env = {**os.environ, "DATABASE_URL": settings.database_url, "BLOCKLIST_DATA_DIR": str(settings.data_dir),
           "BLOCKLIST_SCHEDULER": "false", "BLOCKLIST_LOG_FORMAT": "json"}
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            for _ in range(300):
                try:
                    if http.get("/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.05)
            statuses = [http.get("/healthz").status_code for _ in range(BackgroundStreamHandler.LINES + 1000)]
        assert set(statuses) == {200}  # before: httpx.ReadTimeout after ~250 requests
    finally:
        process.terminate()
        _, said = process.communicate(timeout=30)  # read at last: the writer catches up, then the process ends
    lines = said.decode().splitlines()
    assert any(re.fullmatch(r"\d+ log lines dropped: the log's reader was too slow", line) for line in lines)
    assert sum('"route": "/healthz"' in line for line in lines) >= BackgroundStreamHandler.LINES


def test_an_unknown_log_format_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["db", "upgrade"], env={"BLOCKLIST_DATA_DIR": str(tmp_path),
                                                             "BLOCKLIST_LOG_FORMAT": "yaml"})
    assert result.exit_code == 2
    assert "BLOCKLIST_LOG_FORMAT" in result.output and "'json' or 'text'" in result.output
    assert not (tmp_path / "blocklist.sqlite3").exists()  # nothing was done
