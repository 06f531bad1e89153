"""Locate a real component's executable: a missing one fails the run under CI (CI=true) and skips elsewhere."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.support.ci import missing, used

# Daemons live in /usr/sbin, which a non-root PATH may lack.
_EXTRA_DIRS = ("/usr/sbin", "/sbin", "/usr/local/sbin")


def find_binary(name: str) -> str | None:
    """The executable's path, or None."""
    found = shutil.which(name)
    if found:
        return found
    for folder in _EXTRA_DIRS:
        candidate = Path(folder) / name
        if candidate.is_file():
            return str(candidate)
    return None


def require_binary(name: str, package: str | None = None) -> str:
    """The executable's path; pytest.fail under CI, pytest.skip otherwise, when it is not installed."""
    path = find_binary(name)
    if path is None:
        missing(name, f"install Debian's {package or name} package (listed in .ci/packages, which .ci/run installs)")
    used(name)
    return path
