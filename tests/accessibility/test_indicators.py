from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from territorio.accessibility.compute import compute_access
from territorio.accessibility.context import AccessContext
from territorio.accessibility.indicators import (
    category_indicators,
    municipality_columns,
    weighted_quantiles,
)
from territorio.config import AccessConfig
from territorio.errors import UnsupportedModeError
from tests.accessibility.toy_bundle import make_toy_bundle, toy_services

CFG = AccessConfig(thresholds_min=[1.0, 4.0], catchment_min=30.0)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return make_toy_bundle(tmp_path_factory.mktemp("toy") / "toy")


@pytest.fixture(scope="module")
def ctx(bundle):
    return AccessContext.from_bundle(bundle, CFG)


def test_weighted_quantiles_hand_example() -> None:
    # group 0: values 4, 1, 3, 2 with weight 1 each -> sorted 1 2 3 4, cum 1 2 3 4 of 4
    #   median: first cum >= 0.5 * 4 = 2 -> 2 ; p90: first cum >= 3.6 -> 4
    # group 1: values 30, 10, 20 weights 5, 5, 0 -> sorted 10(5) 20(0) 30(5), cum 5 5 10
    #   median: first cum >= 5 -> 10 ; q = 0.6: first cum >= 6 -> 30 (20 weighs nothing)
    # group 2: no values -> NaN
    v = np.array([4, 1, 3, 2, 30, 10, 20], float)
    w = np.array([1, 1, 1, 1, 5, 5, 0], float)
    g = np.array([0, 0, 0, 0, 1, 1, 1])
    q = weighted_quantiles(v, w, g, 3, [0.5, 0.6, 0.9])
    assert q[0].tolist() == [2.0, 3.0, 4.0]  # q = 0.6 -> cum >= 2.4 -> 3
    assert q[1].tolist() == [10.0, 30.0, 30.0]
    assert np.isnan(q[2]).all()


def test_cells_hand_checked(ctx) -> None:
    svc = toy_services()
    cells, _ = category_indicators(ctx, svc[svc.category == "pharmacy"], "pharmacy")
    c = cells.set_index("cell_id")
    assert c["status"].to_dict() == {
        "a": "ok", "b": "ok", "c": "ok", "d": "outside_coverage", "e": "no_data",
    }  # fmt: skip
    # a: node 1 -> 2 (50 s, min of the parallel edges) -> 4 (45 s) = 95 s = 1.58333 min
    assert c.loc["a", "time_min"] == pytest.approx(95 / 60)
    # b: leg 300 m at 5 km/h = 216 s, then 2 -> 4 45 s = 261 s = 4.35 min
    assert c.loc["b", "time_min"] == pytest.approx(261 / 60)
    # c: node 3 -> 4 = 30 s
    assert c.loc["c", "time_min"] == pytest.approx(0.5)
    assert np.isnan(c.loc["d", "time_min"]) and np.isnan(c.loc["e", "time_min"])
    assert c.loc["a", "nearest_service_id"] == "t:ph1"
    assert pd.isna(c.loc["d", "nearest_service_id"])


def test_municipalities_hand_checked(ctx) -> None:
    svc = toy_services()
    _, m = category_indicators(ctx, svc[svc.category == "pharmacy"], "pharmacy")
    assert list(m.columns) == municipality_columns([1.0, 4.0])
    m = m.set_index("pro_com_t")
    a, b, c, d = (m.loc[k] for k in ("001001", "001002", "001003", "001004"))
    # 001001: cells a (100 @ 1.5833) and b (200 @ 4.35), all covered
    assert a["status"] == "ok" and a["covered_pop_share"] == 1.0
    assert a["mean_min"] == pytest.approx((100 * 95 / 60 + 200 * 4.35) / 300)  # 3.42778
    # median: cum 100, 300 of 300; first >= 150 -> 4.35; p90 first >= 270 -> 4.35
    assert a["median_min"] == pytest.approx(4.35) and a["p90_min"] == pytest.approx(4.35)
    assert a["pop_beyond_1"] == 300  # both cells > 1 min
    assert a["pop_beyond_4"] == 200  # only b > 4 min
    assert a["pop65_beyond_4"] == 50 and a["pop_u15_beyond_4"] == 20
    assert a["share_beyond_4"] == pytest.approx(200 / 300)
    assert a["share65_beyond_4"] == pytest.approx(50 / 60)  # 65+: 10 + 50 covered
    assert a["ref_time_min"] == pytest.approx(95 / 60) and a["ref_nearest_service_id"] == "t:ph1"
    # the reference point (node 1) reaches ph1 in 95 s forward: within 15 and 30 min
    assert a["opportunities_15"] == 1 and a["opportunities_30"] == 1
    # 001002: c (300) covered, d (400) outside -> share 3/7, indicators over c only
    assert b["status"] == "partial"
    assert b["covered_pop_share"] == pytest.approx(3 / 7)
    assert b["mean_min"] == pytest.approx(0.5) and b["median_min"] == pytest.approx(0.5)
    assert b["pop_beyond_1"] == 0 and b["share_beyond_1"] == 0
    # 001003: the pharmacy source does not cover it -> no data, no numbers
    assert c["status"] == "no_data"
    assert np.isnan(c["ref_time_min"]) and np.isnan(c["mean_min"]) and np.isnan(c["pop_beyond_4"])
    # 001004: not in the pharmacy source's coverage list either -> no data
    assert d["status"] == "no_data"
    # not a capacity category -> no floating catchment figure
    assert np.isnan(a["sfca"])


def test_sfca_in_indicators(ctx) -> None:
    svc = toy_services()
    _, m = category_indicators(ctx, svc[svc.category == "hospital"], "hospital")
    m = m.set_index("pro_com_t")
    # one hospital, 10 beds; covered cells a, b, c, e (650 residents) all within
    # 261 s < 30 min -> R = 10 / 650; every cell scores 1000 * 10 / 650 = 15.3846
    for code in ("001001", "001002", "001003"):
        assert m.loc[code, "sfca"] == pytest.approx(1000 * 10 / 650)
        # all within the first E2SFCA zone (<= 10 min, weight 1) -> same value
        assert m.loc[code, "e2sfca"] == pytest.approx(1000 * 10 / 650)
    assert m.loc["001003", "status"] == "ok"
    # 001004: no cells, reference point 1500 m from the network -> outside coverage
    d = m.loc["001004"]
    assert d["status"] == "outside_coverage" and d["covered_pop_share"] == 0.0
    assert np.isnan(d["ref_time_min"]) and np.isnan(d["opportunities_15"])
    assert np.isnan(d["mean_min"]) and np.isnan(d["sfca"])


def test_no_data_and_closure(ctx) -> None:
    svc = toy_services()
    # post office: count 0 in the manifest -> no data everywhere
    cells, m = category_indicators(ctx, svc.iloc[0:0], "post_office")
    assert set(cells["status"]) == {"no_data"} and set(m["status"]) == {"no_data"}
    assert m["mean_min"].isna().all()
    # what-if: the only pharmacy closes -> covered cells have no facility: unreachable,
    # never a made-up number; municipalities lose their covered population
    cells, m = category_indicators(ctx, svc.iloc[0:0], "pharmacy")
    c = cells.set_index("cell_id")["status"]
    assert c["a"] == "unreachable" and c["d"] == "outside_coverage" and c["e"] == "no_data"
    assert cells["time_min"].isna().all()
    mm = m.set_index("pro_com_t")
    # 001001: a and b are covered but reach nothing: time +inf, all 300 beyond 4 min
    a = mm.loc["001001"]
    assert a["status"] == "ok" and a["covered_pop_share"] == 1.0
    assert np.isinf(a["mean_min"]) and np.isinf(a["median_min"]) and np.isinf(a["ref_time_min"])
    assert a["pop_beyond_4"] == 300 and a["share_beyond_4"] == 1.0
    assert a["opportunities_15"] == 0
    # 001002: c covered (300 of 700) -> partial; still no number invented
    assert mm.loc["001002", "status"] == "partial"
    assert mm.loc["001002", "pop_beyond_1"] == 300


def test_times_to_nearest_and_times_to(ctx) -> None:
    svc = toy_services()
    lon = svc.geometry.x.to_numpy()[:1]
    lat = svc.geometry.y.to_numpy()[:1]
    nt = ctx.times_to_nearest(lon, lat)
    assert nt.cell_s[:3] == pytest.approx([95.0, 261.0, 30.0])
    assert nt.cell_target[:4].tolist() == [0, 0, 0, -1]
    dense = ctx.times_to(lon, lat, limit_s=100.0)
    at = ctx.at_cells(dense)[0]
    # within 100 s: a (95), c (30); b (261) is beyond -> inf at its node + leg -> NaN-free inf
    assert at[0] == pytest.approx(95.0) and at[2] == pytest.approx(30.0)
    assert not (at[1] <= 100.0)


def test_compute_access_persists(bundle) -> None:
    out = compute_access(bundle, CFG, progress=False)
    assert out.has_layer("access_cells") and out.has_layer("access_municipalities")
    cells = out.layer("access_cells")
    munis = out.layer("access_municipalities")
    n_cats = munis["category"].nunique()
    assert len(munis) == 4 * n_cats and len(cells) == 5 * n_cats
    assert out.manifest["access"]["parameters"]["thresholds_min"] == [1.0, 4.0]
    assert "pharmacy" in out.manifest["access"]["timings_s"]["categories"]
    row = munis[(munis.pro_com_t == "001001") & (munis.category == "pharmacy")].iloc[0]
    assert row["mean_min"] == pytest.approx((100 * 95 / 60 + 200 * 4.35) / 300)
    assert isinstance(munis, pd.DataFrame)


def test_walk_unsupported_on_car_bundle(bundle) -> None:
    with pytest.raises(UnsupportedModeError, match="walk"):
        AccessContext.from_bundle(bundle, CFG, mode="walk")


def test_times_to_k_nearest_cells(ctx) -> None:
    from tests.accessibility.toy import lonlat

    # targets: X at node 3 (2000, 0), Y at node 1 (0, 0), both with no leg
    lon, lat = lonlat([2000, 0], [0, 0])
    t, tgt = ctx.times_to_k_nearest(lon, lat, 2)
    # cell a (node 1): Y 0 s; X 1->2->4->3 = 50 + 45 + 30 = 125 s
    assert t[:, 0].tolist() == [0.0, 125.0] and tgt[:, 0].tolist() == [1, 0]
    # cell b (node 2, leg 216 s): Y 216 + 60 = 276; X 216 + min(120, 45 + 30) = 291
    assert t[:, 1] == pytest.approx([276.0, 291.0]) and tgt[:, 1].tolist() == [1, 0]
    # cell d is outside coverage: NaN / -1
    assert np.isnan(t[:, 3]).all() and (tgt[:, 3] == -1).all()
