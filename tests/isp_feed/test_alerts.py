"""Regression alerts go through the product's one SMTP sender: STARTTLS verifies the server's certificate."""

from __future__ import annotations

from pathlib import Path

import pytest

from blocklist.errors import MailError
from blocklist.settings import Settings
from isp_feed.alerts import send_regression_alert
from tests.support.smtp import make_pki, smtp_server

REGRESSIONS = {"ISP One": ["csam-gallery.test"]}


def _settings(monkeypatch: pytest.MonkeyPatch, port: int, **env: str) -> Settings:
    for name, value in {"BLOCKLIST_SMTP_HOST": "127.0.0.1", "BLOCKLIST_SMTP_PORT": str(port),
                        "BLOCKLIST_SMTP_STARTTLS": "true", "BLOCKLIST_SMTP_TIMEOUT": "5",
                        "BLOCKLIST_ALERT_EMAIL": "duty@prosecutor.example", **env}.items():
        monkeypatch.setenv(name, value)
    return Settings()


def test_alert_to_an_untrusted_certificate_is_not_sent(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with smtp_server(tls=make_pki(tmp_path, self_signed=True)) as server, \
            pytest.raises(MailError, match="not trusted") as info:
        send_regression_alert(_settings(monkeypatch, server.port), REGRESSIONS, round_id=7)
    assert server.inbox.messages == [] and info.value.transient
    assert "regression alert of round 7" in str(info.value)


def test_alert_is_sent_when_the_ca_file_names_the_certificate(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    pki = make_pki(tmp_path, self_signed=True)
    with smtp_server(tls=pki) as server:
        settings = _settings(monkeypatch, server.port, BLOCKLIST_SMTP_CAFILE=str(pki.ca_file))
        assert settings.smtp_cafile == str(pki.ca_file)
        assert send_regression_alert(settings, REGRESSIONS, round_id=7) is True
    (message,) = server.inbox.messages
    assert server.inbox.sessions[0].ssl is not None  # it went over TLS
    assert message["To"] == "duty@prosecutor.example" and "1 name(s) unblocked" in message["Subject"]
    assert "- ISP One: csam-gallery.test" in message.get_content()


def test_no_alert_address_sends_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings(monkeypatch, 9, BLOCKLIST_ALERT_EMAIL="")  # nothing listens on port 9: never asked
    assert send_regression_alert(settings, REGRESSIONS, round_id=7) is False
