"""The reference client runs without the server: importing it loads nothing of blocklist, api, SQLAlchemy…"""

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
"""


def test_client_imports_only_format_and_signing() -> None:
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok")


def test_cli_usage_errors_exit_2(tmp_path: object) -> None:
    result = subprocess.run([sys.executable, "-m", "isp_feed.client.cli", "pull"], capture_output=True, text=True)
    assert result.returncode == 2 and "--server" in result.stderr
