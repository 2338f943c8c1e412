"""Gradient: direction-aware penalty on a hand-made DEM plane, and on the real SRTM tiles."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely
from affine import Affine
from pyproj import Transformer

from territorio.ingest.elevation import DemMosaic, load_dem
from territorio.ingest.gradient import edge_gradients, grade_speed_factor


def _plane(slope: float, *, void_east_of: float | None = None) -> DemMosaic:
    """A DEM in metres (identity 'lon/lat'): z = slope * x, 10 m pixels over 0..1000 m."""
    cols = np.arange(100)
    z = np.tile(slope * (10.0 * cols + 5.0), (10, 1)).astype(np.float32)
    if void_east_of is not None:
        z[:, 10.0 * cols + 5.0 > void_east_of] = np.nan
    return DemMosaic(z, np.zeros(z.shape, bool), Affine(10.0, 0, 0, 0, -10.0, 100.0))


def _identity(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return x, y


def test_each_direction_has_its_own_time() -> None:
    # 900 m due east on a 10 % plane: 4 pieces of 225 m, each +10 % u->v.
    # u->v uphill 10 %: speed x (1 - 0.02 * (10 - 5)) = 0.90 -> time x 1/0.90 = 1.1111
    # v->u downhill 10 %: speed x (1 - 0.01 * (10 - 7)) = 0.97 -> time x 1/0.97 = 1.0309
    line = shapely.LineString([(50, 50), (950, 50)])
    g = edge_gradients(np.asarray([line]), _plane(0.10), to_lonlat=_identity)
    assert g.climb_m[0] == pytest.approx(90.0) and g.descent_m[0] == pytest.approx(0.0)
    assert g.grade_max_up_pct[0] == pytest.approx(10.0)
    assert g.factor_forward[0] == pytest.approx(1 / 0.90)
    assert g.factor_reverse[0] == pytest.approx(1 / 0.97)
    # drawn the other way, the same road swaps its two times
    back = edge_gradients(np.asarray([line.reverse()]), _plane(0.10), to_lonlat=_identity)
    assert back.factor_forward[0] == pytest.approx(1 / 0.97)
    assert back.factor_reverse[0] == pytest.approx(1 / 0.90)


def test_modest_grades_are_not_penalised_and_caps_hold() -> None:
    assert grade_speed_factor([0.0, 4.9, -6.9]).tolist() == [1.0, 1.0, 1.0]
    assert grade_speed_factor([30.0, -40.0]).tolist() == [0.75, 0.85]  # floors
    g = edge_gradients(
        np.asarray([shapely.LineString([(50, 50), (950, 50)])]), _plane(0.04), to_lonlat=_identity
    )
    assert g.factor_forward[0] == 1.0 and g.factor_reverse[0] == 1.0


def test_missing_elevation_is_not_flat() -> None:
    # the DEM stops at x = 500: pieces with an unknown end get no grade and no penalty,
    # and the edge says which share of it has a profile
    line = shapely.LineString([(50, 50), (950, 50)])
    g = edge_gradients(np.asarray([line]), _plane(0.10, void_east_of=500), to_lonlat=_identity)
    assert 0.0 < g.elevation_share[0] < 1.0
    none = edge_gradients(
        np.asarray([shapely.LineString([(600, 50), (950, 50)])]),
        _plane(0.10, void_east_of=500),
        to_lonlat=_identity,
    )
    assert none.elevation_share[0] == 0.0
    assert np.isnan(none.climb_m[0]) and np.isnan(none.alt_max_m[0])
    assert none.factor_forward[0] == 1.0


def test_superga_climb_on_the_real_dem(shared_data: Path) -> None:
    # straight from Sassi (Po valley, about 220 m) up to the basilica of Superga (672 m)
    dem = load_dem([shared_data / "dem" / "N45E007.hgt"])
    to_m = Transformer.from_crs(4326, 32632, always_xy=True)
    to_ll = Transformer.from_crs(32632, 4326, always_xy=True)
    (x0, x1), (y0, y1) = to_m.transform([7.7305, 7.7670], [45.0740, 45.0803])
    line = shapely.LineString([(x0, y0), (x1, y1)])
    g = edge_gradients(np.asarray([line]), dem, to_lonlat=to_ll.transform)
    assert g.alt_min_m[0] < 260 and 640 < g.alt_max_m[0] < 700
    assert g.climb_m[0] - g.descent_m[0] == pytest.approx(g.alt_max_m[0] - g.alt_min_m[0], abs=60)
    # going up is slower than coming down
    assert g.factor_forward[0] > g.factor_reverse[0] >= 1.0
