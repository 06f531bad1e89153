"""Pydantic's validation errors as plain sentences, one per field, in Messages (translated where they are shown).

Pydantic says "court_order.court: String should have at least 2 characters"; a person reads "The court's name must
have at least 2 characters", next to the court's field, in their language. A sentence of its own where a field has
one (FIELD_WORDS), else a sentence by kind of error naming the field by its label (FIELD_LABELS). A validator of
the schemas raises `Refusal` (a ValueError carrying a Message and the field it is about) for its own rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from blocklist.errors import BlocklistError
from blocklist.i18n import N_, Message


class Refusal(ValueError):
    """A schema validator's refusal: its words, and the field it is about (a model validator has no field)."""

    def __init__(self, text: Message, *, field: str | None = None) -> None:
        super().__init__(str(text))
        self.text = text
        self.field = field


@dataclass(frozen=True)
class Problem:
    """One refused field (dotted: `court_order.court`; None: the input as a whole) and why, in words (a plain
    string: a refusal not yet in the catalogs)."""

    field: str | None
    text: Message | str


FIELD_LABELS: dict[str, Message] = {
    "domain": N_("Domain"), "domains": N_("Names"), "names": N_("Names"), "legal_basis": N_("Legal basis"),
    "case_number": N_("Case number"), "evidence_ref": N_("Evidence reference"),
    "verified_on": N_("Content verified on"), "scope": N_("Scope"), "court_order": N_("Court order"),
    "court_order.court": N_("Court"), "court_order.date": N_("Date of the decision"),
    "court_order.reference": N_("Reference of the decision"), "note": N_("Note"),
    "hosting_country": N_("Hosting country"), "hosting_provider": N_("Hosting provider (if known)"),
    "hosting_abuse_email": N_("The provider's abuse e-mail address (if known)"),
    "notice_language": N_("Language of the removal notice (hosting in Belgium)"), "report_ids": N_("Reports"),
    "reason": N_("Reason"),
}
# A field's own sentence for a kind of error ("missing" also stands for an empty text).
FIELD_WORDS: dict[tuple[str, str], Message] = {
    ("domain", "missing"): N_("Enter the domain name"),
    ("case_number", "missing"): N_("Enter a case number"),
    ("evidence_ref", "missing"): N_("Enter the reference of the evidence"),
    ("verified_on", "missing"): N_("Enter the date the content was verified"),
    ("verified_on", "date"): N_("The date the content was verified must be a real date, such as 2026-11-28"),
    ("legal_basis", "choice"): N_("Choose the legal basis"),
    ("scope", "choice"): N_("Choose the scope: the domain and its subdomains, or this exact name only"),
    ("court_order.court", "missing"): N_("Enter the court's name"),
    ("court_order.court", "string_too_short"): N_("The court's name must have at least %(min_length)s characters"),
    ("court_order.date", "missing"): N_("Enter the date of the court's decision"),
    ("court_order.date", "date"): N_("The date of the court's decision must be a real date, such as 2026-11-28"),
    ("court_order.reference", "missing"): N_("Enter the reference of the court's decision"),
    ("email", "invalid"): N_("Enter a valid e-mail address, such as noc@isp.example (a domain with accents in its "
                             "xn-- form)"),
}
KIND_WORDS: dict[str, Message] = {
    "missing": N_("Enter “%(label)s”"),
    "string_too_short": N_("“%(label)s” must have at least %(min_length)s characters"),
    "string_too_long": N_("“%(label)s” must have at most %(max_length)s characters"),
    "too_long": N_("“%(label)s” may hold at most %(max_length)s items"),
    "date": N_("“%(label)s” must be a date written YYYY-MM-DD, such as 2026-11-28"),
    "choice": N_("Choose one of the options of “%(label)s”"),
    "number": N_("“%(label)s” must be a whole number"),
    "extra_forbidden": N_("“%(label)s” is not a field of this form"),
    "invalid": N_("“%(label)s” is not valid"),
}
_KINDS = {"string_too_short": "string_too_short", "string_too_long": "string_too_long", "too_long": "too_long",
          "missing": "missing", "literal_error": "choice", "enum": "choice", "extra_forbidden": "extra_forbidden",
          "int_parsing": "number", "int_type": "number", "int_from_float": "number", "greater_than_equal": "number",
          "less_than_equal": "number"}


def _kind(error: Mapping[str, Any]) -> str:
    kind = str(error.get("type", ""))
    date = kind.startswith("date") or (kind == "value_error" and "YYYY-MM-DD" in str(error.get("msg", "")))
    if (kind == "string_too_short" or date) and (error.get("input") == "" or (
            error.get("ctx") or {}).get("min_length") == 1):
        return "missing"  # an empty text is a field left empty
    if date:
        return "date"
    return _KINDS.get(kind, "invalid")


def problem(error: Mapping[str, Any]) -> Problem:
    """One pydantic error (an item of `ValidationError.errors()`) as a Problem."""
    loc = [str(part) for part in error.get("loc", ()) if not isinstance(part, int)]
    field = ".".join(p for p in loc if p not in ("body", "query", "path", "form")) or None
    context = dict(error.get("ctx") or {})
    refusal = context.get("error", context.get("refusal"))
    if isinstance(refusal, Refusal | BlocklistError):  # a validator's or a service's own words
        return Problem(field or refusal.field, refusal.text)
    kind = _kind(error)
    values = {k: v for k, v in context.items() if isinstance(v, int | str) and not isinstance(v, bool)}
    words = FIELD_WORDS.get((field or "", kind))
    if words is not None:
        return Problem(field, words.fill(**values))
    label: Message | str = FIELD_LABELS.get(field or "", field or "")
    if field is None:
        return Problem(None, N_("The form is not valid: %(reason)s", reason=str(error.get("msg", ""))))
    return Problem(field, KIND_WORDS[kind].fill(label=label, **values))


def problems(errors: ValidationError | Iterable[Mapping[str, Any]]) -> list[Problem]:
    """Every refused field once (its first problem), in the order pydantic found them."""
    items = errors.errors() if isinstance(errors, ValidationError) else errors
    seen: dict[str | None, Problem] = {}
    for item in items:
        found = problem(item)
        seen.setdefault(found.field, found)
    return list(seen.values())
