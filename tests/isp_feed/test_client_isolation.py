"""The reference client runs without the server: importing it loads nothing of blocklist, api, SQLAlchemy…, and of
isp_feed only the pure feed modules (formats, manifest, delta, splice, signing, errors) and its own."""

from __future__ import annotations

import subprocess
import sys

FORBIDDEN = ("blocklist", "api", "requisitions", "sqlalchemy", "fastapi", "starlette", "alembic", "weasyprint")

PROBE = f"""
import importlib.abc, sys
class Deny(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in {FORBIDDEN!r}:
            raise ImportError("the ISP client must not import " + name)
        return None
sys.meta_path.insert(0, Deny())
import isp_feed.client.cli
print("ok", isp_feed.client.cli.main.__doc__)
print(" ".join(sorted(m for m in sys.modules if m.split(".")[0] == "isp_feed")))
"""
ALLOWED = {"isp_feed", "isp_feed.formats", "isp_feed.manifest", "isp_feed.delta", "isp_feed.splice",
           "isp_feed.signing", "isp_feed.errors", "isp_feed.client", "isp_feed.client.cli", "isp_feed.client.pull",
           "isp_feed.client.trust", "isp_feed.canary", "isp_feed.client.canary_check", "isp_feed.stored"}


def test_client_imports_only_the_pure_feed_modules() -> None:
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok")
    loaded = set(result.stdout.splitlines()[-1].split())
    assert loaded <= ALLOWED, loaded - ALLOWED  # nothing of publish, versions, serving, models, keys…
    assert {"isp_feed.manifest", "isp_feed.delta", "isp_feed.splice"} <= loaded


def test_cli_usage_errors_exit_2(tmp_path: object) -> None:
    result = subprocess.run([sys.executable, "-m", "isp_feed.client.cli", "pull"], capture_output=True, text=True)
    assert result.returncode == 2 and "--server" in result.stderr
