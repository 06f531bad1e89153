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

_CODE = "CASE s.scope " + " ".join(f"WHEN '{scope}' THEN char({code})" for scope, code in formats.SCOPE_CODES.items()) \
    + f" ELSE char({formats.OTHER_SCOPE}) END"
_NOT_CODES = bytes(b for b in range(256) if b not in (*formats.SCOPE_CODES.values(), formats.OTHER_SCOPE))
_CODES_TO_NEWLINES = bytes.maketrans(bytes((*formats.SCOPE_CODES.values(), formats.OTHER_SCOPE)), b"\n" * 3)


def _rows(*, below: bool, from_name: bool, lifted: bool, action: str = "submission.approved") -> str:
    bounds = "".join([" AND a.domain < ?" if below else "", " AND a.domain >= ?" if from_name else ""])
    not_lifted = ("AND (s.domain, CAST(s.id AS VARCHAR)) NOT IN (SELECT domain, object_id FROM audit_events INDEXED BY "
                  "ix_audit_events_action_domain_object WHERE action = 'submission.lifted' AND domain IS NOT NULL "
                  "AND object_id IS NOT NULL) ") if lifted else ""
    return ("SELECT s.domain, s.scope, s.order_id, " + _CODE + " AS code FROM audit_events AS a INDEXED BY "
            "ix_audit_events_action_domain_object CROSS JOIN submissions AS s INDEXED BY ix_submissions_approved_list "
            f"WHERE a.action = '{action}'{bounds} AND s.domain = a.domain "
            f"AND a.object_id = CAST(s.id AS VARCHAR) AND s.status = 'approved' {not_lifted}ORDER BY a.domain")


def list_sql(*, below: bool = False, from_name: bool = False, lifted: bool = True) -> str:
    """The approved list (names in [from_name, below), each a `?`), read by SQLite as one row of aggregates, which
    it builds in C: a million rows through the driver cost seconds. `prepared_of_aggregate` reads the row.

    The test of "approved" is candidate.approval_in_chain's, written out for the two indexes that make it one walk in
    name order (isp_feed/migrations feed_0013): each approval event of the chain, in name order, joined to the row
    it approved if that row is marked approved, less (if `lifted`) the rows a lifting event names. (A row approved
    twice would be read twice: `prepared_of_aggregate` then refuses the list, and it is read row by row.)
    tests/isp_feed/test_whole.py checks that both read the same list.

    Each name's scope code (formats.SCOPE_CODES) is the separator before it (SQLite's group_concat puts each row's
    separator before its value): one aggregate for names and scopes. The first name's code is `first_code_sql`'s.
    """
    rows = _rows(below=below, from_name=from_name, lifted=lifted)
    return f"SELECT count(*), CAST(group_concat(domain, code) AS BLOB), group_concat(DISTINCT order_id) FROM ({rows})"


def first_code_sql(*, below: bool = False, from_name: bool = False, lifted: bool = True) -> str:
    """The scope code of the first name list_sql reads."""
    return f"SELECT CAST(code AS BLOB) FROM ({_rows(below=below, from_name=from_name, lifted=lifted)}) LIMIT 1"


def lifted_sql(*, below: bool = False, from_name: bool = False) -> str:
    """How many rows marked approved (in the range) a lifting event names: none, unless someone set a lifted row
    back by SQL, and then list_sql must leave them out (`lifted`), at a cost per row it otherwise spares."""
    return f"SELECT count(*) FROM ({_rows(below=below, from_name=from_name, lifted=False, action='submission.lifted')})"


def forms_sql(*, below: bool = False, from_name: bool = False) -> str:
    """The names marked approved (in the same range as list_sql) whose Unicode form or scope is not the plain one:
    few, and found by one pass over the index, where a CASE per row of list_sql would cost more. Only those that
    list_sql read count (at most one row per name is marked approved: uq_submissions_active_domain)."""
    known = ", ".join(f"'{scope}'" for scope in formats.SCOPE_CODES)
    bounds = "".join([" AND domain < ?" if below else "", " AND domain >= ?" if from_name else ""])
    return ("SELECT domain, unicode, scope FROM submissions INDEXED BY ix_submissions_approved_list "
            f"WHERE status = 'approved'{bounds} AND (unicode != domain OR scope NOT IN ({known}))")


def prepared_of_aggregate(row: tuple[Any, ...], first_code: bytes | None, forms: list[tuple[str, str, str]]
                          ) -> tuple[formats.Prepared, frozenset[int]] | None:
    """The list_sql row, the first name's code and the forms_sql rows as prepared names and the block orders; None
    if they cannot be read that way (a name that is not ASCII or holds a newline or a code byte, names out of
    order or twice): the caller reads the rows one by one instead."""
    count, coded, orders = row
    if not count:
        return formats.prepared_of(()), frozenset()
    if first_code is None or not coded.isascii():
        return None
    codes = first_code + coded.translate(None, _NOT_CODES)
    names: list[bytes] = coded.translate(_CODES_TO_NEWLINES).split(b"\n")
    if len(names) != count or len(codes) != count or not all(map(lt, names, islice(names, 1, None))):
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
    (lifted,) = connection.execute(lifted_sql(**kinds), params).fetchone()
    row = connection.execute(list_sql(**kinds, lifted=bool(lifted)), params).fetchone()
    first = connection.execute(first_code_sql(**kinds, lifted=bool(lifted)), params).fetchone()
    forms = connection.execute(forms_sql(**kinds), params).fetchall()
    return prepared_of_aggregate(row, first[0] if first is not None else None, forms)


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
