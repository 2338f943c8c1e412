"""DEM mosaic on the real SRTM tiles of ../shared/data/dem: spot heights, voids, coverage."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from territorio.errors import DataValidationError, SourceNotFoundError
from territorio.ingest.elevation import DemMosaic, load_dem


@pytest.fixture(scope="module")
def dem(shared_data: Path) -> DemMosaic:
    d = shared_data / "dem"
    return load_dem([d / "N45E007.hgt", d / "N45E008.hgt"])


def test_mosaic_joins_the_two_tiles(dem: DemMosaic) -> None:
    # two 1201 x 1201 tiles sharing their 8°E column: 1201 x (2 * 1201 - 1)
    assert dem.array.shape == (1201, 2401)
    w, s, e, n = dem.bounds
    assert w == pytest.approx(7.0 - 1 / 2400) and e == pytest.approx(9.0 + 1 / 2400)
    assert s == pytest.approx(45.0 - 1 / 2400) and n == pytest.approx(46.0 + 1 / 2400)


@pytest.mark.parametrize(
    ("place", "lon", "lat", "height_m"),
    [
        # IGM / municipal spot heights; SRTM3 is good to about 16 m (90 % error)
        ("Torino, Piazza Castello", 7.6858, 45.0710, 239.0),
        ("Basilica di Superga", 7.7670, 45.0803, 672.0),
        ("Balme, centre", 7.2186, 45.3020, 1432.0),
        ("Ivrea, centre (E008 tile)", 7.8760, 45.4670, 253.0),
    ],
)
def test_known_spot_heights(
    dem: DemMosaic, place: str, lon: float, lat: float, height_m: float
) -> None:
    s = dem.sample(lon, lat)
    assert s.status[0] == "dem", place
    assert abs(s.altitude_m[0] - height_m) <= 20.0, (place, s.altitude_m[0])


def test_outside_the_tiles_is_unknown_not_flat(dem: DemMosaic) -> None:
    # Sestriere (44.96 N) and Bardonecchia (6.70 E) are outside N45E007/N45E008
    s = dem.sample([6.879, 6.706], [44.958, 45.078])
    assert list(s.status) == ["outside", "outside"]
    assert np.isnan(s.altitude_m).all()
    assert not s.has_elevation.any()


def test_voids_are_filled_and_flagged_or_left_unknown(shared_data: Path) -> None:
    # N45E008 holds 6 void pixels (value -32768) around 8.26 E 45.63 N
    path = shared_data / "dem" / "N45E008.hgt"
    raw = load_dem([path], void_fill_px=0)
    assert raw.voids_read == 6 and raw.voids_filled == 0
    assert int(np.isnan(raw.array).sum()) == 6
    r, c = np.argwhere(np.isnan(raw.array))[0]
    lon = raw.transform.c + (c + 0.5) * raw.transform.a
    lat = raw.transform.f + (r + 0.5) * raw.transform.e
    s = raw.sample(lon, lat)
    assert s.status[0] == "void" and np.isnan(s.altitude_m[0])

    filled = load_dem([path], void_fill_px=3)
    assert filled.voids_filled == 6 and not np.isnan(filled.array).any()
    s2 = filled.sample(lon, lat)
    assert s2.status[0] == "dem_filled"
    # the filled value lies within the range of its valid 5 x 5 neighbourhood
    win = raw.array[r - 2 : r + 3, c - 2 : c + 3]
    assert np.nanmin(win) <= s2.altitude_m[0] <= np.nanmax(win)


def test_missing_and_bad_files(tmp_path: Path) -> None:
    with pytest.raises(SourceNotFoundError, match=r"nope\.hgt"):
        load_dem([tmp_path / "nope.hgt"])
    bad = tmp_path / "bad.tif"
    bad.write_text("not a raster")
    with pytest.raises(DataValidationError, match=r"bad\.tif"):
        load_dem([bad])
    with pytest.raises(DataValidationError, match="locations"):
        load_dem([])
