"""One order of 1,000 names to 50 ISPs: render every PDF and queue the requisitions (SQLite, a temp dir)."""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from pathlib import Path

from api.runtime import Runtime
from blocklist import isps, users, workflow
from blocklist.names import NamePolicy
from blocklist.schemas import SubmissionCreate
from blocklist.settings import Settings
from requisitions import jobs

NAMES, ISPS = 1000, 50


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench-req-"))
    rt = Runtime(Settings(BLOCKLIST_DATA_DIR=folder, requisitions_wait_for_feed=False, scheduler=False))  # type: ignore[call-arg]
    rt.ensure_schema()
    policy = NamePolicy.build()
    with rt.database.transaction() as s:
        officer, _ = users.create_user(s, actor="bench", username="officer", role="officer")
        magistrate, _ = users.create_user(s, actor="bench", username="magistrate", role="magistrate")
        for i in range(ISPS):
            isps.add_isp(s, actor="bench", name=f"ISP {i:02d}", email=f"noc@isp{i:02d}.example",
                         language=("fr", "nl", "de")[i % 3])
        ids = [workflow.submit(s, actor=officer, policy=policy, data=SubmissionCreate(
            domain=f"site-{i:04d}.test", legal_basis="art39bis", case_number="FCCU-BENCH", evidence_ref=f"E{i}",
            verified_on=dt.date.today())).id for i in range(NAMES)]
    with rt.database.transaction() as s:
        workflow.approve(s, actor=magistrate, submission_ids=ids)
    started = time.perf_counter()
    issued = jobs.issue_pending(rt.database, rt.settings)
    elapsed = time.perf_counter() - started
    print(f"order of {NAMES} names to {ISPS} ISPs: {issued} requisitions rendered to PDF and queued in "
          f"{elapsed:.1f} s ({elapsed / ISPS:.2f} s per PDF)")


if __name__ == "__main__":
    main()
