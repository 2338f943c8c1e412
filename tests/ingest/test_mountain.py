"""apply_mountain / sample_areas: columns, direction-aware times, stand-ins, coverage flags."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from affine import Affine

from territorio.ingest.elevation import DemMosaic
from territorio.ingest.mountain import MountainParams, apply_mountain, sample_areas


def _dem_east_slope() -> DemMosaic:
    """z = 1000 m + 7860 m per degree of longitude east of 7.0 E (about 10 % at 45 N),
    covering lon 6.99-7.01 only (east of 7.01 E there is no DEM)."""
    res = 0.0005
    lons = 6.99 + res * (np.arange(40) + 0.5)
    z = np.tile(1000.0 + 7860.0 * (lons - 7.0), (40, 1)).astype(np.float32)
    return DemMosaic(z, np.zeros(z.shape, bool), Affine(res, 0, 6.99, 0, -res, 45.01))


def _layers() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    # 1 -> 2 climbs east inside the DEM; 2 -> 3 continues east beyond it
    nodes = gpd.GeoDataFrame(
        {"node_id": [1, 2, 3]},
        geometry=shapely.points([(6.992, 45.0), (7.004, 45.0), (7.02, 45.0)]),
        crs=4326,
    )
    lines = [shapely.LineString([(6.992, 45.0), (7.004, 45.0)]),
             shapely.LineString([(7.004, 45.0), (7.02, 45.0)])]  # fmt: skip
    length = gpd.GeoSeries(lines, crs=4326).to_crs(32632).length.to_numpy()
    t = length / (50 / 3.6)
    edges = gpd.GeoDataFrame(
        {
            "u": [1, 2],
            "v": [2, 3],
            "length_m": length,
            "travel_time_s": t,
            "travel_time_reverse_s": t,
            "highway": "secondary",
            "car": True,
            "foot": True,
        },
        geometry=lines,
        crs=4326,
    )
    return nodes, edges


def test_gradient_gives_each_direction_its_time_and_flags_coverage() -> None:
    nodes, edges = _layers()
    munis = gpd.GeoDataFrame(
        {"pro_com_t": ["001999"], "altitude_m": [1500.0]},
        geometry=[shapely.box(6.9, 44.9, 7.1, 45.1)],
        crs=4326,
    )
    res = apply_mountain(
        nodes,
        edges,
        params=MountainParams(),
        dem=_dem_east_slope(),
        straight_standin=False,
        municipalities=munis,
    )
    e, n = res.edges, res.nodes
    # edge 0: about 943 m at 10 % up u->v: 5 pieces, u->v speed x 0.90 (time x 1.111),
    # v->u down 10 % speed x 0.97 (time x 1.031); straight, so no curvature effect
    assert e["has_elevation"].iloc[0]
    assert e["grade_max_up_pct"].iloc[0] == pytest.approx(10.0, abs=0.3)
    ratio_f = e["travel_time_s"].iloc[0] / e["travel_time_flat_s"].iloc[0]
    ratio_r = e["travel_time_reverse_s"].iloc[0] / e["travel_time_reverse_flat_s"].iloc[0]
    assert ratio_f == pytest.approx(1 / 0.90, rel=0.01)
    assert ratio_r == pytest.approx(1 / 0.97, rel=0.01)
    # edge 1 leaves the DEM at 7.01 E: partial profile, altitude still from the DEM part
    assert 0 < e["elevation_share"].iloc[1] < 1 and not e["has_elevation"].iloc[1]
    assert list(e["altitude_source"]) == ["dem", "dem"]
    assert list(n["has_elevation"]) == [True, True, False]
    assert n["elevation_status"].iloc[2] == "outside"
    assert list(e["pro_com_t"]) == ["001999", "001999"]
    assert res.report["gradient"]["edges_partial_elevation"] == 1


def test_without_dem_nothing_is_flat_and_istat_stands_in() -> None:
    nodes, edges = _layers()
    munis = gpd.GeoDataFrame(
        {"pro_com_t": ["001999"], "altitude_m": [1500.0]},
        geometry=[shapely.box(6.9, 44.9, 7.1, 45.1)],
        crs=4326,
    )
    res = apply_mountain(
        nodes, edges, params=MountainParams(), dem=None, straight_standin=False,
        municipalities=munis,
    )  # fmt: skip
    e = res.edges
    assert not e["has_elevation"].any() and e["climb_m"].isna().all()
    assert list(e["altitude_source"]) == ["istat_centre", "istat_centre"]
    assert e["altitude_m"].tolist() == [1500.0, 1500.0]
    np.testing.assert_allclose(e["travel_time_s"], e["travel_time_flat_s"])
    assert res.report["gradient"]["applied"] is False
    assert (res.nodes["elevation_status"] == "no_dem").all()


def test_straight_standins_are_left_alone_and_flagged() -> None:
    nodes, edges = _layers()
    res = apply_mountain(
        nodes, edges, params=MountainParams(), dem=_dem_east_slope(), straight_standin=True
    )
    e = res.edges
    assert (e["geometry_kind"] == "straight_standin").all()
    assert e["curve_min_radius_m"].isna().all()
    np.testing.assert_allclose(e["travel_time_s"], e["travel_time_flat_s"])
    # the altitude still comes from the junctions where the DEM has them
    assert e["altitude_source"].iloc[0] == "dem"
    assert res.report["curvature"]["applied"] is False


def test_sample_areas_reports_comuni_without_dem() -> None:
    munis = gpd.GeoDataFrame(
        {
            "pro_com_t": ["001001", "001002"],
            "ref_lon": [6.995, 7.05],
            "ref_lat": [45.0, 45.0],
            "altitude_m": [950.0, 1800.0],
        },
        geometry=[shapely.box(6.99, 44.99, 7.004, 45.01), shapely.box(7.04, 44.99, 7.06, 45.01)],
        crs=4326,
    )
    cells = gpd.GeoDataFrame(
        {"pro_com_t": ["001001", "001002"], "pop_total": [100.0, 40.0]},
        geometry=[shapely.box(6.992, 44.995, 6.996, 45.0), shapely.box(7.045, 44.995, 7.05, 45.0)],
        crs=4326,
    )
    m, c, rep = sample_areas(_dem_east_slope(), munis, cells)
    assert c is not None
    assert m["has_elevation"].tolist() == [True, False]
    assert m["altitude_rule_source"].tolist() == ["dem", "istat_centre"]
    assert m["altitude_rule_m"].iloc[1] == 1800.0
    assert m["elevation_pop_share"].tolist() == [1.0, 0.0]
    assert rep["residents_with_dem"] == 100 and rep["residents"] == 140
    assert rep["municipalities"]["without_dem"] == ["001002"]


def test_real_pbf_network_without_dem_coverage(shared_data: Path, tmp_path: Path) -> None:
    from territorio.config import RoadsConfig
    from territorio.ingest.elevation import load_dem
    from territorio.ingest.roads import load_roads

    r = load_roads(
        RoadsConfig(source="pbf", network_type="drive"),
        area=shapely.box(11.0, 46.1, 11.2, 46.3),
        cache_dir=tmp_path,
        location=str(shared_data / "osm_pbf" / "mezzolombardo_bbox.osm.pbf"),
    )
    # the Torino tiles do not reach Trentino: no junction gets an altitude
    dem = load_dem([shared_data / "dem" / "N45E007.hgt", shared_data / "dem" / "N45E008.hgt"])
    res = apply_mountain(r.nodes, r.edges, params=MountainParams(), dem=dem, straight_standin=False)
    e = res.edges
    assert not res.nodes["has_elevation"].any()
    assert (res.nodes["elevation_status"] == "outside").all()
    assert (e["altitude_source"] == "none").all()
    # curvature still applies (it needs no DEM): bent edges are slower, none faster
    tf, t0 = e["travel_time_s"].to_numpy(), e["travel_time_flat_s"].to_numpy()
    ok = np.isfinite(t0)
    assert (tf[ok] >= t0[ok] - 1e-9).all()
    assert (tf[ok] > t0[ok] * 1.05).sum() >= 10
    assert res.report["curvature"]["hairpins"] >= 8
