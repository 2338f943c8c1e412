from __future__ import annotations

from fastapi.testclient import TestClient

from territorio.api.models import (
    Collection,
    Collections,
    Conformance,
    FeatureCollection,
    LandingPage,
)

from .support import problem


def test_landing_conformance_collections(client: TestClient) -> None:
    land = LandingPage.model_validate(client.get("/ogc").json())
    rels = {link.rel for link in land.links}
    assert {"self", "conformance", "data", "service-desc"} <= rels
    conf = Conformance.model_validate(client.get("/ogc/conformance").json())
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in conf.conformsTo
    cols = Collections.model_validate(client.get("/ogc/collections").json())
    assert [c.id for c in cols.collections] == ["municipalities", "services", "offers"]
    one = Collection.model_validate(client.get("/ogc/collections/services").json())
    # extent = bounds of the three squares: lon 7.0-7.3, lat 45.0-45.1
    assert one.extent["spatial"]["bbox"] == [[7.0, 45.0, 7.3, 45.1]]
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
