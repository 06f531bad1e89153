"""Partner hotlines (e.g. the national INHOPE member): a name and one bearer credential to send reports with.

A partner is not a user account and has no role: it can send reports and nothing else, so the four-eyes rule on
accounts is untouched. Only the operator on the server adds one (`blocklist partner add NAME`), which prints the
credential once; only its SHA-256 is stored.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from blocklist import audit
from blocklist.errors import Conflict, InvalidInput, Unauthenticated
from blocklist.models import Partner, utcnow
from blocklist.text import clean_text
from blocklist.tokens import new_token, token_hash, token_prefix


def add_partner(session: Session, *, actor: str, name: str) -> tuple[Partner, str]:
    """Register a partner hotline; returns it and its credential (shown once)."""
    name = clean_text(name, field="name", max_length=100)
    if not name:
        raise InvalidInput("a partner needs a name of 1-100 characters", field="name")
    if session.execute(select(Partner.id).where(Partner.name == name)).first():
        raise Conflict(f"a partner named {name!r} already exists", field="name")
    token = new_token("partner")
    partner = Partner(name=name, token_hash=token_hash(token), token_prefix=token_prefix(token), active=True,
                      created_by=actor, created_at=utcnow())
    session.add(partner)
    session.flush()
    audit.record(session, actor=actor, action="partner.created", object_type="partner", object_id=partner.id,
                 details={"name": name, "prefix": token_prefix(token)})
    return partner, token


def set_active(session: Session, *, actor: str, partner: Partner, active: bool) -> Partner:
    """Enable or disable a partner (its reports stay; a disabled one can send no more)."""
    partner.active = active
    session.flush()
    audit.record(session, actor=actor, action="partner.enabled" if active else "partner.disabled",
                 object_type="partner", object_id=partner.id, details={"name": partner.name})
    return partner


def partner_by_token(session: Session, token: str) -> Partner:
    """The partner holding this credential (active or not: the caller decides), or Unauthenticated."""
    partner = session.execute(select(Partner).where(Partner.token_hash == token_hash(token))).scalar_one_or_none()
    if partner is None:
        raise Unauthenticated("invalid partner credential")
    return partner


def get_partner(session: Session, name: str) -> Partner:
    """The partner by name, or InvalidInput."""
    partner = session.execute(select(Partner).where(Partner.name == clean_text(
        name, field="name", max_length=1000))).scalar_one_or_none()
    if partner is None:
        raise InvalidInput(f"no partner {name!r}", field="name")
    return partner


def list_partners(session: Session) -> list[Partner]:
    """Every partner, by name."""
    return list(session.execute(select(Partner).order_by(Partner.name)).scalars())
