"""The reference client runs without the server: importing every module of its distribution (isp-feed/,
`isp_feed_client`) loads nothing but the standard library, itself and its declared dependencies (dnspython, requests
and what requests brings, cryptography for Ed25519) — nothing of blocklist, api, isp_feed, SQLAlchemy, FastAPI…"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

DISTRIBUTION = Path(__file__).resolve().parents[2] / "isp-feed"
# Top-level packages the client may load: its own, its dependencies and theirs (requests: urllib3, idna, certifi,
# charset_normalizer; cryptography: cffi). Everything else must come from the standard library.
ALLOWED = {"isp_feed_client", "dns", "requests", "urllib3", "idna", "certifi", "charset_normalizer", "cryptography",
           "cffi", "_cffi_backend"}

PROBE = f"""
import importlib.abc, pkgutil, sys
allowed = {sorted(ALLOWED)!r}
class Deny(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        top = name.split(".")[0]
        if top not in allowed and top not in sys.stdlib_module_names:
            raise ImportError("the ISP client must not import " + name)
        return None
sys.meta_path.insert(0, Deny())
import isp_feed_client
for module in pkgutil.iter_modules(isp_feed_client.__path__, "isp_feed_client."):
    __import__(module.name)
import isp_feed_client.cli
print("ok", isp_feed_client.cli.main.__doc__)
print(" ".join(sorted({{m.split(".")[0] for m in sys.modules}} - set(sys.stdlib_module_names))))
"""


def test_the_client_imports_only_itself_and_its_dependencies() -> None:
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok")
    loaded = set(result.stdout.splitlines()[-1].split())
    assert "isp_feed" not in loaded and "blocklist" not in loaded
    assert {"isp_feed_client", "requests", "cryptography"} <= loaded  # dnspython only once a resolver is asked


def test_the_distribution_declares_exactly_what_it_imports() -> None:
    project = tomllib.loads((DISTRIBUTION / "pyproject.toml").read_text())["project"]
    declared = {requirement.split(">")[0].split("=")[0].strip() for requirement in project["dependencies"]}
    assert declared == {"dnspython", "requests", "cryptography"}
    assert project["scripts"] == {"isp-feed": "isp_feed_client.cli:main"}


def test_cli_usage_errors_exit_2() -> None:
    result = subprocess.run([sys.executable, "-m", "isp_feed_client.cli", "pull"], capture_output=True, text=True)
    assert result.returncode == 2 and "--server" in result.stderr
