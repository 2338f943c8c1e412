from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from territorio.api import Settings, create_app
from territorio.api.models import ClusterList, ClusterOut, MunicipalityDetail, MunicipalityList

from .conftest import make_plan
from .support import body, problem


@pytest.fixture()
def plan_client(make_settings: Callable[..., Settings], tmp_path: Path) -> Iterator[TestClient]:
    """Planning results where 001002 and 001003 form cluster C01 (see conftest.make_plan)."""
    with TestClient(create_app(make_settings(plan_path=make_plan(tmp_path / "plan")))) as c:
        yield c


def test_filters_by_class_and_score(plan_client: TestClient) -> None:
    def codes(**params: object) -> list[str]:
        page = body(plan_client.get("/municipalities", params=params), MunicipalityList)
        return [m.pro_com_t for m in page.items]

    assert codes(snai_class=["E", "F"]) == ["001002", "001003"]
    assert codes(score_min=60, score_max=70) == ["001002"]  # 61.0 only
    d = body(plan_client.get("/municipalities/001003"), MunicipalityDetail)
    assert (d.snai_class, d.marginality_score, d.cluster_id) == ("F", 80.25, "C01")
    assert d.planning is not None and d.planning["rank"] == 1


def test_marginal_and_clusters(plan_client: TestClient) -> None:
    page = body(plan_client.get("/planning/marginal", params={"min_score": 50}), MunicipalityList)
    assert [m.pro_com_t for m in page.items] == ["001003", "001002"]  # by decreasing score
    cl = body(plan_client.get("/planning/clusters"), ClusterList)
    assert [(c.cluster_id, c.members) for c in cl.items] == [("C01", ["001002", "001003"])]
    one = body(plan_client.get("/planning/clusters/C01"), ClusterOut)
    assert one.attributes["pop_total"] == 2500.0
    fc = plan_client.get("/planning/clusters", params={"f": "geojson"}).json()
    assert fc["features"][0]["geometry"]["type"] == "Polygon"
    problem(plan_client.get("/planning/clusters/C99"), 404)


def test_without_plan_results_is_503(client: TestClient) -> None:
    p = problem(client.get("/planning/clusters"), 503)
    assert "territorio plan" in p.detail
