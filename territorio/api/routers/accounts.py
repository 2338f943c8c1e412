"""Organisations, accounts and API tokens."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from territorio.api.dependencies import RequiredCaller, as_utc, get_db, utcnow
from territorio.api.errors import ConflictError, PermissionDeniedError
from territorio.api.models import (
    AccountCreate,
    AccountCreated,
    Me,
    OrganisationCreate,
    OrganisationOut,
    Problem,
    TokenCreate,
    TokenCreated,
    TokenOut,
)
from territorio.db.models import Account, ApiToken, Organisation
from territorio.db.session import hash_token, new_token
from territorio.errors import NotFoundError

__all__ = ["router"]

router = APIRouter(
    tags=["accounts"],
    responses={401: {"model": Problem}, 403: {"model": Problem}, 422: {"model": Problem}},
)

Db = Annotated[Session, Depends(get_db)]
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _org_out(o: Organisation) -> dict[str, Any]:
    return {
        "id": o.id,
        "name": o.name,
        "role": o.role,
        "pro_com_t": o.pro_com_t,
        "created_at": as_utc(o.created_at),
        "deleted_at": as_utc(o.deleted_at),
    }


def _account_out(a: Account) -> dict[str, Any]:
    return {
        "id": a.id,
        "organisation_id": a.organisation_id,
        "email": a.email,
        "display_name": a.display_name,
        "active": a.active,
        "created_at": as_utc(a.created_at),
    }


def _token_out(t: ApiToken) -> dict[str, Any]:
    return {
        "id": t.id,
        "prefix": t.prefix,
        "label": t.label,
        "created_at": as_utc(t.created_at),
        "revoked_at": as_utc(t.revoked_at),
    }


def _issue(session: Session, account: Account, label: str) -> dict[str, Any]:
    token = new_token()
    row = ApiToken(
        account_id=account.id,
        token_hash=hash_token(token),
        prefix=token[:10],
        label=label,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return {**_token_out(row), "token": token}


@router.post(
    "/organisations",
    response_model=OrganisationOut,
    status_code=201,
    summary="Crea un'organizzazione / Create an organisation (admin)",
    responses={409: {"model": Problem}},
)
def create_organisation(body: OrganisationCreate, caller: RequiredCaller, session: Db) -> Any:
    """Register an organisation with its role (administrators only)."""
    caller.require_admin()
    org = Organisation(
        name=body.name, role=body.role, pro_com_t=body.pro_com_t, created_at=utcnow()
    )
    session.add(org)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise ConflictError(f"an organisation named {body.name!r} already exists") from None
    return _org_out(org)


@router.get(
    "/organisations",
    response_model=list[OrganisationOut],
    summary="Organizzazioni / Organisations (admin)",
)
def list_organisations(
    caller: RequiredCaller,
    session: Db,
    include_deleted: Annotated[
        bool, Query(description="also list the organisations deleted by an administrator")
    ] = False,
) -> Any:
    """List the organisations (administrators only)."""
    caller.require_admin()
    stmt = select(Organisation).order_by(Organisation.id)
    if not include_deleted:
        stmt = stmt.where(Organisation.deleted_at.is_(None))
    return [_org_out(o) for o in session.scalars(stmt)]


@router.post(
    "/organisations/{organisation_id}/accounts",
    response_model=AccountCreated,
    status_code=201,
    summary="Crea un account / Create an account (admin)",
    responses={404: {"model": Problem}, 409: {"model": Problem}},
)
def create_account(
    organisation_id: Id, body: AccountCreate, caller: RequiredCaller, session: Db
) -> Any:
    """Create an account of an organisation and its first API token (shown once)."""
    caller.require_admin()
    org = session.get(Organisation, organisation_id)
    if org is None or org.deleted_at is not None:
        raise NotFoundError(f"no organisation with id {organisation_id}")
    account = Account(
        organisation_id=org.id,
        email=body.email.lower(),
        display_name=body.display_name,
        active=True,
        created_at=utcnow(),
    )
    session.add(account)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise ConflictError(f"an account with e-mail {body.email!r} already exists") from None
    token = _issue(session, account, "first token")
    session.commit()
    return {**_account_out(account), "token": token}


@router.get("/me", response_model=Me, summary="Chi sono / Who am I")
def me(caller: RequiredCaller) -> Any:
    """Return the caller's account, organisation and role."""
    return {
        "role": caller.role,
        "bootstrap_admin": caller.bootstrap,
        "account": _account_out(caller.account) if caller.account else None,
        "organisation": _org_out(caller.organisation) if caller.organisation else None,
    }


def _own_account(caller: RequiredCaller) -> Account:
    if caller.account is None:
        raise PermissionDeniedError(
            "the bootstrap admin token has no account; create an admin organisation and "
            "account with POST /organisations and POST /organisations/{id}/accounts"
        )
    return caller.account


@router.get("/me/tokens", response_model=list[TokenOut], summary="I miei token / My tokens")
def list_tokens(caller: RequiredCaller, session: Db) -> Any:
    """List the caller's tokens (never their secrets)."""
    account = _own_account(caller)
    rows = session.scalars(
        select(ApiToken).where(ApiToken.account_id == account.id).order_by(ApiToken.id)
    )
    return [_token_out(t) for t in rows]


@router.post(
    "/me/tokens",
    response_model=TokenCreated,
    status_code=201,
    summary="Nuovo token / New token",
)
def create_token(body: TokenCreate, caller: RequiredCaller, session: Db) -> Any:
    """Issue a new token for the caller's account (shown only in this response)."""
    account = _own_account(caller)
    out = _issue(session, account, body.label)
    session.commit()
    return out


@router.delete(
    "/me/tokens/{token_id}",
    status_code=204,
    summary="Revoca un token / Revoke a token",
    responses={404: {"model": Problem}},
)
def revoke_token(token_id: Id, caller: RequiredCaller, session: Db) -> Response:
    """Revoke one of the caller's tokens."""
    account = _own_account(caller)
    tok = session.get(ApiToken, token_id)
    if tok is None or tok.account_id != account.id:
        raise NotFoundError(f"you have no token with id {token_id}")
    if tok.revoked_at is None:
        tok.revoked_at = utcnow()
        session.commit()
    return Response(status_code=204)
