"""Alembic environment: runs on the connection handed in by blocklist.db.upgrade, or on the URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from blocklist.db import make_engine

config = context.config


def _run(connection: Connection) -> None:
    context.configure(connection=connection, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()
