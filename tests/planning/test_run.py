from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from territorio.bundle import write_bundle
from territorio.errors import ConfigError
from territorio.planning import PlanConfig, run_plan
from territorio.planning.config import IndexConfig, ScenarioChange, ScenarioConfig, SitingConfig
from territorio.planning.run import load_plan_config
from territorio.planning.scenarios import indicators
from tests.planning.chain import CODES, chain_context, chain_municipalities, service_at

EDGES = [(0, 1, 10, 10), (1, 2, 16, 16), (2, 3, 12, 18), (3, 4, 20, 20)]


def _bundle(tmp_path):
    """Write the chain as a bundle, with its access layers computed by the engine."""
    m = chain_municipalities()
    ctx = chain_context(EDGES)
    services = pd.concat(
        [
            service_at("001901", "pharmacy", "ph:alfa"),
            service_at("001901", "post_office", "po:alfa"),
        ],
        ignore_index=True,
    )
    cells, munis = [], []
    for cat in ("pharmacy", "post_office"):
        c, mm = indicators(ctx, services[services["category"] == cat], cat)
        cells.append(c)
        munis.append(mm)
    pts = gpd.GeoSeries(gpd.points_from_xy(m["ref_lon"], m["ref_lat"]), crs="EPSG:4326")
    nodes = gpd.GeoDataFrame({"node_id": np.arange(5, dtype=np.int64)}, geometry=pts)
    edges = pd.DataFrame(
        {
            "u": [a for a, *_ in EDGES],
            "v": [b for _, b, *_ in EDGES],
            "length_m": 10_000.0,
            "travel_time_s": [f * 60.0 for _, _, f, _ in EDGES],
            "travel_time_reverse_s": [r * 60.0 for *_, r in EDGES],
        }
    )
    metric = pts.to_crs("EPSG:32632")
    pop = gpd.GeoDataFrame(
        {
            "cell_id": [f"cell-{c}" for c in CODES],
            "pro_com_t": CODES,
            "pop_total": m["pop_total"].astype(float),
            "pop_65_plus": m["pop_65_plus"].astype(float),
            "pop_under_15": m["pop_0_14"].astype(float),
            "area_share": 1.0,
        },
        geometry=[box(p.x - 50, p.y - 50, p.x + 50, p.y + 50) for p in metric],
        crs="EPSG:32632",
    ).to_crs("EPSG:4326")
    layers = {
        "municipalities": m,
        "services": services,
        "road_nodes": nodes,
        "road_edges": edges,
        "population_cells": pop,
        "access_cells": pd.concat(cells, ignore_index=True),
        "access_municipalities": pd.concat(munis, ignore_index=True),
    }
    return write_bundle(tmp_path / "chain", layers, {"sources": {"test": {}}})


def test_run_plan_end_to_end(tmp_path) -> None:
    bundle = _bundle(tmp_path)
    lon, lat = bundle.layer("municipalities")[["ref_lon", "ref_lat"]].iloc[3]
    cfg = PlanConfig(
        poli=["001901"],
        index=IndexConfig(
            service_weights={"pharmacy": 0.5, "post_office": 0.5},
            altitude_weight=0,
            density_weight=0,
            old_age_weight=0,
        ),
        threshold=50.0,
        siting=SitingConfig(k=2, t_min=15, categories=["pharmacy", "post_office"]),
        scenario=ScenarioConfig(
            name="delta",
            changes=[ScenarioChange(action="add", category="pharmacy", lon=lon, lat=lat)],
        ),
    )
    out = tmp_path / "plan"
    summary = run_plan(bundle, cfg, out_dir=out, progress=False)
    # times to Alfa (polo and the only services): 0, 10, 26, 44, 64 min
    # classes (2020): A, C, C, E, E
    assert summary["classes"] == {"A": 1, "C": 2, "E": 2}
    assert summary["outside_coverage"] == 0
    # scores = 100*min(t/45, 1) for both services: 0, 22.2, 57.8, 97.8, 100
    # flagged (>= 50 or E/F): Carlo, Delta, Eco -> one cluster
    assert [c["cluster_id"] for c in summary["clusters"]] == ["C01"]
    assert summary["clusters"][0]["residents"] == 1_800.0  # 1000 + 500 + 300
    # siting in C01 as in test_siting: Delta (1500) then Eco (300)
    assert [s["name"] for s in summary["siting"]["sites"]] == ["Delta", "Eco"]
    # scenario: a pharmacy in Delta changes Carlo, Delta, Eco
    assert summary["scenario"]["changed"] == 3
    table = gpd.read_parquet(out / "municipalities.parquet")
    assert table["snai_class"].tolist() == ["A", "C", "C", "E", "E"]
    assert table["cluster_id"].fillna("-").tolist() == ["-", "-", "C01", "C01", "C01"]
    for f in (
        "clusters.csv",
        "sites.parquet",
        "scenario.csv",
        "reports/C01_it.md",
        "reports/C01_en.md",
        "reports/overview_it.md",
        "summary.json",
    ):
        assert (out / f).is_file(), f
    it = (out / "reports/C01_it.md").read_text(encoding="utf-8")
    assert "Delta, Carlo, Eco" not in it  # names are ordered by residents
    assert "Carlo, Delta, Eco" in it
    assert "1.800 residenti" in it  # Italian thousands separator
    en = (out / "reports/C01_en.md").read_text(encoding="utf-8")
    assert "1,800 residents" in en and "Delta" in en
    assert json.loads((out / "summary.json").read_text())["flagged"] == 3


def test_plan_config_file(tmp_path) -> None:
    p = tmp_path / "plan.toml"
    p.write_text(
        '[plan]\nsnai_preset = "2014"\npoli = "official-2020-torino"\n[plan.siting]\nk = 2\n',
        encoding="utf-8",
    )
    cfg = load_plan_config(p)
    assert cfg.thresholds == (20.0, 40.0, 75.0)
    assert cfg.siting is not None and cfg.siting.k == 2
    p.write_text("[plan]\nthreshhold = 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="threshhold"):
        load_plan_config(p)
    with pytest.raises(ValueError, match="thresholds_min"):
        PlanConfig(snai_preset="custom")
