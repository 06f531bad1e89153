"""Under CI a missing real component fails the run; on a developer's machine it skips."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def in_ci() -> bool:
    """True when running under CI (CI=true)."""
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


# The real components the running test has used so far (tests/conftest.py counts them per test for the run's last
# line, and empties this after each test).
used_components: set[str] = set()


def used(component: str) -> None:
    """Note that the running test works against a real, installed `component`."""
    used_components.add(component)


def missing(component: str, how_to_get_it: str) -> NoReturn:
    """Fail (CI) or skip (elsewhere) because a real component is not installed."""
    message = f"{component} is not available: {how_to_get_it}"
    if in_ci():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)
