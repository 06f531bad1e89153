"""The upper half of a first version, read and rendered in a second process (`python -m isp_feed.render_half`).

A first version of a national list is a million rows read from SQLite and rendered in eight formats: seconds of
one core. Split by name, the two halves are read and rendered at once, one by the publisher, one by this process;
the publisher then appends this half's bodies to its own and hashes them. A separate interpreter rather than a
fork: SQLite connections must not cross a fork, and this one opens its own. It imports only the standard library
and the pure feed modules (a few dozen milliseconds), and writes no database row.

Protocol: a JSON job on stdin (database path, the audit head's SQL statement, the name to read from, the version's
fields, the formats, where to write and under which name prefix); on stdout one JSON line once the rows are read
(count, audit head seen, block orders) and one when the bodies are written (format -> path). Any failure, or a list
that cannot be read as aggregates (`prepared_of_aggregate`): a non-zero exit, and the publisher does the work itself.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import sqlite3
import sys
from bisect import bisect_left
from itertools import islice
from operator import lt
from pathlib import Path
from typing import Any

from isp_feed_client import formats


def list_sql(*, below: bool = False, from_name: bool = False) -> str:
    """The approved list (names in [from_name, below), each a `?`), read by SQLite as one row of aggregates, which
    it builds in C: a million rows through the driver cost seconds. `prepared_of_aggregate` reads the row.

    The test of "approved" is candidate.approval_in_chain's, written out for the two indexes that make it one walk in
    name order (isp_feed/migrations feed_0013): each approval event of the chain, in name order, joined to the row
    it approved if that row is marked approved, less the rows a lifting event names. (A row approved twice would be
    read twice: `prepared_of_aggregate` then refuses the list, and it is read row by row.)
    tests/isp_feed/test_whole.py checks that both read the same list.
    """
    codes = " ".join(f"WHEN '{scope}' THEN char({code})" for scope, code in formats.SCOPE_CODES.items())
    bounds = "".join([" AND a.domain < ?" if below else "", " AND a.domain >= ?" if from_name else ""])
    rows = ("SELECT s.domain, s.scope, s.order_id FROM audit_events AS a INDEXED BY "
            "ix_audit_events_action_domain_object CROSS JOIN submissions AS s INDEXED BY ix_submissions_approved_list "
            f"WHERE a.action = 'submission.approved'{bounds} AND s.domain = a.domain "
            "AND a.object_id = CAST(s.id AS VARCHAR) AND s.status = 'approved' "
            "AND (s.domain, CAST(s.id AS VARCHAR)) NOT IN (SELECT domain, object_id FROM audit_events INDEXED BY "
            "ix_audit_events_action_domain_object WHERE action = 'submission.lifted' AND domain IS NOT NULL "
            "AND object_id IS NOT NULL) ORDER BY a.domain")
    return ("SELECT count(*), CAST(group_concat(domain, char(10)) AS BLOB), "
            f"CAST(group_concat(CASE scope {codes} ELSE char({formats.OTHER_SCOPE}) END, '') AS BLOB), "
            f"group_concat(DISTINCT order_id) FROM ({rows})")


def forms_sql(*, below: bool = False, from_name: bool = False) -> str:
    """The names marked approved (in the same range as list_sql) whose Unicode form or scope is not the plain one:
    few, and found by one pass over the index, where a CASE per row of list_sql would cost more. Only those that
    list_sql read count (at most one row per name is marked approved: uq_submissions_active_domain)."""
    known = ", ".join(f"'{scope}'" for scope in formats.SCOPE_CODES)
    bounds = "".join([" AND domain < ?" if below else "", " AND domain >= ?" if from_name else ""])
    return ("SELECT domain, unicode, scope FROM submissions INDEXED BY ix_submissions_approved_list "
            f"WHERE status = 'approved'{bounds} AND (unicode != domain OR scope NOT IN ({known}))")


def prepared_of_aggregate(row: tuple[Any, ...], forms: list[tuple[str, str, str]]
                          ) -> tuple[formats.Prepared, frozenset[int]] | None:
    """The list_sql row and the forms_sql rows as prepared names and the block orders; None if they cannot be read
    that way (a name that is not ASCII or holds a newline, names out of order or twice): the caller reads the rows
    one by one instead."""
    count, names_blob, codes, orders = row
    if not count:
        return formats.prepared_of(()), frozenset()
    names: list[bytes] = names_blob.split(b"\n")
    if (len(names) != count or len(codes) != count or not names_blob.isascii()
            or not all(map(lt, names, islice(names, 1, None)))):
        return None
    unicode: dict[int, str] = {}
    other: dict[int, str] = {}
    for name, form, scope in forms:
        at = bisect_left(names, name.encode("utf-8"))
        if at == count or names[at] != name.encode("utf-8"):
            continue  # not in the list (its approval is not in the chain)
        if form != name:
            unicode[at] = form
        if codes[at] == formats.OTHER_SCOPE:
            other[at] = scope
    if len(other) != codes.count(formats.OTHER_SCOPE):
        return None
    return (formats.Prepared(names, codes, unicode, other),
            frozenset(int(order) for order in orders.split(",")) if orders else frozenset())


def read_half(connection: sqlite3.Connection, *, below: str | None = None, from_name: str | None = None
              ) -> tuple[formats.Prepared, frozenset[int]] | None:
    """The approved names in [from_name, below) (either open), prepared, and their block orders, read in the
    connection's current transaction (`prepared_of_aggregate`; None: read them row by row)."""
    params = tuple(bound for bound in (below, from_name) if bound is not None)
    kinds = {"below": below is not None, "from_name": from_name is not None}
    row = connection.execute(list_sql(**kinds), params).fetchone()
    return prepared_of_aggregate(row, connection.execute(forms_sql(**kinds), params).fetchall())


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
        read = read_half(connection, from_name=job["from_name"])
        connection.execute("COMMIT")
    finally:
        connection.close()
    if read is None:
        return 3  # the publisher reads the list whole, one row at a time
    prepared, orders = read
    print(json.dumps({"count": len(prepared), "head": head, "orders": sorted(orders)}), flush=True)
    version = job_version(job, ())
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
