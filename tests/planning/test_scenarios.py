from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest

from territorio.errors import NotFoundError
from territorio.planning.config import IndexConfig, PlanConfig, PoliCriteria, ScenarioChange
from territorio.planning.marginality import index_from_access
from territorio.planning.scenarios import Baseline, run_scenario
from territorio.planning.snai import classify
from tests.planning.chain import chain_context, chain_municipalities, service_at

EDGES = [(0, 1, 10, 10), (1, 2, 16, 16), (2, 3, 12, 18), (3, 4, 20, 20)]
CFG = PlanConfig(
    poli=["001901"],
    index=IndexConfig(
        service_weights={"pharmacy": 0.5, "post_office": 0.5},
        altitude_weight=0,
        density_weight=0,
        old_age_weight=0,
        time_cap_min=45.0,
    ),
)


def _baseline(ctx, services: gpd.GeoDataFrame, cfg: PlanConfig) -> Baseline:
    from territorio.planning.scenarios import indicators

    m = chain_municipalities()
    cells, munis = [], []
    for cat in ("pharmacy", "post_office", "hospital"):
        c, mm = indicators(ctx, services[services["category"] == cat], cat)
        cells.append(c)
        munis.append(mm)
    am = pd.concat(munis, ignore_index=True)
    ac = pd.concat(cells, ignore_index=True)
    pop = ctx.cells[["cell_id", "pro_com_t", "pop_total", "pop_65_plus"]]
    snai, _, _ = classify(
        ctx, m, services, poli=cfg.poli, criteria=cfg.criteria, thresholds=cfg.thresholds
    )
    idx = index_from_access(m, am, cfg=cfg.index, access_cells=ac, population_cells=pop)
    return Baseline(m, services, am, snai, idx, access_cells=ac, population_cells=pop)


def _services(*rows: tuple[str, str, str]) -> gpd.GeoDataFrame:
    return pd.concat([service_at(*r) for r in rows], ignore_index=True)


def test_a_pharmacy_opens_in_delta() -> None:
    ctx = chain_context(EDGES)
    svc = _services(("001901", "pharmacy", "ph:alfa"), ("001903", "post_office", "po:carlo"))
    base = _baseline(ctx, svc, CFG)
    change = ScenarioChange(
        action="add",
        category="pharmacy",
        lon=float(chain_municipalities()["ref_lon"].iloc[3]),
        lat=float(chain_municipalities()["ref_lat"].iloc[3]),
        name="Farmacia di Delta",
    )
    res = run_scenario(ctx, base, [change], CFG, name="apre")
    out = res.changes.set_index("name")
    # pharmacy times (to Alfa): 0, 10, 26, 44, 64; to the new one in Delta
    # (residents drive to Delta): 38, 28, 12, 0, 20 -> after: 0, 10, 12, 0, 20.
    assert out["pharmacy_mean_min_after"].tolist() == pytest.approx([0, 10, 12, 0, 20], abs=1e-3)
    # post office (Carlo): 26, 16, 0, 18, 38 min -> scores 57.78, 35.56, 0, 40, 84.44
    # pharmacy scores before 0, 22.22, 57.78, 97.78, 100; after 0, 22.22, 26.67, 0, 44.44
    # score = (pharmacy + post) / 2
    assert out["score_before"].tolist() == pytest.approx(
        [28.89, 28.89, 28.89, 68.89, 92.22], abs=0.01
    )
    assert out["score_after"].tolist() == pytest.approx(
        [28.89, 28.89, 13.33, 20.0, 64.44], abs=0.01
    )
    assert out["changed"].tolist() == [False, False, True, True, True]
    assert res.categories == ["pharmacy"]
    new = res.services[res.services["service_id"] == "apre:1"]
    assert new["pro_com_t"].tolist() == ["001904"]  # located in Delta's polygon


def test_a_hospital_opening_changes_the_class() -> None:
    # poli derived from hospitals only: a polo is a municipality with a hospital
    cfg = PlanConfig(
        poli="derive",
        criteria=PoliCriteria(school="ignore", station="ignore", hospital="any"),
        index=CFG.index,
    )
    ctx = chain_context(EDGES)
    svc = _services(
        ("001901", "hospital", "h:alfa"),
        ("001901", "pharmacy", "ph:alfa"),
        ("001903", "post_office", "po:carlo"),
    )
    base = _baseline(ctx, svc, cfg)
    # times to Alfa: Delta 44 (E), Eco 64 (E)
    assert base.snai["snai_class"].tolist() == ["A", "C", "C", "E", "E"]
    m = chain_municipalities()
    change = ScenarioChange(
        action="add",
        category="hospital",
        lon=float(m["ref_lon"].iloc[4]),
        lat=float(m["ref_lat"].iloc[4]),
    )
    res = run_scenario(ctx, base, [change], cfg)
    # Eco becomes a polo; Delta is 20 min from Eco -> C (< 27.7)
    assert res.changes["class_after"].tolist() == ["A", "C", "C", "C", "A"]
    assert res.changes["changed"].tolist()[3:] == [True, True]


def test_closing_a_pharmacy_and_unknown_ids() -> None:
    ctx = chain_context(EDGES)
    svc = _services(
        ("001901", "pharmacy", "ph:alfa"),
        ("001904", "pharmacy", "ph:delta"),
        ("001903", "post_office", "po:carlo"),
    )
    base = _baseline(ctx, svc, CFG)
    res = run_scenario(ctx, base, [ScenarioChange(action="remove", service_id="ph:delta")], CFG)
    out = res.changes.set_index("name")
    # with Delta's pharmacy: 0, 10, 12, 0, 20; without: 0, 10, 26, 44, 64
    assert out["pharmacy_mean_min_before"].tolist() == pytest.approx([0, 10, 12, 0, 20], abs=1e-3)
    assert out["pharmacy_mean_min_after"].tolist() == pytest.approx([0, 10, 26, 44, 64], abs=1e-3)
    with pytest.raises(NotFoundError, match="ph:nowhere"):
        run_scenario(ctx, base, [ScenarioChange(action="remove", service_id="ph:nowhere")], CFG)
