from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from territorio.errors import MissingColumnError
from territorio.planning.siting import greedy_max_cover, load_candidates, site_services
from tests.planning.chain import CODES, NAMES, chain_context, service_at

# Road times in minutes (i -> j, j -> i). Carlo -> Delta is 12 min but
# Delta -> Carlo 18 (a slow climb back), so a site in Delta serves Carlo's
# residents and a site in Carlo does not serve Delta's.
EDGES = [(0, 1, 10, 10), (1, 2, 16, 16), (2, 3, 12, 18), (3, 4, 20, 20)]


def test_greedy_exact_gains_on_a_small_matrix() -> None:
    cover = sp.csr_matrix(np.array([[1, 1, 0, 0], [0, 1, 1, 1], [0, 0, 0, 1]], dtype=bool))
    w = np.array([5.0, 1.0, 2.0, 3.0])
    chosen, gains = greedy_max_cover(cover, w, 3)
    # gains: row0 = 6, row1 = 6, row2 = 3 -> tie, first row wins: row0 (6)
    # then row1 adds cells 2, 3 = 5; row2 adds nothing (cell 3 taken) -> stop
    assert chosen == [0, 1]
    assert gains == [6.0, 5.0]


def test_siting_on_the_chain_by_hand() -> None:
    ctx = chain_context(EDGES)
    services = service_at("001901", "pharmacy", "ph:alfa")
    res = site_services(
        ctx,
        services,
        categories=["pharmacy"],
        k=3,
        t_min=15.0,
        names=dict(zip(CODES, NAMES, strict=True)),
    )
    # Time to the pharmacy in Alfa: Alfa 0, Bravo 10 (served, <= 15), Carlo 26,
    # Delta 38, Eco 58 -> not served: Carlo 1000, Delta 500, Eco 300 residents.
    # Residents within 15 min driving TO each candidate:
    #   Alfa {Alfa, Bravo}, Bravo {Alfa, Bravo}, Carlo {Carlo} (Delta->Carlo 18),
    #   Delta {Carlo (12), Delta}, Eco {Eco} (Delta->Eco 20).
    # Gains: Carlo 1000, Delta 1500, Eco 300 -> Delta; then Carlo 0, Eco 300 -> Eco;
    # then nobody is left to serve -> stop after 2 sites.
    assert res.sites["name"].tolist() == ["Delta", "Eco"]
    assert res.sites["marginal_gain"].tolist() == [1500.0, 300.0]
    # before: Alfa + Bravo = 12000 of 13800; after Delta 13500, after Eco 13800
    assert res.sites["served_before"].tolist() == [12000.0, 13500.0]
    assert res.sites["served_after"].tolist() == [13500.0, 13800.0]
    assert res.sites["share_after"].iloc[-1] == pytest.approx(1.0)
    # 65+: Carlo 300 + Delta 150 via Delta; Eco 120
    assert res.sites["marginal_gain_65"].tolist() == [450.0, 120.0]
    assert res.summary["served_today"] == 12000.0
    assert res.cells["served_by"].fillna("-").tolist() == ["-", "-", "001904", "001904", "001905"]


def test_siting_in_a_cluster_with_elderly_demand() -> None:
    ctx = chain_context(EDGES)
    services = service_at("001901", "pharmacy", "ph:alfa")
    res = site_services(
        ctx,
        services,
        categories=["pharmacy"],
        k=1,
        t_min=15.0,
        demand="pop_65_plus",
        municipalities=["001903", "001904"],
    )
    # cluster {Carlo, Delta}: candidates Carlo (covers Carlo 300) and Delta
    # (covers Carlo 300 + Delta 150 = 450) -> Delta
    assert res.sites["site_id"].tolist() == ["001904"]
    assert res.sites["marginal_gain"].tolist() == [450.0]
    assert res.summary["in_scope"] == 450.0


def test_no_data_cells_are_left_out_of_the_demand() -> None:
    # pharmacies known only in Alfa..Carlo: Delta and Eco cannot be judged
    ctx = chain_context(EDGES, service_categories={"pharmacy": {"count": 1, "coverage": CODES[:3]}})
    res = site_services(
        ctx,
        service_at("001901", "pharmacy", "ph:alfa"),
        categories=["pharmacy"],
        k=2,
        t_min=15.0,
    )
    # only Carlo (1000) is judged and unserved; Delta's site covers it as well as
    # Carlo's, Carlo comes first in candidate order on a tie -> Carlo
    assert res.sites["site_id"].tolist() == ["001903"]
    assert res.summary["unknown"] == 800.0  # Delta 500 + Eco 300


def test_candidates_file(tmp_path) -> None:
    p = tmp_path / "sites.csv"
    p.write_text("site_id,name,lon,lat\nx1,Piazza,7.1,45.2\n", encoding="utf-8")
    got = load_candidates(p)
    assert got.to_dict("records") == [{"site_id": "x1", "name": "Piazza", "lon": 7.1, "lat": 45.2}]
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(MissingColumnError, match="lon"):
        load_candidates(bad)


def test_a_category_without_any_data_does_not_hide_the_demand() -> None:
    ctx = chain_context(EDGES)
    res = site_services(
        ctx,
        service_at("001901", "pharmacy", "ph:alfa"),
        categories=["pharmacy", "digital_help"],
        k=1,
        t_min=15.0,
    )
    # no source of digital help at all: it is left out of the "served today"
    # test, so the answer is the pharmacy-only one (Delta, 1500 residents)
    assert res.summary["categories_without_data"] == ["digital_help"]
    assert res.sites["site_id"].tolist() == ["001904"]
    assert res.sites["marginal_gain"].tolist() == [1500.0]
