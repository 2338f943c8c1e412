"""Engines, sessions and token hashing."""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

__all__ = ["TOKEN_PREFIX", "hash_token", "make_engine", "make_sessionmaker", "new_token"]

#: Every token starts with this, so leaked tokens are easy to recognise.
TOKEN_PREFIX = "wpt_"


def new_token() -> str:
    """Return a fresh random API token (256 bits of entropy)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """Return the hex sha256 stored for ``token``.

    Tokens are random with 256 bits of entropy, so a fast hash is enough
    (no dictionary attack is possible); it allows an indexed lookup.
    """
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def make_engine(url: str) -> Engine:
    """Create an engine for ``url`` (SQLite: folder created, foreign keys on)."""
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _fk_on(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Return a session factory bound to ``engine``."""
    return sessionmaker(engine, expire_on_commit=False)
