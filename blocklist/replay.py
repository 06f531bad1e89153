"""The submissions table is derived state: replaying the audit events must give it back exactly.

A status, name, scope or order changed in SQL without its event (an approval no magistrate gave, a block widened
to subdomains) leaves the hash chain intact, so `audit verify` replays every submission event in order, checks
that each transition is one the workflow can make, and compares the result with the table.

Only what is in the events since the first release is used (the created event's domain and scope, the order id
of approvals and lifts), so every chain ever written replays.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from blocklist.models import AuditEvent, Submission

STATUSES = ("submitted", "approved", "rejected", "withdrawn", "lifted")
SCOPES = ("domain_and_subdomains", "exact")

# action -> (the status it requires, the status it leaves, what it does to a submission, in words)
TRANSITIONS: dict[str, tuple[str | None, str, str]] = {
    "submission.created": (None, "submitted", "creates"),
    "submission.approved": ("submitted", "approved", "approves"),
    "submission.rejected": ("submitted", "rejected", "rejects"),
    "submission.withdrawn": ("submitted", "withdrawn", "withdraws"),
    "submission.lifted": ("approved", "lifted", "lifts"),
    "submission.renewed": ("approved", "approved", "renews"),
}

_CODE = {status: i + 1 for i, status in enumerate(STATUSES)}
_SCOPE = {scope: i + 1 for i, scope in enumerate(SCOPES)}
_SEEN = 0x80  # set on a record once its table row was compared
# status, scope, domain digest, block order, lift order: 26 bytes a submission.
_RECORD = struct.Struct("<BB8sqq")
Record = tuple[int, int, bytes, int, int]


def _digest(domain: str | None) -> bytes:
    return hashlib.blake2b((domain or "").encode(), digest_size=8).digest()


class _Records:
    """Fixed-size records indexed by submission id.

    A million submissions take about 26 MB here, where a dict of tuples would take ten times that. Ids far beyond
    the number of events (only a forged event could name one) go to a dict, so that no id makes it allocate much.
    """

    def __init__(self) -> None:
        self.dense = bytearray()
        self.sparse: dict[int, bytes] = {}

    def get(self, key: int) -> Record | None:
        offset = key * _RECORD.size
        if 0 <= offset < len(self.dense) and self.dense[offset]:
            return _RECORD.unpack_from(self.dense, offset)
        raw = self.sparse.get(key)
        return _RECORD.unpack(raw) if raw is not None else None

    def put(self, key: int, record: Record, *, dense_below: int) -> None:
        if key in self.sparse or not 0 <= key < dense_below:
            self.sparse[key] = _RECORD.pack(*record)
            return
        end = (key + 1) * _RECORD.size
        if end > len(self.dense):
            self.dense.extend(bytes(max(end - len(self.dense), len(self.dense))))  # doubling: amortised O(1)
        _RECORD.pack_into(self.dense, key * _RECORD.size, *record)

    def unseen(self) -> Iterator[int]:
        """Ids with events whose table row was not compared, in order."""
        size = _RECORD.size
        dense = [key for key in range(len(self.dense) // size)
                 if self.dense[key * size] and not self.dense[key * size] & _SEEN]
        sparse = [key for key, raw in self.sparse.items() if not raw[0] & _SEEN]
        yield from sorted(dense + sparse)


def _order_of(event: Any) -> int:
    """The order an approval or lift belongs to: a column since core_0002, in the details before it."""
    if event.order_id is not None:
        return int(event.order_id)
    value = json.loads(event.details).get("order_id")
    return int(value) if isinstance(value, int) else 0


class Replay:
    """Fed every event in chain order (by `audit.verify`), then compared with the submissions table."""

    def __init__(self) -> None:
        self.records = _Records()

    def event(self, event: Any) -> str | None:
        """Apply one event; a problem (in words) if it is not a transition the workflow can make."""
        transition = TRANSITIONS.get(event.action)
        if transition is None or event.object_type != "submission":
            return None
        requires, leaves, verb = transition
        try:
            key = int(event.object_id)
        except ValueError:
            return f"it {verb} submission {event.object_id!r}, which is not a submission number"
        record = self.records.get(key)
        if requires is None:
            if record is not None:
                return f"it creates submission {key} a second time"
            details = json.loads(event.details)
            domain = event.domain if event.domain is not None else details.get("domain")
            scope = details.get("scope")
            record = (_CODE[leaves], _SCOPE.get(scope, 0) if isinstance(scope, str) else 0, _digest(domain), 0, 0)
        else:
            if record is None:
                return f"it {verb} submission {key}, which no earlier event created"
            current = STATUSES[record[0] - 1]
            if current != requires:
                return f"it {verb} submission {key}, which its earlier events leave {current!r}, not {requires!r}"
            if event.domain is not None and _digest(event.domain) != record[2]:
                return f"it {verb} submission {key} as {event.domain!r}, but it was created for another name"
            _, scope_code, domain_digest, block_order, lift_order = record
            if leaves == "approved" and requires == "submitted":
                block_order = _order_of(event)
            elif leaves == "lifted":
                lift_order = _order_of(event)
            record = (_CODE[leaves], scope_code, domain_digest, block_order, lift_order)
        # Every submission needs a created event, so ids beyond a few per event are not the workflow's.
        self.records.put(key, record, dense_below=4 * event.id + 4096)
        return None

    def compare(self, session: Session, *, batch: int = 5000) -> tuple[str | None, int]:
        """The first submission whose row differs from its replayed state (in words), and how many were compared."""
        query = select(Submission.id, Submission.status, Submission.domain, Submission.scope, Submission.order_id,
                       Submission.lift_order_id).order_by(Submission.id)
        compared = 0
        for row in session.execute(query.execution_options(yield_per=batch)):
            record = self.records.get(row.id)
            if record is None:
                return f"submission {row.id} ({row.domain}) is in the table but no event records its creation", compared
            problem = self._differs(session, row, record)
            if problem is not None:
                return problem, compared
            self.records.put(row.id, (record[0] | _SEEN, *record[1:]), dense_below=row.id + 1)
            compared += 1
        for key in self.records.unseen():
            return f"submission {key} has events but is missing from the table", compared
        return None, compared

    @staticmethod
    def _differs(session: Session, row: Any, record: Record) -> str | None:
        status = STATUSES[(record[0] & ~_SEEN) - 1]
        if row.status != status:
            return f"submission {row.id} is {row.status!r} in the table but its events say {status!r}"
        if _digest(row.domain) != record[2]:
            created = session.execute(
                select(AuditEvent.domain).where(AuditEvent.action == "submission.created",
                                                AuditEvent.object_id == str(row.id)).order_by(AuditEvent.id).limit(1)
            ).scalar_one_or_none()
            return f"submission {row.id} is for {row.domain!r} in the table but its events say {created!r}"
        if _SCOPE.get(row.scope, 0) != record[1]:
            said = SCOPES[record[1] - 1] if record[1] else "another scope"
            return f"submission {row.id} has scope {row.scope!r} in the table but its events say {said!r}"
        if status in ("approved", "lifted") and (row.order_id or 0) != record[3]:
            return (f"submission {row.id} cites blocking order {row.order_id} in the table but its events say "
                    f"order {record[3]}")
        if status == "lifted" and (row.lift_order_id or 0) != record[4]:
            return (f"submission {row.id} cites lifting order {row.lift_order_id} in the table but its events say "
                    f"order {record[4]}")
        return None
