"""E-mail delivery of a requisition: text body in the ISP's language, the PDF attached."""

from __future__ import annotations

import datetime as dt
import random
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate

from requisitions.errors import DeliveryError

# Attempts before a requisition is marked failed; with the delays below that spans about a day.
RETRY_BUDGET = 12
_BASE_DELAY = 30.0
_MAX_DELAY = 4 * 3600.0


@dataclass(frozen=True)
class SmtpConfig:
    """The SMTP server (STARTTLS and login when configured)."""

    host: str
    port: int
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    sender: str = "requisitions@federal-prosecutor.example"
    timeout: float = 10.0


@dataclass(frozen=True)
class DeliveryReceipt:
    """Evidence that the server took the message."""

    message_id: str
    smtp_response: str
    sent_at: dt.datetime


def backoff_delay(attempt: int) -> float:
    """Seconds before the next attempt: exponential from 30 s, capped at 4 h, with ±20% jitter."""
    delay = min(_MAX_DELAY, _BASE_DELAY * 2 ** max(0, attempt - 1))
    return float(delay * random.uniform(0.8, 1.2))


def build_message(*, sender: str, to_addr: str, subject: str, text: str, pdf: bytes, reference: str,
                  message_id: str) -> EmailMessage:
    """The message: text body, PDF attachment, a fixed Message-ID and the requisition reference header."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to_addr
    message["Subject"] = subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = message_id
    message["X-Requisition-Reference"] = reference
    message.set_content(text)
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename=f"{reference}.pdf")
    return message


def send_requisition(config: SmtpConfig, *, subject: str, text: str, pdf: bytes, to_addr: str, reference: str,
                     message_id: str) -> DeliveryReceipt:
    """Hand one requisition to the SMTP server; DeliveryError says whether retrying can help."""
    message = build_message(sender=config.sender, to_addr=to_addr, subject=subject, text=text, pdf=pdf,
                            reference=reference, message_id=message_id)
    try:
        with smtplib.SMTP(config.host, config.port, timeout=config.timeout) as smtp:
            smtp.ehlo()
            if config.starttls:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if config.username:
                smtp.login(config.username, config.password or "")
            # Keep the server's own reply to DATA as evidence (send_message() does not return it).
            replies: list[tuple[int, bytes]] = []
            plain_data = smtp.data

            def recording_data(msg: bytes | str) -> tuple[int, bytes]:
                reply = plain_data(msg)
                replies.append(reply)
                return reply

            smtp.data = recording_data  # type: ignore[method-assign,assignment]
            refused = smtp.send_message(message)
            if refused:
                raise DeliveryError(f"the server refused recipient(s) {refused}", transient=False)
            code, reply = replies[-1] if replies else (250, b"accepted")
    except DeliveryError:
        raise
    except smtplib.SMTPResponseException as exc:
        detail = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        raise DeliveryError(f"SMTP {exc.smtp_code} {detail}", transient=400 <= exc.smtp_code < 500) from None
    except smtplib.SMTPRecipientsRefused as exc:
        raise DeliveryError(f"recipient refused: {exc.recipients}", transient=False) from None
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(f"cannot reach SMTP server {config.host}:{config.port}: {exc}", transient=True) from None
    return DeliveryReceipt(message_id=message_id, smtp_response=f"{code} {reply.decode(errors='replace')}",
                           sent_at=dt.datetime.now(dt.UTC))
