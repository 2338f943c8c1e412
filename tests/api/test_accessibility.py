from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from territorio.api import Settings, create_app
from territorio.api.models import AccessibilityList, FeatureCollection, NearestList

from .conftest import make_bundle
from .support import body, problem


def test_category_table(client: TestClient) -> None:
    t = body(client.get("/accessibility/pharmacy"), AccessibilityList)
    assert t.total == 3
    assert [r.pro_com_t for r in t.items] == ["001001", "001002", "001003"]
    assert t.items[1].name == "Borgo Val Chiara"
    assert t.items[1].ref_time_min == 12.5
    t = body(
        client.get("/accessibility/post_office", params={"municipality": "001003"}),
        AccessibilityList,
    )
    assert [r.pro_com_t for r in t.items] == ["001003"]
    assert t.items[0].nearest is not None and t.items[0].nearest.service_id == "osm:node/7"


def test_category_geojson_flattens_thresholds(client: TestClient) -> None:
    r = client.get("/accessibility/pharmacy", params={"f": "geojson"})
    fc = FeatureCollection.model_validate(r.json())
    props = fc.features[0].properties
    assert props is not None
    assert props["pop_beyond_15"] == 100.0 and props["pop65_beyond_30"] == 0.0


def test_unknown_category_and_municipality(client: TestClient) -> None:
    problem(client.get("/accessibility/casino"), 422)
    problem(client.get("/accessibility/pharmacy", params={"municipality": "001999"}), 404)


def test_bundle_without_access_layer_is_503(tmp_path: Path) -> None:
    path = make_bundle(tmp_path / "noaccess", with_access=False)
    s = Settings(bundle_path=path, database_url=f"sqlite:///{tmp_path / 'db.sqlite'}")
    with TestClient(create_app(s)) as c:
        p = problem(c.get("/accessibility/pharmacy"), 503)
        assert "territorio access" in p.detail
        # the detail still works, with no indicators
        assert c.get("/municipalities/001001").json()["indicators"] == []


def test_nearest_by_travel_time(client: TestClient) -> None:
    r = client.get("/nearest", params={"lon": 7.05, "lat": 45.05, "category": "pharmacy", "k": 2})
    n = body(r, NearestList)
    # F1 is on the origin's junction: 0 min. F2 is 10 grid steps east, each 787 m at
    # 10 m/s = 78.7 s: 787 s = 13.12 min.
    assert [(s.service_id, s.time_min, s.rank) for s in n.items] == [
        ("moh:F1", 0.0, 1),
        ("moh:F2", 13.12, 2),
    ]
    # a 10-minute radius leaves F2 out
    r = client.get(
        "/nearest",
        params={"lon": 7.05, "lat": 45.05, "category": "pharmacy", "max_minutes": 10},
    )
    assert [s.service_id for s in body(r, NearestList).items] == ["moh:F1"]
    assert body(r, NearestList).data == "ok" and body(r, NearestList).note is None


def test_nearest_tells_a_data_gap_from_a_desert(client: TestClient, monkeypatch) -> None:
    origin = {"lon": 7.05, "lat": 45.05}
    # the test bundle has no digital-help desk at all: no data, not "none within an hour"
    n = body(client.get("/nearest", params={**origin, "category": "digital_help"}), NearestList)
    assert (n.data, n.items) == ("no_data", [])
    assert n.note is not None and "gap in the data" in n.note
    gj = client.get("/nearest", params={**origin, "category": "digital_help", "f": "geojson"})
    assert gj.json()["data"] == "no_data" and gj.json()["features"] == []
    # pharmacies exist, but none within 1 minute of 7.25 (the nearest, F2 at 7.15, is 10
    # steps of 78.7 s = 13.12 min away): an empty list that does mean "none in reach"
    far = {"lon": 7.25, "lat": 45.05, "category": "pharmacy", "max_minutes": 1}
    n = body(client.get("/nearest", params=far), NearestList)
    assert (n.data, n.items) == ("ok", [])
    # sources that cover only some municipalities (manifest coverage): partial, said so
    manifest = client.app.state.data.bundle.manifest  # type: ignore[attr-defined]
    monkeypatch.setitem(
        manifest, "service_categories", {"pharmacy": {"count": 3, "coverage": ["001001"]}}
    )
    n = body(client.get("/nearest", params={**origin, "category": "pharmacy"}), NearestList)
    assert n.data == "partial" and n.note is not None and "001001" in n.note
    assert n.items[0].service_id == "moh:F1"


def test_nearest_rejects_points_outside_and_bad_limits(client: TestClient) -> None:
    p = problem(
        client.get("/nearest", params={"lon": 8.0, "lat": 45.05, "category": "pharmacy"}), 422
    )
    assert "outside" in p.detail
    p = problem(
        client.get("/nearest", params={"lon": 7.05, "lat": 45.05, "category": "pharmacy", "k": 21}),
        422,
    )
    assert p.errors is not None and p.errors[0].field == "query.k"
    p = problem(
        client.get(
            "/nearest",
            params={"lon": 7.05, "lat": 45.05, "category": "pharmacy", "max_minutes": 500},
        ),
        422,
    )
    assert p.errors is not None and p.errors[0].field == "query.max_minutes"


def test_isochrones(client: TestClient) -> None:
    r = client.get("/isochrones", params={"lon": 7.05, "lat": 45.05, "minutes": [5, 10]})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/geo+json")
    fc = FeatureCollection.model_validate(r.json())
    assert len(fc.features) == 2
    from shapely.geometry import Point, shape

    by_min = {(f.properties or {})["minutes"]: shape(f.geometry or {}) for f in fc.features}
    assert sorted(by_min) == [5.0, 10.0]
    five = by_min[5.0]
    assert by_min[10.0].contains(five.representative_point())  # nested contours
    # 2 steps east = 2 x 78.7 s = 157 s < 5 min: inside; 7 steps = 551 s > 5 min: outside
    assert five.contains(Point(7.07, 45.05))
    assert not five.contains(Point(7.12, 45.05))


def test_isochrones_bounds(client: TestClient) -> None:
    p = problem(client.get("/isochrones", params={"lon": 7.05, "lat": 45.05, "minutes": 90}), 422)
    assert p.errors is not None and p.errors[0].field == "query.minutes"
    problem(client.get("/isochrones", params={"lon": 9.0, "lat": 45.05}), 422)


def test_isochrones_cached_by_snapped_junction(client: TestClient) -> None:
    params = {"lon": 7.05, "lat": 45.05, "minutes": [5, 10]}
    first = client.get("/isochrones", params=params)
    assert first.headers["x-cache"] == "miss"
    again = client.get("/isochrones", params={**params, "minutes": [10, 5]})  # same set
    assert again.headers["x-cache"] == "hit" and again.content == first.content
    # 0.00001 degree east (0.8 m, 0.6 s of walking at 5 km/h) snaps to the same
    # junction with an off-network leg in the same 2 s step: the same polygons
    near = client.get("/isochrones", params={**params, "lon": 7.05001})
    assert near.headers["x-cache"] == "hit"
    # 0.0001 degree (7.9 m, 5.7 s) is another step: computed afresh
    assert client.get("/isochrones", params={**params, "lon": 7.0501}).headers["x-cache"] == "miss"
    # another minute set is another entry
    assert client.get("/isochrones", params={**params, "minutes": 5}).headers["x-cache"] == "miss"
    info = client.app.state.engine.isochrone_cache_info()  # type: ignore[attr-defined]
    assert (info["hits"], info["misses"], info["size"]) == (2, 3, 3)


def test_isochrone_cache_is_bounded_and_can_be_off(
    make_settings: Callable[..., Settings],
) -> None:
    with TestClient(create_app(make_settings(isochrone_cache_size=2))) as c:
        for lon in (7.05, 7.15, 7.25):  # three junctions, capacity 2: 7.05 is evicted
            c.get("/isochrones", params={"lon": lon, "lat": 45.05, "minutes": 5})
        assert (
            c.get("/isochrones", params={"lon": 7.25, "lat": 45.05, "minutes": 5}).headers[
                "x-cache"
            ]
            == "hit"
        )
        assert (
            c.get("/isochrones", params={"lon": 7.05, "lat": 45.05, "minutes": 5}).headers[
                "x-cache"
            ]
            == "miss"
        )
    with TestClient(create_app(make_settings(isochrone_cache_size=0))) as c:
        for _ in range(2):
            r = c.get("/isochrones", params={"lon": 7.05, "lat": 45.05, "minutes": 5})
            assert r.headers["x-cache"] == "miss"
        fc = FeatureCollection.model_validate(r.json())
        # a 5-minute contour on the 10 m/s grid: at least the 2 x 3 steps of roads
        # around the origin (about 3 x 2.2 km), far less than the 23 x 11 km grid
        area = (fc.features[0].properties or {})["area_km2"]
        assert 5 < area < 60


def test_fresh_isochrones_run_one_at_a_time_and_share_a_key(
    client: TestClient, monkeypatch
) -> None:
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    engine = client.app.state.engine  # type: ignore[attr-defined]
    compute = engine._compute_isochrones
    running, peak, calls = [0], [0], []
    lock = threading.Lock()

    def slow(*args):  # a 0.2 s computation, so that concurrent requests overlap
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
            calls.append(args[:2])
        time.sleep(0.2)
        out = compute(*args)
        with lock:
            running[0] -= 1
        return out

    monkeypatch.setattr(engine, "_compute_isochrones", slow)
    same = {"lon": 7.15, "lat": 45.05, "minutes": 7}
    with ThreadPoolExecutor(6) as pool:
        rs = list(pool.map(lambda _: client.get("/isochrones", params=same), range(6)))
    assert all(r.status_code == 200 for r in rs)
    # six concurrent requests for one key: computed once, the five queued behind it
    # find it in the cache when their turn comes
    assert len(calls) == 1 and len({r.content for r in rs}) == 1
    assert sorted(r.headers["x-cache"] for r in rs) == ["hit"] * 5 + ["miss"]
    others = [{**same, "lon": lon} for lon in (7.05, 7.1, 7.2, 7.25)]
    with ThreadPoolExecutor(4) as pool:
        rs = list(pool.map(lambda p: client.get("/isochrones", params=p), others))
    assert all(r.status_code == 200 and r.headers["x-cache"] == "miss" for r in rs)
    assert len(calls) == 5 and peak[0] == 1  # four keys, computed one after another
