"""SMTP login when configured, against a real aiosmtpd server that requires it (plain, on loopback only)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from requisitions.errors import DeliveryError
from requisitions.mail import SmtpConfig, send_requisition
from tests.support.smtp import LOGIN, SmtpServer, smtp_server

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # meant: a clear relay


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    with smtp_server(login=LOGIN) as running:  # no TLS: login is offered in clear
        yield running


def _send(port: int, password: str | None) -> None:
    config = SmtpConfig(host="127.0.0.1", port=port, username=LOGIN[0] if password else None, password=password,
                        timeout=5)
    send_requisition(config, subject="s", text="t", pdf=b"%PDF-1.7", to_addr="noc@isp-one.example",
                     reference="REQ-1", message_id="<REQ-1@requisitions.invalid>")


def test_login_then_delivery(server: SmtpServer) -> None:
    _send(server.port, LOGIN[1])
    assert len(server.inbox.raw) == 1 and b"X-Requisition-Reference: REQ-1" in server.inbox.raw[0]
    assert server.inbox.sessions[0].authenticated


def test_wrong_password_is_a_permanent_failure(server: SmtpServer) -> None:
    with pytest.raises(DeliveryError) as info:
        _send(server.port, "wrong")
    assert not info.value.transient and "535" in str(info.value) and server.inbox.raw == []


def test_no_login_when_required_is_refused(server: SmtpServer) -> None:
    with pytest.raises(DeliveryError) as info:
        _send(server.port, None)
    assert "530" in str(info.value) or "authentication" in str(info.value).lower()
