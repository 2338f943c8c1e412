"""Duplicate merging, on points placed at hand-computed distances.

Distances: one degree of latitude at 45.05 N is 111,134 m, so 0.00018 deg north is
20.004 m on the ellipsoid; in UTM 32N (the metric CRS estimated for Turin) the scale
factor at 7.65 E (1.35 deg west of the 9 E central meridian) is
0.9996 x (1 + (0.02356 rad x cos 45.05)^2 / 2) = 0.99974, so 20.004 m -> 19.999 m.
Likewise 0.00036 deg -> 40.0 m, 0.00054 deg -> 60.0 m, 0.00072 deg -> 80.0 m.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import shapely

from territorio.errors import DataValidationError
from territorio.ingest.services import load_service_source, merge_services
from territorio.ingest.services.merge import source_rank
from tests.ingest.services._toy import cfg, write
from tests.ingest.services.test_registries import MOH_HEADER, MOH_ROWS

LON, LAT = 7.65, 45.05


def part(source: str, rows: list[tuple[str, str, float, float]]) -> gpd.GeoDataFrame:
    """rows: (source_id, category, degrees north of LAT, capacity)."""
    return gpd.GeoDataFrame(
        {
            "service_id": [f"{source}:{r[0]}" for r in rows],
            "category": [r[1] for r in rows],
            "name": [f"{source} {r[0]}" for r in rows],
            "source": source,
            "source_id": [r[0] for r in rows],
            "pro_com_t": "001272",
            "capacity": [r[3] for r in rows],
            "attributes": "{}",
        },
        geometry=shapely.points(np.full(len(rows), LON), LAT + np.array([r[2] for r in rows])),
        crs="EPSG:4326",
    )


def test_utm_distance_of_the_offsets() -> None:
    pts = gpd.GeoSeries(shapely.points([LON] * 2, [LAT, LAT + 0.00018]), crs=4326)
    m = pts.to_crs(pts.estimate_utm_crs())
    assert m.iloc[0].distance(m.iloc[1]) == pytest.approx(19.999, abs=0.01)


def test_registry_wins_and_records_merged_ids() -> None:
    nan = math.nan
    osm = part(
        "osm",
        [
            ("node/1", "pharmacy", 0.00018, nan),  # 20 m from moh:A -> merged into it
            ("node/2", "pharmacy", 0.00054, nan),  # 60 m from moh:A -> kept
            ("node/3", "library", 0.0, nan),  # same point as moh:A, other category -> kept
        ],
    )
    moh = part("moh", [("A", "pharmacy", 0.0, nan)])
    # OSM listed first: the priority, not the order, decides who is kept
    out, report = merge_services([osm, moh], dedup_m=50)
    assert sorted(out.service_id) == ["moh:A", "osm:node/2", "osm:node/3"]
    kept = out.set_index("service_id")
    assert json.loads(kept.loc["moh:A", "attributes"])["merged"] == ["osm:node/1"]
    assert report == {
        "input": 4,
        "output": 3,
        "merged": {"pharmacy": 1},
        "merged_by_source": {"osm": 1},
    }
    # at 15 m nothing is merged (20 m > 15 m)
    out15, rep15 = merge_services([osm, moh], dedup_m=15)
    assert len(out15) == 4 and rep15["merged"] == {}


def test_same_source_never_merged_and_nearest_wins() -> None:
    nan = math.nan
    # Two registry pharmacies 20 m apart stay two. An OSM node 0.00006 deg north of E is
    # 6.7 m from E and 13.3 m from F (20 m - 6.7 m): it goes to the nearest, E.
    moh = part("moh", [("E", "pharmacy", 0.0, nan), ("F", "pharmacy", 0.00018, nan)])
    osm = part("osm", [("node/9", "pharmacy", 0.00006, nan)])
    out, report = merge_services([moh, osm], dedup_m=50)
    kept = out.set_index("service_id")
    assert sorted(kept.index) == ["moh:E", "moh:F"]
    assert json.loads(kept.loc["moh:E", "attributes"])["merged"] == ["osm:node/9"]
    assert "merged" not in json.loads(kept.loc["moh:F", "attributes"])
    assert report["merged"] == {"pharmacy": 1}


def test_no_transitive_chains() -> None:
    nan = math.nan
    gisco = part("gisco", [("H1", "hospital", 0.0, 300.0)])
    # H2 is 40 m from H1 (merged), H3 is 80 m from H1 and 40 m from H2 (kept)
    osm = part("osm", [("way/2", "hospital", 0.00036, nan), ("way/3", "hospital", 0.00072, nan)])
    out, _ = merge_services([gisco, osm], dedup_m=50)
    assert sorted(out.service_id) == ["gisco:H1", "osm:way/3"]


def test_capacity_and_name_filled_from_merged_row() -> None:
    iccu = part("iccu", [("IT-TO0001", "library", 0.0, math.nan)])
    iccu["name"] = ""
    table = part("table-libs", [("7", "library", 0.00018, 120.0)])
    out, report = merge_services([table, iccu], dedup_m=50)
    assert len(out) == 1
    row = out.iloc[0]
    assert row["service_id"] == "iccu:IT-TO0001"  # registry (rank 0) beats table (rank 1)
    assert row["capacity"] == 120.0 and row["name"] == "table-libs 7"
    assert report["merged_by_source"] == {"table-libs": 1}


def test_same_osm_feature_from_two_paths_is_merged_at_zero_distance() -> None:
    a = part("osm", [("node/5", "post_office", 0.0, math.nan)])
    b = part("osm", [("node/5", "post_office", 0.0, math.nan)])
    out, report = merge_services([a, b], dedup_m=0)
    assert list(out.service_id) == ["osm:node/5"]
    assert report["merged"] == {"post_office": 1}


def test_empty_and_invalid() -> None:
    out, report = merge_services([], dedup_m=50)
    assert len(out) == 0 and report["input"] == 0
    with pytest.raises(DataValidationError, match="dedup_m"):
        merge_services([], dedup_m=-1)


def test_source_rank() -> None:
    assert source_rank("gisco") == 0 and source_rank("moh") == 0
    assert source_rank("table-welfare_points") == 1
    assert source_rank("gtfs-gtt_gtfs") == 2
    assert source_rank("osm") == 3
    assert source_rank("someone-else") == 4


def test_adapters_then_merge_registry_and_osm_pharmacy(
    tmp_path: Path, load_kw: dict[str, Any]
) -> None:
    """A Ministry pharmacy and the OSM node of the same pharmacy 20 m north of it, read by
    their adapters from files in the real layouts, become one row."""
    moh = load_service_source(
        cfg("moh_pharmacies"),
        location=str(write(tmp_path, "f.csv", MOH_HEADER + MOH_ROWS)),
        **load_kw,
    ).data
    lon, lat = 7.688358686508202, 45.06765224562872 + 0.00018  # 20 m north of moh:1
    geo = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": "node/77",
                "properties": {"@id": "node/77", "amenity": "pharmacy", "name": "Farmacia"},
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
            }
        ],
    }
    osm = load_service_source(
        cfg("osm_geojson"),
        location=str(write(tmp_path, "p.geojson", json.dumps(geo))),
        **load_kw,
    ).data
    out, report = merge_services([osm, moh], dedup_m=50)
    assert len(out) == len(moh) == 2  # moh:1 and moh:2; the OSM node merged into moh:1
    kept = out.set_index("service_id")
    assert json.loads(kept.loc["moh:1", "attributes"])["merged"] == ["osm:node/77"]
    assert report["merged"] == {"pharmacy": 1}
