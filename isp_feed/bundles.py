"""Signed history exports: a name's or a case's audit events, with the evidence beside them, that an auditor can
verify offline (`blocklist audit verify-export FILE`).

The file is JSON: `bundle` (what api/history.py gathers: the events with every field their hashes cover, the
records beside them, the newest signed checkpoint of the chain and the chain's head at export time) and
`signature`, a minisign signature with the feed key over the bundle's canonical JSON (sorted keys, no spaces,
UTF-8: audit.canonical_json). Verifying needs nothing but this file and the feed's public key:
- every event's hash recomputes from its fields, and where two exported events follow each other in the chain,
  the second's previous-hash is the first's hash;
- the checkpoint's own signature verifies (the chain's length and head as the server signed them at that time;
  ISPs' clients keep the same checkpoints, `audit verify --checkpoints` compares them with the live chain);
- the bundle's signature verifies, so nothing was added, left out or changed since the export.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from blocklist.audit import canonical_json
from blocklist.timeline import record_problem
from isp_feed import checkpoints
from isp_feed.keys import KeyStore
from isp_feed_client import formats, signing

BUNDLE_TYPE = "be-blocklist-history"
VERSION = 1


def trusted_comment(body: bytes) -> str:
    """The signed comment of a bundle: what `minisign -V` shows (the type and the body's SHA-256)."""
    return f"{BUNDLE_TYPE} v{VERSION} sha256={hashlib.sha256(body).hexdigest()}"


def checkpoint_entry(checkpoint: formats.AuditCheckpoint | None) -> dict[str, Any] | None:
    """A checkpoint as a bundle carries it: the exact text its signature covers, and the signature."""
    if checkpoint is None:
        return None
    return {"body": formats.checkpoint_body(checkpoint.events, checkpoint.head, checkpoint.at).decode(),
            "signature": checkpoint.signature, "events": checkpoint.events, "head": checkpoint.head}


def sign(bundle: dict[str, Any], keys: KeyStore) -> bytes:
    """The export file: the bundle and the feed key's signature over its canonical JSON."""
    body = canonical_json(bundle).encode()
    document = {"type": BUNDLE_TYPE, "version": VERSION, "bundle": bundle,
                "signature": keys.sign(body, trusted_comment(body)),
                "signed": "the minisign signature covers the canonical JSON of `bundle` (sorted keys, no spaces, "
                          "UTF-8)"}
    return (json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode()


@dataclass(frozen=True)
class BundleCheck:
    """The outcome of verifying an export: every event, the checkpoint, the signature."""

    intact: bool
    events: int
    subject: str
    problem: str | None = None
    bad_event: int | None = None

    def describe(self) -> str:
        """One line for the auditor."""
        if self.intact:
            return f"export of {self.subject} verified: {self.events} events, their hashes, links and the signature"
        where = f" at event {self.bad_event}" if self.bad_event is not None else ""
        return f"export{f' of {self.subject}' if self.subject else ''} NOT verified{where}: {self.problem}"


def verify(data: bytes, keys: list[signing.PublicKey]) -> BundleCheck:
    """Check an export file against the feed's public keys (pure: no database, no server)."""
    try:
        document = json.loads(data)
        bundle = document["bundle"]
        signature = document["signature"]
        records = bundle["events"]
        subject = f"{bundle['subject']['kind']} {bundle['subject']['value']}"
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        return BundleCheck(False, 0, "", f"not a history export ({type(exc).__name__}: {exc})")
    if not isinstance(records, list) or not isinstance(signature, str):
        return BundleCheck(False, 0, subject, "not a history export (events or signature malformed)")
    previous: dict[str, Any] | None = None
    for record in records:
        problem = record_problem(record, previous)
        if problem is not None:
            seq = record.get("seq") if isinstance(record, dict) else None
            action = f" ({record.get('action')})" if isinstance(record, dict) and record.get("action") else ""
            return BundleCheck(False, len(records), subject, f"{problem}{action}",
                               bad_event=seq if isinstance(seq, int) else None)
        if previous is not None and record["seq"] <= previous["seq"]:
            return BundleCheck(False, len(records), subject, "the events are out of the chain's order",
                               bad_event=record["seq"])
        previous = record
    checkpoint = bundle.get("checkpoint")
    if checkpoint is not None:
        try:
            events, head, at = formats.parse_checkpoint_body(str(checkpoint["body"]).encode())
            checkpoints.check(formats.AuditCheckpoint(events, head, at, str(checkpoint["signature"])), keys,
                              "the export's checkpoint")
        except (formats.FeedFormatError, checkpoints.CheckpointError, KeyError, TypeError) as exc:
            return BundleCheck(False, len(records), subject, f"its checkpoint does not verify: {exc}")
        anchored = next((r for r in records if r["seq"] == events), None)
        if anchored is not None and anchored["hash"] != head:
            return BundleCheck(False, len(records), subject, "the checkpoint signed another hash for this event",
                               bad_event=events)
    body = canonical_json(bundle).encode()
    try:
        comment = signing.verify(body, signature, keys)
    except signing.SignatureError as exc:
        return BundleCheck(False, len(records), subject, f"its signature does not verify with the feed key "
                                                         f"({exc}): it was changed after the export")
    if comment != trusted_comment(body):
        return BundleCheck(False, len(records), subject, "its signed comment does not state this bundle")
    return BundleCheck(True, len(records), subject)
