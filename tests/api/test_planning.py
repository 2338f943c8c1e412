from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from territorio.api import Settings, create_app
from territorio.api.models import (
    ClusterList,
    ClusterOut,
    MunicipalityDetail,
    MunicipalityList,
    Problem,
    ScenarioOut,
    SitingOut,
)

from .conftest import make_plan
from .support import body, problem


def test_filters_by_class_and_score(plan_client: TestClient) -> None:
    def codes(**params: object) -> list[str]:
        page = body(plan_client.get("/municipalities", params=params), MunicipalityList)
        return [m.pro_com_t for m in page.items]

    assert codes(snai_class=["E", "F"]) == ["001002", "001003"]
    assert codes(score_min=60, score_max=70) == ["001002"]  # 61.0 only
    d = body(plan_client.get("/municipalities/001003"), MunicipalityDetail)
    assert (d.snai_class, d.marginality_score, d.cluster_id) == ("F", 80.25, "C01")
    # which comune the SNAI time goes to, and how long
    assert (d.time_to_polo_min, d.polo_destination, d.polo_destination_name) == (
        71.0,
        "001001",
        "Alfa",
    )
    assert d.ref_source == "representative_point"
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


# -- computations: POST /planning/sites and /planning/scenarios ---------------------
#
# The test bundle (conftest): a grid road network, junctions every 0.01 degree,
# 78.7 s per east-west step (787 m at 10 m/s). Cells on the row lat 45.05:
# A 7.05 (001001, 100 people, 40 aged 65+), B 7.08 (001001, 50, 30),
# C 7.15 (001002, 300, 60), D 7.13 (001002, 80, 50), E 7.25 (001003, 500, 20),
# F 7.29 (001003, 20, 10). Pharmacies at 7.05 and 7.15, the post office at 7.25.
# Candidates default to the reference points 7.05, 7.15 and 7.25.
#
# Within 5 min (300 s) of both a pharmacy and the post office: no cell today
# (the post office is 10 steps = 787 s from the nearest pharmacy). A new point
# at 7.05 reaches A (0 s) and B (3 steps, 236 s): 150 people, 70 aged 65+;
# at 7.15: C (0 s) and D (2 steps, 157 s): 380 people, 110 aged 65+;
# at 7.25: E (0 s) only, F is 4 steps = 315 s > 300 s: 500 people, 20 aged 65+.

BUNDLE_5 = {"k": 3, "minutes": 5, "categories": ["pharmacy", "post_office"]}


def test_sites_in_the_whole_territory_by_hand(plan_client: TestClient) -> None:
    r = plan_client.post("/planning/sites", json={**BUNDLE_5, "cluster": "all"})
    out = body(r, SitingOut)
    # greedy: 500 (7.25) then 380 (7.15) then 150 (7.05), each disjoint
    assert [(s.site_id, s.marginal_gain, s.pro_com_t) for s in out.sites] == [
        ("001003", 500.0, "001003"),
        ("001002", 380.0, "001002"),
        ("001001", 150.0, "001001"),
    ]
    assert out.in_scope == 1050.0  # 100 + 50 + 300 + 80 + 500 + 20
    assert (out.served_today, out.served_after, out.unknown) == (0.0, 1030.0, 0.0)  # F left
    assert out.sites[0].share_after == round(500 / 1050, 4)
    assert out.scope == "all" and out.municipalities == ["001001", "001002", "001003"]


def test_sites_in_a_cluster_for_the_elderly(plan_client: TestClient) -> None:
    r = plan_client.post(
        "/planning/sites", json={**BUNDLE_5, "cluster": "C01", "demand": "pop_65_plus"}
    )
    out = body(r, SitingOut)
    # C01 = 001002 + 001003: 65+ are C 60 + D 50 + E 20 + F 10 = 140; 7.15 brings
    # 110, then 7.25 brings 20 (F stays out at 315 s); 7.05 is not a candidate
    assert out.in_scope == 140.0
    assert [(s.site_id, s.marginal_gain, s.marginal_gain_pop) for s in out.sites] == [
        ("001002", 110.0, 380.0),
        ("001003", 20.0, 500.0),
    ]
    assert out.candidates == 2 and out.served_after == 130.0


def test_sites_with_given_candidates_and_codes(plan_client: TestClient) -> None:
    # A candidate at 7.10 reaches B (2 steps, 157 s) and D (3 steps, 236 s),
    # A and C are 5 steps (394 s) away: 50 + 80 = 130 people of 001001 + 001002;
    # the one at 7.05 reaches A and B: 150.
    r = plan_client.post(
        "/planning/sites",
        json={
            **BUNDLE_5,
            "k": 1,
            "municipalities": ["001001", "001002"],
            "candidates": [
                {"lon": 7.10, "lat": 45.05, "name": "Bivio"},
                {"lon": 7.05, "lat": 45.05},
            ],
        },
    )
    out = body(r, SitingOut)
    assert [(s.site_id, s.name, s.marginal_gain) for s in out.sites] == [
        ("candidate2", "candidate 2", 150.0)
    ]
    r = plan_client.post(
        "/planning/sites",
        json={
            **BUNDLE_5,
            "k": 1,
            "municipalities": ["001002"],
            "candidates": [
                {"lon": 7.10, "lat": 45.05, "name": "Bivio"},
                {"lon": 7.05, "lat": 45.05},
            ],
        },
    )
    # in 001002 alone: Bivio reaches D (80), 7.05 reaches nobody of C, D (8+ steps)
    assert [(s.name, s.marginal_gain) for s in body(r, SitingOut).sites] == [("Bivio", 80.0)]


def test_sites_already_served_chooses_nothing(plan_client: TestClient) -> None:
    # pharmacies only, 5 min: A, B (F1), C, D (F2) are served today; 150 in 001001
    r = plan_client.post(
        "/planning/sites",
        json={"municipalities": ["001001"], "k": 1, "minutes": 5, "categories": ["pharmacy"]},
    )
    out = body(r, SitingOut)
    assert (out.served_today, out.sites) == (150.0, [])


def test_sites_bounds_and_unknowns(plan_client: TestClient) -> None:
    def post(**kw: object) -> Problem:
        return problem(plan_client.post("/planning/sites", json={**BUNDLE_5, **kw}), 422)

    assert post(k=11).errors[0].field == "body.k"  # type: ignore[index]
    assert post(minutes=4).errors[0].field == "body.minutes"  # type: ignore[index]
    assert post(minutes=61).errors[0].field == "body.minutes"  # type: ignore[index]
    p = post(categories=["casino"])
    assert p.errors is not None and p.errors[0].field.startswith("body.categories")
    assert "pharmacy" in p.detail  # says what is allowed
    assert post(demand="pop_80_plus").errors[0].field == "body.demand"  # type: ignore[index]
    p = post(municipalities=["001999"])
    assert p.errors is not None and p.errors[0].field == "body.municipalities"
    p = post(cluster="C01", municipalities=["001001"])
    assert "not both" in p.detail
    p = post(candidates=[{"lon": 9.0, "lat": 45.05}])
    assert "outside" in p.detail
    assert post(candidates=[{"lon": 7.1, "lat": 45.05}] * 51).errors  # at most 50
    p = problem(plan_client.post("/planning/sites", json={**BUNDLE_5, "cluster": "C99"}), 404)
    assert "C01" in p.detail  # lists the clusters that exist


def test_sites_for_a_cluster_need_plan_results(client: TestClient) -> None:
    problem(client.post("/planning/sites", json={**BUNDLE_5, "cluster": "C01"}), 503)
    # the whole territory works without them
    assert len(body(client.post("/planning/sites", json=BUNDLE_5), SitingOut).sites) == 3


def test_scenario_close_a_pharmacy_open_another(plan_client: TestClient) -> None:
    changes = [
        {"action": "remove", "service_id": "moh:F2"},
        {"action": "add", "category": "pharmacy", "lon": 7.25, "lat": 45.05, "name": "Nuova"},
    ]
    r = plan_client.post("/planning/scenarios", json={"name": "t1", "changes": changes})
    out = body(r, ScenarioOut)
    assert out.categories == ["pharmacy"] and out.municipalities == 3
    by = {m.pro_com_t: m for m in out.items}
    assert sorted(by) == ["001002", "001003"]  # 001001 keeps F1: unchanged, not listed
    assert out.changed == 2 and out.class_changes == 0  # classes from the plan results
    b, c = by["001002"].indicators[0], by["001003"].indicators[0]
    # 001002's reference point (7.15) loses F2: the nearest pharmacy is now 10 steps
    # away (7.05 or the new one at 7.25): 787 s = 13.12 min
    assert (b.ref_min_before, b.ref_min_after) == (0.0, 13.12)
    # cells C (300 people, 0 s -> 787 s) and D (80, 157 s -> 8 steps 630 s to 7.05):
    # before 80 x 157.4 / 380 = 33.1 s = 0.55 min; after (300 x 787 + 80 x 629.6) / 380
    # = 753.9 s = 12.56 min
    assert (b.mean_min_before, b.mean_min_after) == (0.55, 12.56)
    # 001003 gains a pharmacy on its reference point: 13.12 min -> 0
    assert (c.ref_min_before, c.ref_min_after) == (13.12, 0.0)
    # E (500 people) 787 s -> 0, F (20) 14 steps 1102 s -> 4 steps 315 s:
    # (500 x 787 + 20 x 1102) / 520 = 799 s = 13.32 min; 20 x 315 / 520 = 12 s = 0.2 min
    assert (c.mean_min_before, c.mean_min_after) == (13.32, 0.2)
    assert by["001002"].score_delta > 0 > by["001003"].score_delta  # type: ignore[operator]
    assert by["001003"].class_before == by["001003"].class_after == "F"
    full = body(
        plan_client.post("/planning/scenarios", json={"changes": changes, "only_changed": False}),
        ScenarioOut,
    )
    assert [m.pro_com_t for m in full.items] == ["001001", "001002", "001003"]
    assert not full.items[0].changed


def test_scenario_bounds(plan_client: TestClient) -> None:
    def post(changes: list[dict[str, object]], **kw: object) -> Problem:
        r = plan_client.post("/planning/scenarios", json={"changes": changes, **kw})
        return problem(r, 422)

    assert post([]).errors[0].field == "body.changes"  # type: ignore[index]
    many = [{"action": "remove", "service_id": "moh:F1"}] * 11
    assert post(many).errors[0].field == "body.changes"  # type: ignore[index]
    p = post([{"action": "remove", "service_id": "moh:NOPE"}])
    assert p.errors is not None and p.errors[0].field == "body.changes.0.service_id"
    p = post([{"action": "add", "category": "pharmacy", "lon": 7.1}])
    assert p.errors is not None and p.errors[0].field.startswith("body.changes.0")
    assert "needs category, lon and lat" in p.detail
    p = post([{"action": "add", "category": "casino", "lon": 7.1, "lat": 45.05}])
    assert "unknown service category" in p.detail
    p = post([{"action": "add", "category": "pharmacy", "lon": 9.0, "lat": 45.05}])
    assert "outside" in p.detail
    p = post([{"action": "remove", "service_id": "moh:F1"}], name="bad name!")
    assert p.errors is not None and p.errors[0].field == "body.name"


def test_computations_count_as_writes_for_the_rate_limit(
    make_settings: Callable[..., Settings], tmp_path: Path, bundle_path: Path
) -> None:
    s = make_settings(write_rate_limit=2, plan_path=make_plan(tmp_path / "plan", bundle_path))
    with TestClient(create_app(s)) as c:
        for _ in range(2):
            body(c.post("/planning/sites", json=BUNDLE_5), SitingOut)
        p = problem(c.post("/planning/sites", json=BUNDLE_5), 429)
        assert "write requests" in p.detail
        assert c.get("/planning/clusters").status_code == 200  # reads are not limited


REAL_PLAN_CONFIG = Path(__file__).resolve().parents[2] / "configs" / "plan-torino.toml"


def test_real_scenario_matches_territorio_plan(tmp_path: Path, torino_bundle: Any) -> None:
    """The API's scenario equals the one ``territorio plan`` wrote (same config, same data)."""
    import pandas as pd

    from territorio.bundle import default_plan_dir
    from territorio.planning.config import ScenarioChange
    from territorio.planning.run import load_plan_config

    plan_dir = default_plan_dir(torino_bundle.path)
    cfg = load_plan_config(REAL_PLAN_CONFIG)
    assert cfg.scenario is not None
    changes = [c.model_dump(exclude_none=True) for c in cfg.scenario.changes]
    assert [ScenarioChange(**c) for c in changes] == list(cfg.scenario.changes)
    s = Settings(
        bundle_path=torino_bundle.path,
        plan_config=REAL_PLAN_CONFIG,
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
        tiles_url=None,
    )
    with TestClient(create_app(s)) as c:  # the plan folder is found beside the bundle
        r = c.post("/planning/scenarios", json={"name": cfg.scenario.name, "changes": changes})
        out = body(r, ScenarioOut)
    want = pd.read_csv(plan_dir / "scenario.csv", dtype={"pro_com_t": str})
    want = want[want["changed"]]
    assert [m.pro_com_t for m in out.items] == want["pro_com_t"].tolist()
    assert [m.score_delta for m in out.items] == want["score_delta"].round(2).tolist()
    assert out.class_changes == int((want["class_before"] != want["class_after"]).sum())
