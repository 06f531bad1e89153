"""The client's HTTP to the feed server, through `requests`: TLS verified (the system's CA bundle via certifi, or
`ca_file` for a private CA), the system's proxy settings (HTTPS_PROXY, NO_PROXY: requests reads them), connect and
read timeouts, and retries with exponential backoff (urllib3's Retry) on connection errors and 5xx answers.

Only GETs are retried: they change nothing at the server. A body is never retried half-way (a transfer that breaks
off is a fetch failure: the pull keeps the last good list and the next pull starts again)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from isp_feed_client import __version__

RETRY_STATUSES = (500, 502, 503, 504)  # a server restarting or overloaded: worth another try


@dataclass(frozen=True)
class Transport:
    """How to reach the server; the defaults suit a poll every minute."""

    ca_file: Path | None = None  # a private CA's bundle instead of the system's
    connect_timeout: float = 10.0
    read_timeout: float = 30.0  # between two bytes, not for the whole body
    retries: int = 3
    backoff: float = 0.5  # seconds; doubles with each retry after the first (0, 1, 2 with the defaults)

    @property
    def timeout(self) -> tuple[float, float]:
        return self.connect_timeout, self.read_timeout


class _Session(requests.Session):
    """A session whose `verify` (the --ca-file) wins over REQUESTS_CA_BUNDLE in the environment: requests otherwise
    lets the environment override a session's CA bundle (psf/requests#3829)."""

    pinned_ca: str | None = None

    def merge_environment_settings(self, url: str | bytes | None, proxies: Any, stream: Any, verify: Any,
                                   cert: Any) -> Any:  # requests-stubs type it as a private TypedDict
        settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
        if verify is None and self.pinned_ca is not None:
            settings["verify"] = self.pinned_ca
        return settings


def session(transport: Transport, token: str) -> requests.Session:
    """A session that sends the ISP's credential, verifies TLS and retries as `transport` says."""
    retry = Retry(total=transport.retries, connect=transport.retries, read=transport.retries,
                  status=transport.retries, backoff_factor=transport.backoff, status_forcelist=RETRY_STATUSES,
                  allowed_methods=frozenset({"GET"}), raise_on_status=False, respect_retry_after_header=True)
    adapter = HTTPAdapter(max_retries=retry)
    http = _Session()
    http.mount("https://", adapter)
    http.mount("http://", adapter)
    if transport.ca_file is not None:
        http.verify = http.pinned_ca = str(transport.ca_file)
    http.headers["Authorization"] = f"Bearer {token}"
    http.headers["User-Agent"] = f"isp-feed/{__version__}"
    # The files are hashed as they come: ask for them as they are, never re-encoded on the way.
    http.headers["Accept-Encoding"] = "identity"
    return http
