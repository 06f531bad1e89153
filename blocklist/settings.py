"""Configuration from the environment, built once by the caller (never at import time)."""

from __future__ import annotations

from pathlib import Path

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
    requisition_deadline_hours: int = 24
    feed_expiry_hours: int = 6
    secret_key: str = ""
    # Run the periodic jobs (feed publication, requisition delivery, verification) inside `serve`.
    scheduler: bool = True

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
