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


#: Connections kept open per process. The API's sync routes run on AnyIO's
#: threadpool (40 threads per worker): with SQLAlchemy's default pool of 5 every
#: request beyond the fifth concurrent one opened and closed a connection of its
#: own (3 % of the CPU of a search by travel time at 32 connections).
POOL_SIZE = 40


def make_engine(url: str) -> Engine:
    """Create an engine for ``url`` (SQLite: folder created, foreign keys on).

    The pool keeps :data:`POOL_SIZE` connections (SQLite; 10 on a database
    server, up to 30 more under load, so two workers stay well within
    PostgreSQL's default 100 connections).
    """
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        pool: dict[str, int] = {}
        if u.database and u.database != ":memory:":
            Path(u.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            pool = {"pool_size": POOL_SIZE, "max_overflow": 10}
        engine = create_engine(url, connect_args={"check_same_thread": False}, **pool)

        @event.listens_for(engine, "connect")
        def _fk_on(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=30)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Return a session factory bound to ``engine``."""
    return sessionmaker(engine, expire_on_commit=False)
