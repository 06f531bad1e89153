"""The manual (docs/, mkdocs.yml) builds, and says only what the code does: every `blocklist` and `isp-feed` command
and option it quotes exists, every page and API path it names is a route of the app, the configuration table is the
one generated from the Settings model, and the scheduler's jobs and the metrics it lists are the real ones."""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from contextlib import redirect_stdout
from io import StringIO
from pathlib import Path
from types import ModuleType
from typing import Any

import click
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from starlette.routing import Match

from api.app import create_app
from api.cli import main as blocklist_main
from api.runtime import Runtime
from api.scheduler import _guarded, scheduled_jobs
from blocklist.settings import Settings
from isp_feed_client.cli import main as isp_feed_main

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.rglob("*.md"))
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.DOTALL | re.MULTILINE)
INLINE = re.compile(r"`([^`\n]+)`")
# Paths on a host's file system, not of the app (`/etc/unbound/...`, `/var/lib/isp-feed`).
FILESYSTEM = {"etc", "var", "usr", "opt", "srv", "tmp", "run", "home", "root", "dev", "proc", "sys", "bin", "lib"}
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")
OWN_HOSTS = r"https?://(?:[a-z0-9-]+\.)*blocklist\.example(?::\d+)?|https?://(?:127\.0\.0\.1|localhost):\d+"
URL = re.compile(rf"(?:{OWN_HOSTS})(/[^\s\"'`<>)]*)")
# Where the JSON API and the feed live ("the JSON API under /api/v1"): prefixes, not routes.
PREFIXES = {"/api/v1", "/feed/v1"}
SEPARATORS = {"|", "||", "&&", ";", "&", ">", ">>", "<"}


def code(page: Path) -> tuple[list[str], list[str]]:
    """A page's fenced code blocks and its inline code spans (outside the blocks)."""
    text = page.read_text()
    blocks = FENCE.findall(text)
    return blocks, INLINE.findall(FENCE.sub("", text))


def logical_lines(block: str) -> Iterator[str]:
    """A code block's shell command lines: a backslash-newline continues the line, and so does a newline inside
    quotes (a JSON body over several lines)."""
    line, quote, escaped = "", "", False
    for char in block:
        if escaped:
            line += " " if char == "\n" else "\\" + char
            escaped = False
        elif char == "\\" and quote != "'":
            escaped = True
        elif char == "\n" and not quote:
            yield line
            line = ""
        else:
            if char in "'\"" and (not quote or quote == char):
                quote = "" if quote else char
            line += char
    if line.strip():
        yield line


def commands(program: str) -> Iterator[tuple[Path, list[str]]]:
    """Every quoted invocation of `program`: (page, the words after it up to the end of that command)."""
    for page in PAGES:
        blocks, spans = code(page)
        for line in [*(ln for block in blocks for ln in logical_lines(block)), *spans]:
            try:
                words = shlex.split(line, comments=True)
            except ValueError:  # prose in backticks with an apostrophe: words as written
                words = line.split()
            for i, word in enumerate(words):
                if word == program or word.endswith(f"/bin/{program}"):
                    rest = words[i + 1:]
                    end = next((j for j, w in enumerate(rest) if w in SEPARATORS), len(rest))
                    yield page, rest[:end]


def _option_name(word: str) -> str | None:
    """`--host` of `--host`, `[--host`, `--pubkey=FILE`; None for anything that is not an option."""
    word = word.strip("[]")
    return word.split("=", 1)[0] if word.startswith("--") else None


def resolve(words: list[str]) -> tuple[list[str], click.Command]:
    """The subcommand path the words name (each alternative of `enable|disable` checked), and its command."""
    path: list[str] = []
    command: click.Command = blocklist_main
    for word in words:
        if not isinstance(command, click.Group) or word.startswith("-") or not word.strip("[]"):
            break
        names = word.strip("[]").split("|")
        found = [command.commands.get(name) for name in names]
        assert all(found), (f"`blocklist {' '.join([*path, word])}`: no such command "
                            f"(choices: {sorted(command.commands)})")
        path.append(names[0])
        command = found[0]  # type: ignore[assignment]
    return path, command


def test_mkdocs_builds_strictly(tmp_path: Path) -> None:
    site = tmp_path / "site"
    built = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file",
                            str(ROOT / "mkdocs.yml"), "--site-dir", str(site)],
                           capture_output=True, text=True, timeout=300, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert built.returncode == 0, built.stderr
    for page in PAGES:  # every page is in the site (and so in the navigation: --strict refuses an omitted one)
        relative = page.relative_to(DOCS).with_suffix("")
        target = site / "index.html" if relative.name == "index" else site / relative / "index.html"
        assert target.is_file(), f"{page} was not built"


def test_no_inline_code_is_split_over_two_lines() -> None:
    """(Else the checks below would not see it.)"""
    for page in PAGES:
        for line in FENCE.sub("", page.read_text()).splitlines():
            assert line.count("`") % 2 == 0, f"{page.name}: inline code split over lines near: {line}"


def test_every_blocklist_command_and_option_quoted_exists() -> None:
    checked = set()
    runner = CliRunner()
    for page, words in commands("blocklist"):
        path, command = resolve(words)
        known = {opt for param in command.params for opt in [*param.opts, *param.secondary_opts]} | {"--help"}
        for word in words[len(path):]:
            option = _option_name(word)
            assert option is None or option in known, (
                f"{page.name}: `blocklist {' '.join(path)}` has no option {option} (it has {sorted(known)})")
        if tuple(path) not in checked:
            checked.add(tuple(path))
            result = runner.invoke(blocklist_main, [*path, "--help"])
            assert result.exit_code == 0, f"`blocklist {' '.join(path)} --help`: {result.output}"
    assert {("serve",), ("backup",), ("restore",), ("feed", "rotate-key"), ("audit", "verify")} <= checked


def test_every_isp_feed_option_quoted_exists() -> None:
    helps: dict[str, str] = {}
    for page, words in commands("isp-feed"):
        if not words or words[0].startswith("-"):
            continue
        sub = words[0]
        if sub not in helps:
            out = StringIO()
            with redirect_stdout(out), pytest.raises(SystemExit) as exited:
                isp_feed_main([sub, "--help"])
            assert exited.value.code == 0, f"{page.name}: `isp-feed {sub}` is not a command"
            helps[sub] = out.getvalue()
        for word in words[1:]:
            option = _option_name(word)
            assert option is None or re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", helps[sub]), (
                f"{page.name}: `isp-feed {sub}` has no option {option}")
    assert "pull" in helps


def _named_paths() -> Iterator[tuple[Path, str | None, str]]:
    """(page, method or None, path) of every app path the pages name in code."""
    for page in PAGES:
        blocks, spans = code(page)
        for span in spans:
            match = re.fullmatch(rf"(?:({'|'.join(METHODS)}) )?(/\S*)", span.strip())
            if match:
                yield page, match[1], match[2]
        for text in [*blocks, *spans]:
            for found in URL.finditer(text):
                yield page, None, found[1]


def test_every_path_the_docs_name_is_a_route(tmp_path: Path) -> None:
    settings = Settings(BLOCKLIST_DATA_DIR=tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
                        scheduler=False)
    routes = create_app(Runtime(settings)).router.routes
    seen = 0
    for page, method, raw in _named_paths():
        path = re.split(r"[?#]", raw, maxsplit=1)[0]
        if path.strip("/").split("/")[0] in FILESYSTEM:
            continue
        if method is None and path in PREFIXES:
            continue
        scope: dict[str, Any] = {"type": "http", "path": path, "method": method or "GET", "root_path": "",
                                 "headers": []}
        matches = [route.matches(scope)[0] for route in routes]
        wanted = Match.FULL if method else Match.PARTIAL  # without a method: the path exists for some method
        assert any(m.value >= wanted.value for m in matches), f"{page.name}: {method or ''} {raw} is not a route"
        seen += 1
    assert seen > 50


def _settings_table() -> ModuleType:
    spec = importlib.util.spec_from_file_location("settings_table", DOCS / "settings_table.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_configuration_page_holds_every_setting_with_its_default() -> None:
    table = _settings_table()
    page = table.PAGE.read_text()
    assert table.rendered(page) == page, "docs/operations/configuration.md is out of date: run `make docs`"
    meanings = table.meanings(page)
    for variable, default in table.settings():
        assert f"| `{variable}` | {default} |" in page
        assert meanings.get(variable), f"{variable} has no meaning in docs/operations/configuration.md: write one"
    assert {"DATABASE_URL", "BLOCKLIST_DATA_DIR", "BLOCKLIST_FEED_KEY_TRANSITION_DAYS"} <= set(meanings)


def test_the_scheduler_table_lists_every_job() -> None:
    page = (DOCS / "operations" / "install.md").read_text()
    section = page.split("## The scheduler", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\| `([a-z_.]+)` \|", section, re.MULTILINE))
    assert listed == {job.name for job in scheduled_jobs()}


def test_the_metrics_named_are_the_ones_served(rt: Runtime) -> None:
    """Every `blocklist_...` metric the docs name is served by /metrics, and the monitoring page names them all."""
    served_rt = Runtime(rt.settings.model_copy(update={"metrics_token": "docs-test-token"}))
    with TestClient(create_app(served_rt)) as client:
        # A scheduled job has run (as db.checkpoint does within a second of any start) and a request was counted:
        # every family with children is in the exposition, whatever the scheduler's timing.
        beat = next(job for job in scheduled_jobs() if job.name == "scheduler.heartbeat")
        _guarded(beat, served_rt, client.app.state.metrics)()  # type: ignore[attr-defined]
        client.get("/healthz")
        exposition = client.get("/metrics", headers={"Authorization": "Bearer docs-test-token"})
    assert exposition.status_code == 200, exposition.text
    families = set(re.findall(r"^# TYPE (blocklist_\w+) ", exposition.text, re.MULTILINE))
    named = {name for page in PAGES for name in re.findall(r"(?<![\w.])blocklist_[a-z0-9_]+", page.read_text())}
    suffixes = re.compile(r"_(bucket|sum|count|created)$")
    assert {suffixes.sub("", name) for name in named} - families == set(), "named in the docs but not served"
    monitoring = (DOCS / "operations" / "monitoring.md").read_text()
    assert {f for f in families if f"`{f}`" not in monitoring} == set(), "served but not on the monitoring page"
