"""``territorio winter`` and ``territorio effect`` on the real Turin bundle.

The Turin road table is OSRM-derived: straight stand-in geometries, no ``ref``
or ``name``. So curvature is not applied (flagged), the default closures say
why they match nothing, and the comuni south of 45 N or west of 7 E (Pinerolo
001191 among them) say they have no DEM, in the bundle, the tables and the
report.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd

from territorio.cli import main

ROOT = Path(__file__).resolve().parents[2]
PLAN = ROOT / "configs" / "plan-torino.toml"


def test_bundle_says_where_there_is_no_dem(torino_bundle: Any) -> None:
    el = torino_bundle.manifest["elevation"]
    assert el["dem"] is True and el["voids_filled"] == 6
    assert 0 < el["nodes"]["with_dem"] < el["nodes"]["total"]
    assert "001191" in el["municipalities"]["without_dem"]  # Pinerolo, 44.89 N
    assert "001272" not in el["municipalities"]["without_dem"]  # Torino
    m = torino_bundle.layer("municipalities").set_index("pro_com_t")
    assert not m.loc["001191", "has_elevation"]
    assert m.loc["001191", "altitude_rule_source"] == "istat_centre"
    assert m.loc["001191", "altitude_rule_m"] == m.loc["001191", "altitude_m"]
    # Torino's capoluogo point on the DEM: about 240 m (ISTAT gives 239)
    assert abs(m.loc["001272", "altitude_dem_m"] - 239) < 25
    e = torino_bundle.layer("road_edges")
    assert (e["geometry_kind"] == "straight_standin").all()
    assert torino_bundle.manifest["roads"]["mountain"]["curvature"]["applied"] is False
    from territorio.info import format_info

    info = format_info(torino_bundle)
    n = len(el["municipalities"]["without_dem"])
    assert re.search(rf"comuni without DEM\s+{n}\b", info)
    assert "curvature" in info and "straight stand-in" in info


def test_winter_and_effect_commands(torino_bundle: Any, tmp_path: Path, capsys: Any) -> None:
    assert main(["winter", str(torino_bundle.path), "-c", str(PLAN), "-o", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "SP172" in out and "ref" in out  # the closure cannot match: no ref column
    summary = json.loads((tmp_path / "winter_winter_summary.json").read_text(encoding="utf-8"))
    assert summary["roads"]["edges_closed"] == 0
    assert "001191" in summary["comuni_without_dem"]
    t = pd.read_csv(tmp_path / "winter_winter_municipalities.csv", dtype={"pro_com_t": str})
    assert len(t) == 312
    assert not t.set_index("pro_com_t").loc["001191", "has_elevation"]

    assert main(["effect", str(torino_bundle.path), "-c", str(PLAN), "-o", str(tmp_path),
                 "--json", str(tmp_path / "effect.json")]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "DEM" in out and "Pinerolo - Sestriere" in out
    eff = pd.read_csv(tmp_path / "effect.csv", dtype={"pro_com_t": str})
    # straight stand-ins and no mountain above 1,000 m in the table: nothing changes
    ok = eff["winter_status"] == "ok"
    assert (eff.loc[ok, "curves_slopes_added_min"].abs() < 0.05).all()
    figures = json.loads((tmp_path / "effect.json").read_text(encoding="utf-8"))
    assert figures["coverage"]["municipalities_without_dem"] == len(
        torino_bundle.manifest["elevation"]["municipalities"]["without_dem"]
    )
