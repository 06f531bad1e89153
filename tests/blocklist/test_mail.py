"""The product's one SMTP sender (blocklist.mail) against a real aiosmtpd server on 127.0.0.1."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest

from blocklist.errors import MailError
from blocklist.mail import SmtpConfig, send
from blocklist.settings import Settings
from tests.support.smtp import Inbox, make_pki, smtp_server


def _message(**headers: str) -> EmailMessage:
    message = EmailMessage()
    for name, value in {"From": "alerts@prosecutor.example", "To": "duty@prosecutor.example", "Subject": "test",
                        **headers}.items():
        message[name.replace("_", "-")] = value
    message.set_content("hello\n")
    return message


def test_config_from_settings() -> None:
    settings = Settings(smtp_host="127.0.0.1", smtp_port=2525, smtp_starttls=True, smtp_username="relay",
                        smtp_password="pw", smtp_sender="alerts@prosecutor.example", smtp_timeout=3,
                        smtp_cafile="/etc/ssl/private-ca.pem")
    assert SmtpConfig.from_settings(settings) == SmtpConfig(
        host="127.0.0.1", port=2525, starttls=True, username="relay", password="pw",
        sender="alerts@prosecutor.example", timeout=3, cafile="/etc/ssl/private-ca.pem")
    empty = SmtpConfig.from_settings(Settings())
    assert (empty.username, empty.password, empty.cafile, empty.starttls) == (None, None, None, False)


def test_to_and_cc_are_the_recipients_and_a_message_id_is_added() -> None:
    with smtp_server() as server:
        message = _message(Cc="Second <second@prosecutor.example>")
        receipt = send(SmtpConfig("127.0.0.1", server.port, sender="alerts@prosecutor.example", timeout=5), message,
                       what="a test message")
    assert server.inbox.envelopes == [("alerts@prosecutor.example",
                                       ["duty@prosecutor.example", "second@prosecutor.example"])]
    assert receipt.message_id == message["Message-ID"] == server.inbox.messages[0]["Message-ID"]
    assert receipt.message_id.endswith("@blocklist.invalid>") and receipt.smtp_response.startswith("250 ")


def test_a_refused_recipient_sends_nothing() -> None:
    with smtp_server(inbox=Inbox(rcpt_reply="550 5.1.1 No such mailbox")) as server, \
            pytest.raises(MailError, match="No such mailbox") as info:
        send(SmtpConfig("127.0.0.1", server.port, timeout=5), _message(), what="a test message")
    assert not info.value.transient and info.value.smtp_code == 550 and server.inbox.messages == []


def test_an_unreadable_ca_file_is_named(tmp_path: Path) -> None:
    with smtp_server(tls=make_pki(tmp_path)) as server, pytest.raises(MailError, match="CA file") as info:
        send(SmtpConfig("127.0.0.1", server.port, starttls=True, timeout=5, cafile=str(tmp_path / "missing.pem")),
             _message(), what="a test message")
    assert "BLOCKLIST_SMTP_CAFILE" in str(info.value) and server.inbox.messages == []


def test_no_recipient_is_permanent() -> None:
    message = _message()
    del message["To"]
    with pytest.raises(MailError, match="no recipient") as info:
        send(SmtpConfig("127.0.0.1", 9, timeout=5), message, what="a test message")  # never connects
    assert not info.value.transient
