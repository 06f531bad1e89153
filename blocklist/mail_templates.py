"""The product's own e-mails to people (an appeal's answer, the review digest, and any other kind added beside
them): subject and text body from a folder per kind, `blocklist/templates/mail/<kind>/{subject,body}.txt`, in the
recipient's language (the words are in the catalogs, blocklist/i18n.py), each body extending the shared layout
`_base.txt` (greeting, the kind's words, the authority's signature).

Plain text only (quoted-printable, so accents reach any relay intact); sent through the one sender, blocklist.mail.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Any

from blocklist import i18n
from blocklist.settings import Settings

TEMPLATES = Path(__file__).parent / "templates" / "mail"


@dataclass(frozen=True)
class RenderedMail:
    """A message's subject (one line) and text body."""

    subject: str
    text: str


def authority(settings: Settings) -> dict[str, str]:
    """Who signs (the layout's `authority`): the configured authority's name, address, e-mail and phone."""
    return {"name": settings.authority_name, "address": settings.authority_address,
            "email": settings.authority_email, "phone": settings.authority_phone}


def render(kind: str, language: str, **context: Any) -> RenderedMail:
    """The e-mail of `kind` in `language`, its templates filled in with `context` (`authority` among it)."""
    # Parsed once per process and language; a template asking for what it was not given is a bug, not a blank.
    env = i18n.environment(str(TEMPLATES), language)
    subject = env.get_template(f"{kind}/subject.txt").render(**context)
    text = env.get_template(f"{kind}/body.txt").render(**context)
    return RenderedMail(subject=" ".join(subject.split()), text=text.strip() + "\n")


def text_message(mail: RenderedMail, *, sender: str, to_addr: str, message_id: str,
                 headers: dict[str, str] | None = None) -> EmailMessage:
    """The message to hand to blocklist.mail.send; ValueError when an address or header cannot go on the wire."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to_addr
    message["Subject"] = mail.subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = message_id
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(mail.text, cte="quoted-printable")
    return message
