"""The product's one SMTP sender: requisitions and regression alerts both go through `send`.

One conversation per message: EHLO; STARTTLS when configured, with the server's certificate verified against
the system's CAs or `cafile` (never sent in clear when STARTTLS is configured and not offered); login when
configured; then MAIL, RCPT and DATA one by one (not `send_message()`), so that the server's own reply to DATA
is kept as evidence. Every failure is a MailError saying whether a later attempt can help: unreachable, a
dropped connection, any 4xx reply (greylisting, a full mailbox), an untrusted certificate are transient; a 5xx
reply, STARTTLS or login required but not offered, an address that cannot be put on the wire are permanent.
"""

from __future__ import annotations

import datetime as dt
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import getaddresses, make_msgid

from blocklist.errors import MailError
from blocklist.settings import Settings

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

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpConfig:
        """The server configured by BLOCKLIST_SMTP_* (empty username, password or CA file: none)."""
        return cls(host=settings.smtp_host, port=settings.smtp_port, starttls=settings.smtp_starttls,
                   username=settings.smtp_username or None, password=settings.smtp_password or None,
                   sender=settings.smtp_sender, timeout=settings.smtp_timeout, cafile=settings.smtp_cafile or None)


@dataclass(frozen=True)
class DeliveryReceipt:
    """Evidence that the server took the message: its Message-ID and the server's reply to DATA."""

    message_id: str
    smtp_response: str
    sent_at: dt.datetime


def wire_bytes(message: EmailMessage) -> bytes:
    """The message as sent: CRLF line ends, headers unfolded up to the 998-character limit.

    Folding at 78 columns makes Python's e-mail package insert a stray space into subjects that mix plain and
    encoded words ("toegang  — 1 naam"); bodies and attachments are already encoded in short lines.
    """
    return message.as_bytes(policy=message.policy.clone(linesep="\r\n", max_line_length=998))


def recipients(message: EmailMessage) -> list[str]:
    """The envelope recipients: every address in To and Cc."""
    return [address for _, address in getaddresses(message.get_all("To", []) + message.get_all("Cc", []))
            if address]


def _reply(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _tls_context(config: SmtpConfig, server: str, what: str) -> ssl.SSLContext:
    try:
        return ssl.create_default_context(cafile=config.cafile)
    except (OSError, ssl.SSLError) as exc:  # retried: the operator fixes the setting, the queue goes on
        raise MailError(f"the SMTP CA file {config.cafile!r} (BLOCKLIST_SMTP_CAFILE) cannot be read "
                        f"({type(exc).__name__}: {exc}); {what} was not sent to {server}", transient=True) from None


def send(config: SmtpConfig, message: EmailMessage, *, what: str) -> DeliveryReceipt:
    """Hand `message` to the SMTP server, from `config.sender` to its To and Cc addresses.

    `what` names the message in errors ("requisition REQ-... to 'noc@...'"). The message keeps its Message-ID
    (one is added when it has none); MailError says whether retrying can help.
    """
    server = f"SMTP server {config.host}:{config.port}"
    to_addrs = recipients(message)
    if not to_addrs:
        raise MailError(f"{what} not sent: it has no recipient", transient=False)
    if not all(address.isascii() for address in [*to_addrs, config.sender]):
        raise MailError(f"{what} not sent: internationalised (non-ASCII) e-mail addresses are not supported; "
                        f"register an ASCII address (sender {config.sender})", transient=False)
    if message["Message-ID"] is None:
        message["Message-ID"] = make_msgid(domain="blocklist.invalid")
    message_id = str(message["Message-ID"])
    context = _tls_context(config, server, what) if config.starttls else None
    try:
        with smtplib.SMTP(config.host, config.port, timeout=config.timeout) as smtp:
            smtp.ehlo()
            if context is not None:
                if not smtp.has_extn("starttls"):
                    raise MailError(f"{server} does not offer STARTTLS, which the configuration requires; "
                                    f"{what} was not sent in clear", transient=False)
                smtp.starttls(context=context)
                smtp.ehlo()
            if config.username:
                if not smtp.has_extn("auth"):
                    raise MailError(f"{server} offers no login (AUTH){'' if config.starttls else ' without TLS'}, "
                                    f"but a username is configured; {what} was not sent", transient=False)
                smtp.login(config.username, config.password or "")
            # MAIL, RCPT and DATA one by one (not send_message()): the server's own reply to DATA is the evidence.
            code, reply = smtp.mail(config.sender)
            if code != 250:
                raise smtplib.SMTPSenderRefused(code, reply, config.sender)
            refused: dict[str, tuple[int, bytes]] = {}
            for address in to_addrs:
                code, reply = smtp.rcpt(address)
                if code not in (250, 251):
                    refused[address] = (code, reply)
            if refused:  # all or nothing: a message is never delivered to some of its recipients only
                raise smtplib.SMTPRecipientsRefused(refused)
            code, reply = smtp.data(wire_bytes(message))
            if code != 250:
                raise smtplib.SMTPDataError(code, reply)
    except MailError:
        raise
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        transient = bool(codes) and all(400 <= code < 500 for code in codes)  # 4xx on RCPT: greylisting, full box
        detail = "; ".join(f"{rcpt}: {code} {_reply(text)}" for rcpt, (code, text) in exc.recipients.items())
        raise MailError(f"{server} refused the recipient of {what} {_AGAIN if transient else _NEVER}: {detail}",
                        transient=transient, smtp_code=codes[0] if codes else None) from None
    except smtplib.SMTPResponseException as exc:  # login, sender or data refused: the server's code decides
        transient = 400 <= exc.smtp_code < 500
        raise MailError(f"{server} refused {what} {_AGAIN if transient else _NEVER}: "
                        f"SMTP {exc.smtp_code} {_reply(exc.smtp_error)}",
                        transient=transient, smtp_code=exc.smtp_code) from None
    except ssl.SSLCertVerificationError as exc:
        # Retried: a certificate is usually fixed by the mail administrators within hours.
        raise MailError(f"{server} presented a TLS certificate that is not trusted ({exc.verify_message}); "
                        f"{what} was not sent; fix the certificate or set the SMTP CA file (BLOCKLIST_SMTP_CAFILE)",
                        transient=True) from None
    except ValueError as exc:  # smtplib refuses what it cannot put on the wire (a line break in an address)
        raise MailError(f"{what} cannot be sent as given: {exc}", transient=False) from None
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"cannot reach {server} for {what} {_AGAIN}: {type(exc).__name__}: {exc}",
                        transient=True) from None
    return DeliveryReceipt(message_id=message_id, smtp_response=f"{code} {_reply(reply)}",
                           sent_at=dt.datetime.now(dt.UTC))
