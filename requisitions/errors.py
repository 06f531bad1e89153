"""Errors of the requisitions package; each says what failed and what to do."""

from __future__ import annotations

from blocklist.errors import MailError


class RenderError(Exception):
    """A requisition document could not be rendered (names the template and language)."""


class DeliveryError(MailError):
    """The SMTP server did not accept a requisition; `transient` says whether a retry can help, `smtp_code` is
    the server's reply code when it answered (None when it could not be reached)."""
