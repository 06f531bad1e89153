"""Configuration from the environment, built once by the caller (never at import time)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting of the server; environment variables use the BLOCKLIST_ prefix except DATABASE_URL."""

    model_config = SettingsConfigDict(env_prefix="BLOCKLIST_", extra="ignore")

    data_dir: Path = Field(default=Path("var"), validation_alias=AliasChoices("BLOCKLIST_DATA_DIR"))
    database_url: str = Field(default="", validation_alias=AliasChoices("DATABASE_URL"))
    review_period_days: int = Field(default=182, ge=1, le=3650)
    # Extra protected names (comma separated) on top of the shipped list and the ISPs' own domains.
    protected_extra: str = ""
    # Extra shared-hosting / platform suffixes (comma separated) to flag, on top of the shipped list.
    platform_extra: str = ""
    stop_page_host: str = "stop.blocklist.example"
    stop_page_ipv4: str = "192.0.2.80"
    stop_page_ipv6: str = "2001:db8::80"
    # Where the public can register disapproval (a placeholder until the real number is set).
    stop_page_phone: str = "+32 2 000 00 00"
    requisition_deadline_hours: int = 24
    # Wait for the feed version that carries an order before issuing its requisitions (they cite its serial).
    requisitions_wait_for_feed: bool = True
    # Processes rendering a large order's PDFs in parallel.
    requisition_render_workers: int = Field(default_factory=lambda: os.cpu_count() or 1)
    authority_name: str = "Federal Prosecutor's Office"
    authority_address: str = "Rue des Quatre Bras 19, 1000 Brussels"
    authority_email: str = "blocking@federal-prosecutor.example"
    authority_phone: str = "+32 2 000 00 00"
    # Where staff reach the server: the links the server e-mails (enrolment) start with it.
    public_url: str = "http://127.0.0.1:8000"
    # Bulk submission as a background job (blocklist/batches.py): names per batch, names per transaction.
    batch_max_names: int = Field(default=10_000, ge=1, le=100_000)
    batch_chunk_names: int = Field(default=250, ge=1, le=10_000)
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_sender: str = "requisitions@federal-prosecutor.example"
    smtp_timeout: float = 10.0
    # A PEM file of the CA(s) to trust for the SMTP server's STARTTLS certificate (a private CA); empty: the system's.
    smtp_cafile: str = ""
    feed_expiry_hours: int = 6
    feed_reissue_minutes: int = 60
    # How many of the latest lists keep their format files on disk (each is every format in full: about 640 MB at
    # 1,000,000 names). Older ones are pruned hourly; the database keeps their deltas, snapshots and hashes.
    feed_keep_files: int = Field(default=24, ge=2)
    # Publication gate: hold a version that adds + removes more than this share of the list...
    feed_gate_share: float = 0.10
    # ...unless it changes at most this many names (so that a small list can grow one name at a time).
    feed_gate_min_changes: int = 10
    # Old public keys stay valid for clients this long after a rotation.
    feed_key_transition_days: int = 7
    # The RPZ zone's name, as ISPs' resolvers configure it (zone transfer from the hidden primary, and the files).
    rpz_zone: str = "rpz.blocklist"
    # The hidden primary (`blocklist dns-primary`, isp_feed/primary.py): its folder (empty: `<data dir>/dns-primary`)
    # and the address it listens on, sends NOTIFY from, and the feed jobs push updates to.
    dns_primary_dir: str = ""
    dns_primary_address: str = "127.0.0.1"
    secret_key: str = ""
    # The session cookie is sent over HTTPS only. Off for `make run`, which serves plain http on 127.0.0.1;
    # anywhere else staff reach the server through TLS, and a cookie leaked over http is a stolen session.
    session_cookie_secure: bool = True
    # The resolver that applies no block, asked alongside every ISP resolver (IP[:PORT]).
    verify_control_resolver: str = ""
    # Queries per second per resolver (0: unlimited, for benchmarks only).
    verify_rate_qps: float = 50.0
    verify_timeout: float = 2.0
    # Where regression alerts go (a name an ISP blocked and no longer blocks); empty: no e-mail.
    alert_email: str = ""
    # Seconds after a feed version's publication before its names are checked (ISPs poll, then reload).
    verify_grace_seconds: int = 300
    # HTTP requests holding a database transaction at once (below the connection pool and thread pool sizes).
    db_request_slots: int = Field(default=8, ge=1, le=64)
    # GET requests reading at once (read-only transactions; with the above, within the pool of 15 connections).
    db_read_slots: int = Field(default=6, ge=1, le=64)
    # Seconds a writer waits for the database's write lock (or a pooled connection) before it is answered 503.
    db_lock_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    # Take part in running the periodic jobs (feed publication, requisition delivery, verification): every process
    # that does competes for one leader lock (api/leader.py) and only its holder runs them.
    scheduler: bool = True
    # Reverse proxies whose X-Forwarded-For/-Proto `serve` believes (comma-separated IPs or networks, `*` for any);
    # empty: none, the client is the TCP peer.
    trusted_proxies: str = ""
    # Bearer token Prometheus sends to read /metrics; empty: /metrics answers only loopback clients (no proxy).
    metrics_token: str = ""
    # How long the figures /metrics reads from the database are reused (each scrape would otherwise query them).
    metrics_cache_seconds: float = Field(default=10.0, ge=0, le=600)
    # Server logs (one line per request, and everything else): JSON lines for a collector, or plain text.
    log_format: Literal["json", "text"] = "json"

    def resolved_database_url(self) -> str:
        """The database URL, defaulting to an SQLite file under the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'blocklist.sqlite3').resolve()}"

    def protected_extra_names(self) -> list[str]:
        """The configured extra protected names."""
        return [n.strip() for n in self.protected_extra.split(",") if n.strip()]

    def platform_extra_names(self) -> list[str]:
        """The configured extra platform suffixes."""
        return [n.strip() for n in self.platform_extra.split(",") if n.strip()]
