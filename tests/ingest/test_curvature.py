"""Curvature: the D.M. 5/11/2001 curve speed, a hand-checked hairpin, real geometries."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from territorio.ingest.curvature import (
    curvature,
    curve_speed_kmh,
    curve_time_factor,
    line_hairpins,
)


def _hairpin(radius: float = 10.0, straight: float = 100.0) -> shapely.LineString:
    """Straight up, a semicircle of ``radius`` (1-degree vertices), straight back down."""
    a = np.deg2rad(np.arange(180, -1, -1))  # from the left end over the top to the right
    arc = np.column_stack([radius * np.cos(a), straight + radius * np.sin(a)])
    pts = np.vstack([[[-radius, 0.0]], arc, [[radius, 0.0]]])
    return shapely.LineString(pts)


def test_curve_speed_of_one_hairpin_written_out() -> None:
    # D.M. 5/11/2001: V = sqrt(127 R (q + f_t(V))). A 10 m hairpin, q = 0.07:
    # below 25 km/h f_t = 0.22, so V = sqrt(127 * 10 * 0.29) = sqrt(368.3) = 19.19 km/h
    assert curve_speed_kmh(10.0)[()] == pytest.approx(math.sqrt(127 * 10 * 0.29), rel=1e-9)
    assert curve_speed_kmh(10.0)[()] == pytest.approx(19.19, abs=0.01)
    # a 120 m curve: f_t(V) interpolated between 0.17 (60) and 0.13 (80);
    # V^2 = 127 * 120 * (0.07 + 0.17 - 0.002 (V - 60)) = 5486.4 - 30.48 V
    # -> V = (-30.48 + sqrt(30.48^2 + 4 * 5486.4)) / 2 = (-30.48 + 151.24) / 2 = 60.38 km/h
    v = curve_speed_kmh(120.0)[()]
    f = 0.17 - 0.002 * (v - 60.0)
    assert v == pytest.approx(math.sqrt(127 * 120 * (0.07 + f)), rel=1e-6)
    assert v == pytest.approx(60.38, abs=0.01)
    assert np.isinf(curve_speed_kmh(np.inf)[()])


def test_synthetic_hairpin_radius_count_and_time() -> None:
    line = _hairpin()
    cv = curvature(np.asarray([line]))
    # the tightest radius is the semicircle's 10 m: the 30 m window is about the
    # arc's 31.4 m, so its ends touch the straights and it measures a little more
    assert cv.min_radius_m[0] == pytest.approx(10.0, rel=0.1)
    assert cv.hairpins[0] == 1
    assert line_hairpins(line) == 1
    # 231.4 m at 50 km/h = 16.66 s flat. Driving the 31.4 m arc at 19.2 km/h instead
    # of 50 adds 31.4/5.33 - 31.4/13.89 = 5.89 - 2.26 = 3.63 s; the 30 m window
    # smears the slowdown over the transitions, so allow 2.5..5 s
    flat = line.length / (50 / 3.6)
    added = flat * (curve_time_factor(cv, [50.0])[0] - 1.0)
    assert 2.5 <= added <= 5.0
    # a straight line is not slowed and has no hairpin
    st = curvature(np.asarray([shapely.LineString([(0, 0), (500, 0)])]))
    assert np.isinf(st.min_radius_m[0]) and st.hairpins[0] == 0
    assert curve_time_factor(st, [90.0])[0] == 1.0


def _tiles(shared: Path, xs: range, ys: range) -> gpd.GeoDataFrame:
    import pyogrio

    parts = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for x in xs:
            for y in ys:
                p = shared / "osm_tiles" / "14" / str(x) / f"{y}.pbf"
                if p.exists():
                    parts.append(pyogrio.read_dataframe(p, layer="transportation"))
    df = pd.concat(parts, ignore_index=True)
    return gpd.GeoDataFrame(df, geometry="geometry", crs=3857)


def _merged(gdf: gpd.GeoDataFrame, classes: set[str]) -> np.ndarray:
    roads = gdf[gdf["class"].isin(classes)].to_crs(32632)
    merged = shapely.line_merge(shapely.union_all(roads.geometry.to_numpy()))
    return np.asarray(getattr(merged, "geoms", [merged]))


def test_colle_delle_finestre_hairpins_on_the_vector_tiles(shared_data: Path) -> None:
    # SP172 north ramp from Meana di Susa towards the Colle delle Finestre
    # (tiles 14/8512-8514/5886-5889): famous for its tornanti
    lines = _merged(_tiles(shared_data, range(8512, 8515), range(5886, 5890)),
                    {"primary", "secondary", "tertiary", "minor"})  # fmt: skip
    cv = curvature(lines)
    i = int(np.argmax(cv.hairpins))
    assert cv.hairpins[i] >= 30
    assert 7.0 <= cv.min_radius_m[i] <= 15.0  # tornanti of about 10 m
    assert cv.sinuosity[i] > 2.5
    # the tightest hairpin's speed by the norm: about 19 km/h
    assert 15.0 <= curve_speed_kmh(cv.min_radius_m[i])[()] <= 23.0


def test_balme_road_is_winding_but_without_hairpins_in_the_valley(shared_data: Path) -> None:
    # the SP1 of the Val d'Ala between Ala di Stura and Balme (tiles 8520-8521/5873-5875)
    lines = _merged(_tiles(shared_data, range(8520, 8522), range(5873, 5876)),
                    {"primary", "secondary", "tertiary"})  # fmt: skip
    cv = curvature(lines)
    long = cv.length_m > 1500
    assert long.any()
    # the valley road below Balme (about 2 km, 7.229 E to 7.251 E): nearly straight,
    # curves of 30 m and more, no hairpin; the piece through Balme towards the
    # Pian della Mussa holds the two tornanti of the village (radius about 12 m)
    valley = long & (cv.hairpins == 0)
    assert valley.any()
    assert (cv.min_radius_m[valley] > 25).all() and (cv.sinuosity[valley] < 1.2).all()
    village = long & (cv.hairpins > 0)
    assert village.any() and (cv.min_radius_m[village] < 15).all()


def test_curvature_on_a_real_pbf_network(shared_data: Path, tmp_path: Path) -> None:
    from territorio.config import RoadsConfig
    from territorio.ingest.roads import load_roads

    r = load_roads(
        RoadsConfig(source="pbf", network_type="drive"),
        area=shapely.box(11.0, 46.1, 11.2, 46.3),
        cache_dir=tmp_path,
        location=str(shared_data / "osm_pbf" / "mezzolombardo_bbox.osm.pbf"),
    )
    e = r.edges
    cv = curvature(e.to_crs(e.estimate_utm_crs()).geometry.to_numpy())
    # the secondary road climbing from the Piana Rotaliana towards Fai della Paganella
    i = int(np.argmax(cv.hairpins))
    assert e["highway"].iloc[i] == "secondary"
    assert cv.hairpins[i] >= 5 and cv.min_radius_m[i] < 20
    # most of the plain's network is not bent: median tightest radius above 40 m
    finite = cv.min_radius_m[np.isfinite(cv.min_radius_m)]
    assert np.median(finite) > 40


def test_numpy_resampling_matches_shapely() -> None:
    from territorio.ingest._resample import points_along

    rng = np.random.default_rng(7)
    lines = [
        shapely.LineString(np.cumsum(rng.normal(size=(int(k), 2)) * 20, axis=0))
        for k in rng.integers(2, 12, size=50)
    ]
    lines.append(shapely.LineString([(0, 0), (0, 0), (3, 4)]))  # repeated vertex
    g = np.asarray(lines)
    line = np.repeat(np.arange(len(g)), 7)
    dist = np.tile(np.linspace(0, 1, 7), len(g)) * shapely.length(g)[line]
    x, y = points_along(g, line, dist)
    ref = shapely.line_interpolate_point(g[line], dist)
    np.testing.assert_allclose(x, shapely.get_x(ref), atol=1e-6)
    np.testing.assert_allclose(y, shapely.get_y(ref), atol=1e-6)
