"""Reusable, typed FastAPI dependencies: state, database, caller, format, paging, bbox."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.orm import Session

from territorio.api._state import TerritoryData
from territorio.api.errors import (
    AuthenticationError,
    InvalidParameterError,
    PermissionDeniedError,
)
from territorio.api.settings import Settings
from territorio.categories import CATEGORIES
from territorio.db.models import Account, ApiToken, Organisation
from territorio.db.session import hash_token

__all__ = [
    "BBOX_PATTERN",
    "CATEGORY_SCHEMA",
    "OPTIONAL_AUTH",
    "BBox",
    "Caller",
    "OptionalCaller",
    "OutputFormat",
    "Principal",
    "RequiredCaller",
    "get_data",
    "get_db",
    "get_settings",
    "output_format",
    "page_limit",
    "parse_bbox",
]

GEOJSON = "application/geo+json"

_bearer = HTTPBearer(
    auto_error=False,
    description="API token of an account (`Authorization: Bearer wpt_...`)",
)


async def get_settings(request: Request) -> Settings:
    """Return the app's settings."""
    settings: Settings = request.app.state.settings
    return settings


async def get_data(request: Request) -> TerritoryData:
    """Return the territory data loaded in the lifespan."""
    data: TerritoryData = request.app.state.data
    return data


def get_db(request: Request) -> Iterator[Session]:
    """Yield a database session, closed after the request."""
    with request.app.state.sessionmaker() as session:
        yield session


@dataclass(frozen=True)
class Principal:
    """The authenticated caller.

    Attributes
    ----------
    role
        Role of the caller's organisation (``"admin"`` for the bootstrap token).
    account
        The account, or None for the bootstrap administrator.
    organisation
        The account's organisation (None for the bootstrap administrator).
    """

    role: str
    account: Account | None
    organisation: Organisation | None

    @property
    def is_admin(self) -> bool:
        """Whether the caller is an administrator."""
        return self.role == "admin"

    @property
    def bootstrap(self) -> bool:
        """Whether the caller used the bootstrap admin token."""
        return self.account is None

    def require_admin(self) -> None:
        """Raise :class:`PermissionDeniedError` unless an administrator."""
        if not self.is_admin:
            raise PermissionDeniedError("this action is reserved to administrators")


def _principal(
    request: Request,
    creds: HTTPAuthorizationCredentials | None,
    session: Session,
) -> Principal | None:
    if creds is None:
        if request.headers.get("authorization"):
            raise AuthenticationError(
                "the Authorization header must be 'Bearer <token>' with an API token"
            )
        return None
    token = creds.credentials
    settings: Settings = request.app.state.settings
    if settings.admin_token is not None:
        secret = settings.admin_token.get_secret_value()
        if secret and hmac.compare_digest(token.encode(), secret.encode()):
            return Principal(role="admin", account=None, organisation=None)
    row = _token_row(session, token)
    if row is None:
        raise AuthenticationError("unknown API token; ask an administrator for a new one")
    tok, account, org = row
    if tok.revoked_at is not None:
        raise AuthenticationError(
            f"API token {tok.prefix}… was revoked on {tok.revoked_at:%Y-%m-%d}; use another one"
        )
    if not account.active:
        raise AuthenticationError(
            f"account {account.email} is deactivated; ask an administrator to reactivate it"
        )
    if org.deleted_at is not None:
        raise AuthenticationError(
            f"organisation {org.name!r} of account {account.email} was deleted "
            f"on {org.deleted_at:%Y-%m-%d}"
        )
    return Principal(role=org.role, account=account, organisation=org)


def _token_row(session: Session, token: str) -> tuple[ApiToken, Account, Organisation] | None:
    row = session.execute(
        select(ApiToken, Account, Organisation)
        .join(Account, ApiToken.account_id == Account.id)
        .join(Organisation, Account.organisation_id == Organisation.id)
        .where(ApiToken.token_hash == hash_token(token))
    ).first()
    return None if row is None else (row[0], row[1], row[2])


def rate_limit_key(settings: Settings, sessionmaker: Any, token: str) -> str | None:
    """Return the rate-limit key of a bearer token, or None when it authenticates no one.

    ``"admin"`` for the bootstrap token, ``"account:<id>"`` for a token of an
    active account of a live organisation; unknown, revoked or disabled
    tokens get None (the request is then counted against its address).
    """
    if settings.admin_token is not None:
        secret = settings.admin_token.get_secret_value()
        if secret and hmac.compare_digest(token.encode(), secret.encode()):
            return "admin"
    if sessionmaker is None:
        return None
    with sessionmaker() as session:
        row = _token_row(session, token)
    if row is None:
        return None
    tok, account, org = row
    if tok.revoked_at is not None or not account.active or org.deleted_at is not None:
        return None
    return f"account:{account.id}"


def optional_caller(
    request: Request,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    session: Annotated[Session, Depends(get_db)],
) -> Principal | None:
    """Return the caller if a token is given (a bad token is still a 401)."""
    return _principal(request, creds, session)


def required_caller(
    request: Request,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    session: Annotated[Session, Depends(get_db)],
) -> Principal:
    """Return the caller, or raise a 401 if no token is given."""
    p = _principal(request, creds, session)
    if p is None:
        raise AuthenticationError(
            "this action needs an API token: send 'Authorization: Bearer <token>'"
        )
    return p


OptionalCaller = Annotated[Principal | None, Depends(optional_caller)]
#: ``openapi_extra`` of the operations taking an :data:`OptionalCaller`: FastAPI
#: declares the bearer scheme as required; adding the empty requirement ``{}``
#: (FastAPI appends it to the operation's ``security`` list) says that the
#: operation also answers without a token, as public searches do.
OPTIONAL_AUTH: dict[str, Any] = {"security": [{}]}
RequiredCaller = Annotated[Principal, Depends(required_caller)]
Caller = RequiredCaller

Fmt = Literal["json", "geojson"]


async def output_format(
    request: Request,
    f: Annotated[
        Fmt | None,
        Query(description="output format: json or geojson (default: from Accept, else json)"),
    ] = None,
) -> Fmt:
    """Negotiate JSON or GeoJSON from ``f=`` or the Accept header."""
    if f is not None:
        return f
    accept = request.headers.get("accept", "")
    return "geojson" if GEOJSON in accept else "json"


OutputFormat = Annotated[Fmt, Depends(output_format)]

BBox = tuple[float, float, float, float]

_NUM = r"\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*"
#: What a ``bbox`` query parameter looks like (declared in the OpenAPI): empty,
#: or four comma-separated numbers; ranges and order are checked by :func:`parse_bbox`.
BBOX_PATTERN = rf"^({_NUM},{_NUM},{_NUM},{_NUM})?$"
#: The OpenAPI schema of a service category parameter: one of the fixed taxonomy.
CATEGORY_SCHEMA: dict[str, object] = {"enum": list(CATEGORIES)}


def parse_bbox(value: str | None, *, field: str = "query.bbox") -> BBox | None:
    """Parse ``minlon,minlat,maxlon,maxlat`` (WGS84), or raise a clear 422."""
    if value is None or value == "":
        return None
    parts = value.split(",")
    if len(parts) != 4:
        raise InvalidParameterError(
            field, "bbox needs 4 comma-separated numbers: minlon,minlat,maxlon,maxlat"
        )
    try:
        x0, y0, x1, y1 = (float(p) for p in parts)
    except ValueError:
        raise InvalidParameterError(field, "bbox values must be numbers") from None
    if not all(v == v and abs(v) != float("inf") for v in (x0, y0, x1, y1)):
        raise InvalidParameterError(field, "bbox values must be finite numbers")
    if not (-180 <= x0 <= 180 and -180 <= x1 <= 180 and -90 <= y0 <= 90 and -90 <= y1 <= 90):
        raise InvalidParameterError(field, "bbox is outside -180..180 / -90..90")
    if x0 > x1 or y0 > y1:
        raise InvalidParameterError(field, "bbox minimum must not exceed its maximum")
    return (x0, y0, x1, y1)


def page_limit(limit: int, settings: Settings) -> int:
    """Return ``limit`` clamped to the configured maximum page size.

    A larger ``limit`` is not an error: the page is the largest allowed, as
    OGC API - Features Part 1 (requirement /req/core/fc-limit-response-1)
    asks, and the response says the ``limit`` used (``limit`` of a JSON page,
    ``numberReturned`` and the ``next`` link of a GeoJSON one). The maximum
    is declared in the OpenAPI document (``maximum`` of every ``limit``).
    """
    return min(limit, settings.max_page_size)


def as_utc(value: datetime | None) -> datetime | None:
    """Return ``value`` as an aware UTC datetime (SQLite returns naive ones)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """Return the current UTC time (second precision)."""
    return datetime.now(UTC).replace(microsecond=0)
