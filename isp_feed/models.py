"""Feed versions, their signed artifacts, publication holds, fetch log and ISP acknowledgements."""

from __future__ import annotations

import datetime as dt
import json
import zlib

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from blocklist.models import Base, UtcDateTime, utcnow


class FeedEntrySet(Base):
    """One distinct set of blocked names (zlib-compressed canonical JSON) of a version from before feed_0008."""

    __tablename__ = "feed_entry_sets"

    set_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    entries: Mapped[bytes] = mapped_column(LargeBinary)


class FeedVersionRow(Base):
    """One published, signed, immutable version of the feed: its manifest, and what the list was.

    `content_serial` is the serial whose files it carries (its own when the list changed, an earlier one for a
    re-issue); `set_hash` is the SHA-256 of the canonical list; `events_through` the audit event up to which
    approvals and lifts are in it. NULL manifest: a version from before feed_0008.
    """

    __tablename__ = "feed_versions"

    serial: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    set_hash: Mapped[str] = mapped_column(String(64))
    count: Mapped[int] = mapped_column(Integer)
    generated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    previous_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    envelope_sha256: Mapped[str] = mapped_column(String(64))
    stop_page_name: Mapped[str] = mapped_column(String(253))
    stop_page_ipv4: Mapped[str] = mapped_column(String(45))
    stop_page_ipv6: Mapped[str | None] = mapped_column(String(45), nullable=True)
    key_id: Mapped[str] = mapped_column(String(16))
    added: Mapped[int] = mapped_column(Integer, default=0)
    removed: Mapped[int] = mapped_column(Integer, default=0)
    content_serial: Mapped[int | None] = mapped_column(Integer, nullable=True)
    content_generated_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    manifest: Mapped[str | None] = mapped_column(Text, nullable=True)
    manifest_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    manifest_signature: Mapped[str | None] = mapped_column(Text, nullable=True)
    events_through: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class FeedArtifact(Base):
    """One format file of one content version: its SHA-256, size, minisign signature and where it lies under the
    data dir (`path`, content-addressed; written once at publication, served as a file). The signature is added
    once the version is committed (None until then: isp_feed/file_signatures.py)."""

    __tablename__ = "feed_artifacts"

    serial: Mapped[int] = mapped_column(ForeignKey("feed_versions.serial"), primary_key=True)
    ext: Mapped[str] = mapped_column(String(20), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    signature: Mapped[str | None] = mapped_column(Text, nullable=True)
    path: Mapped[str | None] = mapped_column(String(200), nullable=True)


class FeedDelta(Base):
    """What one content version changed from the previous one (canonical delta JSON, zlib-compressed)."""

    __tablename__ = "feed_deltas"

    serial: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    from_serial: Mapped[int] = mapped_column(Integer)
    added: Mapped[int] = mapped_column(Integer)
    removed: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))  # of the uncompressed canonical bytes, as the manifest says
    size: Mapped[int] = mapped_column(Integer)
    body: Mapped[bytes] = mapped_column(LargeBinary)


class FeedSnapshot(Base):
    """The whole list of one content version (canonical list, zlib-compressed): where rebuilding a list starts."""

    __tablename__ = "feed_snapshots"

    serial: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    sha256: Mapped[str] = mapped_column(String(64))
    count: Mapped[int] = mapped_column(Integer)
    body: Mapped[bytes] = mapped_column(LargeBinary)


class FeedHold(Base):
    """A candidate set the publication gate held until a magistrate confirms it a second time."""

    __tablename__ = "feed_holds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    set_hash: Mapped[str] = mapped_column(String(64), index=True)
    reasons: Mapped[str] = mapped_column(Text)
    added: Mapped[int] = mapped_column(Integer)
    removed: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    confirmed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # A later publication supersedes a hold nobody confirmed: closed, with why (it never stays "pending").
    closed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    closed_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    from_serial: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the content the change starts from
    names: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON: up to 200 names added and removed

    def listed(self, side: str) -> list[str]:
        """The names (at most 200) the held change adds (`side` "added") or removes ("removed")."""
        found = json.loads(self.names or "{}").get(side, [])
        return [str(name) for name in found] if isinstance(found, list) else []


class FeedFetch(Base):
    """One ISP request for the feed: who, which serial and format, when, with what status."""

    __tablename__ = "feed_fetches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    isp_id: Mapped[int] = mapped_column(ForeignKey("isps.id"), index=True)
    serial: Mapped[int | None] = mapped_column(Integer, nullable=True)
    ext: Mapped[str] = mapped_column(String(40))
    status: Mapped[int] = mapped_column(Integer)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class FeedApplied(Base):
    """An ISP client's acknowledgement that it applied a serial."""

    __tablename__ = "feed_applied"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    isp_id: Mapped[int] = mapped_column(ForeignKey("isps.id"), index=True)
    serial: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    format: Mapped[str] = mapped_column(String(20), default="")
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class VerificationRound(Base):
    """One DNS verification round: when, for which ISPs, against which feed serial."""

    __tablename__ = "verification_rounds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    feed_serial: Mapped[int | None] = mapped_column(Integer, nullable=True)
    names: Mapped[int] = mapped_column(Integer, default=0)
    resolvers: Mapped[int] = mapped_column(Integer, default=0)
    trigger: Mapped[str] = mapped_column(String(20), default="manual")


class VerificationResult(Base):
    """The verdict for one name at one ISP resolver in one round, with the raw evidence (append-only)."""

    __tablename__ = "verification_results"
    __table_args__ = (Index("ix_verification_results_isp_round", "isp_id", "round_id"),
                      Index("ix_verification_results_domain_isp", "domain", "isp_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("verification_rounds.id"), index=True)
    isp_id: Mapped[int] = mapped_column(ForeignKey("isps.id"))  # indexed with round_id (below)
    resolver: Mapped[str] = mapped_column(String(60))
    domain: Mapped[str] = mapped_column(String(253))  # indexed with isp_id (below)
    verdict: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    # JSON: every question, raw answer (base64), rcode, answers, EDE. Since feed_0006 it is kept zlib-compressed
    # in evidence_z and `evidence` is empty; since feed_0009 a local round's evidence is rows of
    # verification_observations instead (both empty here). Read any of them through isp_feed/evidence.py.
    evidence: Mapped[str] = mapped_column(Text, default="")
    evidence_z: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    feed_serial: Mapped[int | None] = mapped_column(Integer, nullable=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    # Since feed_0010: the observations behind the verdict, packed (isp_feed/evidence.py `pack`), instead of rows of
    # verification_observations; the control's, once per round and name, on that name's first result.
    observations: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


def pack_evidence(evidence_json: str) -> bytes:
    """The evidence JSON as stored: zlib-compressed."""
    return zlib.compress(evidence_json.encode("utf-8"), 6)


class VerificationAnswer(Base):
    """One distinct DNS answer message, stored once (content-addressed): the raw bytes as received with the message
    ID zeroed, so that the same answer on another day, to another query, is the same row. Append-only."""

    __tablename__ = "verification_answers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    wire: Mapped[bytes] = mapped_column(LargeBinary)


class VerificationObservation(Base):
    """One question asked of one resolver in a round, and what came back: a small row pointing at its answer.

    Times are microseconds relative to the result's `at` (sent) and to the sending (round trip), the question's
    name is the result's. The control resolver's observations of a name are stored once per round and name, on the
    first result of that name (`side` "control"). Append-only, like the results.
    """

    __tablename__ = "verification_observations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    result_id: Mapped[int] = mapped_column(ForeignKey("verification_results.id"), index=True)
    side: Mapped[str] = mapped_column(String(7))  # "isp" | "control"
    resolver: Mapped[str | None] = mapped_column(String(60), nullable=True)  # None: the result's own resolver
    qtype: Mapped[int] = mapped_column(Integer)
    sent_us: Mapped[int] = mapped_column(BigInteger)  # sent_at - result.at, in microseconds (negative)
    rtt_us: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # None: nothing came back
    rcode: Mapped[int | None] = mapped_column(Integer, nullable=True)
    message_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the answer's ID, put back on reading
    answer_id: Mapped[int | None] = mapped_column(ForeignKey("verification_answers.id"), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    transport: Mapped[str | None] = mapped_column(String(3), nullable=True)  # None: UDP


class VerificationLatest(Base):
    """The newest verdict for each name at each ISP resolver, kept up to date after every round.

    Derived from the append-only `verification_results` (which stay the evidence): it lets compliance figures
    read one row per name and resolver instead of the whole history.
    """

    __tablename__ = "verification_latest"

    isp_id: Mapped[int] = mapped_column(ForeignKey("isps.id"), primary_key=True)
    resolver: Mapped[str] = mapped_column(String(60), primary_key=True)
    domain: Mapped[str] = mapped_column(String(253), primary_key=True)
    result_id: Mapped[int] = mapped_column(ForeignKey("verification_results.id"))
    round_id: Mapped[int] = mapped_column(Integer)
    verdict: Mapped[str] = mapped_column(String(20))
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    last_blocked_round: Mapped[int | None] = mapped_column(Integer, nullable=True)  # a later non-block regressed


class VerificationLive(Base):
    """Which serial one ISP resolver served in one round, asked from outside by the canaries of the recent content
    serials (isp_feed/verify/live.py), and since when (the first round of the unbroken run that saw it). Append-only:
    the evidence beside what the ISP's client acknowledged (FeedApplied)."""

    __tablename__ = "verification_live"
    __table_args__ = (Index("ix_verification_live_resolver", "isp_id", "resolver", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("verification_rounds.id"))
    isp_id: Mapped[int] = mapped_column(ForeignKey("isps.id"))
    resolver: Mapped[str] = mapped_column(String(60))
    state: Mapped[str] = mapped_column(String(12))  # blocklist.vocab.LiveState
    serial: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the content serial served (state serving)
    since: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    asked: Mapped[str] = mapped_column(Text)  # the content serials whose canaries were asked, comma separated
    detail: Mapped[str] = mapped_column(Text)  # what each canary was answered, in words
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class Probe(Base):
    """A verifier running inside an ISP's network: it asks the local resolver and posts signed results."""

    __tablename__ = "probes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    isp_id: Mapped[int] = mapped_column(ForeignKey("isps.id"), index=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_prefix: Mapped[str] = mapped_column(String(16))
    public_key: Mapped[str] = mapped_column(Text)  # minisign public key: results must be signed with its secret
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
