from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from territorio.api.models import AccountCreated, Me, OrganisationOut, TokenCreated, TokenOut
from territorio.db.models import ApiToken
from territorio.db.session import hash_token

from .conftest import ADMIN_TOKEN
from .support import auth, body, problem

ADMIN = auth(ADMIN_TOKEN)


def new_member(client: TestClient, name: str, role: str, email: str) -> tuple[int, str]:
    """Create an organisation and an account; return (organisation id, token)."""
    org = body(
        client.post("/organisations", json={"name": name, "role": role}, headers=ADMIN),
        OrganisationOut,
        201,
    )
    acc = body(
        client.post(
            f"/organisations/{org.id}/accounts",
            json={"email": email, "display_name": name},
            headers=ADMIN,
        ),
        AccountCreated,
        201,
    )
    return org.id, acc.token.token


def test_bootstrap_admin_and_accounts(any_db_client: TestClient) -> None:
    c = any_db_client
    me = body(c.get("/me", headers=ADMIN), Me)
    assert me.bootstrap_admin and me.role == "admin" and me.account is None
    org_id, token = new_member(c, "Coop Valli", "cooperative", "anna@coop.it")
    me = body(c.get("/me", headers=auth(token)), Me)
    assert me.role == "cooperative"
    assert me.organisation is not None and me.organisation.id == org_id
    assert me.account is not None and me.account.email == "anna@coop.it"
    orgs = [
        OrganisationOut.model_validate(o) for o in c.get("/organisations", headers=ADMIN).json()
    ]
    assert [o.name for o in orgs] == ["Coop Valli"]


def test_tokens_are_stored_hashed_and_revocable(any_db_client: TestClient) -> None:
    c = any_db_client
    _, token = new_member(c, "Impresa Rossi", "business", "hr@rossi.it")
    second = body(c.post("/me/tokens", json={"label": "gestionale"}, headers=auth(token)),
                  TokenCreated, 201)  # fmt: skip
    assert second.token.startswith("wpt_") and second.prefix == second.token[:10]
    listed = [TokenOut.model_validate(t) for t in c.get("/me/tokens", headers=auth(token)).json()]
    assert [t.label for t in listed] == ["first token", "gestionale"]
    assert "token" not in c.get("/me/tokens", headers=auth(token)).json()[0]
    with c.app.state.sessionmaker() as s:  # type: ignore[attr-defined]
        hashes = set(s.scalars(select(ApiToken.token_hash)))
    assert hashes == {hash_token(token), hash_token(second.token)}
    assert token not in hashes
    assert c.delete(f"/me/tokens/{second.id}", headers=auth(token)).status_code == 204
    p = problem(c.get("/me", headers=auth(second.token)), 401)
    assert "revoked" in p.detail
    assert c.get("/me", headers=auth(token)).status_code == 200


def test_authentication_errors(any_db_client: TestClient) -> None:
    c = any_db_client
    r = c.get("/me")
    problem(r, 401)
    assert r.headers["www-authenticate"] == "Bearer"
    problem(c.get("/me", headers=auth("wpt_not-a-real-token")), 401)
    problem(c.get("/me", headers={"Authorization": "Basic abc"}), 401)


def test_conflicts_and_validation(any_db_client: TestClient) -> None:
    c = any_db_client
    new_member(c, "Comune di Alfa", "municipality", "sindaco@alfa.it")
    problem(c.post("/organisations", json={"name": "Comune di Alfa", "role": "municipality"},
                   headers=ADMIN), 409)  # fmt: skip
    p = problem(c.post("/organisations", json={"name": "X Y", "role": "king"}, headers=ADMIN), 422)
    assert p.errors is not None and p.errors[0].field == "body.role"
    problem(c.post("/organisations/999/accounts", json={"email": "a@b.it", "display_name": "A"},
                   headers=ADMIN), 404)  # fmt: skip


@pytest.mark.parametrize(
    ("role", "expected"),
    [("business", 403), ("cooperative", 403), ("municipality", 403), ("admin", 201)],
)
def test_only_admins_manage_organisations(
    any_db_client: TestClient, role: str, expected: int
) -> None:
    c = any_db_client
    _, token = new_member(c, f"Org {role}", role, f"x@{role}.it")
    r = c.post("/organisations", json={"name": f"New by {role}", "role": "business"},
               headers=auth(token))  # fmt: skip
    assert r.status_code == expected, r.text
    r2 = c.get("/organisations", headers=auth(token))
    assert r2.status_code == (200 if role == "admin" else 403)


def test_bootstrap_admin_has_no_tokens_of_its_own(client: TestClient) -> None:
    p = problem(client.post("/me/tokens", json={}, headers=ADMIN), 403)
    assert "bootstrap" in p.detail
