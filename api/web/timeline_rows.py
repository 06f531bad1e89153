"""A history (api/history.py) as a prosecutor reads it: each audit event and each delivery attempt one row, in
plain words of the reader's language, people and access providers by name, times in Brussels (UTC on hover).

The event's code stays beside its words (a data attribute, the export): the words are for reading, the code and
the chain's number for citing.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from api import stored_text
from api.history import Timeline
from blocklist import i18n, labels
from blocklist.i18n import brussels
from blocklist.vocab import LANGUAGE_NAMES

# Fields no reader needs to see (the chain keeps them): the typed text repeats the domain, Unicode is shown beside.
HIDDEN = frozenset({"typed", "unicode", "message_id"})
PEOPLE_FIELDS = frozenset({"submitted_by", "decided_by", "confirmed_by", "lifted_by", "user_id"})
TIME_FIELDS = frozenset({"deadline", "at", "started_at", "sent_at", "acknowledged_at"})
ID_LISTS = frozenset({"submissions", "report_ids"})


@dataclass(frozen=True)
class Moment:
    """A time as the page shows it: in Brussels, the UTC time for the title attribute, ISO for <time>."""

    local: str
    utc: str
    iso: str


@dataclass(frozen=True)
class Row:
    """One line of the timeline: `seq` the event's number in the chain (None for a delivery attempt)."""

    seq: int | None
    when: Moment
    who: str
    code: str
    what: str
    details: list[tuple[str, str]]
    sort_key: tuple[dt.datetime, int]


def utc(value: dt.datetime | str) -> dt.datetime:
    """An aware UTC time from a datetime (naive: UTC) or the chain's ISO text."""
    at = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at.astimezone(dt.UTC)


def moment(value: dt.datetime | str, language: str) -> Moment:
    """A UTC time to the second, in Brussels and in UTC."""
    utc_time = utc(value).replace(microsecond=0)
    local = utc_time.astimezone(brussels())
    return Moment(local=f"{i18n.long_date(local, language)} {local:%H:%M:%S}",
                  utc=f"{utc_time:%Y-%m-%d %H:%M:%S} UTC", iso=utc_time.isoformat().replace("+00:00", "Z"))


class Words:
    """The words of one history's ids and codes in one language."""

    def __init__(self, found: Timeline, language: str) -> None:
        self.found, self.language = found, language

    def who(self, actor: str) -> str:
        kind, _, name = actor.partition(":")
        if actor == "system":
            return labels.ACTOR_SYSTEM.translate(self.language)
        if kind == "user":
            return self.found.people.get(name, name)
        if kind == "isp":
            return f"{name} ({i18n.gettext(self.language, 'access provider')})"
        return actor

    def field(self, key: str) -> str:
        words = labels.FIELD.get(key)
        return words.translate(self.language) if words is not None else key.replace("_", " ")

    def value(self, key: str, value: Any) -> str:
        language = self.language
        if isinstance(value, bool):
            return i18n.gettext(language, "yes") if value else i18n.gettext(language, "no")
        if key in ("isp_id", "isp") and isinstance(value, int):
            return self.found.isps.get(value, f"#{value}")
        if key in PEOPLE_FIELDS and isinstance(value, int):
            username = self.found.users.get(value, "")
            return self.found.people.get(username, f"#{value}")
        if key in ID_LISTS and isinstance(value, list):
            return ", ".join(f"#{v}" for v in value)
        if key in ("order_id", "override_id") and isinstance(value, int):
            return f"#{value}"
        if key == "flags" and isinstance(value, list):
            return "; ".join(labels.label("flag", str(v), language) for v in value)
        if key in ("language", "notice_language") and isinstance(value, str):
            return LANGUAGE_NAMES.get(value, value)
        if key in ("legal_basis", "scope", "role", "kind", "status") and isinstance(value, str):
            return labels.label(key, value, language)  # the vocabulary's words (a kind of labels.KINDS each)
        if key == "reasons" and isinstance(value, str | list):  # a feed hold's (kept in English)
            return stored_text.hold_reasons(value, language)
        if key == "reason" and isinstance(value, str):  # a hold's closing (kept in English); a person's as typed
            return stored_text.hold_closing(value, language)
        if key in TIME_FIELDS and isinstance(value, str):
            try:
                return moment(value, language).local
            except ValueError:
                return value
        if isinstance(value, list):
            return ", ".join(str(v) for v in value)
        if isinstance(value, dict):
            return ", ".join(f"{self.field(k)}: {self.value(k, v)}" for k, v in value.items())
        return str(value)

    def details(self, details: dict[str, Any]) -> list[tuple[str, str]]:
        return [(self.field(k), self.value(k, v)) for k, v in details.items()
                if k not in HIDDEN and v not in (None, "", [], {})]


def rows(found: Timeline, language: str) -> list[Row]:
    """The history's events and delivery attempts, oldest first."""
    words = Words(found, language)
    shown: list[Row] = []
    for event in found.events:
        when = moment(event.at, language)
        shown.append(Row(seq=event.id, when=when, who=words.who(event.actor), code=event.action,
                         what=labels.label("event", event.action, language),
                         details=words.details(json.loads(event.details)),
                         sort_key=(utc(event.at), event.id)))
    references = {r.id: r.reference for r in found.requisitions}
    isp_of = {r.id: r.isp_id for r in found.requisitions}
    for attempt in found.attempts:
        when = moment(attempt.started_at, language)
        details = [(words.field("reference"), references.get(attempt.requisition_id, f"#{attempt.requisition_id}")),
                   (words.field("isp_id"), words.value("isp_id", isp_of.get(attempt.requisition_id))),
                   (words.field("attempt"), str(attempt.attempt)),
                   (i18n.gettext(language, "outcome"), labels.label("delivery", attempt.outcome, language))]
        if attempt.smtp_response:
            details.append((words.field("smtp_response"), attempt.smtp_response))
        shown.append(Row(seq=None, when=when, who=labels.ACTOR_SYSTEM.translate(language), code="delivery.attempt",
                         what=i18n.gettext(language, "Attempt to e-mail the requisition"), details=details,
                         sort_key=(utc(attempt.started_at), 0)))
    return sorted(shown, key=lambda row: row.sort_key)
