from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from territorio.planning.config import IndexConfig
from territorio.planning.marginality import marginality_index, weighted_times
from tests.planning.chain import CODES, chain_municipalities

# Two services and the altitude zone only, so every number is easy by hand.
CFG = IndexConfig(
    service_weights={"pharmacy": 0.5, "post_office": 0.25},
    altitude_weight=0.25,
    density_weight=0.0,
    old_age_weight=0.0,
    time_cap_min=45.0,
)


def _inputs() -> tuple[pd.DataFrame, pd.DataFrame]:
    times = pd.DataFrame(
        {
            "pharmacy": [0.0, 9.0, 22.5, 45.0, 90.0],
            "post_office": [4.5, 9.0, np.nan, 45.0, np.inf],
        },
        index=pd.Index(CODES, name="pro_com_t"),
    )
    status = pd.DataFrame(
        {
            "pharmacy": ["ok"] * 5,
            # Carlo: no source covers its post offices -> excluded, not "far"
            "post_office": ["ok", "ok", "no_data", "ok", "ok"],
        },
        index=times.index,
    )
    return times, status


def test_scores_contributions_and_ranks_by_hand() -> None:
    times, status = _inputs()
    out = marginality_index(chain_municipalities(), times, status, cfg=CFG).set_index("name")
    # component scores 100*min(t/45, 1): pharmacy 0, 20, 50, 100, 100;
    # post office 10, 20, (excluded), 100, 100 (inf: nothing reachable -> 100);
    # altitude: plain 0, hill 50, mountain 100, 100, 100.
    # Alfa  = 0.5*0  + 0.25*10  + 0.25*0   = 2.5
    # Bravo = 0.5*20 + 0.25*20  + 0.25*50  = 27.5
    # Carlo = (0.5*50 + 0.25*100) / 0.75   = 66.67 (post office renormalised away)
    # Delta = Eco = 100
    assert out["score"].tolist() == pytest.approx([2.5, 27.5, 66.67, 100.0, 100.0])
    assert out.loc["Carlo", "contrib_pharmacy"] == pytest.approx(33.33)  # 0.5*50/0.75
    assert out.loc["Carlo", "contrib_altitude"] == pytest.approx(33.33)  # 0.25*100/0.75
    assert np.isnan(out.loc["Carlo", "contrib_post_office"])
    assert out.loc["Carlo", "excluded"] == "post_office (no_data)"
    assert out.loc["Bravo", "main_factor"] == "altitude"  # 12.5 > 10 > 5
    # contributions add up to the score
    contrib = out.filter(like="contrib_").fillna(0).sum(axis=1)
    assert contrib.tolist() == pytest.approx(out["score"].tolist(), abs=0.02)
    # ties share the best rank: Delta and Eco 1, Carlo 3, Bravo 4, Alfa 5
    assert out["rank"].tolist() == [5, 4, 3, 1, 1]


def test_outside_coverage_gets_no_score() -> None:
    m = chain_municipalities()
    m.loc[4, "network_coverage"] = "none"
    times, status = _inputs()
    out = marginality_index(m, times, status, cfg=CFG).set_index("name")
    assert out.loc["Eco", "status"] == "outside_coverage"
    assert np.isnan(out.loc["Eco", "score"])
    assert pd.isna(out.loc["Eco", "main_factor"])
    assert out["rank"].tolist()[:4] == [4, 3, 2, 1]


def test_all_service_categories_outside_coverage_means_outside() -> None:
    times, status = _inputs()
    status.loc["001905"] = ["outside_coverage", "outside_coverage"]
    out = marginality_index(chain_municipalities(), times, status, cfg=CFG)
    assert out["status"].tolist()[4] == "outside_coverage"


def test_weighted_times_counts_elderly_more_for_health() -> None:
    cells = pd.DataFrame(
        {
            "cell_id": ["c1", "c2", "c3"] * 2,
            "pro_com_t": ["001901"] * 6,
            "category": ["pharmacy"] * 3 + ["post_office"] * 3,
            "status": ["ok", "ok", "outside_coverage"] * 2,
            "time_min": [10.0, 20.0, np.nan] * 2,
        }
    )
    pop = pd.DataFrame(
        {
            "cell_id": ["c1", "c2", "c3"],
            "pro_com_t": ["001901"] * 3,
            "pop_total": [100.0, 100.0, 1_000.0],
            "pop_65_plus": [50.0, 0.0, 500.0],
        }
    )
    wide = weighted_times(
        cells,
        pop,
        categories=["pharmacy", "post_office"],
        elderly_categories=["pharmacy"],
        elderly_weight=2.0,
    )
    # pharmacy: weights 100+50=150 and 100 -> (150*10 + 100*20) / 250 = 14
    # post office: weights 100 and 100 -> 15; c3 is outside coverage: left out
    assert wide.loc["001901", "pharmacy"] == pytest.approx(14.0)
    assert wide.loc["001901", "post_office"] == pytest.approx(15.0)
