"""Acceptance on the real Turin data (../shared/data): classes, clusters, siting, what-if."""

from __future__ import annotations

import pandas as pd
import pytest

from territorio.planning.config import (
    OFFICIAL_POLI,
    PlanConfig,
    ScenarioChange,
    ScenarioConfig,
    SitingConfig,
)

pytestmark = pytest.mark.shared_data

TOML = """
[area]
slug = "torino"
name = "Città Metropolitana di Torino"
province_code = "001"
buffer_km = 10

[output]
dir = "{out}"
cache_dir = "{out}/cache"

[istat]
classifications = "{data}/istat/classificazioni_statistiche_comuni_2020-12-31.xls"

[population]
location = "{data}/population/census2021_1km_torino.csv"

[roads]
source = "edges"
location = "{data}/roads/turin_core_car_edges.parquet"

[[services.sources]]
adapter = "gisco_healthcare"
location = "{data}/services/gisco_healthcare_IT.csv"

[[services.sources]]
adapter = "osm_geojson"
location = "{data}/services/osm_piemonte_2015/pharmacies.geojson"

[[services.sources]]
adapter = "osm_geojson"
location = "{data}/services/osm_piemonte_2015/postoffices.geojson"
"""


@pytest.fixture(scope="module")
def turin(shared_data, tmp_path_factory):
    """A real Turin bundle with access layers for pharmacy and post office, and its context."""
    from territorio.accessibility import AccessContext
    from territorio.build import build_bundle
    from territorio.bundle import update_bundle
    from territorio.config import AccessConfig, load_config
    from territorio.planning.scenarios import indicators

    out = tmp_path_factory.mktemp("turin")
    cfg_path = out / "torino.toml"
    cfg_path.write_text(TOML.format(out=out, data=shared_data), encoding="utf-8")
    bundle = build_bundle(load_config(cfg_path), stream=None)
    ctx = AccessContext.from_bundle(bundle, AccessConfig())
    svc = bundle.layer("services")
    cells, munis = [], []
    for cat in ("pharmacy", "post_office"):
        c, m = indicators(ctx, svc[svc["category"] == cat], cat)
        cells.append(c)
        munis.append(m)
    bundle = update_bundle(
        bundle,
        {
            "access_cells": pd.concat(cells, ignore_index=True),
            "access_municipalities": pd.concat(munis, ignore_index=True),
        },
        {},
    )
    return bundle, ctx


def test_every_municipality_gets_a_class_or_outside_coverage(turin) -> None:
    from territorio.planning.snai import classify

    bundle, ctx = turin
    m = bundle.layer("municipalities")
    tab, _, notes = classify(ctx, m, None, poli="official-2020-torino")
    assert len(tab) == 312
    assert set(tab["snai_class"]) <= {"A", "B", "C", "D", "E", "F", "outside_coverage"}
    poli, inter = OFFICIAL_POLI["official-2020-torino"]
    assert sorted(tab.loc[tab["snai_class"] == "A", "pro_com_t"]) == sorted(poli)
    assert sorted(tab.loc[tab["snai_class"] == "B", "pro_com_t"]) == sorted(inter)
    # municipalities with no network at all never get a time class
    none = m["network_coverage"].to_numpy() == "none"
    assert set(tab.loc[none & ~tab["snai_class"].isin(["A", "B"]), "snai_class"]) == {
        "outside_coverage"
    }
    # Grugliasco (001120) borders Torino and Collegno: Cintura, well under 27.7 min
    g = tab.set_index("pro_com_t").loc["001120"]
    assert g["snai_class"] == "C"
    assert 0 < g["time_to_polo_min"] < 27.7
    # Ivrea and Pinerolo are poli outside the core network: said so
    assert any("001125" in n and "001191" in n for n in notes)


def test_run_plan_on_turin(turin, tmp_path) -> None:
    from territorio.planning import run_plan

    bundle, ctx = turin
    svc = bundle.layer("services")
    po = svc[svc["category"] == "post_office"]["service_id"].iloc[0]
    cfg = PlanConfig(
        poli="official-2020-torino",
        siting=SitingConfig(k=3, t_min=15, categories=["pharmacy", "post_office"], cluster="all"),
        scenario=ScenarioConfig(
            name="chiude", changes=[ScenarioChange(action="remove", service_id=po)]
        ),
    )
    s = run_plan(bundle, cfg, out_dir=tmp_path, progress=False, ctx=ctx)
    assert sum(s["classes"].values()) == 312
    sites = s["siting"]["sites"]
    assert 1 <= len(sites) <= 3
    gains = [x["marginal_gain"] for x in sites]
    assert gains == sorted(gains, reverse=True) and gains[-1] > 0  # greedy: non-increasing
    assert s["scenario"]["categories"] == ["post_office"]
    assert s["scenario"]["changed"] >= 1
    table = pd.read_csv(tmp_path / "municipalities.csv", dtype={"pro_com_t": str})
    # outside coverage: no score, never a number
    out = table["index_status"] == "outside_coverage"
    assert table.loc[out, "score"].isna().all()
