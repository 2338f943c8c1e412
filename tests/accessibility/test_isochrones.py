from __future__ import annotations

import itertools

import numpy as np
import pytest
import shapely

from territorio.accessibility.isochrones import isochrones, isochrones_geojson
from territorio.accessibility.network import build_network
from territorio.errors import OutsideCoverageError, UnsupportedModeError
from tests.accessibility.real import turin_network
from tests.accessibility.toy import E0, N0, lonlat, toy_layers


@pytest.fixture(scope="module")
def net():
    return build_network(*toy_layers())


def _metric(gdf):
    return gdf.to_crs(32632).geometry.to_numpy()


def _pt(x: float, y: float) -> shapely.Point:
    return shapely.Point(E0 + x, N0 + y)


def test_toy_isochrones_cut_partial_edges(net) -> None:
    lon, lat = lonlat(0, 0)
    iso = isochrones(net, [(lon[0], lat[0])], [2, 1], buffer_m=50, cell_m=10)
    assert iso["minutes"].tolist() == [1.0, 2.0]
    one, two = _metric(iso)
    # 1 min = 60 s from node 1: 1 -> 2 takes 50 s (reached fully); 10 s remain:
    # 2 -> 4 (45 s, 1000 m) reached for 10/45 = 222 m, 2 -> 3 (120 s) for 10/120 = 83 m
    assert one.contains(_pt(500, 0)) and one.contains(_pt(1000, 150))
    assert one.contains(_pt(1050, 0))
    assert not one.contains(_pt(1000, 400))  # 222 m + 50 m buffer + 10 m cell < 400 m
    assert not one.contains(_pt(1200, 0))  # 83 m + 50 m + 10 m < 200 m
    # 2 min = 120 s: node 4 at 95 s, then 4 -> 3 (30 s, 1414 m) for 25/30 -> 1178 m
    assert two.contains(_pt(1000, 500)) and two.contains(_pt(1000, 1000))
    assert two.contains(_pt(1500, 500))  # midpoint of 4-3 (707 m from 4 < 1178 m)
    # nested: the larger contour contains the smaller one (up to the 4326 round trip)
    assert one.difference(two).area < 1e-3
    assert iso["area_km2"].is_monotonic_increasing


def test_geojson_and_errors(net) -> None:
    lon, lat = lonlat(0, 0)
    iso = isochrones(net, [(lon[0], lat[0])], [1])
    gj = isochrones_geojson(iso)
    assert gj["type"] == "FeatureCollection" and len(gj["features"]) == 1
    assert gj["features"][0]["properties"]["minutes"] == 1.0
    far_lon, far_lat = lonlat(20000, 20000)
    with pytest.raises(OutsideCoverageError, match="road network"):
        isochrones(net, [(far_lon[0], far_lat[0])], [5])
    with pytest.raises(UnsupportedModeError, match="walk"):
        isochrones(net, [(lon[0], lat[0])], [5], mode="walk")


@pytest.mark.shared_data
def test_turin_piazza_castello_nested(shared_data) -> None:
    net = turin_network(shared_data)
    iso = isochrones(net, [(7.6854, 45.0712)], [10, 20, 30])
    geoms = _metric(iso)
    # nested: contours are unioned in EPSG:32632 and stored in EPSG:4326; a vertex of
    # the inner contour lying on the outer boundary can move by nanometres in the
    # round trip, so compare areas (m2) rather than exact ``covers``
    for a, b in itertools.pairwise(geoms):
        assert a.difference(b).area < 1.0
    areas = iso["area_km2"].to_numpy()
    assert np.all(np.diff(areas) > 0)
    assert geoms[0].contains(shapely.Point(*net.to_metric(7.6854, 45.0712)))
    assert all(g.is_valid for g in geoms)


def test_isochrones_from_a_bundle(tmp_path) -> None:
    from tests.accessibility.toy_bundle import make_toy_bundle

    bundle = make_toy_bundle(tmp_path / "toy")
    lon, lat = lonlat(0, 0)
    iso = isochrones(bundle, [(lon[0], lat[0])], [1], buffer_m=50, cell_m=10)
    # same contour as on the network itself (1 min from node 1, see above)
    assert _metric(iso)[0].contains(_pt(1000, 150))
    with pytest.raises(TypeError, match="RoadNetwork"):
        isochrones(object(), [(lon[0], lat[0])], [1])


def test_vector_method_exact_cuts_and_agrees_with_grid(net) -> None:
    lon, lat = lonlat(0, 0)
    vec = isochrones(net, [(lon[0], lat[0])], [1, 2], buffer_m=50, method="vector")
    one, two = _metric(vec)
    # 1 min: 2 -> 4 is cut at 10/45 * 1000 = 222.2 m, plus the 50 m buffer -> y 272.2
    assert one.contains(_pt(1000, 270)) and not one.contains(_pt(1000, 275))
    # 2 -> 3 is cut at 10/120 * 1000 = 83.3 m, plus 50 m -> x 1133.3
    assert one.contains(_pt(1130, 0)) and not one.contains(_pt(1137, 0))
    assert one.difference(two).area < 1e-3
    grid = isochrones(net, [(lon[0], lat[0])], [1, 2], buffer_m=50, cell_m=10)
    for g, v in zip(_metric(grid), _metric(vec), strict=True):
        # the grid method is the same union computed on 10 m cells
        assert g.symmetric_difference(v).area / v.area < 0.15
    with pytest.raises(ValueError, match="method"):
        isochrones(net, [(lon[0], lat[0])], [1], method="hull")


@pytest.mark.shared_data
def test_turin_grid_agrees_with_exact_vector(shared_data) -> None:
    net = turin_network(shared_data)
    pc = [(7.6854, 45.0712)]
    vec = _metric(isochrones(net, pc, [10], method="vector"))[0]
    # measured: vector 52.1 km2; grid +2.3% with 50 m cells (auto resolution for a
    # 10-minute contour) and +5.5% with 100 m cells; the grid is slightly larger (a
    # pixel counts when a sample falls anywhere in it)
    for cell, tol in ((None, 0.05), (100.0, 0.08)):
        grid = _metric(isochrones(net, pc, [10], cell_m=cell))[0]
        assert 0 <= grid.area / vec.area - 1 < tol
        assert grid.symmetric_difference(vec).area / vec.area < 2 * tol


@pytest.mark.shared_data
def test_turin_city_wide_contours_nested_and_valid(shared_data) -> None:
    net = turin_network(shared_data)
    iso = isochrones(net, [(7.6854, 45.0712)], [15, 30])
    geoms = _metric(iso)
    assert all(g.is_valid and not g.is_empty for g in geoms)
    # nested on the same grid without any vector union (up to the 4326 round trip)
    assert geoms[0].difference(geoms[1]).area < 1.0
    # 30 minutes reach most of the network: far more than 15 minutes
    assert iso["area_km2"].iloc[1] > 3 * iso["area_km2"].iloc[0]


def test_small_holes_filled_islands_dropped() -> None:
    from territorio.accessibility.isochrones import _polygons

    # a 100 m square with a 40 m hole (1,600 m2) holding a 10 m reached island
    outer = [(0, 0), (100, 0), (100, 100), (0, 100), (0, 0)]
    hole = [(30, 30), (30, 70), (70, 70), (70, 30), (30, 30)]
    island = [(45, 45), (55, 45), (55, 55), (45, 55), (45, 45)]
    res = [{"coordinates": [outer, hole]}, {"coordinates": [island]}]
    kept = _polygons(res, 0.0)
    assert kept.area == pytest.approx(100 * 100 - 40 * 40 + 10 * 10)  # 8,500 m2
    filled = _polygons(res, 2000.0)  # the hole (1,600 m2 <= 2,000) is filled
    assert filled.is_valid and len(filled.geoms) == 1  # the island is inside: dropped
    assert filled.area == pytest.approx(100 * 100)


@pytest.mark.shared_data
def test_turin_random_contours_valid_without_repair(shared_data) -> None:
    from territorio.accessibility.isochrones import _contours

    # _polygons builds the MultiPolygon without an is_valid/make_valid pass (valid
    # by construction): check it on contours of 8 random origins, both API cells
    net = turin_network(shared_data)
    rng = np.random.default_rng(3)
    for i in rng.choice(np.flatnonzero(net.snappable), 8, replace=False):
        for cell in (50.0, 100.0):
            _, geoms = _contours(net, [(net.lon[i], net.lat[i])], [5, 15], cell_m=cell)
            assert all(g.is_valid and not g.is_empty for g in geoms)
            # same metric grid, no reprojection: exactly nested
            assert geoms[0].difference(geoms[1]).area == 0.0
