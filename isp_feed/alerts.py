"""Regression alerts: a name that an ISP blocked and no longer blocks is e-mailed to the configured address."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from blocklist import mail
from blocklist.settings import Settings


def send_regression_alert(settings: Settings, regressions: dict[str, list[str]], round_id: int) -> bool:
    """E-mail the regressions of a round (ISP -> names); False when no alert address is configured.

    Sent through the product's one SMTP sender (STARTTLS verifies the server's certificate, BLOCKLIST_SMTP_CAFILE
    names a private CA); raises blocklist.errors.MailError when the server does not take it.
    """
    if not settings.alert_email or not any(regressions.values()):
        return False
    lines = [f"Verification round {round_id} found names that were blocked and are no longer:", ""]
    for isp, names in sorted(regressions.items()):
        lines.extend(f"- {isp}: {name}" for name in names)
    message = EmailMessage()
    message["From"] = settings.smtp_sender
    message["To"] = settings.alert_email
    message["Subject"] = f"[blocklist] regression: {sum(len(n) for n in regressions.values())} name(s) unblocked"
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(idstring=f"round{round_id}", domain="alerts.invalid")
    message.set_content("\n".join(lines) + "\n")
    mail.send(mail.SmtpConfig.from_settings(settings), message,
              what=f"the regression alert of round {round_id} to {settings.alert_email!r}")
    return True
