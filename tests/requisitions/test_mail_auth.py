"""SMTP login when configured, against a real aiosmtpd server that requires it (plain, on loopback only)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from requisitions.errors import DeliveryError
from requisitions.mail import SmtpConfig, send_requisition
from tests.support.resolvers import free_port


class Accept:
    def __init__(self) -> None:
        self.received: list[bytes] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.received.append(envelope.content)  # type: ignore[attr-defined]
        return "250 OK"


def authenticator(server: object, session: object, envelope: object, mechanism: str, auth_data: object) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"relay", b"s3cret-pass")
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def server() -> Iterator[tuple[Accept, int]]:
    handler, port = Accept(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, authenticator=authenticator,
                            auth_required=True, auth_require_tls=False)
    controller.start()
    yield handler, port
    controller.stop()


def _send(port: int, password: str | None) -> None:
    config = SmtpConfig(host="127.0.0.1", port=port, username="relay" if password else None, password=password,
                        timeout=5)
    send_requisition(config, subject="s", text="t", pdf=b"%PDF-1.7", to_addr="noc@isp-one.example",
                     reference="REQ-1", message_id="<REQ-1@requisitions.invalid>")


def test_login_then_delivery(server: tuple[Accept, int]) -> None:
    handler, port = server
    _send(port, "s3cret-pass")
    assert len(handler.received) == 1 and b"X-Requisition-Reference: REQ-1" in handler.received[0]


def test_wrong_password_is_a_permanent_failure(server: tuple[Accept, int]) -> None:
    with pytest.raises(DeliveryError) as info:
        _send(server[1], "wrong")
    assert not info.value.transient and "535" in str(info.value)


def test_no_login_when_required_is_refused(server: tuple[Accept, int]) -> None:
    with pytest.raises(DeliveryError) as info:
        _send(server[1], None)
    assert "530" in str(info.value) or "authentication" in str(info.value).lower()
