"""The mutable database: organisations, accounts, API tokens and welfare offers.

SQLAlchemy 2 models (:mod:`territorio.db.models`), engine and session helpers
(:mod:`territorio.db.session`) and Alembic migrations shipped in the package
(:func:`territorio.db.migrations.upgrade`). SQLite is the embedded default;
PostgreSQL works through a ``postgresql+psycopg://`` URL.
"""

from territorio.db.migrations import upgrade
from territorio.db.models import (
    OFFER_CATEGORIES,
    ROLES,
    Account,
    ApiToken,
    Base,
    Offer,
    OfferMunicipality,
    Organisation,
)
from territorio.db.session import hash_token, make_engine, make_sessionmaker, new_token

__all__ = [
    "OFFER_CATEGORIES",
    "ROLES",
    "Account",
    "ApiToken",
    "Base",
    "Offer",
    "OfferMunicipality",
    "Organisation",
    "hash_token",
    "make_engine",
    "make_sessionmaker",
    "new_token",
    "upgrade",
]
