"""Errors of the requisitions package; each says what failed and what to do."""

from __future__ import annotations


class RenderError(Exception):
    """A requisition document could not be rendered (names the template and language)."""


class DeliveryError(Exception):
    """The SMTP server did not accept a requisition; `transient` says whether a retry can help."""

    def __init__(self, message: str, *, transient: bool, smtp_code: int | None = None) -> None:
        super().__init__(message)
        self.transient = transient
        self.smtp_code = smtp_code  # the server's reply code when it answered, None when it could not be reached
