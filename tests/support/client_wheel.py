"""The reference client as an ISP installs it: the wheel of isp-feed/ built alone and installed, with its own
dependencies only, into a fresh virtualenv (pip compiles its modules there, as on an ISP's host). Used by the wheel
test and by the client benchmark, which times this install rather than the source checkout."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def clean_env() -> dict[str, str]:
    """This process's environment without what points into the checkout or its virtualenv."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}


def install_client(folder: Path) -> Path:
    """Build the wheel into `folder`/dist and install it into `folder`/venv; the venv's path."""
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", str(ROOT / "isp-feed"), "-w",
                            str(folder / "dist")], capture_output=True, text=True, timeout=600)
    if built.returncode:
        raise RuntimeError(f"pip wheel failed: {built.stdout[-2000:]}{built.stderr[-2000:]}")
    (wheel,) = (folder / "dist").glob("be_blocklist_isp_feed-*.whl")
    venv = folder / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    # pip writes the modules' bytecode whatever PYTHONDONTWRITEBYTECODE says; imports then read it.
    installed = subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", str(wheel)], capture_output=True,
                               text=True, timeout=600, env=clean_env())
    if installed.returncode:
        raise RuntimeError(f"pip install failed: {installed.stdout[-2000:]}{installed.stderr[-2000:]}")
    return venv
