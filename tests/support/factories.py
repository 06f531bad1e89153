"""Shared test factories: accounts of each role ready to act, with their API tokens."""

from __future__ import annotations

from sqlalchemy.orm import Session

from blocklist import users


def confirmed_token(session: Session, username: str, role: str) -> str:
    """A new account of `role`, created and confirmed by the operator on the server; returns its API token."""
    _, token = users.create_user(session, actor="test", username=username, role=role)
    return token
