from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from territorio.api.models import FeatureCollection, OfferList, OfferOut

from .conftest import ADMIN_TOKEN
from .support import auth, body, problem
from .test_accounts import new_member

ADMIN = auth(ADMIN_TOKEN)

OFFER: dict[str, Any] = {
    "title": "Doposcuola in valle",
    "description": "Aiuto compiti per i figli dei dipendenti",
    "category": "childcare",
    "provider": "Coop Valli",
    "lon": 7.15,
    "lat": 45.05,
    "municipalities": ["001002", "001001"],
    "contact": "info@coopvalli.it",
    "valid_from": "2026-01-01",
    "valid_to": "2026-12-31",
    "conditions": "Gratuito per i soci",
}


@pytest.fixture()
def actors(any_db_client: TestClient) -> dict[str, Any]:
    """Two cooperatives, a business, a municipality, an admin account; one offer by coop A."""
    c = any_db_client
    tokens = {
        role: new_member(c, name, kind, f"{role}@test.it")[1]
        for role, name, kind in (
            ("coop_a", "Coop A", "cooperative"),
            ("coop_b", "Coop B", "cooperative"),
            ("business", "Impresa", "business"),
            ("municipality", "Comune", "municipality"),
            ("admin_account", "Città Metropolitana", "admin"),
        )
    }
    offer = body(c.post("/offers", json=OFFER, headers=auth(tokens["coop_a"])), OfferOut, 201)
    return {"client": c, "tokens": tokens, "offer": offer}


def test_publish_and_read(actors: dict[str, Any]) -> None:
    c, offer = actors["client"], actors["offer"]
    assert offer.organisation == "Coop A"
    assert offer.pro_com_t == "001002"  # (7.15, 45.05) lies in the square 7.1-7.2
    assert offer.municipalities == ["001001", "001002"]  # sorted, de-duplicated
    assert offer.hidden is False
    got = body(c.get(f"/offers/{offer.id}"), OfferOut)
    assert got == offer
    feat = c.get(f"/offers/{offer.id}", params={"f": "geojson"}).json()
    assert feat["geometry"] == {"type": "Point", "coordinates": [7.15, 45.05]}


def test_search_filters(actors: dict[str, Any]) -> None:
    c, tokens = actors["client"], actors["tokens"]
    body(c.post("/offers", headers=auth(tokens["coop_b"]), json={
        **OFFER, "title": "Trasporto anziani 100%", "category": "elderly_care",
        "description": "Accompagnamento a visite mediche",
        "municipalities": ["001003"], "lon": 7.25, "valid_from": None, "valid_to": None,
    }), OfferOut, 201)  # fmt: skip

    def ids(**params: Any) -> list[str]:
        page = body(c.get("/offers", params=params), OfferList)
        assert page.total == len(page.items)
        return [o.title for o in page.items]

    assert ids() == ["Doposcuola in valle", "Trasporto anziani 100%"]
    assert ids(category="elderly_care") == ["Trasporto anziani 100%"]
    assert ids(municipality="001001") == ["Doposcuola in valle"]
    assert ids(q="DOPOSCUOLA") == ["Doposcuola in valle"]
    assert ids(q="figli") == ["Doposcuola in valle"]  # in the description
    assert ids(q="100%") == ["Trasporto anziani 100%"]  # % is literal, not a wildcard
    assert ids(active_on="2027-03-01") == ["Trasporto anziani 100%"]  # first one expired
    assert ids(bbox="7.2,45.0,7.3,45.1") == ["Trasporto anziani 100%"]
    problem(c.get("/offers", params={"municipality": "001999"}), 404)
    problem(c.get("/offers", params={"category": "casino"}), 422)
    fc = FeatureCollection.model_validate(c.get("/offers", params={"f": "geojson"}).json())
    assert fc.numberMatched == 2


def test_search_by_travel_time_from_workplace(actors: dict[str, Any]) -> None:
    c = actors["client"]
    # Workplace on the junction (7.05, 45.05); the offer at (7.15, 45.05) is 10 steps of
    # 78.7 s east = 787 s = 13.12 min.
    params = {"from_lon": 7.05, "from_lat": 45.05, "max_minutes": 20}
    page = body(c.get("/offers", params=params), OfferList)
    assert [(o.title, o.travel_time_min) for o in page.items] == [("Doposcuola in valle", 13.12)]
    page = body(c.get("/offers", params={**params, "max_minutes": 10}), OfferList)
    assert page.items == []
    problem(c.get("/offers", params={"from_lon": 7.05}), 422)
    problem(c.get("/offers", params={"from_lon": 9.0, "from_lat": 45.05}), 422)


def test_travel_time_ranking_pages_and_box(actors: dict[str, Any]) -> None:
    c, tok = actors["client"], auth(actors["tokens"]["coop_a"])
    for title, lon in (
        ("Ccc", 7.11),
        ("Aa1", 7.07),
        ("Bbb", 7.09),
        ("Aa2", 7.07),
        ("edge", 7.1203),
    ):
        body(
            c.post("/offers", json={**OFFER, "title": title, "lon": lon}, headers=tok),
            OfferOut,
            201,
        )
    params: dict[str, Any] = {"from_lon": 7.05, "from_lat": 45.05, "max_minutes": 20}
    page = body(c.get("/offers", params={**params, "limit": 2, "offset": 1}), OfferList)
    # steps of 78.7 s east of the workplace: Aa1 and Aa2 2 steps (157 s = 2.62 min, the
    # tie kept in publication order), Bbb 4 (5.25), Ccc 6 (7.87), edge 7 plus 23.6 m on
    # foot (0.0003 deg at 5 km/h = 17 s: 568 s = 9.47 min), the first offer 10 (13.12)
    assert page.total == 6
    assert [(o.title, o.travel_time_min) for o in page.items] == [("Aa2", 2.62), ("Bbb", 5.25)]
    page = body(c.get("/offers", params={**params, "max_minutes": 10}), OfferList)
    assert [o.title for o in page.items] == ["Aa1", "Aa2", "Bbb", "Ccc", "edge"]
    # 'edge' lies east of every junction reached within 10 minutes (the farthest is
    # 7.12; 7.13 takes 8 steps = 630 s), yet it snaps to a reached one: still listed
    assert page.items[-1].travel_time_min == pytest.approx(9.47, abs=0.02)
    assert body(c.get("/offers", params={**params, "offset": 6}), OfferList).items == []


def test_travel_time_rows_equal_the_plain_rows_and_follow_moves(actors: dict[str, Any]) -> None:
    c, offer = actors["client"], actors["offer"]
    tok = auth(actors["tokens"]["coop_a"])
    params = {"from_lon": 7.05, "from_lat": 45.05, "max_minutes": 20}
    (timed,) = body(c.get("/offers", params=params), OfferList).items
    # the same offer, every field, as the plain search gives it (served comuni included)
    assert timed.model_dump(exclude={"travel_time_min"}) == offer.model_dump(
        exclude={"travel_time_min"}
    )
    assert timed.municipalities == ["001001", "001002"] and timed.travel_time_min == 13.12
    # moved 2 steps closer (7.13 -> 8 steps of 78.7 s = 630 s = 10.49 min): snapped again,
    # never the remembered junction of its old place
    body(c.patch(f"/offers/{offer.id}", json={"lon": 7.13}, headers=tok), OfferOut)
    (moved,) = body(c.get("/offers", params=params), OfferList).items
    assert moved.travel_time_min == 10.49


def test_validation_of_new_offers(actors: dict[str, Any]) -> None:
    c, tok = actors["client"], auth(actors["tokens"]["coop_a"])
    p = problem(c.post("/offers", json={**OFFER, "lon": 8.5}, headers=tok), 422)
    assert "outside" in p.detail
    p = problem(c.post("/offers", json={**OFFER, "municipalities": ["001999"]}, headers=tok), 422)
    assert p.errors is not None and p.errors[0].field == "body.municipalities"
    p = problem(c.post("/offers", json={**OFFER, "category": "casino"}, headers=tok), 422)
    assert p.errors is not None and p.errors[0].field == "body.category"
    p = problem(
        c.post("/offers", json={**OFFER, "valid_from": "2026-02-01", "valid_to": "2026-01-01"},
               headers=tok), 422)  # fmt: skip
    assert "valid_to" in p.detail
    p = problem(c.post("/offers", json={**OFFER, "extra": 1}, headers=tok), 422)
    assert p.errors is not None and p.errors[0].field == "body.extra"
    problem(c.post("/offers", json=OFFER), 401)
    problem(c.post("/offers", json=OFFER, headers=ADMIN), 403)  # bootstrap: no organisation


# Who may do what to coop A's offer: anonymous, the owner, another cooperative, a
# business, a municipality, an admin account and the bootstrap admin token.
MATRIX = [
    # actor,          edit, delete, hide
    ("anonymous",     401,  401,    401),
    ("coop_a",        200,  204,    403),
    ("coop_b",        403,  403,    403),
    ("business",      403,  403,    403),
    ("municipality",  403,  403,    403),
    ("admin_account", 200,  204,    200),
    ("bootstrap",     200,  204,    200),
]  # fmt: skip


def _headers(actors: dict[str, Any], actor: str) -> dict[str, Any]:
    if actor == "anonymous":
        return {}
    if actor == "bootstrap":
        return ADMIN
    return auth(actors["tokens"][actor])


@pytest.mark.parametrize(("actor", "edit", "delete", "hide"), MATRIX)
def test_authorisation_matrix(
    actors: dict[str, Any], actor: str, edit: int, delete: int, hide: int
) -> None:
    c, oid = actors["client"], actors["offer"].id
    h = _headers(actors, actor)
    r = c.patch(f"/offers/{oid}", json={"title": "Nuovo titolo"}, headers=h)
    assert r.status_code == edit, r.text
    if edit == 200:
        assert body(r, OfferOut).title == "Nuovo titolo"
    r = c.post(f"/offers/{oid}/hide", headers=h)
    assert r.status_code == hide, r.text
    if hide == 200:
        assert body(r, OfferOut).hidden is True
        r = c.post(f"/offers/{oid}/unhide", headers=h)
        assert body(r, OfferOut).hidden is False
    r = c.delete(f"/offers/{oid}", headers=h)
    assert r.status_code == delete, r.text
    after = c.get(f"/offers/{oid}")
    assert after.status_code == (404 if delete == 204 else 200)


def test_hidden_offers(actors: dict[str, Any]) -> None:
    c, tokens, oid = actors["client"], actors["tokens"], actors["offer"].id
    body(c.post(f"/offers/{oid}/hide", headers=ADMIN), OfferOut)
    # hidden from the public and from other organisations ...
    problem(c.get(f"/offers/{oid}"), 404)
    problem(c.get(f"/offers/{oid}", headers=auth(tokens["coop_b"])), 404)
    assert body(c.get("/offers"), OfferList).total == 0
    assert c.get(f"/ogc/collections/offers/items/{oid}").status_code == 404
    # ... and from editing by others (404, not 403: its existence is not revealed)
    problem(c.patch(f"/offers/{oid}", json={"title": "abc"}, headers=auth(tokens["coop_b"])), 404)
    # visible to the owner and the admins
    assert body(c.get(f"/offers/{oid}", headers=auth(tokens["coop_a"])), OfferOut).hidden
    assert body(c.get("/offers", headers=auth(tokens["coop_a"])), OfferList).total == 1
    page = body(c.get("/offers", params={"include_hidden": True}, headers=ADMIN), OfferList)
    assert page.total == 1
    # no token at all: 401 (authenticate), as the OpenAPI's optional bearer says
    problem(c.get("/offers", params={"include_hidden": True}), 401)
    problem(c.get("/offers", params={"include_hidden": True}, headers=auth(tokens["coop_a"])), 403)


def test_partial_update_keeps_other_fields(actors: dict[str, Any]) -> None:
    c, tok, offer = actors["client"], auth(actors["tokens"]["coop_a"]), actors["offer"]
    r = c.patch(f"/offers/{offer.id}", json={"lon": 7.25, "municipalities": ["001003"]},
                headers=tok)  # fmt: skip
    new = body(r, OfferOut)
    assert new.pro_com_t == "001003" and new.municipalities == ["001003"]
    assert new.title == offer.title and new.contact == offer.contact
    p = problem(c.patch(f"/offers/{offer.id}", json={"title": None}, headers=tok), 422)
    assert p.errors is not None and p.errors[0].field == "body.title"
    problem(c.patch(f"/offers/{offer.id}", json={"valid_to": "2025-01-01"}, headers=tok), 422)
    problem(c.patch("/offers/999999", json={"title": "abc"}, headers=tok), 404)
