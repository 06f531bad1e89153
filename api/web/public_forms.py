"""What the public forms share (/report and /appeal): no login, no cookie, no JavaScript; the visitor's language;
and the abuse limits, checked before anything is read or written.

The limits: a size limit on the whole form (413), a honeypot field hidden from people and filled in by form robots
(400), and a budget of forms per source kept in memory only (SourceLimiter, 429 with Retry-After; never written
anywhere). Each field's own size limit is the service's (blocklist.text.form_text), worded by `refusal_words`.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from fastapi import Request

from api.stoppage import choose_language, source_of
from blocklist.errors import BlocklistError
from blocklist.i18n import N_, Message
from blocklist.text import FormRefused
from blocklist.vocab import LANGUAGE_NAMES

FORM_BURST = 5  # forms from one source at once...
FORM_PER_SECOND = 10 / 3600  # ...then ten an hour
FORM_SOURCES = 16_384
MAX_FORM_BYTES = 32 * 1024  # every field at its limit fits in far less
HONEYPOT = "website"  # the field's name: what a form robot fills in


class SourceLimiter:
    """A token bucket of forms per source (an IPv6 /64 counts as one), in a bounded LRU dict, in memory only."""

    def __init__(self, *, burst: float = FORM_BURST, per_second: float = FORM_PER_SECOND,
                 max_sources: int = FORM_SOURCES, clock: Callable[[], float] = time.monotonic) -> None:
        self.burst, self.per_second, self.max_sources, self._clock = burst, per_second, max_sources, clock
        self._sources: OrderedDict[str, tuple[float, float]] = OrderedDict()  # source -> (tokens, stamp)
        self._lock = threading.Lock()

    def allow(self, source: str) -> bool:
        """Spend one form of `source`'s budget; False when it is spent."""
        with self._lock:
            now = self._clock()
            tokens, stamp = self._sources.pop(source, (self.burst, now))
            tokens = min(self.burst, tokens + (now - stamp) * self.per_second)
            allowed = tokens >= 1
            self._sources[source] = (tokens - 1 if allowed else tokens, now)
            while len(self._sources) > self.max_sources:
                self._sources.popitem(last=False)
            return allowed

    def retry_after(self, source: str) -> int:
        """Seconds until `source` may send a form again."""
        with self._lock:
            tokens = self._sources.get(source, (self.burst, 0.0))[0]
        return max(1, math.ceil((1 - tokens) / self.per_second)) if tokens < 1 and self.per_second > 0 else 1


def limiter_of(request: Request, form: str) -> SourceLimiter:
    """The process's limiter of one form (`app.state.<form>_limiter`, made on first use): each form its budget."""
    state, name = request.app.state, f"{form}_limiter"
    if not hasattr(state, name):
        setattr(state, name, SourceLimiter())
    limiter: SourceLimiter = getattr(state, name)
    return limiter


def language(request: Request, chosen: str = "") -> str:
    """The page's language: the form's own choice (`chosen`), else ?lang=, else Accept-Language, else French."""
    query = f"lang={chosen}" if chosen in LANGUAGE_NAMES else request.url.query
    return choose_language(query, request.headers.get("accept-language", ""))


# What every form says alike, whatever the field (`field` is its label, `limit` its length limit).
COMMON_REFUSALS: dict[str, Message] = {
    "too_long": N_("“%(field)s” is too long: at most %(limit)s characters."),
    "bad_characters": N_("“%(field)s” contains a control character that is not allowed."),
}
TOO_LARGE = N_("The form is far too large. Nothing was stored.")


@dataclass(frozen=True)
class FormWords:
    """One form's words for its refusals: the abuse limits', and the service's by FormRefused code (a code of its
    own, else COMMON_REFUSALS; `fallback` for a refusal without one), with its fields' labels and limits."""

    honeypot: Message
    limited: Message  # %(minutes)s: how long to wait
    refusals: Mapping[str, Message]
    labels: Mapping[str, Message]
    limits: Mapping[str, int]
    fallback: str


@dataclass(frozen=True)
class Refusal:
    """Why a form was refused before it was read: the status, the words and the headers to answer with."""

    status: int
    message: str
    headers: dict[str, str] = field(default_factory=dict)


def guard(request: Request, form: str, words: FormWords, lang: str, *, honeypot: str) -> Refusal | None:
    """The abuse limits of `form`, in order (size, honeypot, budget), in `words`; None: go on."""
    if int(request.headers.get("content-length") or 0) > MAX_FORM_BYTES:
        return Refusal(413, TOO_LARGE.translate(lang))
    if honeypot:
        return Refusal(400, words.honeypot.translate(lang))
    limiter, source = limiter_of(request, form), source_of(request.scope)
    if not limiter.allow(source):
        wait = limiter.retry_after(source)
        return Refusal(429, words.limited.fill(minutes=max(1, math.ceil(wait / 60))).translate(lang),
                       {"retry-after": str(wait)})
    return None


def refusal_words(error: BlocklistError, words: FormWords, lang: str) -> str:
    """A service's refusal of a field, in the visitor's language, naming the field by its label."""
    code = error.code if isinstance(error, FormRefused) else words.fallback
    first = next(iter(words.labels))
    name = error.field if error.field is not None and error.field in words.labels else first
    message = words.refusals.get(code) or COMMON_REFUSALS.get(code) or words.refusals[words.fallback]
    return message.fill(field=words.labels[name], limit=words.limits.get(name, words.limits[first])).translate(lang)
