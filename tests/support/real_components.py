"""A pytest plugin (registered by tests/conftest.py) that ends the run with one line: how many tests ran against real
components (PostgreSQL, the daemons and tools of .ci/packages, Chromium) and how many were skipped because one was
missing, so that `make test` never skips them quietly.

A test counts when its body ran (passed or failed) and it used a component (tests/support/ci.py `used`: the session's
PostgreSQL or one of its own, a binary found by require_binary, Chromium), itself or through a fixture it asked for,
however indirectly: a module- or session-scoped fixture (`pg_base_url`, a `minisign` path) is set up once, so what
it used is remembered and counted for every test that asks for it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Generator, Iterator

import pytest

from tests.support import ci

_RAN = pytest.StashKey[bool]()
_USED = "real_components"  # the teardown report's user property: the components the test ran against
MISSING_MARK = " is not available: "  # in the reason of every skip by tests/support/ci.py `missing`


class RealComponents:
    def __init__(self) -> None:
        self.by_component: Counter[str] = Counter()
        self.by_fixture: dict[str, set[str]] = {}  # fixture name -> the components its set-up used
        self.tests = self.skipped_missing = self.seen = 0

    @pytest.hookimpl(wrapper=True)
    def pytest_fixture_setup(self, fixturedef: pytest.FixtureDef[object],
                             request: pytest.FixtureRequest) -> Generator[None, object, object]:
        # A broader-scoped fixture's own set-up is noted apart (what the test used before it is put back afterwards).
        # A function-scoped one is set up for each test anew: what it uses is the test's (and, being parametrised
        # like db_url, may differ from one test to the next).
        if fixturedef.scope == "function":
            return (yield)
        before = set(ci.used_components)
        ci.used_components.clear()
        try:
            return (yield)
        finally:
            if ci.used_components:
                self.by_fixture.setdefault(fixturedef.argname, set()).update(ci.used_components)
            ci.used_components.update(before)

    @pytest.fixture(autouse=True)
    def _note_fixtures(self, request: pytest.FixtureRequest) -> Iterator[None]:
        yield
        # fixturenames includes what was asked for by getfixturevalue too (db_url's PostgreSQL leg, pg_rt).
        for name in request.fixturenames:
            ci.used_components.update(self.by_fixture.get(name, ()))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item,
                                  call: pytest.CallInfo[None]) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        # Where the test ran (a pytest-xdist worker, or this process): what it used goes with its teardown report,
        # which xdist sends to the controlling process, where pytest_runtest_logreport counts it.
        report = yield
        if report.when == "call":
            item.stash[_RAN] = not report.skipped
        elif report.when == "teardown":
            components = set(ci.used_components)
            ci.used_components.clear()
            used = sorted(components) if item.stash.get(_RAN, False) else []
            report.user_properties.append((_USED, used))
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.skipped and MISSING_MARK in str(report.longrepr):
            self.skipped_missing += 1
        if report.when == "teardown":
            self.seen += 1
            used = dict(report.user_properties).get(_USED)
            if isinstance(used, list) and used:
                self.tests += 1
                self.by_component.update(str(name) for name in used)

    def summary(self) -> str:
        ranked = sorted(self.by_component.items(), key=lambda kv: (-kv[1], kv[0]))
        detail = ", ".join(f"{name} {n}" for name, n in ranked)
        return (f"real components: {self.tests} of {self.seen} tests ran against them"
                + (f" ({detail})" if detail else "")
                + f"; {self.skipped_missing} skipped because one was missing")

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        # After pytest's own last line (printed at session finish): this one is the run's last.
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None and self.seen:
            reporter.write_line(self.summary(), bold=True, red=bool(self.skipped_missing))
