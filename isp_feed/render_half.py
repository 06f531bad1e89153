"""The upper half of a first version, read and rendered in a second process (`python -m isp_feed.render_half`).

A first version of a national list is a million rows read from SQLite and rendered in eight formats: pure Python,
one core. Split by name, the two halves are read and rendered at once, one by the publisher, one by this process;
the publisher then appends this half's bodies to its own and hashes them. A separate interpreter rather than a
fork: SQLite connections must not cross a fork, and this one opens its own. It imports only the standard library
and the pure feed modules (a few dozen milliseconds), and writes no database row.

Protocol: a JSON job on stdin (database path, the two SQL statements, the version's fields, the formats, where to
write and under which name prefix); on stdout one JSON line once the rows are read (count, audit head seen, block
orders) and one when the bodies are written (format -> path). Any failure: a non-zero exit, and the publisher does
the work itself.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import sqlite3
import sys
from operator import itemgetter
from pathlib import Path
from typing import Any

from isp_feed_client import formats


def entries_of_rows(rows: list[tuple[Any, ...]]) -> tuple[tuple[formats.FeedEntry, ...], frozenset[int]]:
    """(name, unicode, scope, order id) rows -> the entries in code point order, and the block orders."""
    rows.sort(key=itemgetter(0))  # code point order, whatever the database's collation
    scopes = {scope: scope for scope in formats.SCOPES}  # one string per scope, not one per row
    entries = tuple([formats.FeedEntry(d, d if u == d else u, scopes.get(s, s)) for d, u, s, _ in rows])
    return entries, frozenset(row[3] for row in rows if row[3] is not None)


def job_version(job: dict[str, Any], entries: tuple[formats.FeedEntry, ...]) -> formats.FeedVersion:
    v = job["version"]
    return formats.FeedVersion(v["serial"], dt.datetime.fromisoformat(v["generated_at"]), entries, v["stop_page_name"],
                               v["stop_page_ipv4"], v["stop_page_ipv6"])


def version_job(version: formats.FeedVersion) -> dict[str, Any]:
    """A version's fields (not its entries) as the job carries them."""
    return {"serial": version.serial, "generated_at": version.generated_at.isoformat(),
            "stop_page_name": version.stop_page_name, "stop_page_ipv4": version.stop_page_ipv4,
            "stop_page_ipv6": version.stop_page_ipv6}


def main() -> int:
    job = json.loads(sys.stdin.read())
    gc.disable()  # a million tuples without cycles
    connection = sqlite3.connect(job["database"], isolation_level=None, timeout=30)
    try:
        connection.execute("BEGIN")  # one snapshot for the head and the rows
        (head,) = connection.execute(job["head_sql"]).fetchone()
        rows = connection.execute(job["rows_sql"]).fetchall()
        connection.execute("COMMIT")
    finally:
        connection.close()
    entries, orders = entries_of_rows(rows)
    del rows
    print(json.dumps({"count": len(entries), "head": head, "orders": sorted(orders)}), flush=True)
    version = job_version(job, entries)
    prepared = formats.prepare(version)
    folder, files = Path(job["dir"]), {}
    for ext in job["exts"]:
        path = folder / f"{job['prefix']}{ext}"  # the publisher removes them, or prune_files if it died
        with path.open("wb") as out:  # derived data, appended to the real file at once: no fsync
            out.write(formats.render_body(version, prepared, ext, first=False))
        files[ext] = str(path)
    print(json.dumps({"files": files}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
