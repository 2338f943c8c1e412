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
    # measured: vector 52.1 km2; grid +2.2% with 50 m cells (auto resolution for a
    # 10-minute contour) and +5.3% with 100 m cells; the grid is slightly larger (a
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
    from territorio.accessibility.isochrones import _grid_polygons

    # 12 x 12 grid of 10 m pixels: reached block rows/cols 1..10, an unreached
    # 4 x 4 hole (4..7) holding a reached 2 x 2 island (5..6). Marching squares at
    # 0.5 runs through the midpoints between pixel centres and cuts every corner
    # by a right triangle of legs 0.5 px (0.125 px2):
    #   shell 10 x 10 - 4 x 0.125 = 99.5 px2; hole 4 x 4 - 4 x 0.125 = 15.5 px2;
    #   island 2 x 2 - 4 x 0.125 = 3.5 px2; 1 px2 = 100 m2
    mask = np.zeros((12, 12), dtype=bool)
    mask[1:11, 1:11] = True
    mask[4:8, 4:8] = False
    mask[5:7, 5:7] = True
    kept = _grid_polygons(mask, 0.0, 120.0, 10.0, 0.0)
    assert kept.is_valid and len(kept.geoms) == 2
    assert kept.area == pytest.approx((99.5 - 15.5 + 3.5) * 100)  # 8,750 m2
    # GeoJSON right-hand rule: shells anticlockwise, holes clockwise
    shell = kept.geoms[0]
    assert shell.exterior.is_ccw and not shell.interiors[0].is_ccw
    # the shell's left edge runs through x = 10 m (between pixel columns 0 and 1)
    assert shell.bounds == pytest.approx((10.0, 10.0, 110.0, 110.0))
    filled = _grid_polygons(mask, 0.0, 120.0, 10.0, 1600.0)  # hole 1,550 m2 <= 1,600: filled
    assert filled.is_valid and len(filled.geoms) == 1  # the island is inside: dropped
    assert filled.area == pytest.approx(99.5 * 100)
    assert _grid_polygons(mask, 0.0, 120.0, 10.0, 1500.0).area == kept.area  # 1,550 > 1,500
    assert _grid_polygons(np.zeros((4, 4), dtype=bool), 0.0, 40.0, 10.0, 0.0).is_empty


@pytest.mark.shared_data
def test_turin_random_contours_valid_without_repair(shared_data) -> None:
    from territorio.accessibility.isochrones import _contours

    # _grid_polygons builds the MultiPolygon without an is_valid/make_valid pass (valid
    # by construction): check it on contours of 8 random origins, both API cells
    net = turin_network(shared_data)
    rng = np.random.default_rng(3)
    for i in rng.choice(np.flatnonzero(net.snappable), 8, replace=False):
        for cell in (50.0, 100.0):
            _, geoms = _contours(net, [(net.lon[i], net.lat[i])], [5, 15], cell_m=cell)
            assert all(g.is_valid and not g.is_empty for g in geoms)
            assert all(p.exterior.is_ccw for g in geoms for p in g.geoms)
            # same metric grid, no reprojection: exactly nested
            assert geoms[0].difference(geoms[1]).area == 0.0
