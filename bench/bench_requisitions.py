"""One order of 1,000 names to 50 ISPs: render every PDF and queue the requisitions (SQLite, a temp dir).

`--render-only`: the database-free part alone, 50 documents (one per ISP) of 1,000 names each rendered in this
process one after the other, then in parallel processes; prints total and per-document times.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from api.runtime import Runtime
from blocklist import isps, users, workflow
from blocklist.names import NamePolicy
from blocklist.schemas import SubmissionCreate
from blocklist.settings import Settings
from requisitions import jobs
from requisitions.document import Addressee, Authority, CaseRef, NamedDomain, RequisitionDocument
from requisitions.render import render

NAMES, ISPS = 1000, 50


def _documents() -> list[RequisitionDocument]:
    issued = dt.datetime.now(dt.UTC)
    names = tuple(NamedDomain(f"blocked-site-{i:04d}.test", f"blocked-site-{i:04d}.test",
                              "domain_and_subdomains" if i % 2 else "exact") for i in range(NAMES))
    authority = Authority("Federal Prosecutor's Office", "Rue des Quatre Bras 19, 1000 Bruxelles",
                          "requisitions@federal-prosecutor.example", "+32 2 000 00 00")
    return [RequisitionDocument(
        kind="blocking", reference=f"REQ-2026-000001-ISP{i}", language=("fr", "nl", "de")[i % 3], issued_at=issued,
        deadline=issued + dt.timedelta(hours=24), authority=authority, magistrate="Anne Example",
        isp=Addressee(f"ISP {i:02d}", f"OP-{i:04d}", f"noc@isp{i:02d}.example"), names=names,
        cases=(CaseRef("FCCU-BENCH", "art39bis"),), feed_serial=1, stop_page_name="stop.blocklist.example",
    ) for i in range(ISPS)]


def render_only() -> None:
    """Render 50 documents of 1,000 names: sequentially, then in one process per core."""
    docs = _documents()
    started = time.perf_counter()
    first = render(docs[0])
    cold = time.perf_counter() - started
    for doc in docs[1:]:
        render(doc)
    total = time.perf_counter() - started
    print(f"render only, sequential: {ISPS} documents of {NAMES} names in {total:.1f} s "
          f"({total / ISPS:.2f} s per document; first, cold: {cold:.2f} s; PDF {len(first.pdf) // 1024} KiB)")
    workers = os.cpu_count() or 1
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        list(pool.map(render, docs, chunksize=1))
    total = time.perf_counter() - started
    print(f"render only, {workers} processes: {ISPS} documents in {total:.1f} s ({total / ISPS:.2f} s per document)")


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench-req-"))
    rt = Runtime(Settings(BLOCKLIST_DATA_DIR=folder, requisitions_wait_for_feed=False, scheduler=False))
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
            verified_on=dt.date.today(), hosting_country="NL")).id for i in range(NAMES)]
    with rt.database.transaction() as s:
        workflow.approve(s, actor=magistrate, submission_ids=ids)
    started = time.perf_counter()
    issued = jobs.issue_pending(rt.job_context)
    elapsed = time.perf_counter() - started
    print(f"order of {NAMES} names to {ISPS} ISPs: {issued} requisitions rendered to PDF and queued in "
          f"{elapsed:.1f} s ({elapsed / ISPS:.2f} s per PDF)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--render-only", action="store_true", help="measure rendering alone, without the database")
    if parser.parse_args().render_only:
        render_only()
    else:
        main()
