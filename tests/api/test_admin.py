"""Administrator controls: accounts, any token, soft deletion of an organisation, audit trail."""

from __future__ import annotations

from fastapi.testclient import TestClient

from territorio.api.models import AccountOut, AuditEventOut, OfferList, OrganisationOut, TokenOut

from .conftest import ADMIN_TOKEN
from .support import auth, body, problem
from .test_accounts import new_member
from .test_offers import OFFER

ADMIN = auth(ADMIN_TOKEN)


def test_admin_lists_deactivates_revokes_and_deletes(any_db_client: TestClient) -> None:
    c = any_db_client
    org_a, coop = new_member(c, "Coop A", "cooperative", "a@coop.it")
    org_b, other = new_member(c, "Coop B", "cooperative", "b@coop.it")
    offer = c.post("/offers", json=OFFER, headers=auth(coop)).json()
    c.post("/offers", json={**OFFER, "title": "Seconda"}, headers=auth(coop))
    kept = c.post("/offers", json={**OFFER, "title": "Di B"}, headers=auth(other)).json()

    # only administrators
    for method, path in (("GET", "/accounts"), ("PATCH", "/accounts/1"), ("GET", "/audit"),
                         ("DELETE", f"/organisations/{org_b}"), ("DELETE", "/tokens/1"),
                         ("GET", "/accounts/1/tokens")):  # fmt: skip
        r = c.request(method, path, headers=auth(coop), json={"active": False})
        problem(r, 403)
        problem(c.request(method, path, json={"active": False}), 401)

    accounts = c.get("/accounts", headers=ADMIN).json()
    assert [a["email"] for a in accounts] == ["a@coop.it", "b@coop.it"]
    a_id = accounts[0]["id"]
    only_b = c.get("/accounts", params={"organisation_id": org_b}, headers=ADMIN).json()
    assert [a["email"] for a in only_b] == ["b@coop.it"]

    # deactivate: its token stops working at once; reactivate: works again
    out = body(c.patch(f"/accounts/{a_id}", json={"active": False}, headers=ADMIN), AccountOut)
    assert out.active is False
    assert "deactivated" in (problem(c.get("/me", headers=auth(coop)), 401).detail or "")
    inactive = c.get("/accounts", params={"active": False}, headers=ADMIN).json()
    assert [a["id"] for a in inactive] == [a_id]
    c.patch(f"/accounts/{a_id}", json={"active": True}, headers=ADMIN)
    assert c.get("/me", headers=auth(coop)).status_code == 200
    problem(c.patch("/accounts/99999", json={"active": False}, headers=ADMIN), 404)

    # revoke any account's token
    listed_tokens = c.get(f"/accounts/{a_id}/tokens", headers=ADMIN).json()
    toks = [TokenOut.model_validate(t) for t in listed_tokens]
    assert len(toks) == 1 and toks[0].revoked_at is None
    assert c.delete(f"/tokens/{toks[0].id}", headers=ADMIN).status_code == 204
    assert "revoked" in (problem(c.get("/me", headers=auth(coop)), 401).detail or "")
    assert c.delete(f"/tokens/{toks[0].id}", headers=ADMIN).status_code == 204  # idempotent
    problem(c.delete("/tokens/99999", headers=ADMIN), 404)

    # delete organisation B with its offer (soft): tokens stop, offers disappear everywhere
    assert c.delete(f"/organisations/{org_b}", headers=ADMIN).status_code == 204
    assert "deleted" in (problem(c.get("/me", headers=auth(other)), 401).detail or "")
    listed = body(c.get("/offers"), OfferList)
    assert kept["id"] not in [o.id for o in listed.items] and listed.total == 2
    problem(c.get(f"/offers/{kept['id']}"), 404)
    admin_view = body(c.get("/offers", params={"include_hidden": True}, headers=ADMIN), OfferList)
    assert kept["id"] not in [o.id for o in admin_view.items]
    assert c.get("/ogc/collections/offers/items").json()["numberMatched"] == 2
    orgs = [
        OrganisationOut.model_validate(o) for o in c.get("/organisations", headers=ADMIN).json()
    ]
    assert [o.id for o in orgs] == [org_a]
    every = c.get("/organisations", params={"include_deleted": True}, headers=ADMIN).json()
    assert [o["deleted_at"] is not None for o in every] == [False, True]
    problem(c.delete(f"/organisations/{org_b}", headers=ADMIN), 404)  # already deleted
    assert c.get(f"/offers/{offer['id']}").status_code == 200  # A's offers untouched

    # the audit trail: who, what, when, newest first
    trail = [AuditEventOut.model_validate(e) for e in c.get("/audit", headers=ADMIN).json()]
    assert [(e.action, e.target_type) for e in trail] == [
        ("organisation.delete", "organisation"),
        ("token.revoke", "token"),
        ("account.reactivate", "account"),
        ("account.deactivate", "account"),
    ]
    assert {e.actor for e in trail} == {"bootstrap-admin"}
    assert trail[0].target_id == org_b and trail[0].detail["offers_deleted"] == [kept["id"]]
    assert trail[1].detail["account_id"] == a_id
    assert all(e.at.tzinfo is not None for e in trail)


def test_an_admin_account_is_the_actor_and_cannot_lock_itself_out(
    any_db_client: TestClient,
) -> None:
    c = any_db_client
    admin_org, admin_token = new_member(c, "Città Metropolitana", "admin", "it@cm.to.it")
    me = c.get("/me", headers=auth(admin_token)).json()["account"]
    problem(c.patch(f"/accounts/{me['id']}", json={"active": False}, headers=auth(admin_token)),
            409)  # fmt: skip
    problem(c.delete(f"/organisations/{admin_org}", headers=auth(admin_token)), 409)
    org, _ = new_member(c, "Impresa", "business", "hr@impresa.it")
    assert c.delete(f"/organisations/{org}", headers=auth(admin_token)).status_code == 204
    event = c.get("/audit", headers=ADMIN).json()[0]
    assert event["actor"] == "it@cm.to.it" and event["actor_account_id"] == me["id"]


def test_admin_operations_are_in_the_openapi_with_bearer_security(
    any_db_client: TestClient,
) -> None:
    spec = any_db_client.get("/openapi.json").json()
    operations = [
        ("/accounts", "get"),
        ("/accounts/{account_id}", "patch"),
        ("/accounts/{account_id}/tokens", "get"),
        ("/tokens/{token_id}", "delete"),
        ("/organisations/{organisation_id}", "delete"),
        ("/audit", "get"),
    ]
    for path, method in operations:
        op = spec["paths"][path][method]
        assert op["security"] == [{"HTTPBearer": []}], (path, method)
        assert {"401", "403"} <= set(op["responses"]), (path, method)


def test_migration_0002_upgrades_a_populated_0001_database(db_url: str) -> None:
    import sqlalchemy as sa

    from territorio.db.migrations import upgrade

    upgrade(db_url, revision="0001")
    engine = sa.create_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO organisations (name, role, created_at) "
                    "VALUES ('Coop', 'cooperative', CURRENT_TIMESTAMP)"
                )
            )
        upgrade(db_url)
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT name, deleted_at FROM organisations")).all()
            assert [tuple(r) for r in rows] == [("Coop", None)]
            assert conn.execute(sa.text("SELECT count(*) FROM audit_events")).scalar() == 0
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == (
                "0002"
            )
    finally:
        engine.dispose()
