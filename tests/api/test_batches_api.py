"""Bulk submission as a background job through the API: 202 at once, progress while the scheduler's job records
the names chunk by chunk, every result paged and as CSV, a repeated submit harmless."""

from __future__ import annotations

import csv
import datetime as dt
import io

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api import scheduler
from api.runtime import Runtime
from blocklist import batches
from blocklist.jobs import JobContext
from blocklist.models import Submission, SubmissionBatch
from tests.api.conftest import bearer

CASE = {"legal_basis": "art39bis", "case_number": "FCCU-2026-5000", "evidence_ref": "EVD-5000",
        "verified_on": dt.date.today().isoformat(), "hosting_country": "NL"}


def test_a_5000_name_batch_with_progress_and_a_harmless_double_submit(client: TestClient, tokens: dict[str, str],
                                                                       rt: Runtime) -> None:
    officer = bearer(tokens["officer"])
    pasted = "domain\n" + "\n".join(f"csam-{n:04d}.test" for n in range(5000)) + "\ncsam-0007.test\n"
    body = {**CASE, "text": pasted, "form_token": "officer-form-0001"}
    first = client.post("/api/v1/submissions/batches", json=body, headers=officer)
    assert first.status_code == 202, first.text
    batch = first.json()
    assert (batch["status"], batch["total"], batch["done"]) == ("queued", 5001, 0)
    assert first.headers["location"] == f"/api/v1/submissions/batches/{batch['id']}"
    # The button pressed again (the same form): the same batch, nothing stored twice.
    second = client.post("/api/v1/submissions/batches", json=body, headers=officer)
    assert second.status_code == 202 and second.json()["id"] == batch["id"]
    with rt.database.reading() as s:
        assert s.execute(select(func.count()).select_from(SubmissionBatch)).scalar() == 1

    chunked = JobContext(rt.database, rt.settings.model_copy(update={"batch_chunk_names": 1000}),
                         rt.job_context.policy)
    seen = []
    while batches.process_chunk(rt.database, chunked) is not None:
        state = client.get(f"/api/v1/submissions/batches/{batch['id']}?per_page=1", headers=officer).json()
        seen.append((state["status"], state["done"]))
    assert seen == [("running", 1000), ("running", 2000), ("running", 3000), ("running", 4000),
                    ("running", 5000), ("done", 5001)]

    done = client.get(f"/api/v1/submissions/batches/{batch['id']}?state=refused",
                      headers=bearer(tokens["magistrate"])).json()
    assert (done["submitted"], done["refused"], done["matching"]) == (5000, 1, 1)
    assert done["results"][0] | {"submission_id": None} == {
        "position": 5001, "typed": "csam-0007.test", "state": "refused", "submission_id": None,
        "a_label": "csam-0007.test", "code": "repeated", "reason": "csam-0007.test appears twice in this batch"}
    page = client.get(f"/api/v1/submissions/batches/{batch['id']}?page=2&per_page=3", headers=officer).json()
    assert [r["typed"] for r in page["results"]] == ["csam-0003.test", "csam-0004.test", "csam-0005.test"]
    exported = client.get(done["results_csv"], headers=officer)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert len(rows) == 5002 and rows[1][:3] == ["1", "csam-0000.test", "submitted"]
    with rt.database.reading() as s:
        assert s.execute(select(func.count()).select_from(Submission)).scalar() == 5000
    # A submit after the batch ran: still the same batch, its result unchanged.
    third = client.post("/api/v1/submissions/batches", json=body, headers=officer)
    assert third.status_code == 202 and third.json()["status"] == "done"


def test_an_idempotency_key_and_the_refusals(client: TestClient, tokens: dict[str, str], rt: Runtime) -> None:
    officer = bearer(tokens["officer"])
    keyed = {**officer, "Idempotency-Key": "batch-1"}
    body = {**CASE, "domains": ["a.test", "b.test"]}
    first = client.post("/api/v1/submissions/batches", json=body, headers=keyed)
    again = client.post("/api/v1/submissions/batches", json=body, headers=keyed)
    assert first.status_code == again.status_code == 202 and again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    too_many = client.post("/api/v1/submissions/batches", json={**CASE, "domains": ["x.test"] * 10_001},
                           headers=officer)
    assert too_many.status_code == 422 and "at most 10000" in too_many.json()["reason"]
    no_country = client.post("/api/v1/submissions/batches", json={**body, "hosting_country": ""}, headers=officer)
    assert no_country.status_code == 422
    assert client.post("/api/v1/submissions/batches", json=body,
                       headers=bearer(tokens["magistrate"])).status_code == 403
    assert client.get("/api/v1/submissions/batches/99", headers=officer).status_code == 404
    with rt.database.reading() as s:
        assert s.execute(select(func.count()).select_from(SubmissionBatch)).scalar() == 1


def test_the_scheduler_runs_the_batches() -> None:
    (job,) = [j for j in scheduler.scheduled_jobs() if j.name == "submissions.batches"]
    assert job.func is batches.process_batches
