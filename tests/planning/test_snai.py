from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from territorio.errors import UnknownAreaError
from territorio.planning._graph import adjacency
from territorio.planning.config import PlanConfig, PoliCriteria
from territorio.planning.snai import classify_times, derive_poli, poli_frame, snai_table
from tests.planning.chain import CODES, chain_municipalities, chain_services


def test_adjacency_of_the_chain_is_a_path() -> None:
    adj = adjacency(chain_municipalities()).toarray()
    # squares i and i+1 share an edge; i and i+2 are 10 km apart
    expected = np.zeros((5, 5), dtype=bool)
    for i in range(4):
        expected[i, i + 1] = expected[i + 1, i] = True
    assert (adj == expected).all()


def test_classes_2020_and_2014_presets() -> None:
    t = [0.0, 15.0, 30.0, 50.0, 80.0]
    pt = ["polo", "", "", "", ""]
    # 2020: 15 < 27.7 -> C; 27.7 <= 30 < 40.9 -> D; 40.9 <= 50 < 66.9 -> E; 80 >= 66.9 -> F
    got = classify_times(t, thresholds=(27.7, 40.9, 66.9), polo_type=pt)
    assert list(got) == ["A", "C", "D", "E", "F"]
    # 2014: 15 < 20 -> C; 20 <= 30 < 40 -> D; 40 <= 50 < 75 -> E; 80 >= 75 -> F
    got = classify_times(t, thresholds=(20.0, 40.0, 75.0), polo_type=pt)
    assert list(got) == ["A", "C", "D", "E", "F"]
    # custom 10/20/30: 15 -> D, 30 -> F (boundaries belong to the upper class)
    got = classify_times(t, thresholds=(10.0, 20.0, 30.0), polo_type=pt)
    assert list(got) == ["A", "D", "F", "F", "F"]


def test_outside_coverage_never_gets_a_time_class() -> None:
    got = classify_times(
        [5.0, np.nan, np.inf, 10.0],
        thresholds=(27.7, 40.9, 66.9),
        outside=[False, False, False, True],
    )
    assert list(got) == ["C", "outside_coverage", "outside_coverage", "outside_coverage"]


def _chain_services() -> pd.DataFrame:
    silver = '{"rfi_category": "Silver"}'
    return chain_services(
        [
            # Alfa meets every criterion alone -> polo
            ("s:liceo-a", "secondary_school", "001901", '{"school_type": "liceo"}'),
            ("s:itis-a", "secondary_school", "001901", '{"school_type": "tecnico"}'),
            ("h:a", "hospital", "001901", '{"emergency": "yes"}'),
            ("r:a", "railway_station", "001901", silver),
            # Carlo: liceo + emergency hospital; Delta: vocational school + Silver
            # station -> together (adjacent) a polo intercomunale
            ("s:liceo-c", "secondary_school", "001903", '{"school_type": "liceo"}'),
            ("h:c", "hospital", "001903", '{"emergency": true}'),
            ("s:ipsia-d", "secondary_school", "001904", '{"school_type": "professionale"}'),
            ("r:d", "railway_station", "001904", silver),
            # Eco has a Silver station too, adjacent to Delta, but adds nothing the
            # Carlo+Delta pair lacks -> pruned from the group
            ("r:e", "railway_station", "001905", silver),
            # Bravo: a hospital without emergency department -> meets nothing
            ("h:b", "hospital", "001902", '{"emergency": "no"}'),
        ]
    )


def test_derive_poli_and_polo_intercomunale() -> None:
    poli, notes = derive_poli(chain_municipalities(), _chain_services(), criteria=PoliCriteria())
    assert list(poli["polo_type"]) == ["polo", "", "intercomunale", "intercomunale", ""]
    assert list(poli["polo_group"]) == ["", "", "I1", "I1", ""]
    assert notes == []


def test_relaxed_criteria_are_noted() -> None:
    svc = _chain_services()
    svc.loc[svc["category"] == "railway_station", "attributes"] = '{"tipoStazione": 3}'
    poli, notes = derive_poli(chain_municipalities(), svc, criteria=PoliCriteria())
    # no Silver station anywhere -> no polo, and a note saying how to relax
    assert (poli["polo_type"] == "").all()
    assert any("station" in n and "station_types" in n for n in notes)
    crit = PoliCriteria(station="silver", station_types=[3])
    poli, _ = derive_poli(chain_municipalities(), svc, criteria=crit)
    assert list(poli["polo_type"]) == ["polo", "", "intercomunale", "intercomunale", ""]


def test_snai_table_with_given_poli() -> None:
    m = chain_municipalities()
    m.loc[4, "network_coverage"] = "none"
    poli, _ = poli_frame(m, None, poli=["001901"], criteria=PoliCriteria())
    times = pd.DataFrame(
        {
            "pro_com_t": CODES,
            "time_min": [0.0, 15.0, 30.0, 50.0, np.nan],
            "polo_destination": ["001901"] * 4 + [None],
        }
    )
    tab = snai_table(m, poli, times, thresholds=PlanConfig().thresholds)
    assert list(tab["snai_class"]) == ["A", "C", "D", "E", "outside_coverage"]
    assert list(tab["area_interna"]) == [False, False, True, True, False]
    assert tab["time_to_polo_min"].iloc[4] != tab["time_to_polo_min"].iloc[4]  # NaN
    assert tab["polo_destination_name"].iloc[3] == "Alfa"
    assert tab["snai_label_it"].iloc[3] == "Periferico"


def test_unknown_polo_code_is_a_clear_error() -> None:
    with pytest.raises(UnknownAreaError, match="001999"):
        poli_frame(chain_municipalities(), None, poli=["001999"], criteria=PoliCriteria())


def test_classification_with_the_engine_on_the_chain() -> None:
    from territorio.planning.snai import classify
    from tests.planning.chain import chain_context

    # Alfa -10- Bravo -16- Carlo -12/18- Delta -20- Eco (minutes, both ways
    # except Carlo->Delta 12, Delta->Carlo 18). Polo: Alfa. Times TO Alfa:
    # Bravo 10, Carlo 26, Delta 18+26 = 44, Eco 20+44 = 64.
    # 2020 thresholds 27.7/40.9/66.9: Bravo C, Carlo C, Delta E, Eco E.
    ctx = chain_context([(0, 1, 10, 10), (1, 2, 16, 16), (2, 3, 12, 18), (3, 4, 20, 20)])
    m = chain_municipalities()
    tab, _, notes = classify(ctx, m, None, poli=["001901"], thresholds=(27.7, 40.9, 66.9))
    assert tab["time_to_polo_min"].tolist() == pytest.approx(
        [0.0, 10.0, 26.0, 44.0, 64.0], abs=1e-3
    )
    assert tab["snai_class"].tolist() == ["A", "C", "C", "E", "E"]
    assert set(tab["polo_destination"]) == {"001901"}
    # 2014 thresholds 20/40/75: Carlo 26 -> D, Delta 44 -> E, Eco 64 -> E
    tab, _, _ = classify(ctx, m, None, poli=["001901"], thresholds=(20.0, 40.0, 75.0))
    assert tab["snai_class"].tolist() == ["A", "C", "D", "E", "E"]
    # two poli: Alfa and Eco -> Delta is 20 min from Eco (C), Carlo 26 from Alfa
    # vs 12+20 = 32 to Eco -> nearest Alfa
    tab, _, _ = classify(ctx, m, None, poli=["001901", "001905"])
    assert tab["polo_destination_name"].tolist() == ["Alfa", "Alfa", "Alfa", "Eco", "Eco"]
    assert tab["time_to_polo_min"].tolist() == pytest.approx([0.0, 10.0, 26.0, 20.0, 0.0], abs=1e-3)
    assert notes == ["poli given as a list"]


def test_no_polo_at_all_is_a_clear_error() -> None:
    from territorio.errors import DataValidationError
    from territorio.planning.snai import classify
    from tests.planning.chain import chain_context

    ctx = chain_context([(0, 1, 10, 10), (1, 2, 16, 16), (2, 3, 12, 18), (3, 4, 20, 20)])
    svc = chain_services([("h:a", "hospital", "001901", '{"emergency": "no"}')])
    with pytest.raises(DataValidationError, match=r"criteria\.hospital = 'any'"):
        classify(ctx, chain_municipalities(), svc, poli="derive")
