"""Winter scenario on a small hand-built network: reroute, cut-off comune, altitude factor.

The chain of :mod:`tests.planning.chain` (Alfa - Bravo - Carlo - Delta - Eco),
with these roads (minutes both ways, altitude of the edge)::

    Alfa -- SS24 10' (500 m) -- Bravo -- SP172 10' (2,000 m) -- Carlo -- 9' (800 m) -- Delta
                                  \\_________ SP1 valley road 30' (600 m) ___________/
    Delta -- SP50 10' (1,500 m) -- Eco        (the only road to Eco)

The pharmacy and the polo are in Alfa. Summer minutes to Alfa: Bravo 10,
Carlo 20 (over SP172), Delta 29 (over SP172), Eco 39.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from territorio.accessibility.context import AccessContext
from territorio.accessibility.network import build_network
from territorio.config import AccessConfig
from territorio.errors import ConfigError, NotFoundError
from territorio.planning.config import IndexConfig, PlanConfig, RoadClosure, WinterConfig
from territorio.planning.marginality import index_from_access
from territorio.planning.scenarios import Baseline, indicators
from territorio.planning.snai import classify
from territorio.planning.winter import closed_edges, run_winter
from tests.planning.chain import CODES, chain_municipalities, point_cells, service_at

ROADS = [
    # u, v, minutes, ref, name, altitude, comune of the midpoint
    (0, 1, 10, "SS24", "Strada statale 24", 500.0, "001901"),
    (1, 2, 10, "SP172", "Strada provinciale del Colle", 2000.0, "001903"),
    (2, 3, 9, "", "", 800.0, "001903"),
    (1, 3, 30, "SP1", "Strada di fondovalle", 600.0, "001902"),
    (3, 4, 10, "SP50", "Strada per Eco", 1500.0, "001905"),
]
CFG = PlanConfig(
    poli=["001901"],
    index=IndexConfig(
        service_weights={"pharmacy": 1.0},
        altitude_weight=0,
        density_weight=0,
        old_age_weight=0,
    ),
)


def _world() -> tuple[AccessContext, Baseline, pd.DataFrame, gpd.GeoDataFrame]:
    m = chain_municipalities()
    pts = gpd.GeoSeries(gpd.points_from_xy(m["ref_lon"], m["ref_lat"]), crs="EPSG:4326")
    nodes = gpd.GeoDataFrame({"node_id": np.arange(5, dtype=np.int64)}, geometry=pts)
    edges = pd.DataFrame(
        {
            "u": [r[0] for r in ROADS],
            "v": [r[1] for r in ROADS],
            "length_m": 10_000.0,
            "travel_time_s": [r[2] * 60.0 for r in ROADS],
            "travel_time_reverse_s": [r[2] * 60.0 for r in ROADS],
            "highway": "secondary",
            "car": True,
            "foot": False,
            "ref": [r[3] for r in ROADS],
            "name": [r[4] for r in ROADS],
            "altitude_m": [r[5] for r in ROADS],
            "altitude_source": "dem",
            "pro_com_t": [r[6] for r in ROADS],
        }
    )
    net = build_network(nodes, edges, metric_crs="EPSG:32632")
    ctx = AccessContext.from_layers(net, point_cells(m, pts), m, AccessConfig())
    svc = service_at("001901", "pharmacy", "ph:alfa")
    c, mm = indicators(ctx, svc, "pharmacy")
    pop = ctx.cells[["cell_id", "pro_com_t", "pop_total", "pop_65_plus"]]
    snai, _, _ = classify(ctx, m, svc, poli=CFG.poli, thresholds=CFG.thresholds)
    idx = index_from_access(m, mm, cfg=CFG.index, access_cells=c, population_cells=pop)
    base = Baseline(m, svc, mm, snai, idx, access_cells=c, population_cells=pop)
    return ctx, base, edges, nodes


def _pharmacy(res: object, col: str) -> list[float]:
    t = res.categories  # type: ignore[attr-defined]
    t = t[t["category"] == "pharmacy"].set_index("pro_com_t").reindex(CODES)
    return [round(float(x), 2) for x in t[col]]


def test_closing_the_pass_reroutes_over_the_valley_road() -> None:
    ctx, base, edges, nodes = _world()
    w = WinterConfig(closures=[RoadClosure(ref="SP 172")], altitude_speed_factor=1.0)
    res = run_winter(ctx, base, edges, nodes, CFG, w)
    assert _pharmacy(res, "mean_min_summer") == [0.0, 10.0, 20.0, 29.0, 39.0]
    # Carlo: 2-3-1-0 = 9 + 30 + 10 = 49; Delta: 3-1-0 = 30 + 10 = 40; Eco: 10 + 40 = 50
    assert _pharmacy(res, "mean_min_winter") == [0.0, 10.0, 49.0, 40.0, 50.0]
    assert _pharmacy(res, "added_min") == [0.0, 0.0, 29.0, 11.0, 11.0]
    assert res.summary["roads"]["edges_closed"] == 1
    # Carlo (20' -> 49', 1,000 residents, 300 aged 65+) and Delta (29' -> 40', 500
    # residents, 150 aged 65+) are pushed beyond 30 minutes; Eco was already beyond.
    s = res.summary["categories"]["pharmacy"]
    assert s["residents_pushed_beyond_30"] == 1_000 + 500
    assert s["residents_65_pushed_beyond_30"] == 300 + 150
    assert s["residents_unreachable"] == 0
    # SNAI 2020 thresholds 27.7 / 40.9 / 66.9: Carlo C (20') -> E (49'), Delta stays D
    # (29' -> 40'), Eco D (39') -> E (50')
    changed = {c["name"]: (c["summer"], c["winter"]) for c in res.summary["comuni_changing_class"]}
    assert changed == {"Carlo": ("C", "E"), "Eco": ("D", "E")}


def test_closing_the_only_road_leaves_the_comune_unreachable_not_infinite() -> None:
    ctx, base, edges, nodes = _world()
    w = WinterConfig(closures=[RoadClosure(ref="SP50")], altitude_speed_factor=1.0)
    res = run_winter(ctx, base, edges, nodes, CFG, w)
    t = res.categories.set_index("pro_com_t")
    eco = t.loc["001905"]
    assert eco["status_winter"] == "unreachable"
    assert np.isnan(eco["mean_min_winter"]) and np.isnan(eco["added_min"])
    assert eco["pop_unreachable_winter"] == 300
    # nowhere an infinite number of minutes in the winter tables
    num = res.categories.select_dtypes("number").to_numpy(dtype=float)
    assert not np.isinf(num).any()
    mm = res.municipalities.set_index("pro_com_t")
    assert mm.loc["001905", "class_winter"] == "unreachable"
    assert np.isnan(mm.loc["001905", "polo_min_winter"])
    assert not np.isinf(res.municipalities.select_dtypes("number").to_numpy(dtype=float)).any()
    assert res.summary["categories"]["pharmacy"]["residents_unreachable"] == 300
    # the other comuni are untouched
    assert t.loc[CODES[:4], "status_winter"].tolist() == ["ok"] * 4


def test_altitude_factor_applies_only_above_the_threshold() -> None:
    ctx, base, edges, nodes = _world()
    w = WinterConfig(closures=[], altitude_m=1000.0, altitude_speed_factor=0.8)
    res = run_winter(ctx, base, edges, nodes, CFG, w)
    # slowed: SP172 (2,000 m) and SP50 (1,500 m): 10' / 0.8 = 12.5'. Not slowed: SS24
    # (500 m), the 800 m link, SP1 (600 m). Carlo 10 + 12.5 = 22.5; Delta 22.5 + 9 = 31.5
    # (the valley road gives 40); Eco 31.5 + 12.5 = 44
    assert _pharmacy(res, "mean_min_winter") == [0.0, 10.0, 22.5, 31.5, 44.0]
    assert res.summary["roads"]["edges_slowed"] == 2
    # at a threshold of 2,001 m nothing is slowed
    res2 = run_winter(
        ctx, base, edges, nodes, CFG,
        WinterConfig(closures=[], altitude_m=2001.0, altitude_speed_factor=0.5),
    )  # fmt: skip
    assert _pharmacy(res2, "added_min") == [0.0] * 5


def test_closure_matching_rules() -> None:
    _, _, edges, _ = _world()
    hit, why = closed_edges(edges, RoadClosure(name="colle"))
    assert hit.tolist() == [False, True, False, False, False] and why is None
    hit, _ = closed_edges(edges, RoadClosure(ref="sp-172", municipalities=["001904"]))
    assert not hit.any()
    hit, _ = closed_edges(edges, RoadClosure(ref="SP50", above_m=1600))
    assert not hit.any()
    _, why = closed_edges(edges.drop(columns=["ref"]), RoadClosure(ref="SP172"))
    assert why is not None and "ref" in why
    # several refs on one edge, spacing and case ignored, no prefix match
    refs = pd.DataFrame({"ref": ["SP 172;SS24", "SP1721", "sp-172", "", None], "length_m": 1.0})
    hit, _ = closed_edges(refs, RoadClosure(ref="SP172"))
    assert hit.tolist() == [True, False, True, False, False]
    # by area and altitude only: every road of Carlo at or above 1,000 m
    hit, _ = closed_edges(edges, RoadClosure(municipalities=["001903"], above_m=1000))
    assert hit.tolist() == [False, True, False, False, False]
    with pytest.raises(ValueError, match="ref"):
        RoadClosure()
    with pytest.raises(ValueError, match="above_m"):
        RoadClosure(municipalities=["001903"])


def test_winter_presets_and_variants() -> None:
    assert CFG.winter_scenario("winter").closures[0].ref == "SP172"
    cfg = PlanConfig(winter=[WinterConfig(name="gennaio", altitude_m=800)])
    assert cfg.winter_scenario("gennaio").altitude_m == 800
    with pytest.raises(ConfigError, match="gennaio"):
        cfg.winter_scenario("febbraio")
    with pytest.raises(ValueError, match="unique"):
        PlanConfig(winter=[WinterConfig(name="a"), WinterConfig(name="a")])


def test_unknown_closed_service_is_an_error() -> None:
    ctx, base, edges, nodes = _world()
    with pytest.raises(NotFoundError, match="ph:nope"):
        run_winter(ctx, base, edges, nodes, CFG, WinterConfig(closed_services=["ph:nope"]))


def test_report_section_in_both_languages() -> None:
    from territorio.planning.mountain_report import winter_markdown

    ctx, base, edges, nodes = _world()
    res = run_winter(ctx, base, edges, nodes, CFG, WinterConfig(closures=[RoadClosure(ref="SP50")]))
    it = winter_markdown(res, lang="it")
    en = winter_markdown(res, lang="en")
    assert "## Scenario invernale «winter»" in it and "## Winter scenario «winter»" in en
    # Eco (300 residents) cut off: counted as unreachable, its class "unreachable"
    assert "| Farmacia |" in it and "| 300 |" in it
    assert "Eco: D → unreachable" in en


def test_winter_variant_from_a_plan_file(tmp_path: Path) -> None:
    from territorio.planning.run import load_plan_config

    p = tmp_path / "plan.toml"
    p.write_text(
        '[plan]\npoli = ["001901"]\n\n[[plan.winter]]\nname = "gennaio"\naltitude_m = 800\n'
        '[[plan.winter.closures]]\nref = "SP 172"\nabove_m = 1500\n',
        encoding="utf-8",
    )
    w = load_plan_config(p).winter_scenario("gennaio")
    assert w.altitude_m == 800 and [c.ref for c in w.closures] == ["SP 172"]
    p.write_text("[plan]\n[[plan.winter]]\naltitud_m = 800\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="altitud_m"):
        load_plan_config(p)
