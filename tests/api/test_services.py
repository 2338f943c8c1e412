from __future__ import annotations

from fastapi.testclient import TestClient

from territorio.api.models import FeatureCollection, ServiceList, ServiceOut

from .support import body, problem


def test_bbox_filter(client: TestClient) -> None:
    # box over comune 001001 only (lon 7.0-7.1): F1 (7.05, 45.05) and H1 (7.05, 45.08)
    page = body(client.get("/services", params={"bbox": "7.0,45.0,7.1,45.1"}), ServiceList)
    assert {s.service_id for s in page.items} == {"moh:F1", "gisco:H1"}
    # a box around H1 only
    page = body(client.get("/services", params={"bbox": "7.04,45.07,7.06,45.09"}), ServiceList)
    assert [s.service_id for s in page.items] == ["gisco:H1"]
    assert page.items[0].attributes == {"emergency": "yes"}
    assert page.items[0].capacity == 120.0


def test_category_and_municipality_filters(client: TestClient) -> None:
    page = body(client.get("/services", params={"category": "pharmacy"}), ServiceList)
    assert [s.service_id for s in page.items] == ["moh:F1", "moh:F2"]
    page = body(
        client.get(
            "/services", params={"category": ["pharmacy", "hospital"], "municipality": "001001"}
        ),
        ServiceList,
    )
    assert [s.service_id for s in page.items] == ["moh:F1", "gisco:H1"]


def test_paging(client: TestClient) -> None:
    page = body(client.get("/services", params={"limit": 3, "offset": 2}), ServiceList)
    assert page.total == 4
    assert [s.service_id for s in page.items] == ["osm:node/7", "gisco:H1"]
    assert {link.rel for link in page.links} == {"self", "prev"}


def test_geojson_and_detail(client: TestClient) -> None:
    r = client.get("/services", params={"f": "geojson", "category": "post_office"})
    fc = FeatureCollection.model_validate(r.json())
    assert fc.features[0].geometry == {"type": "Point", "coordinates": [7.25, 45.05]}
    s = body(client.get("/services/osm:node/7"), ServiceOut)
    assert s.name == "Poste Città Nuova" and s.pro_com_t == "001003"


def test_errors(client: TestClient) -> None:
    p = problem(client.get("/services", params={"category": "casino"}), 422)
    assert "casino" in p.detail and "pharmacy" in p.detail
    p = problem(client.get("/services", params={"bbox": "7,45,7.1"}), 422)
    assert p.errors is not None and p.errors[0].field == "query.bbox"
    p = problem(client.get("/services", params={"bbox": "7.2,45,7.1,45.1"}), 422)
    assert "minimum" in p.detail
    problem(client.get("/services", params={"municipality": "001999"}), 404)
    problem(client.get("/services/osm:node/404"), 404)


def test_response_rows_built_at_start_up_and_only_once(client: TestClient) -> None:
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    data = client.app.state.data  # type: ignore[attr-defined]
    engine = client.app.state.engine  # type: ignore[attr-defined]
    # the lifespan built the service rows, the summaries and the snaps of every category
    assert len(data.extras["service_dicts"]) == len(data.services)
    assert len(data.extras["summaries"]) == len(data.municipalities)
    cats = data.services["category"].unique()
    assert {f"targets:services:{c}" for c in cats} <= set(engine._snaps)
    calls = []
    lock = threading.Lock()

    def build():
        with lock:
            calls.append(1)
        time.sleep(0.1)  # long enough for the eight callers to overlap
        return ["built"]

    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda _: data.derived("test-rows", build), range(8)))
    assert len(calls) == 1 and all(g is got[0] for g in got)
