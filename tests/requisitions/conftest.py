"""Fixtures of the requisitions' tests: a real SMTP server (aiosmtpd) on a free loopback port, and settings that
send to it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from blocklist.settings import Settings
from tests.support.ports import free_port
from tests.support.smtp import Inbox, smtp_server


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def mailbox(smtp_port: int) -> Iterator[Inbox]:
    """What the SMTP server on smtp_port received."""
    with smtp_server(port=smtp_port) as server:
        yield server.inbox


@pytest.fixture
def mail_settings(settings: Settings, smtp_port: int) -> Settings:
    """The test settings, sending mail to the server on smtp_port."""
    return settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": smtp_port, "smtp_timeout": 3.0})
