"""A requisition document as plain data, independent of the database: what the templates render.

A removal notice to a hosting provider (kind `removal`, requisitions/removal.py) is the same document: one name,
its case under the e-commerce law, the provider as addressee.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from blocklist.vocab import IspPolicy, Language

Kind = Literal["blocking", "lifting", "catch_up", "removal"]


@dataclass(frozen=True)
class Authority:
    """The issuing authority and how to reach it."""

    name: str
    address: str
    contact_email: str
    contact_phone: str


@dataclass(frozen=True)
class Addressee:
    """The ISP the requisition is addressed to (a removal notice: the hosting provider; no e-mail: by hand)."""

    name: str
    operator_id: str
    email: str


@dataclass(frozen=True)
class NamedDomain:
    """One name to block or unblock."""

    a_label: str
    unicode: str
    scope: str  # domain_and_subdomains | exact


@dataclass(frozen=True)
class CaseRef:
    """A case and the legal basis it rests on."""

    case_number: str
    legal_basis: str  # ecommerce_law | art39bis | court_order
    court: str | None = None
    court_date: dt.date | None = None
    court_reference: str | None = None


@dataclass(frozen=True)
class RequisitionDocument:
    """Everything one requisition says."""

    kind: Kind
    reference: str
    language: Language
    issued_at: dt.datetime
    deadline: dt.datetime
    authority: Authority
    magistrate: str
    isp: Addressee
    names: tuple[NamedDomain, ...]
    cases: tuple[CaseRef, ...]
    feed_serial: int | None
    stop_page_name: str
    reason: str | None = None
    policy: IspPolicy = "stoppage"  # what the ISP agreed to answer for a blocked name: the stop page or NXDOMAIN
