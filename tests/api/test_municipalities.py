from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from territorio.api.models import FeatureCollection, MunicipalityDetail, MunicipalityList

from .support import body, problem


def test_list_all_in_istat_order(client: TestClient) -> None:
    page = body(client.get("/municipalities"), MunicipalityList)
    assert page.total == 3
    assert [m.pro_com_t for m in page.items] == ["001001", "001002", "001003"]
    assert page.items[0].pop_total == 1000
    assert page.items[0].ref_lon == 7.05  # centre of the square 7.0-7.1


def test_name_search_ignores_case_and_accents(client: TestClient) -> None:
    page = body(client.get("/municipalities", params={"q": "CITTA"}), MunicipalityList)
    assert [m.name for m in page.items] == ["Città Nuova"]
    page = body(client.get("/municipalities", params={"q": "val chiara"}), MunicipalityList)
    assert [m.pro_com_t for m in page.items] == ["001002"]


def test_paging_links(client: TestClient) -> None:
    page = body(client.get("/municipalities", params={"limit": 2}), MunicipalityList)
    assert page.total == 3 and len(page.items) == 2
    nxt = next(link for link in page.links if link.rel == "next")
    page2 = body(client.get(nxt.href), MunicipalityList)
    assert [m.pro_com_t for m in page2.items] == ["001003"]
    assert not [link for link in page2.links if link.rel == "next"]


def test_geojson_by_param_and_accept(client: TestClient) -> None:
    r = client.get("/municipalities", params={"f": "geojson"})
    assert r.headers["content-type"].startswith("application/geo+json")
    fc = FeatureCollection.model_validate(r.json())
    assert fc.numberMatched == 3
    assert fc.features[0].geometry is not None
    assert fc.features[0].geometry["type"] == "Polygon"
    r = client.get("/municipalities/001002", headers={"Accept": "application/geo+json"})
    assert r.headers["content-type"].startswith("application/geo+json")
    feat = r.json()
    assert feat["type"] == "Feature" and feat["id"] == "001002"
    MunicipalityDetail.model_validate(feat["properties"])


def test_detail_has_indicators_and_nearest_services(client: TestClient) -> None:
    d = body(client.get("/municipalities/001001"), MunicipalityDetail)
    assert d.name == "Alfa"
    # pop_0_14 = 1000 // 10 = 100 (conftest)
    assert d.attributes["pop_0_14"] == 100
    cats = {i.category: i for i in d.indicators}
    assert set(cats) == {"pharmacy", "post_office"}
    ph = cats["pharmacy"]
    assert ph.label_it == "Farmacia"
    assert ph.ref_time_min == 4.0
    assert ph.nearest is not None
    assert ph.nearest.service_id == "moh:F1"
    assert ph.nearest.name == "Farmacia Alfa"
    assert (ph.nearest.lon, ph.nearest.lat) == (7.05, 45.05)
    assert ph.nearest.time_min == 4.0
    assert ph.e2sfca is None  # NaN in the layer -> null
    assert [t.minutes for t in ph.thresholds] == [15, 30, 45, 60]
    assert ph.thresholds[0].pop65_beyond == 40.0
    assert ph.thresholds[0].share_beyond == 0.1
    assert d.planning is None  # no planning results in the test bundle


def test_unknown_istat_code_is_404_and_malformed_is_422(client: TestClient) -> None:
    p = problem(client.get("/municipalities/001999"), 404)
    assert "001999" in p.detail
    p = problem(client.get("/municipalities/12"), 422)
    assert p.errors is not None and p.errors[0].field == "path.pro_com_t"


def test_limits_and_ranges(client: TestClient) -> None:
    # above the maximum page size (1000 by default) limit is clamped, not an error
    assert client.get("/municipalities", params={"limit": 5000}).json()["limit"] == 1000
    p = problem(client.get("/municipalities", params={"limit": 0}), 422)
    assert p.errors is not None and p.errors[0].field == "query.limit"
    p = problem(client.get("/municipalities", params={"score_min": 60, "score_max": 10}), 422)
    assert p.errors is not None and p.errors[0].field == "query.score_min"
    p = problem(client.get("/municipalities", params={"snai_class": "Z"}), 422)
    assert p.errors is not None and p.errors[0].field.startswith("query.snai_class")


def test_planning_filters_need_planning_results(client: TestClient) -> None:
    p = problem(client.get("/municipalities", params={"snai_class": "E"}), 503)
    assert "territorio plan" in p.detail


@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("query", "code", "name"),
    [
        ("Sant’Antonino di Susa", "001256", "Sant'Antonino di Susa"),
        ("Ceresole  Reale", "001073", "Ceresole Reale"),
        ("AGLIE'", "001001", "Agliè"),
        ("Pont Canavese", "001199", "Pont-Canavese"),
        ("None", "001168", "None"),
    ],
)
def test_name_search_on_the_real_comuni(
    real_client: TestClient, query: str, code: str, name: str
) -> None:
    page = real_client.get("/municipalities", params={"q": query}).json()
    assert [(m["pro_com_t"], m["name"]) for m in page["items"]] == [(code, name)]
    # the WPT search page finds the same comune
    r = real_client.get("/wpt/cerca", params={"q": query}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/wpt/comuni/{code}"


@pytest.mark.shared_data
def test_blank_name_search_on_the_real_comuni(real_client: TestClient) -> None:
    # before: q=' ' returned the 98 comuni whose name holds a space
    assert real_client.get("/municipalities", params={"q": " "}).json()["total"] == 312
    assert real_client.get("/municipalities", params={"q": "'"}).json()["total"] == 312
    assert real_client.get("/wpt/cerca", params={"q": " "}).status_code == 404
