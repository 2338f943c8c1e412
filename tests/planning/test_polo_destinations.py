"""Poli intercomunali: every time goes to the ONE destination member, not the nearest member."""

from __future__ import annotations

import pandas as pd
import pytest
from pydantic import ValidationError

from territorio.errors import UnknownAreaError
from territorio.planning.config import OFFICIAL_POLI, PlanConfig, PoliCriteria
from territorio.planning.snai import classify, classify_with, poli_frame, polo_destinations
from tests.planning.chain import CODES, chain_context, chain_municipalities

ALFA, BRAVO, CARLO, DELTA, ECO = CODES
T2020 = (27.7, 40.9, 66.9)

# Alfa -30- Bravo -25- Carlo -8- Delta -40- Eco (minutes, both ways).
# Eco is a polo; Bravo + Carlo form a polo intercomunale.
EDGES = [(0, 1, 30, 30), (1, 2, 25, 25), (2, 3, 8, 8), (3, 4, 40, 40)]


@pytest.fixture(scope="module")
def ctx():
    return chain_context(EDGES)


def _classify(ctx, destinations=None):
    m = chain_municipalities()
    return classify(
        ctx,
        m,
        None,
        poli=[ECO],
        poli_intercomunali=[BRAVO, CARLO],
        destinations=destinations,
        thresholds=T2020,
    )


def test_a_comune_nearer_a_non_destination_member_gets_the_time_to_the_destination(ctx) -> None:
    tab, pf, notes = _classify(ctx, {BRAVO: BRAVO, CARLO: BRAVO})
    t = tab.set_index("pro_com_t")
    # Delta is 8 min from Carlo, but Carlo is not the destination: targets are
    # Bravo (8 + 25 = 33 min) and the polo Eco (40 min) -> 33 min to Bravo, and
    # 27.7 <= 33 < 40.9 -> D Intermedio (with the nearest member it was 8 -> C).
    assert t.loc[DELTA, "time_to_polo_min"] == pytest.approx(33.0, abs=1e-3)
    assert t.loc[DELTA, "polo_destination"] == BRAVO
    assert t.loc[DELTA, "polo_destination_name"] == "Bravo"
    assert t.loc[DELTA, "snai_class"] == "D"
    # Alfa: Bravo 30 min, Eco 30 + 25 + 8 + 40 = 103 -> 30 to Bravo, D
    assert t.loc[ALFA, "time_to_polo_min"] == pytest.approx(30.0, abs=1e-3)
    assert t.loc[ALFA, "polo_destination"] == BRAVO
    # both members are class B, time 0, and say where their group's times go
    assert t.loc[[BRAVO, CARLO], "snai_class"].tolist() == ["B", "B"]
    assert t.loc[[BRAVO, CARLO], "polo_destination"].tolist() == [BRAVO, BRAVO]
    assert t.loc[[BRAVO, CARLO], "polo_group"].tolist() == ["I1", "I1"]
    assert t.loc[ECO, "polo_destination"] == ECO
    assert pf.set_index("pro_com_t").loc[CARLO, "polo_destination"] == BRAVO
    assert "polo intercomunale I1 (Bravo - Carlo): times measured to 001902 Bravo (configured)" in (
        notes
    )


def test_the_destination_is_configurable(ctx) -> None:
    tab, _, _ = _classify(ctx, {BRAVO: CARLO, CARLO: CARLO})
    t = tab.set_index("pro_com_t")
    # now Carlo is the destination: Delta 8 min -> C; Alfa 30 + 25 = 55 min to
    # Carlo (Eco 103) -> 40.9 <= 55 < 66.9 -> E Periferico
    assert t.loc[DELTA, "time_to_polo_min"] == pytest.approx(8.0, abs=1e-3)
    assert t.loc[DELTA, "snai_class"] == "C"
    assert t.loc[ALFA, "time_to_polo_min"] == pytest.approx(55.0, abs=1e-3)
    assert t.loc[ALFA, ["polo_destination", "snai_class"]].tolist() == [CARLO, "E"]


def test_default_destination_is_the_most_populous_member_and_is_noted(ctx) -> None:
    # no destination given: Bravo (2,000 residents) before Carlo (1,000); the
    # two are contiguous, so one group
    tab, _, notes = _classify(ctx)
    t = tab.set_index("pro_com_t")
    assert t.loc[DELTA, ["time_to_polo_min", "polo_destination"]].tolist() == [
        pytest.approx(33.0, abs=1e-3),
        BRAVO,
    ]
    assert any("times measured to 001902 Bravo (most populous member" in n for n in notes)


def test_plan_config_key_reaches_the_classification(ctx) -> None:
    cfg = PlanConfig(
        poli=[ECO],
        poli_intercomunali=[BRAVO, CARLO],
        polo_destinations={BRAVO: CARLO, CARLO: CARLO},
        siting=None,
    )
    tab, _, _ = classify_with(cfg, ctx, chain_municipalities(), None)
    assert tab.set_index("pro_com_t").loc[ALFA, "polo_destination"] == CARLO


def test_non_contiguous_members_without_destinations_are_separate_groups() -> None:
    m = chain_municipalities()
    pf, notes = poli_frame(
        m, None, poli=[CARLO], poli_intercomunali=[ALFA, BRAVO, DELTA, ECO], criteria=PoliCriteria()
    )
    p = pf.set_index("pro_com_t")
    # Alfa-Bravo and Delta-Eco touch; Carlo (a polo) separates them
    assert p.loc[[ALFA, BRAVO, DELTA, ECO], "polo_group"].tolist() == ["I1", "I1", "I2", "I2"]
    # most populous: Alfa 10,000 > Bravo 2,000; Delta 500 > Eco 300
    assert p.loc[[ALFA, BRAVO, DELTA, ECO], "polo_destination"].tolist() == [
        ALFA,
        ALFA,
        DELTA,
        DELTA,
    ]
    assert p.loc[CARLO, "polo_destination"] == CARLO
    assert p.loc[ALFA, "polo_type"] == "intercomunale"
    assert sum("most populous member" in n for n in notes) == 2


def test_bad_destinations_are_clear_errors() -> None:
    m = chain_municipalities()
    with pytest.raises(UnknownAreaError, match=r"polo_destinations: 001901 not member"):
        poli_frame(
            m,
            None,
            poli=[ECO],
            poli_intercomunali=[BRAVO, CARLO],
            destinations={BRAVO: ALFA},
            criteria=PoliCriteria(),
        )
    # a derived group (Carlo + Delta) given a destination outside it
    derived = pd.DataFrame(
        {
            "pro_com_t": CODES,
            "polo_type": ["polo", "", "intercomunale", "intercomunale", "intercomunale"],
            "polo_group": ["", "", "I1", "I1", "I2"],
        }
    )
    with pytest.raises(UnknownAreaError, match=r"I1 \(001903, 001904\).*ONE destination"):
        polo_destinations(m, derived, {CARLO: ECO})
    with pytest.raises(ValidationError, match="must be its own destination"):
        PlanConfig(polo_destinations={BRAVO: CARLO, CARLO: BRAVO})
    with pytest.raises(ValidationError, match="6-digit"):
        PlanConfig(polo_destinations={"1090": "001090"})


def test_the_2020_preset_sends_its_poli_intercomunali_to_collegno_and_nichelino() -> None:
    preset = OFFICIAL_POLI["official-2020-torino"]
    # Rivoli 001219, Collegno 001090, Alpignano 001008, Rosta 001228 -> Collegno;
    # Nichelino 001164, Orbassano 001171 -> Nichelino
    assert set(preset.destinations) == set(preset.intercomunali)
    assert {k for k, v in preset.destinations.items() if v == "001090"} == {
        "001219",
        "001090",
        "001008",
        "001228",
    }
    assert {k for k, v in preset.destinations.items() if v == "001164"} == {"001164", "001171"}
    # a user key overrides the preset (validated against its members)
    with pytest.raises(UnknownAreaError, match="not member"):
        poli_frame(
            chain_municipalities(),
            None,
            poli="official-2020-torino",
            destinations={"001171": "001272"},
            criteria=PoliCriteria(),
        )


def test_reports_say_where_each_time_goes(ctx) -> None:
    from territorio.planning.report import cluster_report, overview_report

    tab, _, _ = _classify(ctx, {BRAVO: BRAVO, CARLO: BRAVO})
    index = pd.DataFrame({"name": [], "status": [], "score": [], "rank": []})
    clusters = pd.DataFrame(columns=["cluster_id", "name_it", "pop_total", "pop_65_plus"])
    manifest = {"reference_points": {"istat_2011_centre": 4, "osm_place": 1}}
    it = overview_report(tab, index, clusters, lang="it", manifest=manifest)
    assert "- polo: Eco" in it
    assert "- polo intercomunale I1: Bravo – Carlo; tempi misurati a **Bravo**" in it
    assert "- centro capoluogo ISTAT 2011 (`istat_2011_centre`): 4" in it
    en = overview_report(tab, index, clusters, lang="en", manifest=manifest)
    assert "inter-municipal hub I1: Bravo – Carlo; times measured to **Bravo**" in en
    members = tab.assign(pop_total=1, pop_65_plus=1, score=1.0, status="ok", main_factor="")
    cluster = {
        "cluster_id": "C01",
        "name_it": "Delta",
        "pop_total": 500,
        "pop_65_plus": 150,
        "area_km2": 100.0,
        "n_members": 1,
        "mean_score": 1.0,
    }
    text = cluster_report(cluster, members[members["pro_com_t"] == DELTA], lang="it")
    # Delta: 33 min to Bravo (hand calculation in the first test)
    assert "| D Intermedio | 33 min (Bravo) |" in text
