"""One check for every text a person types into the system, and one parser for the ids they send.

Text: PostgreSQL refuses a NUL in a string outright (a server error where SQLite quietly stores it), and
control or text-direction characters let a stored value read differently from what it is: an ESC sequence
rewrites a terminal, a CR hides the start of a line in a log, U+202E shows a magistrate a case number or a
reason backwards in the page and in the requisition PDF. So they are refused in every field, on both
backends, with a reason that names the field, before anything is written.

Ids: `str.isdigit()` is true for "²" and "١", which `int()` refuses, and an unbounded number overflows the
databases' INTEGER; an id is ASCII digits within 1..MAX_ID, or it is refused.
"""

from __future__ import annotations

import re
import unicodedata

from blocklist.errors import InvalidInput
from blocklist.i18n import N_

MAX_ID = 2_147_483_647  # PostgreSQL's INTEGER, the narrower of the two backends' id columns
_MAX_ID_DIGITS = len(str(MAX_ID))
# Text-direction controls (Unicode "Bidi_Control"): invisible, and they reorder the text shown around them.
_BIDI_CONTROLS = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
# Control characters (Cc: C0, DEL and C1), lone surrogates (Cs: not encodable as UTF-8), the line and paragraph
# separators (Zl, Zp), and the bidi controls. A regular expression: a bulk of 10,000 names shares one 4,000
# character note, checked for each name, which a loop over characters would make take seconds.
_REFUSED = f"\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029{_BIDI_CONTROLS}"
_ONE_LINE = re.compile(f"[\n{_REFUSED}]")
_LINES = re.compile(f"[{_REFUSED}]")
_SHORT_NAMES = {"\x00": "NUL", "\t": "TAB", "\n": "LF", "\r": "CR", "\x1b": "ESC", "\x7f": "DEL"}


def _describe(char: str) -> str:
    fallback = "unpaired surrogate" if unicodedata.category(char) == "Cs" else "control character"
    name = _SHORT_NAMES.get(char) or unicodedata.name(char, "") or fallback
    return f"U+{ord(char):04X} {name}"


def clean_text(value: object, *, field: str, max_length: int, multiline: bool = False) -> str:
    """`value` without surrounding white space, or InvalidInput naming the field and the character refused.

    A multi-line field (a note, a reason) keeps its line breaks as LF: browsers send a textarea's line
    breaks as CR LF (the HTML form encoding), which is turned into LF here; a CR on its own, like every other
    control character, is refused, as it can hide what precedes it on a line when the text is printed.
    """
    if not isinstance(value, str):
        raise InvalidInput(N_("%(field)s must be text", field=field), field=field)
    text = value.replace("\r\n", "\n") if multiline else value
    found = (_LINES if multiline else _ONE_LINE).search(text)
    if found is not None:
        char = found.group()
        kind = N_("a line break") if char in "\r\n\u2028\u2029" else (
            N_("a control character") if unicodedata.category(char) in ("Cc", "Cs") else N_("a text-direction control"))
        values = {"field": field, "kind": kind, "character": _describe(char), "position": found.start() + 1}
        raise InvalidInput(N_("%(field)s contains %(kind)s (%(character)s) at position %(position)s; control and "
                              "text-direction characters are not allowed (line breaks are)", **values) if multiline
                           else N_("%(field)s contains %(kind)s (%(character)s) at position %(position)s; control "
                                   "and text-direction characters are not allowed", **values), field=field)
    text = text.strip()
    if len(text) > max_length:
        raise InvalidInput(N_("%(field)s is longer than %(limit)s characters", field=field, limit=max_length),
                           field=field)
    return text


class FormRefused(InvalidInput):
    """A public form's input (a report, an appeal) refused before anything was written; `code` lets the page word
    the reason in the visitor's language (too_long, bad_characters, or the form's own codes)."""

    def __init__(self, message: str, *, field: str, code: str) -> None:
        super().__init__(message, field=field)
        self.code = code


def form_text(value: str, *, field: str, max_length: int, multiline: bool = False) -> str:
    """clean_text for a public form: a refusal is a FormRefused whose code says which rule the text broke."""
    try:
        return clean_text(value, field=field, max_length=max_length, multiline=multiline)
    except InvalidInput as exc:
        code = "too_long" if "longer than" in exc.message else "bad_characters"
        raise FormRefused(exc.message, field=field, code=code) from None


def is_id(text: str) -> bool:
    """True when `text` has the form of an id (ASCII digits only), whatever its value."""
    return text.isascii() and text.isdigit()


def parse_id(value: object, *, field: str) -> int:
    """A database id from what was sent (an int, or ASCII digits), within 1..MAX_ID; else InvalidInput."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and is_id(value) and len(value) <= _MAX_ID_DIGITS:
        number = int(value)
    else:
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
        raise InvalidInput(N_("%(field)s must be a number from 1 to %(limit)s, not %(value)s", field=field,
                              limit=MAX_ID, value=shown), field=field)
    if not 1 <= number <= MAX_ID:
        raise InvalidInput(N_("%(field)s must be a number from 1 to %(limit)s", field=field, limit=MAX_ID),
                           field=field)
    return number
