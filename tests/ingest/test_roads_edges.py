"""The prebuilt edge-table path on the real Turin car graph (../shared/data/roads)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from territorio.config import RoadsConfig
from territorio.errors import MissingColumnError
from territorio.ingest.roads import RoadsResult, load_roads

AREA = shapely.box(6.6, 44.7, 8.0, 45.6)  # Città Metropolitana di Torino, roughly


@pytest.fixture(scope="module")
def turin(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> RoadsResult:
    path = shared_data / "roads" / "turin_core_car_edges.parquet"
    cfg = RoadsConfig(source="edges", network_type="all")
    return load_roads(cfg, area=AREA, cache_dir=tmp_path_factory.mktemp("c"), location=str(path))


def test_counts_read_and_kept(turin: RoadsResult) -> None:
    r = turin.report
    print("edge table:", r)
    assert r["edges_read"] == 96_298  # README: 96,298 segments
    assert r["nodes_read"] == 73_192  # README: 73,192 junctions
    # The publisher's graph is kept whole; the largest strongly connected component
    # (measured) has 95,042 segments and 71,861 junctions, the rest is reported.
    assert r["edges_kept"] == 96_298 == len(turin.edges)
    assert r["nodes_kept"] == 73_192 == len(turin.nodes)
    assert r["outside_main_component_edges"] == 96_298 - 95_042
    assert r["outside_main_component_nodes"] == 73_192 - 71_861
    assert 0 < r["outside_main_component_km"] < 0.05 * 8000  # a small share of the 8,000 km


def test_car_only_schema(turin: RoadsResult) -> None:
    e = turin.edges
    assert turin.modes == ["car"]
    assert (e["highway"] == "unknown").all()
    assert e["car"].all() and not e["foot"].any()
    # one-way segments keep a null reverse time, as in the source
    assert e["travel_time_reverse_s"].isna().any()
    assert e["travel_time_s"].notna().any()
    # node points are the edge endpoints
    nodes = turin.nodes.set_index("node_id").geometry
    first = e.iloc[0]
    start = shapely.get_point(first.geometry, 0)
    assert nodes.loc[first["u"]].equals(start)
    assert turin.provenance.sha256 and turin.provenance.source == "edge_table"


def test_coverage_hugs_the_data(turin: RoadsResult) -> None:
    cov = turin.coverage
    assert cov.contains(shapely.Point(7.6854, 45.0712))  # Piazza Castello, Torino
    assert not cov.contains(shapely.Point(6.877, 44.958))  # Sestriere
    assert not cov.contains(shapely.Point(7.235, 45.432))  # Ceresole Reale
    minx, miny, maxx, maxy = cov.bounds
    # README: lon 7.430-7.930, lat 44.940-45.210; the coverage reaches 250-500 m beyond
    assert 7.41 < minx < 7.44 and 7.92 < maxx < 7.95
    assert 44.93 < miny < 44.95 and 45.20 < maxy < 45.22
    # it is not the bounding box: a polygon hugging the roads covers less
    assert cov.area < 0.95 * shapely.box(minx, miny, maxx, maxy).area
    # every kept node lies inside it
    assert shapely.contains_xy(cov, *np.array(turin.nodes.geometry.get_coordinates()).T).all()


def test_missing_travel_time_column(shared_data: Path, tmp_path: Path) -> None:
    src = gpd.read_parquet(shared_data / "roads" / "turin_core_car_edges.parquet").head(50)
    bad = tmp_path / "no_time.parquet"
    src.drop(columns=["travel_time_s"]).to_parquet(bad)
    with pytest.raises(MissingColumnError, match=r"no_time\.parquet.*travel_time_s"):
        load_roads(RoadsConfig(source="edges"), area=AREA, cache_dir=tmp_path, location=str(bad))


def test_geopackage_with_oneway_column(shared_data: Path, tmp_path: Path) -> None:
    src = gpd.read_parquet(shared_data / "roads" / "turin_core_car_edges.parquet")
    src = src[src.intersects(shapely.box(7.67, 45.06, 7.70, 45.08))]  # central Torino
    gpkg = tmp_path / "edges.gpkg"
    src.drop(columns=["travel_time_reverse_s"]).to_file(gpkg, driver="GPKG")
    r = load_roads(RoadsConfig(source="edges"), area=AREA, cache_dir=tmp_path, location=str(gpkg))
    e = r.edges
    # without travel_time_reverse_s, oneway rows get a null reverse time, others the same time
    assert len(e) > 100
    two_way = e["travel_time_reverse_s"].notna()
    assert two_way.any() and (~two_way).any()
    assert np.allclose(e.loc[two_way, "travel_time_reverse_s"], e.loc[two_way, "travel_time_s"])


def test_clipped_to_a_small_area(shared_data: Path, tmp_path: Path) -> None:
    path = shared_data / "roads" / "turin_core_car_edges.parquet"
    small = shapely.box(7.60, 45.00, 7.75, 45.12)  # Torino city, roughly
    r = load_roads(RoadsConfig(source="edges"), area=small, cache_dir=tmp_path, location=str(path))
    assert r.report["edges_outside_area"] > 0
    assert small.buffer(1e-9).contains(r.coverage)
    xy = np.array(r.nodes.geometry.get_coordinates())
    assert shapely.intersects_xy(small, xy[:, 0], xy[:, 1]).all()
    assert r.coverage.contains(shapely.Point(7.6854, 45.0712))  # Piazza Castello
