from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from territorio.api import Settings, create_app
from territorio.api.models import (
    Collection,
    Collections,
    Conformance,
    FeatureCollection,
    LandingPage,
)

from .conftest import make_plan
from .support import auth, problem
from .test_accounts import new_member


def test_landing_conformance_collections(client: TestClient) -> None:
    land = LandingPage.model_validate(client.get("/ogc").json())
    rels = {link.rel for link in land.links}
    assert {"self", "conformance", "data", "service-desc"} <= rels
    conf = Conformance.model_validate(client.get("/ogc/conformance").json())
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in conf.conformsTo
    cols = Collections.model_validate(client.get("/ogc/collections").json())
    assert [c.id for c in cols.collections] == ["municipalities", "services", "offers"]
    problem(client.get("/ogc/collections/roads"), 422)


def test_items_paging_with_next_links(client: TestClient) -> None:
    r = client.get("/ogc/collections/services/items", params={"limit": 3})
    assert r.headers["content-type"].startswith("application/geo+json")
    fc = FeatureCollection.model_validate(r.json())
    assert (fc.numberMatched, fc.numberReturned) == (4, 3)
    assert fc.links is not None
    nxt = next(link.href for link in fc.links if link.rel == "next")
    fc2 = FeatureCollection.model_validate(client.get(nxt).json())
    assert [f.id for f in fc2.features] == ["gisco:H1"]
    assert not [link for link in fc2.links or [] if link.rel == "next"]


def test_items_bbox_and_single_feature(client: TestClient) -> None:
    fc = FeatureCollection.model_validate(
        client.get(
            "/ogc/collections/municipalities/items", params={"bbox": "7.21,45.01,7.29,45.09"}
        ).json()
    )
    assert [f.id for f in fc.features] == ["001003"]
    feat = client.get("/ogc/collections/municipalities/items/001001").json()
    assert feat["properties"]["name"] == "Alfa"
    assert feat["geometry"]["type"] == "Polygon"
    feat = client.get("/ogc/collections/services/items/osm:node/7").json()
    assert feat["geometry"]["coordinates"] == [7.25, 45.05]
    problem(client.get("/ogc/collections/municipalities/items/001999"), 404)
    problem(client.get("/ogc/collections/offers/items/12"), 404)
    empty = client.get("/ogc/collections/offers/items").json()
    assert empty["features"] == [] and empty["numberMatched"] == 0


def _offer(client: TestClient, token: str, **kw: Any) -> int:
    body = {"title": "Offerta", "category": "childcare", "provider": "Coop", **kw}
    r = client.post("/offers", json=body, headers=auth(token))
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def test_extents_are_computed_from_each_collections_features(client: TestClient) -> None:
    def bbox(cid: str) -> Any:
        col = Collection.model_validate(client.get(f"/ogc/collections/{cid}").json())
        return col.extent.get("spatial", {}).get("bbox")

    # the three squares: lon 7.0-7.3, lat 45.0-45.1
    assert bbox("municipalities") == [[7.0, 45.0, 7.3, 45.1]]
    # the 4 services: lon 7.05 (F1, H1) to 7.25 (node/7), lat 45.05 (F1, F2, node/7) to 45.08 (H1)
    assert bbox("services") == [[7.05, 45.05, 7.25, 45.08]]
    # no offer yet: no extent rather than an invented one
    assert bbox("offers") is None
    token = new_member(client, "Coop", "cooperative", "c@coop.it")[1]
    _offer(client, token, lon=7.15, lat=45.02)
    _offer(client, token, lon=7.22, lat=45.07)
    assert bbox("offers") == [[7.15, 45.02, 7.22, 45.07]]
    listed = Collections.model_validate(client.get("/ogc/collections").json())
    assert listed.collections[2].extent["spatial"]["bbox"] == [[7.15, 45.02, 7.22, 45.07]]


def test_limit_above_the_maximum_is_clamped_and_declared(
    make_settings: Callable[..., Settings],
) -> None:
    with TestClient(create_app(make_settings(max_page_size=3))) as client:
        r = client.get("/ogc/collections/services/items", params={"limit": 2000})
        assert r.status_code == 200, r.text  # was a 422: GDAL's PAGE_SIZE=2000 read nothing
        fc = FeatureCollection.model_validate(r.json())
        assert (fc.numberMatched, fc.numberReturned) == (4, 3)
        nxt = next(link.href for link in fc.links or [] if link.rel == "next")
        assert "limit=3" in nxt and "offset=3" in nxt
        rest = FeatureCollection.model_validate(client.get(nxt).json())
        assert [f.id for f in rest.features] == ["gisco:H1"]
        # the JSON lists say the limit they used
        page = client.get("/municipalities", params={"limit": 5000}).json()
        assert (page["limit"], len(page["items"])) == (3, 3)
        assert client.get("/services", params={"limit": 10**6}).json()["limit"] == 3
        spec = client.get("/openapi.json").json()
    for path in (
        "/ogc/collections/municipalities/items",
        "/ogc/collections/services/items",
        "/ogc/collections/offers/items",
        "/municipalities",
        "/services",
        "/offers",
    ):
        (limit,) = [p for p in spec["paths"][path]["get"]["parameters"] if p["name"] == "limit"]
        assert limit["schema"]["maximum"] == 3, path


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/ogc/collections/services/items", {"datetime": "2026-01-01T00:00:00Z"}, "datetime"),
        ("/ogc/collections/services/items", {"name": "Farmacia Alfa"}, "name"),
        ("/ogc/collections/offers/items", {"q": "doposcuola"}, "q"),
        ("/ogc/collections/municipalities/items", {"category": "pharmacy"}, "category"),
    ],
)
def test_unknown_query_parameters_are_a_400(
    client: TestClient, path: str, params: dict[str, str], field: str
) -> None:
    p = problem(client.get(path, params=params), 400)
    assert p.errors is not None and p.errors[0].field == f"query.{field}"
    assert "queryables" in p.detail
    assert p.type.endswith("/problems/bad-request")


def test_queryables_describe_the_filters_items_apply(client: TestClient) -> None:
    r = client.get("/ogc/collections/services/queryables")
    assert r.headers["content-type"].startswith("application/schema+json")
    q = r.json()
    assert q["type"] == "object" and q["additionalProperties"] is False
    assert set(q["properties"]) == {"category", "pro_com_t"}
    assert "pharmacy" in q["properties"]["category"]["enum"]
    links = client.get("/ogc/collections/services").json()["links"]
    assert any(
        link["rel"] == "http://www.opengis.net/def/rel/ogc/1.0/queryables"
        and link["href"].endswith("/ogc/collections/services/queryables")
        for link in links
    )
    assert set(client.get("/ogc/collections/municipalities/queryables").json()["properties"]) == {
        "pro_com_t"
    }  # no planning results in this bundle: no snai_class

    def ids(cid: str, **params: Any) -> list[Any]:
        r = client.get(f"/ogc/collections/{cid}/items", params=params)
        assert r.status_code == 200, r.text
        fc = r.json()
        assert fc["numberMatched"] == len(fc["features"])
        return [f["id"] for f in fc["features"]]

    # services (conftest.SERVICES): 2 pharmacies, in 001001 the pharmacy F1 and the hospital H1
    assert ids("services", category="pharmacy") == ["moh:F1", "moh:F2"]
    assert ids("services", category=["pharmacy", "hospital"]) == ["moh:F1", "moh:F2", "gisco:H1"]
    assert ids("services", pro_com_t="001001") == ["moh:F1", "gisco:H1"]
    assert ids("services", category="pharmacy", pro_com_t="001002") == ["moh:F2"]
    assert ids("services", pro_com_t="001999") == []  # a well-formed code with no service
    assert ids("municipalities", pro_com_t=["001003", "001001"]) == ["001001", "001003"]
    problem(client.get("/ogc/collections/services/items", params={"category": "spa"}), 422)
    problem(client.get("/ogc/collections/services/items", params={"pro_com_t": "12"}), 422)

    token = new_member(client, "Coop", "cooperative", "c@coop.it")[1]
    a = _offer(client, token, lon=7.05, lat=45.05, category="childcare")  # in 001001
    b = _offer(client, token, lon=7.25, lat=45.05, category="transport", municipalities=["001001"])
    c = _offer(client, token, lon=7.15, lat=45.05, category="transport")  # in 001002
    assert ids("offers", category="transport") == [b, c]
    assert ids("offers", pro_com_t="001001") == [a, b]  # located in it, or serving it
    assert ids("offers", category="transport", pro_com_t="001002") == [c]
    problem(client.get("/ogc/collections/offers/items", params={"category": "pharmacy"}), 422)


def test_snai_class_is_queryable_with_planning_results(
    make_settings: Callable[..., Settings], tmp_path: Any, bundle_path: Any
) -> None:
    plan = make_plan(tmp_path / "plan", bundle_path)
    with TestClient(create_app(make_settings(plan_path=plan))) as c:
        q = c.get("/ogc/collections/municipalities/queryables").json()
        assert q["properties"]["snai_class"]["enum"] == ["A", "B", "C", "D", "E", "F"]
        r = c.get("/ogc/collections/municipalities/items", params={"snai_class": ["E", "F"]})
        assert [f["id"] for f in r.json()["features"]] == ["001002", "001003"]  # make_plan
