"""Mountain and winter realism on the whole province (vector-tile roads + SRTM tiles).

Figures measured on this bundle when the tests were written (Dec 2026):
junctions with DEM 100,366 of 135,416; residents 1,837,655 of 2,200,646;
76 comuni without DEM; Susa - Moncenisio 17 hairpins (+1.9 min from curves
and slopes), Lanzo - Balme 6 hairpins and a 1,379 m climb (+3.5 min). The
asserts below are ranges around what the geography dictates, not those
exact numbers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from territorio.planning.config import PlanConfig
from territorio.planning.effect import baseline_of, climb
from territorio.planning.run import load_plan_config
from territorio.planning.winter import run_winter
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def world(province_bundle: Any) -> tuple[Any, Any, PlanConfig, Any]:
    from territorio.accessibility import AccessContext
    from territorio.planning.run import access_config_of

    b = province_bundle
    ctx = AccessContext.from_bundle(b, access_config_of(b))
    cfg = load_plan_config(ROOT / "configs" / "plan-torino.toml")
    return b, ctx, cfg, baseline_of(b, cfg, ctx)


def test_elevation_coverage_is_reported(world: Any) -> None:
    b = world[0]
    el = b.manifest["elevation"]
    share = el["nodes"]["with_dem"] / el["nodes"]["total"]
    assert 0.6 < share < 0.9  # the DEM stops at 45 N and 7 E
    assert 0.75 < el["residents_with_dem_share"] < 0.9
    without = set(el["municipalities"]["without_dem"])
    assert {"001263", "001191", "001022"} <= without  # Sestriere, Pinerolo, Bardonecchia
    assert not {"001272", "001019", "001073"} & without  # Torino, Balme, Ceresole
    cv = b.manifest["roads"]["mountain"]["curvature"]
    assert cv["applied"] and cv["hairpins"] > 1000
    e = b.layer("road_edges")
    assert (e["geometry_kind"] == "true_shape").all()
    # every edge says where its altitude comes from; none is silently flat
    assert set(e["altitude_source"]) <= {"dem", "istat_centre", "none"}
    no_dem = ~e["has_elevation"].to_numpy(bool)
    assert e.loc[no_dem, "climb_m"].isna().sum() > 0


def test_named_climbs(world: Any) -> None:
    b, ctx = world[0], world[1]
    susa = climb(ctx, b, "001270", "001157", label="Susa - Moncenisio")
    assert susa.hairpins >= 10  # the SS25 tornanti above Susa
    assert susa.minutes_mountain > susa.minutes_flat
    lanzo = climb(ctx, b, "001128", "001019", label="Lanzo Torinese - Balme")
    assert 26 <= lanzo.km <= 33
    assert lanzo.climb_m is not None and lanzo.climb_m > 900  # 515 m -> 1,432 m, plus dips
    assert lanzo.added_min >= 2.0  # curves and ramps of the Val d'Ala


def test_winter_preset_on_the_province(world: Any) -> None:
    b, ctx, cfg, base = world
    res = run_winter(
        ctx, base, b.layer("road_edges"), b.layer("road_nodes"), cfg, cfg.winter_scenario()
    )
    roads = res.summary["roads"]
    by_note = {r["ref"] or r["note"]: r for r in roads["closures"]}
    assert by_note["SP172"]["km_closed"] >= 10  # the Finestre above 1,800 m
    assert roads["km_closed"] >= 30 and roads["km_slowed"] > 500
    m = res.municipalities.set_index("pro_com_t")
    # Sestriere (2,035 m, no DEM: ISTAT altitude) is slower to its polo in winter
    assert m.loc["001263", "polo_min_winter"] > m.loc["001263", "polo_min_summer"] + 3
    assert m.loc["001263", "altitude_rule_source"] == "istat_centre"
    # Torino, in the plain, does not change
    assert m.loc["001272", "polo_min_winter"] == m.loc["001272", "polo_min_summer"]
    assert len(res.summary["comuni_changing_class"]) >= 1
    for t in (res.municipalities, res.categories):
        assert not np.isinf(t.select_dtypes("number").to_numpy(dtype=float)).any()
