"""Figures for the core's promises under kill -9 and load (issue #10), against a real `blocklist serve`.

    .venv/bin/python bench/bench_crash.py [ROUNDS]      (SQLite, then a throwaway PostgreSQL)

Per backend: a storm of 200 concurrent keyed submissions on a running server (500s, unanswered), then ROUNDS
(default 10) of 200 concurrent keyed submissions killed with SIGKILL at a random moment, restarted, and every
unanswered request retried (up to 3 times) with its key. Counted: acknowledged writes lost (a 201 whose row is
missing after the restart), duplicates (a retry refused as a duplicate of its own first attempt, i.e. done twice),
stuck keys (a retry still answered 409 "being processed"), 500s. Prints figures; asserts nothing.
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import uuid
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text

from api.runtime import Runtime, upgrade_database
from blocklist import users
from blocklist.settings import Settings
from tests.support import postgres
from tests.support.crash import Request, case, fire
from tests.support.ports import free_port
from tests.support.server import ServerProcess

STORM = 200


def requests_for(names: list[tuple[str, str]], token: str) -> list[Request]:
    return [("/api/v1/submissions", case(name, "BENCH/1"), {"Authorization": f"Bearer {token}", "Idempotency-Key": key})
            for name, key in names]


def run(url: str, data_dir: Path, rounds: int) -> dict[str, int]:
    upgrade_database(url)
    rt = Runtime(Settings(DATABASE_URL=url, BLOCKLIST_DATA_DIR=data_dir))  # type: ignore[call-arg]
    with rt.database.transaction() as s:
        token = users.create_user(s, actor="bench", username="officer", role="officer")[1]
    rt.database.dispose()
    server = ServerProcess({"DATABASE_URL": url, "BLOCKLIST_DATA_DIR": str(data_dir), "BLOCKLIST_SCHEDULER": "true",
                            "BLOCKLIST_SMTP_PORT": str(free_port()), "BLOCKLIST_SESSION_COOKIE_SECURE": "false"})
    figures: Counter[str] = Counter()
    rng = random.Random(7)
    server.start()
    storm = [(f"s{i}.storm.bench.test", str(uuid.uuid4())) for i in range(STORM)]
    answers = fire(server.base, requests_for(storm, token))
    figures["storm_500"] = sum(1 for s, _, _ in answers.values() if s >= 500)
    figures["storm_unanswered"] = STORM - len(answers)
    acknowledged: dict[str, int] = {}
    for r in range(rounds):
        batch = [(f"n{i}.r{r}.bench.test", str(uuid.uuid4())) for i in range(STORM)]
        first = fire(server.base, requests_for(batch, token), kill=server, after_answers=rng.randint(1, STORM - 20))
        server.start()
        figures["killed_unanswered"] += STORM - len(first)
        figures["500"] += sum(1 for s, _, _ in first.values() if s >= 500)
        for i, (status, body, _) in first.items():
            if status == 201:
                acknowledged[batch[i][0]] = int(body.split('"id":')[1].split(",")[0])
        missing = [i for i in range(STORM) if i not in first]
        for _attempt in range(3):
            again = fire(server.base, requests_for([batch[i] for i in missing], token))
            still = []
            for j, i in enumerate(missing):
                status, body, _ = again.get(j, (0, "", False))
                if status == 201:
                    acknowledged[batch[i][0]] = int(body.split('"id":')[1].split(",")[0])
                elif status == 409 and "being processed" in body:
                    still.append(i)
                elif status == 409 and "already" in body:
                    figures["duplicates"] += 1  # its first attempt was written, and the retry did it again
                elif status >= 500 or status == 0:
                    figures["500"] += status >= 500
                    still.append(i)
            missing = still
            if not missing:
                break
        figures["stuck_keys"] += len(missing)
    server.stop()
    engine = create_engine(url)
    with engine.connect() as conn:
        stored = {d for (d,) in conn.execute(text("SELECT domain FROM submissions"))}
    engine.dispose()
    figures["acknowledged_lost"] = sum(1 for name in acknowledged if name not in stored)
    figures["acknowledged"] = len(acknowledged)
    return dict(figures)


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        print("sqlite:", run(f"sqlite:///{tmp / 'bench.sqlite3'}", tmp / "sqlite-data", rounds), flush=True)
        if os.environ.get("BENCH_POSTGRES", "1") == "1" and postgres.available():
            base = stack.enter_context(postgres.temporary_cluster())
            admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text("CREATE DATABASE bench"))
            admin.dispose()
            print("postgresql:", run(f"{base}/bench", tmp / "pg-data", rounds), flush=True)


if __name__ == "__main__":
    main()
