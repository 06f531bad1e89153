"""E-mail delivery of a requisition: text body in the ISP's language, the PDF attached.

Retry policy (applied by `requisitions.delivery` from the scheduler): a transient failure (server unreachable,
connection dropped, any 4xx reply such as greylisting) is retried after `backoff_delay(attempt)`; a permanent
one (5xx: unknown mailbox, refused login, message rejected) is not. After `RETRY_BUDGET` attempts a requisition
is marked failed. With the delays below the attempts span about `RETRY_WINDOW_SECONDS` (12 h), long enough to
ride out a mail server's maintenance night, short enough that a magistrate sees a failure the same day.
"""

from __future__ import annotations

import datetime as dt
import random
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from requisitions.errors import DeliveryError

RETRY_BUDGET = 12  # attempts, the first one included
_BASE_DELAY = 30.0  # seconds before the second attempt
_MAX_DELAY = 4 * 3600.0  # no wait longer than this between two attempts
_JITTER = 0.2  # ±20%, so that 50 requisitions queued together do not hit the server in step
# Waits between the RETRY_BUDGET attempts, jitter aside: 30 s, 1 min, 2 min, ... 4 h, 4 h (12 h 15 min in all).
RETRY_WINDOW_SECONDS = sum(min(_MAX_DELAY, _BASE_DELAY * 2 ** (n - 1)) for n in range(1, RETRY_BUDGET))
MESSAGE_ID_DOMAIN = "requisitions.invalid"  # never resolves: a Message-ID names no real host
_AGAIN = "temporarily (a later attempt may succeed)"
_NEVER = "permanently (a later attempt would not help)"


@dataclass(frozen=True)
class SmtpConfig:
    """The SMTP server (STARTTLS and login when configured; cafile trusts a private CA for STARTTLS)."""

    host: str
    port: int
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    sender: str = "requisitions@federal-prosecutor.example"
    timeout: float = 10.0
    cafile: str | None = None


@dataclass(frozen=True)
class DeliveryReceipt:
    """Evidence that the server took the message."""

    message_id: str
    smtp_response: str
    sent_at: dt.datetime


def backoff_delay(attempt: int) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based): 30 s doubling, capped at 4 h, ±20% jitter."""
    delay = min(_MAX_DELAY, _BASE_DELAY * 2 ** max(0, attempt - 1))
    return float(delay * random.uniform(1 - _JITTER, 1 + _JITTER))


def new_message_id() -> str:
    """A fresh Message-ID; generate it once per requisition so a resend carries the same one."""
    return make_msgid(idstring="requisition", domain=MESSAGE_ID_DOMAIN)


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
    # Quoted-printable keeps the body 7-bit clean for any relay, whatever the language's accents.
    message.set_content(text, cte="quoted-printable")
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename=f"{reference}.pdf")
    return message


def wire_bytes(message: EmailMessage) -> bytes:
    """The message as sent: CRLF line ends, headers unfolded up to the 998-character limit.

    Folding at 78 columns makes Python's e-mail package insert a stray space into subjects that mix plain and
    encoded words ("toegang  — 1 naam"); bodies and attachments are already encoded in short lines.
    """
    return message.as_bytes(policy=message.policy.clone(linesep="\r\n", max_line_length=998))


def _reply(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def send_requisition(config: SmtpConfig, *, subject: str, text: str, pdf: bytes, to_addr: str, reference: str,
                     message_id: str | None = None) -> DeliveryReceipt:
    """Hand one requisition to the SMTP server; DeliveryError says whether retrying can help."""
    message_id = message_id or new_message_id()
    server = f"SMTP server {config.host}:{config.port}"
    what = f"requisition {reference} to {to_addr!r}"
    try:
        message = build_message(sender=config.sender, to_addr=to_addr, subject=subject, text=text, pdf=pdf,
                                reference=reference, message_id=message_id)
    except ValueError as exc:  # a line break in an address or the subject: never put on the wire
        raise DeliveryError(f"{what} cannot be written as an e-mail: {exc}", transient=False) from None
    if not (to_addr.isascii() and config.sender.isascii()):
        raise DeliveryError(f"{what} not sent: internationalised (non-ASCII) e-mail addresses are not supported; "
                            f"register an ASCII address for the ISP (sender {config.sender})", transient=False)
    try:
        with smtplib.SMTP(config.host, config.port, timeout=config.timeout) as smtp:
            smtp.ehlo()
            if config.starttls:
                if not smtp.has_extn("starttls"):
                    raise DeliveryError(f"{server} does not offer STARTTLS, which the configuration requires; "
                                        f"{what} was not sent in clear", transient=False)
                smtp.starttls(context=ssl.create_default_context(cafile=config.cafile))
                smtp.ehlo()
            if config.username:
                if not smtp.has_extn("auth"):
                    raise DeliveryError(f"{server} offers no login (AUTH){'' if config.starttls else ' without TLS'}, "
                                        f"but a username is configured; {what} was not sent", transient=False)
                smtp.login(config.username, config.password or "")
            # MAIL, RCPT and DATA one by one (not send_message()): the server's own reply to DATA is the evidence.
            code, reply = smtp.mail(config.sender)
            if code != 250:
                raise smtplib.SMTPSenderRefused(code, reply, config.sender)
            code, reply = smtp.rcpt(to_addr)
            if code not in (250, 251):
                raise smtplib.SMTPRecipientsRefused({to_addr: (code, reply)})
            code, reply = smtp.data(wire_bytes(message))
            if code != 250:
                raise smtplib.SMTPDataError(code, reply)
    except DeliveryError:
        raise
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        transient = bool(codes) and all(400 <= code < 500 for code in codes)  # 4xx on RCPT: greylisting, full box
        detail = "; ".join(f"{rcpt}: {code} {_reply(text)}" for rcpt, (code, text) in exc.recipients.items())
        raise DeliveryError(f"{server} refused the recipient of {what} "
                            f"{_AGAIN if transient else _NEVER}: {detail}",
                            transient=transient, smtp_code=codes[0] if codes else None) from None
    except smtplib.SMTPResponseException as exc:  # login, sender or data refused: the server's code decides
        transient = 400 <= exc.smtp_code < 500
        raise DeliveryError(f"{server} refused {what} {_AGAIN if transient else _NEVER}: "
                            f"SMTP {exc.smtp_code} {_reply(exc.smtp_error)}",
                            transient=transient, smtp_code=exc.smtp_code) from None
    except ssl.SSLCertVerificationError as exc:
        # Retried: a certificate is usually fixed by the mail administrators within hours.
        raise DeliveryError(f"{server} presented a TLS certificate that is not trusted ({exc.verify_message}); "
                            f"{what} was not sent; fix the certificate or set the SMTP CA file",
                            transient=True) from None
    except ValueError as exc:  # smtplib refuses what it cannot put on the wire (a line break in an address)
        raise DeliveryError(f"{what} cannot be sent as given: {exc}", transient=False) from None
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(f"cannot reach {server} for {what} {_AGAIN}: {type(exc).__name__}: {exc}",
                            transient=True) from None
    return DeliveryReceipt(message_id=message_id, smtp_response=f"{code} {_reply(reply)}",
                           sent_at=dt.datetime.now(dt.UTC))
