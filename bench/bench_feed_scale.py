"""The feed at national scale, on the server: N approved names in the project's own tables, then each step of
publication in a fresh process (figures for issue #12). `python bench/bench_feed_scale.py [N ...]` (default
10000 100000 1000000) prints one table by size.

Set-up, the fastest honest way: every submission row and its approval event are inserted in bulk into the real
tables (the audit chain is hashed with the project's own `audit.event_hash`, and the head row moved), so the feed
sees exactly what N approvals through the workflow leave behind. Then, each step a fresh `python -c` process
(so that no cache helps and the peak RSS is the step's own):
- first: the first version, every format written and the manifest signed (a whole build), alone (on a copy of the
  data), and again while the staff API is used (below); each file's own signature, made after the commit in the
  same job (isp_feed/file_signatures.py), is timed apart ("files signed after": the whole job);
- approve+1: one more name through workflow.submit + approve, then the next version (its files stored as pieces of
  the previous ones: isp_feed_client/stored.py);
- +1 written whole: the same with every format written whole again, as one version in about MAX_PIECES / 2 is;
- idle: a tick in which nothing changed (the second of two in one process: the scheduler's steady state);
- reissue: the hourly re-issue (a new manifest, no file written);
- http: over a real `uvicorn` on loopback, `diff?from=` for a one-name change and a conditional GET of the
  manifest (median of 50), and the staff API's p50/p99 for a submission while a whole N-name version is
  published in another process.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PY = sys.executable

_COMMON = textwrap.dedent("""
    import datetime as dt, json, resource, sys, time
    sys.path.insert(0, {root!r})
    from blocklist.settings import Settings
    from api.runtime import Runtime
    from isp_feed.jobs import publish_feed
    settings = Settings(BLOCKLIST_DATA_DIR={data!r}, DATABASE_URL="", session_cookie_secure=False, scheduler=False)
    rt = Runtime(settings)
    ctx = rt.job_context
    from blocklist.jobs import yield_cpu_to_requests
    yield_cpu_to_requests()  # what the scheduler does before each job (api/scheduler.py)
    # The scheduler's db.checkpoint job, which in service runs every second (blocklist/db.py): without it the log
    # of the steps before would be copied back in whichever commit of this step found it past the backstop.
    rt.database.checkpoint()
    def peak(): return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # A version is published once its manifest is committed, its marker written and the primary handed it; each
    # file's own signature and the consolidation follow in the same job (isp_feed/jobs.py): timed apart.
    from isp_feed import file_signatures
    _sign_pending, _marks = file_signatures.sign_pending, {{}}
    def _timed_sign(*args, **kwargs):
        _marks["published"] = time.perf_counter()
        return _sign_pending(*args, **kwargs)
    file_signatures.sign_pending = _timed_sign
    def publish_timed(**kwargs):
        _marks.clear(); t = time.perf_counter(); serial = publish_feed(ctx, **kwargs); end = time.perf_counter()
        return serial, _marks.get("published", end) - t, end - t
""")

_STEPS: dict[str, str] = {
    "first": """
        serial, took, whole_job = publish_timed()
        print(json.dumps({"serial": serial, "seconds": took, "job": whole_job, "peak_mib": peak()}))
    """,
    "approve": """
        from blocklist import workflow
        from blocklist.models import User
        from blocklist.names import NamePolicy
        from sqlalchemy import select
        from tests.blocklist.helpers import submission
        def one_more():
            with rt.database.transaction() as s:
                officer = s.execute(select(User).where(User.username == "officer")).scalar_one()
                magistrate = s.execute(select(User).where(User.username == "magistrate")).scalar_one()
                sub = workflow.submit(s, actor=officer, data=submission(f"one-more-{time.time_ns()}.test"),
                                      policy=NamePolicy.build())
            with rt.database.transaction() as s:
                workflow.approve(s, actor=magistrate, submission_ids=[sub.id])
            serial, took, whole_job = publish_timed()
            assert serial is not None
            return took, whole_job
        cold = one_more()[0]  # a fresh process: the name checks are parsed, the files looked at
        warm = []
        for _ in range(3):  # the scheduler's steady state: one approval per tick (every second)
            time.sleep(2)
            rt.database.checkpoint()  # as db.checkpoint would have meanwhile
            warm.append(one_more())
        warm.sort()
        print(json.dumps({"cold": cold, "seconds": warm[1][0], "job": warm[1][1], "peak_mib": peak()}))
    """,
    # The same with every format written whole (isp_feed_client/stored.py): what one version in about MAX_PIECES / 2
    # costs, when a format made of too many pieces is written whole again.
    "whole": "from isp_feed_client import stored\nstored.MAX_PIECES = 1\n",
    "idle": """
        t = time.perf_counter(); publish_feed(ctx); cold = time.perf_counter() - t
        runs = []
        for _ in range(20):
            t = time.perf_counter(); assert publish_feed(ctx) is None; runs.append(time.perf_counter() - t)
        print(json.dumps({"cold": cold, "seconds": sorted(runs)[10], "peak_mib": peak()}))
    """,
    # The scheduler re-issues in a process that has ticked before (every second): one idle tick first, then the
    # re-issue timed; "cold" is the same in a process whose first database work it is (ORM set-up included).
    "reissue": """
        later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
        t = time.perf_counter(); cold = publish_feed(ctx, now=later); cold_took = time.perf_counter() - t
        assert publish_feed(ctx, now=later) is None  # a tick in which nothing is due
        rt.database.checkpoint()  # as db.checkpoint would have meanwhile
        t = time.perf_counter(); serial = publish_feed(ctx, now=later + dt.timedelta(hours=2))
        took = time.perf_counter() - t
        assert cold is not None and serial is not None
        print(json.dumps({"serial": serial, "seconds": took, "cold": cold_took, "peak_mib": peak()}))
    """,
}
_STEPS["whole"] += textwrap.dedent(_STEPS["approve"])


def _run(data: Path, step: str) -> dict[str, float]:
    return _result(_start(data, step), step)


def _settings(data: Path) -> object:
    from blocklist.settings import Settings

    # Settings take the data dir by its environment name only (validation alias).
    return Settings(BLOCKLIST_DATA_DIR=data, DATABASE_URL="", session_cookie_secure=False,  # type: ignore[call-arg]
                    scheduler=False)


def seeded(data: Path, n: int) -> tuple[Any, float, float]:
    """N approved names in `data` (setup) and their first version published: the Runtime, and the seconds each took.
    What the benchmarks of delivery (bench_primary, bench_approval_latency) start from."""
    from api.runtime import Runtime
    from isp_feed.jobs import publish_feed

    made = setup(data, n)
    rt = Runtime(_settings(data))  # type: ignore[arg-type]  # (_settings types it loosely)
    started = time.perf_counter()
    publish_feed(rt.job_context)
    return rt, made, time.perf_counter() - started


def setup(data: Path, n: int) -> float:
    """N approved names with their approval events, inserted in bulk into the real tables."""
    from sqlalchemy import insert, select, update

    from api.runtime import Runtime
    from blocklist import audit
    from blocklist.models import AuditEvent, AuditHead, Submission
    from tests.support.factories import make_user

    started = time.perf_counter()
    rt = Runtime(_settings(data))
    rt.ensure_schema()
    with rt.database.transaction() as s:
        officer = make_user(s, "officer", "officer").id
        magistrate = make_user(s, "magistrate", "magistrate").id
    now = dt.datetime.now(dt.UTC)
    today = now.date()
    with rt.database.transaction() as s:
        head = s.get(AuditHead, 1)
        assert head is not None
        first_id = (s.execute(select(Submission.id).order_by(Submission.id.desc()).limit(1)).scalar() or 0) + 1
        seq, prev = head.last_id, head.last_hash
        rows, events = [], []
        at = audit.format_time(now)
        for i in range(n):
            domain = f"site-{i:07d}.test"
            sid = first_id + i
            rows.append({"id": sid, "domain": domain, "unicode": domain, "typed": domain,
                         "scope": "exact" if i % 5 == 0 else "domain_and_subdomains", "flags": "",
                         "legal_basis": "art39bis", "case_number": "FCCU-2026-0001", "evidence_ref": "EVD-BENCH",
                         "verified_on": today, "note": "", "status": "approved", "version": 2,
                         "submitted_by": officer, "submitted_at": now, "decided_by": magistrate, "decided_at": now,
                         "review_due": today + dt.timedelta(days=180)})
            seq += 1
            details = audit.canonical_json({"order_id": None, "reason": "bench", "review_due": ""})
            digest = audit.event_hash(seq=seq, at=at, actor="user:2", action="submission.approved",
                                      object_type="submission", object_id=str(sid), domain=domain, order_id=None,
                                      details=details, prev_hash=prev)
            events.append({"id": seq, "at": at, "actor": "user:2", "action": "submission.approved",
                           "object_type": "submission", "object_id": str(sid), "domain": domain, "order_id": None,
                           "details": details, "prev_hash": prev, "hash": digest})
            prev = digest
        for start in range(0, n, 50_000):
            s.execute(insert(Submission), rows[start:start + 50_000])
            s.execute(insert(AuditEvent), events[start:start + 50_000])
        s.execute(update(AuditHead).where(AuditHead.id == 1).values(last_id=seq, last_hash=prev))
    rt.database.dispose()
    return time.perf_counter() - started


class _Server:
    """`blocklist serve` on loopback over the bench's data dir (no scheduler: the steps publish), with an ISP and an
    officer credential."""

    def __init__(self, data: Path) -> None:
        from api.runtime import Runtime
        from blocklist import isps
        from tests.support.factories import confirmed_token
        from tests.support.ports import free_port

        rt = Runtime(_settings(data))
        with rt.database.transaction() as s:
            _, self.isp_token = isps.add_isp(s, actor="test", name="Bench ISP", email="noc@bench.example",
                                             language="fr")
            self.staff_token = confirmed_token(s, "bench-officer", "officer")
        rt.database.dispose()
        self.port = free_port()
        env = {**os.environ, "BLOCKLIST_DATA_DIR": str(data), "BLOCKLIST_SCHEDULER": "false",
               "BLOCKLIST_SESSION_COOKIE_SECURE": "false"}
        self.process = subprocess.Popen([str(Path(PY).parent / "blocklist"), "serve", "--host", "127.0.0.1",
                                         "--port", str(self.port)], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        import httpx

        self.client = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=60)
        for _ in range(300):
            try:
                self.client.get("/healthz")
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        # A server in service is warm: its first submission (lazy imports, the name policy's first load) is not
        # what a publication costs the staff, so it is made before anything is measured.
        self.submit()

    def submit(self) -> float:
        """One submission; its latency in seconds."""
        body = {"domain": f"during-{time.time_ns()}.test", "legal_basis": "art39bis",
                "case_number": "FCCU-2026-0002", "evidence_ref": "EVD-0002",
                "verified_on": dt.date.today().isoformat(), "hosting_country": "NL"}
        t = time.perf_counter()
        answer = self.client.post("/api/v1/submissions", json=body,
                                  headers={"Authorization": f"Bearer {self.staff_token}"})
        assert answer.status_code == 201, answer.text
        return time.perf_counter() - t

    def staff_while(self, step: subprocess.Popen[str]) -> dict[str, float]:
        """Submissions one after another (50 per second at most) for as long as `step` runs: p50 and p99."""
        latencies = []
        while step.poll() is None:
            latencies.append(self.submit())
            time.sleep(0.02)
        latencies.sort() if latencies else latencies.append(0.0)
        return {"staff_p50_ms": latencies[len(latencies) // 2] * 1000,
                "staff_p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
                "staff_requests": len(latencies)}

    def feed_reads(self) -> dict[str, float]:
        """Median of 50: `diff?from=` the serial before the latest (a one-name change) and a conditional GET."""
        auth = {"Authorization": f"Bearer {self.isp_token}"}
        signed = json.loads(self.client.get("/feed/v1/latest.manifest.json", headers=auth).content)
        diffs, conditional = [], []
        for _ in range(50):
            t = time.perf_counter()
            assert self.client.get(f"/feed/v1/diff?from={signed['serial'] - 2}", headers=auth).status_code == 200
            diffs.append(time.perf_counter() - t)
        etag = self.client.get("/feed/v1/latest.manifest.json", headers=auth).headers["etag"]
        for _ in range(50):
            t = time.perf_counter()
            answer = self.client.get("/feed/v1/latest.manifest.json", headers={**auth, "If-None-Match": etag})
            assert answer.status_code == 304
            conditional.append(time.perf_counter() - t)
        return {"diff_ms": statistics.median(diffs) * 1000, "conditional_ms": statistics.median(conditional) * 1000}

    def stop(self) -> None:
        self.client.close()
        self.process.terminate()
        self.process.wait(timeout=30)


def _start(data: Path, step: str) -> subprocess.Popen[str]:
    code = _COMMON.format(root=str(ROOT), data=str(data)) + textwrap.dedent(_STEPS[step])
    return subprocess.Popen([PY, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _result(process: subprocess.Popen[str], step: str) -> dict[str, float]:
    out, err = process.communicate()
    if process.returncode != 0:
        raise SystemExit(f"step {step} failed:\n{err[-3000:]}")
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> None:
    if sys.argv[1:2] == ["--setup"]:
        setup(Path(sys.argv[3]), int(sys.argv[2]))
        return
    sizes = [int(a) for a in sys.argv[1:]] or [10_000, 100_000, 1_000_000]
    table = []
    for n in sizes:
        with tempfile.TemporaryDirectory(prefix=f"feed-scale-{n}-") as folder:
            data = Path(folder)
            # In a child: the steps' processes are forked from this one, and a child starts with its parent's peak
            # memory as its own (ru_maxrss): this process must stay small.
            started = time.perf_counter()
            subprocess.run([PY, __file__, "--setup", str(n), str(data)], check=True, cwd=ROOT)
            made = time.perf_counter() - started
            # The first version alone (a copy of the same data), then again while the staff API is used.
            quiet_dir = Path(folder + "-quiet")
            shutil.copytree(data, quiet_dir)
            # The copy's hundreds of MB of dirty pages would otherwise be written out by the first fsync of the
            # step (SQLite's commit of the version), and timed as if publishing had written them.
            os.sync()
            try:
                quiet = _run(quiet_dir, "first")
            finally:
                shutil.rmtree(quiet_dir, ignore_errors=True)
            server = _Server(data)
            try:
                building = _start(data, "first")
                http = server.staff_while(building)  # the staff API while the whole first version is built
                first = _result(building, "first")
                plus = _run(data, "approve")
                whole = _run(data, "whole")
                idle = _run(data, "idle")
                reissue = _run(data, "reissue")
                http.update(server.feed_reads())
            finally:
                server.stop()
            table.append((n, made, quiet, first, plus, whole, idle, reissue, http))
            print(f"{n:>9} names: set-up {made:.1f} s | first {quiet['seconds']:.2f} s {quiet['peak_mib']:.0f} MiB "
                  f"(job with the files' signatures: {quiet['job']:.2f} s) "
                  f"(while the staff API is used: {first['seconds']:.2f} s) | "
                  f"+1 {plus['seconds']:.3f} s (cold {plus['cold']:.3f} s, "
                  f"job with the files' signatures: {plus['job']:.3f} s) "
                  f"{plus['peak_mib']:.0f} MiB | "
                  f"+1 written whole {whole['seconds']:.3f} s | "
                  f"idle tick {idle['seconds'] * 1000:.2f} ms "
                  f"(cold {idle['cold'] * 1000:.0f} ms) | re-issue {reissue['seconds'] * 1000:.0f} ms "
                  f"(cold {reissue['cold'] * 1000:.0f} ms) | "
                  f"diff {http['diff_ms']:.1f} ms | 304 {http['conditional_ms']:.1f} ms | staff submit during the "
                  f"first build p50 {http['staff_p50_ms']:.0f} ms p99 {http['staff_p99_ms']:.0f} ms "
                  f"({http['staff_requests']:.0f} requests)", flush=True)


if __name__ == "__main__":
    main()
