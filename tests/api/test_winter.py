"""POST /planning/scenarios with the winter preset, on the hand-made API bundle.

The API bundle's roads are a grid without ``ref``, ``name`` or altitude
columns (as an OSRM-derived table): the preset must run, say that its
closures matched nothing and why, count the edges without altitude (never
assumed low), and change nothing.
"""

from __future__ import annotations

from fastapi.testclient import TestClient

from territorio.api.models import ScenarioOut

from .support import body, problem


def test_winter_preset_runs_and_explains_what_it_could_not_match(plan_client: TestClient) -> None:
    r = plan_client.post("/planning/scenarios", json={"preset": "winter", "only_changed": False})
    out = body(r, ScenarioOut)
    assert out.name == "winter" and out.winter is not None
    w = out.winter
    assert w.edges_closed == 0 and w.edges_slowed == 0
    assert [c.ref for c in w.closures] == ["SP172", "SP50", None, "SP173", None]
    # no ref, name, comune or altitude on these edges: every rule says what is missing
    assert all(c.unmatched_reason and "column" in c.unmatched_reason for c in w.closures)
    assert w.closures[2].municipalities == ["001073"] and w.closures[2].above_m == 1700
    assert w.edges_without_altitude > 0
    assert out.changed == 0 and out.class_changes == 0
    assert [m.pro_com_t for m in out.items] == ["001001", "001002", "001003"]
    ind = out.items[0].indicators
    assert {i.category for i in ind} >= {"pharmacy"}
    assert all(i.status_after in {"ok", "no_data", "outside_coverage"} for i in ind)
    assert any("SP172" in n for n in out.notes)
    assert w.seconds >= 0


def test_preset_errors(plan_client: TestClient) -> None:
    p = problem(plan_client.post("/planning/scenarios", json={"preset": "estate"}), 422)
    assert "estate" in p.detail and "winter" in p.detail
    both = {"preset": "winter", "changes": [{"action": "remove", "service_id": "moh:F1"}]}
    p = problem(plan_client.post("/planning/scenarios", json=both), 422)
    assert p.errors is not None and p.errors[0].field == "body.changes"
    p = problem(plan_client.post("/planning/scenarios", json={"preset": "bad name"}), 422)
    assert p.errors is not None and p.errors[0].field == "body.preset"
