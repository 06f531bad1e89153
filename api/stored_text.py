"""Texts the feed stores in English (a hold's reasons, why it was closed, a DNS check's reason), in the reader's
language.

The stored text stays as written (evidence, the chain); its words are read back from the Messages that produced
it (blocklist/labels.py `reread`). A text of an older wording, or none of them, is shown as stored.
"""

from __future__ import annotations

from blocklist import labels
from isp_feed.publish import GATE_REASONS, HOLD_CLOSINGS
from isp_feed.verify.classify import DNS_REASONS, NESTED_REASONS


def dns_reason(stored: str | None, language: str) -> str:
    """A DNS check's reason (isp_feed/verify/classify.py) in `language`."""
    return labels.reread(stored, DNS_REASONS, language, NESTED_REASONS) if stored else ""


def hold_reasons(stored: str | list[str], language: str) -> str:
    """A feed hold's reasons (kept in English: "; "-joined, or a list) in the reader's language."""
    parts = stored if isinstance(stored, list) else stored.split("; ")
    return "; ".join(labels.reread(str(part), GATE_REASONS, language) for part in parts)


def hold_closing(stored: str | None, language: str) -> str:
    """Why a feed hold was closed (isp_feed/publish.py) in `language`."""
    return labels.reread(stored, HOLD_CLOSINGS, language) if stored else ""
