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


@pytest.fixture(scope="module")
def turin(torino_bundle):
    """The real Turin bundle (built by the session fixture) and its access context."""
    from territorio.accessibility import AccessContext
    from territorio.config import AccessConfig

    return torino_bundle, AccessContext.from_bundle(torino_bundle, AccessConfig())


def test_every_municipality_gets_a_class_or_outside_coverage(turin) -> None:
    from territorio.planning.snai import classify

    bundle, ctx = turin
    m = bundle.layer("municipalities")
    tab, _, notes = classify(ctx, m, None, poli="official-2020-torino")
    assert len(tab) == 312
    assert set(tab["snai_class"]) <= {"A", "B", "C", "D", "E", "F", "outside_coverage"}
    poli, inter, _ = OFFICIAL_POLI["official-2020-torino"]
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
    # a post office inside the road network (Torino), so closing it changes times
    po = svc[(svc["category"] == "post_office") & (svc["pro_com_t"] == "001272")]
    po = po["service_id"].iloc[0]
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


def test_sangano_time_goes_to_collegno_not_to_nearby_orbassano(turin) -> None:
    from territorio.planning.snai import classify

    bundle, ctx = turin
    m = bundle.layer("municipalities")
    # the bundle's reference points are where people live (configs/torino-local.toml)
    assert bundle.manifest["reference_points"] == {"istat_2011_centre": 311, "osm_place": 1}
    tab, _, notes = classify(ctx, m, None, poli="official-2020-torino")
    t = tab.set_index("pro_com_t")
    sangano, beinasco = "001241", "001024"
    assert t.loc[sangano, "polo_destination"] == "001090"  # Collegno
    assert t.loc[sangano, "polo_destination_name"] == "Collegno"
    assert t.loc[beinasco, "polo_destination_name"] == "Nichelino"
    # every member of a polo intercomunale says where its group's times go
    assert t.loc[["001219", "001008", "001228", "001090"], "polo_destination"].eq("001090").all()
    assert t.loc[["001171", "001164"], "polo_destination"].eq("001164").all()
    assert any("times measured to 001090 Collegno (configured)" in n for n in notes)
    # with every member its own destination (the old nearest-member rule) Sangano's
    # time went to Orbassano, nearer than Collegno
    each = {c: c for c in OFFICIAL_POLI["official-2020-torino"].intercomunali}
    old, _, _ = classify(ctx, m, None, poli="official-2020-torino", destinations=each)
    o = old.set_index("pro_com_t")
    assert o.loc[sangano, "polo_destination_name"] == "Orbassano"
    assert o.loc[sangano, "time_to_polo_min"] < t.loc[sangano, "time_to_polo_min"]
