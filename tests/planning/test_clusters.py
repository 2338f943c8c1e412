from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from territorio.planning.clusters import cluster_name, find_clusters
from tests.planning.chain import CODES, NAMES, chain_municipalities


def _index() -> pd.DataFrame:
    # scores of test_marginality (Eco outside coverage)
    return pd.DataFrame(
        {
            "pro_com_t": CODES,
            "name": NAMES,
            "status": ["ok"] * 4 + ["outside_coverage"],
            "score": [2.5, 27.5, 66.67, 100.0, np.nan],
            "time_pharmacy": [0.0, 9.0, 22.5, 45.0, np.nan],
            "time_post_office": [4.5, 9.0, np.nan, 45.0, np.nan],
        }
    )


def _snai() -> pd.DataFrame:
    return pd.DataFrame(
        {"pro_com_t": CODES, "snai_class": ["A", "C", "D", "D", "outside_coverage"]}
    )


def test_one_valley_by_score() -> None:
    members, clusters = find_clusters(
        chain_municipalities(),
        _index(),
        _snai(),
        threshold=50.0,
        categories=["pharmacy", "post_office"],
    )
    # flagged: Carlo (66.67) and Delta (100), adjacent -> one cluster
    assert members["cluster_id"].fillna("-").tolist() == ["-", "-", "C01", "C01", "-"]
    c = clusters.iloc[0]
    assert c["name_it"] == "Carlo, Delta"
    assert c["pop_total"] == 1_500  # 1000 + 500
    assert c["pop_65_plus"] == 450  # 300 + 150
    assert c["area_km2"] == pytest.approx(200.0, rel=1e-3)
    # (66.67*1000 + 100*500) / 1500 = 77.78
    assert c["mean_score"] == pytest.approx(77.78, abs=0.01)
    # 1000*0.6667 + 500*1.0 = 1166.7 marginal residents
    assert c["need"] == pytest.approx(1166.7, abs=0.1)
    # post office: only Delta has a time, 45 min; pharmacy (22.5*1000 + 45*500)/1500 = 30
    assert c["lacking"] == "post_office,pharmacy"
    assert "45 min" in c["lacking_text_en"]


def test_class_flags_and_need_order() -> None:
    members, clusters = find_clusters(
        chain_municipalities(),
        _index(),
        _snai(),
        threshold=90.0,
        flag_classes=["C"],
    )
    # Bravo flagged by class C, Delta by score; Carlo (between) is not -> two clusters.
    # need: Bravo 2000*27.5/100 = 550 > Delta 500*100/100 = 500 -> Bravo is C01
    assert members["cluster_id"].fillna("-").tolist() == ["-", "C01", "-", "C02", "-"]
    assert members["flag_reason"].tolist() == ["", "class", "", "score", ""]
    assert clusters["members"].tolist() == ["Bravo", "Delta"]


def test_outside_coverage_is_never_flagged_by_score() -> None:
    idx = _index()
    idx.loc[4, "score"] = 100.0  # even with a stray number, status rules
    members, _ = find_clusters(chain_municipalities(), idx, None, threshold=50.0)
    assert not members["flagged"].iloc[4]


def test_cluster_names() -> None:
    names = ["Balme", "Ceres", "Lanzo Torinese", "Ala di Stura"]
    pops = [100, 1000, 5000, 400]
    assert cluster_name(names, pops, lang="it") == (
        "Lanzo Torinese, Ceres, Ala di Stura e un altro comune"
    )
    assert cluster_name(names, pops, lang="en", show=2) == (
        "Lanzo Torinese, Ceres and 2 more municipalities"
    )


def test_road_linked_splits_neighbours_across_a_ridge() -> None:
    import scipy.sparse as sp

    from territorio.planning._graph import components_of, road_linked

    # A-B-C share boundaries in a row; D (no reference point on the network) borders C.
    # By road A<->B is 10 min each way, B->C 12 min but C->B 40 min (over the pass
    # only one way is short): with a 25-minute limit both ways, A and B form one
    # valley, C another; D keeps its boundary link to C (no road evidence).
    adj = sp.csr_matrix(
        np.array([[0, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 1], [0, 0, 1, 0]], dtype=bool)
    )
    inf = np.inf
    t = np.array([[0, 600, inf, inf], [600, 0, 720, inf], [inf, 2400, 0, inf], [inf, inf, inf, 0]])
    covered = np.array([True, True, True, False])
    linked = road_linked(adj, t, covered, max_s=25 * 60)
    labels = components_of(linked, np.ones(4, dtype=bool))
    assert labels[0] == labels[1] != labels[2] == labels[3]
    assert components_of(adj, np.ones(4, dtype=bool)).tolist() == [0, 0, 0, 0]
