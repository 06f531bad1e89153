"""Delivery through a REAL SMTP server (aiosmtpd on 127.0.0.1): PDF attached, evidence kept, failures classified."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from blocklist.errors import MailError
from blocklist.mail import DeliveryReceipt, SmtpConfig
from requisitions import mail
from requisitions.document import Addressee, Authority, CaseRef, NamedDomain, RequisitionDocument
from requisitions.errors import DeliveryError
from requisitions.mail import send_requisition
from requisitions.render import RenderedRequisition, render
from tests.support.ports import free_port
from tests.support.smtp import LOGIN, Inbox, Pki, make_pki, smtp_server

TO = "noc@isp-one.example"
SENDER = "requisitions@federal-prosecutor.example"


@pytest.fixture(scope="module")
def rendered() -> RenderedRequisition:
    """One real requisition, in Dutch, rendered once for the module."""
    issued = dt.datetime(2026, 11, 28, 9, 30, tzinfo=dt.UTC)
    return render(RequisitionDocument(
        kind="blocking", reference="REQ-2026-000123-ISP7", language="nl", issued_at=issued,
        deadline=issued + dt.timedelta(hours=24),
        authority=Authority("Federal Prosecutor's Office", "Quatre Brasstraat 19, 1000 Brussel",
                            SENDER, "+32 2 000 00 00"),
        magistrate="Anne Example", isp=Addressee("ISP One", "OP-0007", TO),
        names=(NamedDomain("blocked-site.test", "blocked-site.test", "domain_and_subdomains"),),
        cases=(CaseRef("FCCU-2026-0101", "art39bis"),), feed_serial=4242, stop_page_name="stop.blocklist.example",
    ))


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    with smtp_server() as server:
        yield server.inbox, server.port


def _send(config: SmtpConfig, rendered: RenderedRequisition, message_id: str | None = None) -> DeliveryReceipt:
    return send_requisition(config, subject=rendered.subject, text=rendered.text, pdf=rendered.pdf, to_addr=TO,
                            reference="REQ-2026-000123-ISP7", message_id=message_id)


def _plain(port: int, **changes: Any) -> SmtpConfig:
    return SmtpConfig(host="127.0.0.1", port=port, sender=SENDER, timeout=5, **changes)


def test_message_arrives_with_pdf_subject_language_and_message_id(
    inbox: tuple[Inbox, int], rendered: RenderedRequisition
) -> None:
    handler, port = inbox
    receipt = _send(_plain(port), rendered)
    assert len(handler.messages) == 1
    message = handler.messages[0]
    assert handler.envelopes == [(SENDER, [TO])]
    assert message["Subject"] == rendered.subject and "Vordering tot blokkering van de toegang" in message["Subject"]
    assert message["Message-ID"] == receipt.message_id and receipt.message_id.endswith("@requisitions.invalid>")
    assert message["X-Requisition-Reference"] == "REQ-2026-000123-ISP7"
    body = message.get_body(preferencelist=("plain",))
    assert body is not None and "Wetboek van strafvordering" in body.get_content()  # the text body, in Dutch
    attachments = list(message.iter_attachments())
    assert [a.get_filename() for a in attachments] == ["REQ-2026-000123-ISP7.pdf"]
    pdf = attachments[0].get_content()
    assert attachments[0].get_content_type() == "application/pdf" and pdf == rendered.pdf
    assert "blocked-site.test" in (PdfReader(io.BytesIO(pdf)).pages[0].extract_text() or "")
    assert receipt.smtp_response == "250 2.0.0 Ok: queued as TEST123"  # the server's own words, as evidence
    assert receipt.sent_at.tzinfo is not None


def test_a_given_message_id_is_kept_for_resends(inbox: tuple[Inbox, int], rendered: RenderedRequisition) -> None:
    handler, port = inbox
    fixed = "<fixed-1@requisitions.invalid>"
    assert [_send(_plain(port), rendered, fixed).message_id for _ in range(2)] == [fixed, fixed]
    assert [m["Message-ID"] for m in handler.messages] == [fixed, fixed]


def test_server_down_is_transient(rendered: RenderedRequisition) -> None:
    port = free_port()  # nothing listens there
    with pytest.raises(DeliveryError) as info:
        _send(_plain(port), rendered)
    assert info.value.transient and info.value.smtp_code is None
    assert f"cannot reach SMTP server 127.0.0.1:{port}" in str(info.value) and "REQ-2026-000123-ISP7" in str(info.value)


@pytest.mark.parametrize(("stage", "reply", "transient"), [
    ("data", "554 5.7.1 Message rejected by policy", False),
    ("data", "451 4.3.0 Local problem, try again later", True),
    ("rcpt", "550 5.1.1 No such mailbox", False),
    ("rcpt", "450 4.2.0 Greylisted, come back later", True),
])
def test_server_replies_decide_retry(
    inbox: tuple[Inbox, int], rendered: RenderedRequisition, stage: str, reply: str, transient: bool
) -> None:
    handler, port = inbox
    setattr(handler, f"{stage}_reply", reply)
    with pytest.raises(DeliveryError) as info:
        _send(_plain(port), rendered)
    code = int(reply[:3])
    assert info.value.transient is transient and info.value.smtp_code == code
    assert reply in str(info.value) and ("temporarily" in str(info.value)) is transient
    assert handler.messages == []


def test_login_configured_but_not_offered_is_permanent(
    inbox: tuple[Inbox, int], rendered: RenderedRequisition
) -> None:
    with pytest.raises(DeliveryError, match="offers no login") as info:
        _send(_plain(inbox[1], username="relay", password="s3cret-pass"), rendered)
    assert not info.value.transient


def test_starttls_required_but_not_offered_is_permanent(
    inbox: tuple[Inbox, int], rendered: RenderedRequisition
) -> None:
    with pytest.raises(DeliveryError, match="does not offer STARTTLS") as info:
        _send(_plain(inbox[1], starttls=True), rendered)
    assert not info.value.transient and inbox[0].messages == []


# --- STARTTLS + AUTH with a private CA made for the test ------------------------------------------------------------


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A test CA and a server certificate for 127.0.0.1 signed by it."""
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def tls_inbox(pki: Pki) -> Iterator[tuple[Inbox, int]]:
    """A server that demands STARTTLS before anything, and login (only offered over TLS) before MAIL."""
    with smtp_server(tls=pki, login=LOGIN) as server:
        yield server.inbox, server.port


def test_starttls_and_login_then_delivery(
    tls_inbox: tuple[Inbox, int], pki: Pki, rendered: RenderedRequisition
) -> None:
    handler, port = tls_inbox
    config = _plain(port, starttls=True, cafile=str(pki.ca_file), username="relay", password="s3cret-pass")
    receipt = _send(config, rendered)
    assert len(handler.messages) == 1 and handler.messages[0]["Message-ID"] == receipt.message_id
    session = handler.sessions[0]
    assert session.ssl is not None and session.authenticated  # it went over TLS, logged in


def test_wrong_password_over_tls_is_permanent(
    tls_inbox: tuple[Inbox, int], pki: Pki, rendered: RenderedRequisition
) -> None:
    config = _plain(tls_inbox[1], starttls=True, cafile=str(pki.ca_file), username="relay", password="wrong")
    with pytest.raises(DeliveryError) as info:
        _send(config, rendered)
    assert not info.value.transient and info.value.smtp_code == 535 and tls_inbox[0].messages == []


def test_untrusted_certificate_is_refused_clearly(tls_inbox: tuple[Inbox, int], rendered: RenderedRequisition) -> None:
    config = _plain(tls_inbox[1], starttls=True, username="relay", password="s3cret-pass")  # no CA file
    with pytest.raises(DeliveryError, match="not trusted") as info:
        _send(config, rendered)
    assert info.value.transient and "CA file" in str(info.value) and tls_inbox[0].messages == []


# --- retry policy ---------------------------------------------------------------------------------------------------


def test_backoff_grows_is_capped_and_jittered() -> None:
    for attempt, nominal in ((1, 30.0), (2, 60.0), (5, 480.0), (9, 7680.0), (10, 14400.0), (40, 14400.0)):
        delays = [mail.backoff_delay(attempt) for _ in range(50)]
        assert all(0.8 * nominal <= d <= 1.2 * nominal for d in delays), (attempt, min(delays), max(delays))
        assert len(set(delays)) > 1  # jittered: requisitions queued together do not retry in step


def test_retry_window_is_the_documented_one() -> None:
    """12 attempts; waits of 30 s doubling, capped at 4 h: 12 h 15 min 30 s, as the module and the README say."""
    assert mail.RETRY_BUDGET == 12
    assert mail.RETRY_WINDOW_SECONDS == 12 * 3600 + 15 * 60 + 30
    readme = " ".join((Path(__file__).parents[2] / "README.md").read_text().split())
    assert "12 attempts over 12 h 15 min 30 s" in readme and "30 s doubling, capped at 4 h" in readme
    assert "12 h 15 min 30 s" in " ".join((mail.__doc__ or "").split())


def test_a_delivery_error_is_a_mail_error() -> None:
    """Callers of the requisitions (DeliveryError) and of the product's sender (MailError) both catch it."""
    error = DeliveryError("x", transient=True, smtp_code=451)
    assert isinstance(error, MailError) and error.transient and error.smtp_code == 451


@pytest.mark.parametrize("to_addr", ["noc@isp-ün.example", "noc@isp-one.example\r\nRCPT TO:<x@isp-two.example>"])
def test_addresses_that_cannot_be_sent_are_permanent(
    inbox: tuple[Inbox, int], rendered: RenderedRequisition, to_addr: str
) -> None:
    with pytest.raises(DeliveryError) as info:
        send_requisition(_plain(inbox[1]), subject="s", text="t", pdf=rendered.pdf, to_addr=to_addr,
                         reference="REQ-2026-000123-ISP7")
    assert not info.value.transient and "REQ-2026-000123-ISP7" in str(info.value) and inbox[0].messages == []
