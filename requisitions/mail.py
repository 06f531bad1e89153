"""E-mail delivery of a requisition: text body in the ISP's language, the PDF attached, a fixed Message-ID. A
removal notice to a hosting provider goes the same way, with its own reference header.

The SMTP conversation itself (STARTTLS with certificate checks, login, the server's reply kept as evidence, the
transient/permanent classification) is the product's one sender, `blocklist.mail`; this module builds the
requisition's message and sets the retry policy.

Retry policy (applied by `requisitions.delivery` from the scheduler): a transient failure (server unreachable,
connection dropped, an untrusted certificate, any 4xx reply such as greylisting) is retried after
`backoff_delay(attempt)`; a permanent one (5xx: unknown mailbox, refused login, message rejected) is not. After
`RETRY_BUDGET` (12) attempts a requisition is marked failed. The waits between them, 30 s doubling and capped at
4 h, add up to `RETRY_WINDOW_SECONDS`, 12 h 15 min 30 s (each wait ±20% jitter): long enough to ride out a mail
server's maintenance night, short enough that a magistrate sees a failure the same day.
"""

from __future__ import annotations

import random
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from blocklist import mail
from blocklist.errors import MailError
from blocklist.mail import DeliveryReceipt, SmtpConfig
from requisitions.errors import DeliveryError

__all__ = ["REFERENCE_HEADER", "RETRY_BUDGET", "RETRY_WINDOW_SECONDS", "DeliveryReceipt", "SmtpConfig",
           "backoff_delay", "build_message", "new_message_id", "send_requisition"]

RETRY_BUDGET = 12  # attempts, the first one included
_BASE_DELAY = 30.0  # seconds before the second attempt
_MAX_DELAY = 4 * 3600.0  # no wait longer than this between two attempts
_JITTER = 0.2  # ±20%, so that 50 requisitions queued together do not hit the server in step
# Waits between the RETRY_BUDGET attempts, jitter aside: 30 s, 1 min, 2 min, ... 2 h 8 min, 4 h, 4 h
# (44,130 s = 12 h 15 min 30 s in all; the README says the same).
RETRY_WINDOW_SECONDS = sum(min(_MAX_DELAY, _BASE_DELAY * 2 ** (n - 1)) for n in range(1, RETRY_BUDGET))
MESSAGE_ID_DOMAIN = "requisitions.invalid"  # never resolves: a Message-ID names no real host
REFERENCE_HEADER = "X-Requisition-Reference"


def backoff_delay(attempt: int) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based): 30 s doubling, capped at 4 h, ±20% jitter."""
    delay = min(_MAX_DELAY, _BASE_DELAY * 2 ** max(0, attempt - 1))
    return float(delay * random.uniform(1 - _JITTER, 1 + _JITTER))


def new_message_id() -> str:
    """A fresh Message-ID; generate it once per requisition so a resend carries the same one."""
    return make_msgid(idstring="requisition", domain=MESSAGE_ID_DOMAIN)


def build_message(*, sender: str, to_addr: str, subject: str, text: str, pdf: bytes, reference: str,
                  message_id: str, header: str = REFERENCE_HEADER) -> EmailMessage:
    """The message: text body, PDF attachment, a fixed Message-ID and the reference in `header`."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to_addr
    message["Subject"] = subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = message_id
    message[header] = reference
    # Quoted-printable keeps the body 7-bit clean for any relay, whatever the language's accents.
    message.set_content(text, cte="quoted-printable")
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename=f"{reference}.pdf")
    return message


def send_requisition(config: SmtpConfig, *, subject: str, text: str, pdf: bytes, to_addr: str, reference: str,
                     message_id: str | None = None, kind: str = "requisition",
                     header: str = REFERENCE_HEADER) -> DeliveryReceipt:
    """Hand one requisition (or another `kind` of document, its reference in `header`) to the SMTP server;
    DeliveryError says whether retrying can help."""
    what = f"{kind} {reference} to {to_addr!r}"
    try:
        message = build_message(sender=config.sender, to_addr=to_addr, subject=subject, text=text, pdf=pdf,
                                reference=reference, message_id=message_id or new_message_id(), header=header)
    except ValueError as exc:  # a line break in an address or the subject: never put on the wire
        raise DeliveryError(f"{what} cannot be written as an e-mail: {exc}", transient=False) from None
    try:
        return mail.send(config, message, what=what)
    except MailError as exc:
        raise DeliveryError(exc.message, transient=exc.transient, smtp_code=exc.smtp_code) from None
