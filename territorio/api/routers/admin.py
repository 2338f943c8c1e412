"""Administrator controls: accounts, any token, organisation deletion, the audit trail.

Every change is recorded in ``audit_events`` (who, what, which record, when)
in the same transaction as the change itself, so the trail never misses one.
Deletion is soft: the rows stay (offers and the trail keep their references),
but a deleted organisation's tokens stop working and its offers are never
listed or served again.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from territorio.api.dependencies import Principal, RequiredCaller, as_utc, get_db, utcnow
from territorio.api.errors import ConflictError
from territorio.api.models import AccountOut, AccountUpdate, AuditEventOut, Problem, TokenOut
from territorio.api.routers.accounts import _account_out, _token_out
from territorio.db.models import Account, ApiToken, AuditEvent, Offer, Organisation
from territorio.errors import NotFoundError

__all__ = ["audit", "router"]

router = APIRouter(
    tags=["admin"],
    responses={
        401: {"model": Problem, "description": "no or invalid token"},
        403: {"model": Problem, "description": "not an administrator"},
        422: {"model": Problem},
    },
)

Db = Annotated[Session, Depends(get_db)]
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


def audit(
    session: Session,
    caller: Principal,
    action: str,
    target_type: str,
    target_id: int,
    **detail: Any,
) -> None:
    """Add an audit event for ``caller``'s action to the session (committed with it)."""
    session.add(
        AuditEvent(
            at=utcnow(),
            actor_account_id=caller.account.id if caller.account else None,
            actor=caller.account.email if caller.account else "bootstrap-admin",
            action=action,
            target_type=target_type,
            target_id=target_id,
            detail=json.dumps(detail, default=str, sort_keys=True),
        )
    )


def _account(session: Session, account_id: int) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise NotFoundError(f"no account with id {account_id}; list them at /accounts")
    return account


@router.get(
    "/accounts",
    response_model=list[AccountOut],
    summary="Account / Accounts (admin)",
)
def list_accounts(
    caller: RequiredCaller,
    session: Db,
    organisation_id: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="only this organisation's")
    ] = None,
    active: Annotated[bool | None, Query(description="only active (true) or inactive")] = None,
) -> Any:
    """List the accounts, optionally of one organisation or by state (administrators only)."""
    caller.require_admin()
    stmt = select(Account).order_by(Account.id)
    if organisation_id is not None:
        stmt = stmt.where(Account.organisation_id == organisation_id)
    if active is not None:
        stmt = stmt.where(Account.active.is_(active))
    return [_account_out(a) for a in session.scalars(stmt)]


@router.patch(
    "/accounts/{account_id}",
    response_model=AccountOut,
    summary="Disattiva o riattiva un account / Deactivate or reactivate an account (admin)",
    responses={404: {"model": Problem}, 409: {"model": Problem}},
)
def update_account(account_id: Id, body: AccountUpdate, caller: RequiredCaller, session: Db) -> Any:
    """Deactivate (``active: false``) or reactivate an account; its tokens follow at once."""
    caller.require_admin()
    account = _account(session, account_id)
    if caller.account is not None and caller.account.id == account.id and not body.active:
        raise ConflictError(
            "an administrator cannot deactivate their own account; ask another administrator"
        )
    if account.active != body.active:
        account.active = body.active
        action = "account.reactivate" if body.active else "account.deactivate"
        audit(session, caller, action, "account", account.id, email=account.email)
        session.commit()
    return _account_out(account)


@router.get(
    "/accounts/{account_id}/tokens",
    response_model=list[TokenOut],
    summary="Token di un account / An account's tokens (admin)",
    responses={404: {"model": Problem}},
)
def account_tokens(account_id: Id, caller: RequiredCaller, session: Db) -> Any:
    """List an account's tokens, revoked ones included (never their secrets)."""
    caller.require_admin()
    account = _account(session, account_id)
    rows = session.scalars(
        select(ApiToken).where(ApiToken.account_id == account.id).order_by(ApiToken.id)
    )
    return [_token_out(t) for t in rows]


@router.delete(
    "/tokens/{token_id}",
    status_code=204,
    summary="Revoca un token qualsiasi / Revoke any token (admin)",
    responses={404: {"model": Problem}},
)
def revoke_any_token(token_id: Id, caller: RequiredCaller, session: Db) -> Response:
    """Revoke any account's token (administrators only); revoking twice changes nothing."""
    caller.require_admin()
    tok = session.get(ApiToken, token_id)
    if tok is None:
        raise NotFoundError(f"no token with id {token_id}")
    if tok.revoked_at is None:
        tok.revoked_at = utcnow()
        audit(session, caller, "token.revoke", "token", tok.id, account_id=tok.account_id,
              prefix=tok.prefix)  # fmt: skip
        session.commit()
    return Response(status_code=204)


@router.delete(
    "/organisations/{organisation_id}",
    status_code=204,
    summary="Elimina un'organizzazione e le sue offerte / Delete an organisation (admin)",
    responses={404: {"model": Problem}, 409: {"model": Problem}},
)
def delete_organisation(organisation_id: Id, caller: RequiredCaller, session: Db) -> Response:
    """Delete an organisation with its offers (soft deletion, recorded in the audit trail).

    Its accounts' tokens stop working at once and its offers disappear from
    every listing, map and OGC collection; the rows are kept for the trail.
    """
    caller.require_admin()
    org = session.get(Organisation, organisation_id)
    if org is None or org.deleted_at is not None:
        raise NotFoundError(f"no organisation with id {organisation_id}")
    if caller.organisation is not None and caller.organisation.id == org.id:
        raise ConflictError("an administrator cannot delete their own organisation")
    now = utcnow()
    offer_ids = list(
        session.scalars(
            select(Offer.id).where(Offer.organisation_id == org.id, Offer.deleted_at.is_(None))
        )
    )
    org.deleted_at = now
    if offer_ids:
        session.execute(update(Offer).where(Offer.id.in_(offer_ids)).values(deleted_at=now))
    audit(session, caller, "organisation.delete", "organisation", org.id, name=org.name,
          offers_deleted=offer_ids)  # fmt: skip
    session.commit()
    return Response(status_code=204)


@router.get(
    "/audit",
    response_model=list[AuditEventOut],
    summary="Registro delle azioni / Audit trail (admin)",
)
def audit_trail(
    caller: RequiredCaller,
    session: Db,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> Any:
    """List the administrators' actions, newest first (administrators only)."""
    caller.require_admin()
    rows = session.scalars(
        select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit).offset(offset)
    )
    return [
        {
            "id": e.id,
            "at": as_utc(e.at),
            "actor": e.actor,
            "actor_account_id": e.actor_account_id,
            "action": e.action,
            "target_type": e.target_type,
            "target_id": e.target_id,
            "detail": json.loads(e.detail or "{}"),
        }
        for e in rows
    ]
