"""Alembic environment: runs on the connection passed by :func:`upgrade`."""

from __future__ import annotations

from alembic import context

from territorio.db.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only through territorio.db.upgrade
    raise RuntimeError("run migrations with territorio.db.upgrade(url)")
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
