"""Every error the core raises: each says what was refused and why, in words an operator can act on.

The words are a Message (blocklist/i18n.py): English with its values, translated at the boundary that knows who
reads them (the page's language, the API caller's); `message` is the English text, for logs and the CLI.
"""

from __future__ import annotations

from blocklist.i18n import N_, Message, in_language


class BlocklistError(Exception):
    """Base of the project's own errors; `status` is the HTTP status the API maps it to."""

    status = 400

    def __init__(self, message: str | Message, *, field: str | None = None) -> None:
        super().__init__(str(message))
        self.text = message
        self.message = str(message)
        self.field = field

    def __str__(self) -> str:
        return self.message

    def translated(self, language: str) -> str:
        """The refusal in `language` (words not yet in the catalogs stay as they are)."""
        return in_language(self.text, language)


class InvalidInput(BlocklistError):
    """The input is malformed or incomplete."""

    status = 422


class NameRefused(InvalidInput):
    """A domain name cannot be listed (not a name, an IP, a public suffix, protected...)."""

    def __init__(self, typed: str, reason: str | Message, *, code: str) -> None:
        super().__init__(N_("%(typed)s refused: %(reason)s", typed=repr(typed), reason=reason), field="domain")
        self.typed = typed
        self.reason = str(reason)  # English, as `blocklist name check` prints it
        self.code = code


class NotFound(BlocklistError):
    """The object named does not exist."""

    status = 404


class Forbidden(BlocklistError):
    """The actor's role or relation to the object does not allow the action."""

    status = 403


class Unauthenticated(BlocklistError):
    """No valid credential was presented."""

    status = 401


class Conflict(BlocklistError):
    """The action clashes with the object's current state (already decided, duplicate...)."""

    status = 409


class Duplicate(Conflict):
    """The name is already pending or blocked; points to the existing record."""

    def __init__(self, message: str | Message, *, existing_id: int) -> None:
        super().__init__(message, field="domain")
        self.existing_id = existing_id


class MailError(BlocklistError):
    """The SMTP server did not take a message, or it could not be written as one (blocklist.mail).

    `transient` says whether a later attempt can help (unreachable, dropped, a 4xx reply, an untrusted
    certificate); `smtp_code` is the server's reply code when it answered, None when it could not be reached.
    """

    status = 502  # the mail server, not the caller, refused

    def __init__(self, message: str | Message, *, transient: bool, smtp_code: int | None = None) -> None:
        super().__init__(message)
        self.transient = transient
        self.smtp_code = smtp_code
