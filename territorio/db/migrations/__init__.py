"""Alembic migrations shipped inside the package, run programmatically."""

from __future__ import annotations

from pathlib import Path

__all__ = ["upgrade"]

HERE = Path(__file__).resolve().parent


def upgrade(url: str, *, revision: str = "head") -> None:
    """Migrate the database at ``url`` to ``revision`` (default: the newest).

    Parameters
    ----------
    url
        SQLAlchemy database URL, e.g. ``sqlite:///data/territorio.db`` or
        ``postgresql+psycopg://user@host/db``.
    revision
        Target Alembic revision.
    """
    from alembic import command
    from alembic.config import Config

    from territorio.db.session import make_engine

    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    finally:
        engine.dispose()
