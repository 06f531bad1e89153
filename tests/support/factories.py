"""Shared test factories, built on the real workflow: accounts of each role ready to act, ISPs, and names
submitted, approved (blocked) or lifted. Each takes the caller's session, so it joins the caller's transaction:

    with database.transaction() as s:
        order = approved(s, people["officer"], people["magistrate"], "csam-gallery.test", "second.test")
        order_id = order.id  # read inside the transaction: objects expire at its commit
"""

from __future__ import annotations

import itertools
import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from blocklist import isps, users, workflow
from blocklist.models import Isp, Order, Submission, User
from blocklist.names import NamePolicy
from tests.blocklist.helpers import submission
from tests.support.reserved_names import PROTECTED

POLICY = NamePolicy.build(extra_protected=[PROTECTED])  # the shipped lists and the tests' settings' protected name


def confirmed_token(session: Session, username: str, role: str) -> str:
    """A new account of `role`, created and confirmed by the operator on the server; returns its API token."""
    _, token = users.create_user(session, actor="test", username=username, role=role)
    return token


def _first_free(taken: set[str], *names: str) -> str:
    return next(name for name in itertools.chain(names, (f"{names[-1]}-{n}" for n in itertools.count(2)))
                if name not in taken)


def make_user(session: Session, role: str, username: str | None = None, **fields: Any) -> User:
    """An account of `role` that can act at once: created by the operator on the server (`actor="test"`), hence
    confirmed, unlike one an administrator makes. Named after its role unless told (officer, officer-2, ...);
    `fields` go to users.create_user (password, display_name, language, email)."""
    if username is None:
        username = _first_free(set(session.execute(select(User.username)).scalars()), role)
    user, _ = users.create_user(session, actor="test", username=username, role=role, **fields)
    return user


def make_isp(session: Session, **overrides: Any) -> Isp:
    """An active ISP (ISP, ISP-2, ... with noc@isp.example, noc@isp-2.example, ...), French unless told;
    `overrides` go to isps.add_isp (name, email, language, resolvers, policy, operator_id). Its contact's
    domain becomes a protected name. Its feed credential: isps.rotate_credential."""
    if "name" not in overrides:
        overrides["name"] = _first_free(set(session.execute(select(Isp.name)).scalars()), "ISP")
    host = re.sub(r"[^a-z0-9]+", "-", str(overrides["name"]).lower()).strip("-") or "isp"
    fields = {"email": f"noc@{host}.example", "language": "fr", **overrides}
    isp, _ = isps.add_isp(session, actor="test", **fields)
    return isp


def submitted(session: Session, officer: User, domain: str, *, policy: NamePolicy = POLICY, **case: Any) -> Submission:
    """`domain` submitted by `officer` (workflow.submit), under Article 39bis and hosted in the Netherlands unless
    `case` says otherwise (legal_basis, scope, case_number, evidence_ref, verified_on, court_order, note,
    hosting_country, hosting_provider, hosting_abuse_email, notice_language)."""
    return workflow.submit(session, actor=officer, data=submission(domain, **case), policy=policy)


def approved(session: Session, officer: User, magistrate: User, *domains: str, reason: str | None = None,
             policy: NamePolicy = POLICY, **case: Any) -> Order:
    """`domains` submitted by `officer`, then approved together by `magistrate`: one blocking order, returned."""
    ids = [submitted(session, officer, domain, policy=policy, **case).id for domain in domains]
    return workflow.approve(session, actor=magistrate, submission_ids=ids, reason=reason)


def lifted(session: Session, officer: User, magistrate: User, domain: str, *, reason: str = "content removed",
           policy: NamePolicy = POLICY, **case: Any) -> Order:
    """`domain` blocked (submitted by `officer`, approved by `magistrate`), then lifted by `magistrate`: the
    lifting order, returned."""
    approved(session, officer, magistrate, domain, policy=policy, **case)
    return workflow.lift(session, actor=magistrate, domain=domain, reason=reason)
