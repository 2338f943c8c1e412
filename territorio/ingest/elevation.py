"""Elevation from digital elevation models: SRTM ``.hgt`` and GeoTIFF tiles, mosaicked.

:func:`load_dem` opens the files a user names (``[elevation] locations``),
reprojects any tile not in EPSG:4326 on the fly, mosaics them with
:func:`rasterio.merge.merge` and returns a :class:`DemMosaic` that samples the
altitude of any point (road junctions, population cells, points along an
edge).

Voids and coverage
------------------
* Nodata pixels (SRTM voids are ``-32768``) are *voids*. Voids no farther
  than ``void_fill_px`` pixels from valid data are filled by inverse-distance
  interpolation (:func:`rasterio.fill.fillnodata`, GDAL's algorithm, no
  smoothing) and flagged; larger voids stay voids.
* A point outside every tile is *outside* the DEM.
* Void and outside both give ``NaN``: a missing altitude is never 0 m and
  never "flat". :class:`ElevationSample` carries the status of every point
  (``"dem"``, ``"dem_filled"``, ``"void"``, ``"outside"``) and
  :attr:`ElevationSample.has_elevation`.

Sampling
--------
Bilinear interpolation between the four pixel centres around the point
(SRTM pixels are points on a 3 arc-second grid, GDAL presents them as
areas centred on those points). When one of the four is a void, the nearest
pixel is used if it is valid (the status says so only if it was filled);
otherwise the point is a void.

SRTM3's absolute vertical accuracy is about 16 m (90 % linear error, the
mission's specification; measured errors in Europe are 5-10 m RMSE), worse
on steep slopes: altitudes sampled here are good for rules such as "roads
above 1,200 m" and for gradients over a few hundred metres, not for
survey-grade heights.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from territorio.errors import DataValidationError, SourceNotFoundError
from territorio.provenance import Provenance, sha256_file

__all__ = ["DEM_STATUSES", "DemMosaic", "ElevationSample", "load_dem"]

FloatArray = npt.NDArray[np.float64]

#: Possible statuses of a sampled point.
DEM_STATUSES = ("dem", "dem_filled", "void", "outside")


@dataclass(frozen=True)
class ElevationSample:
    """Altitudes (m above sea level, NaN where unknown) and the status of each point."""

    altitude_m: FloatArray
    status: npt.NDArray[np.str_]

    @property
    def has_elevation(self) -> npt.NDArray[np.bool_]:
        """True where the altitude comes from the DEM (also from a filled void)."""
        return np.isfinite(self.altitude_m)

    def counts(self) -> dict[str, int]:
        """Return the number of points per status."""
        return {s: int((self.status == s).sum()) for s in DEM_STATUSES}


@dataclass(frozen=True)
class DemMosaic:
    """A mosaic of DEM tiles in EPSG:4326 (float32 metres, NaN = void or gap).

    Attributes
    ----------
    array
        Altitude grid, row 0 at the north edge.
    filled
        True on pixels filled from their neighbours (voids within
        ``void_fill_px``).
    transform
        Affine pixel-to-lon/lat transform of the grid (pixel corners).
    provenance
        One record per tile read.
    voids_read, voids_filled
        Void pixels in the tiles as read, and how many of them were filled.
    """

    array: npt.NDArray[np.float32]
    filled: npt.NDArray[np.bool_]
    transform: Any
    provenance: list[Provenance] = field(default_factory=list)
    voids_read: int = 0
    voids_filled: int = 0

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(west, south, east, north)`` of the mosaic in degrees."""
        t = self.transform
        h, w = self.array.shape
        return (t.c, t.f + t.e * h, t.c + t.a * w, t.f)

    def sample(self, lon: Any, lat: Any) -> ElevationSample:
        """Altitude of points by bilinear interpolation (see the module notes).

        Parameters
        ----------
        lon, lat
            Coordinates in EPSG:4326 (scalars or arrays).
        """
        lon_a = np.atleast_1d(np.asarray(lon, dtype=float))
        lat_a = np.atleast_1d(np.asarray(lat, dtype=float))
        t = self.transform
        h, w = self.array.shape
        # fractional row/col of the point measured from the first pixel centre
        cf = (lon_a - t.c) / t.a - 0.5
        rf = (lat_a - t.f) / t.e - 0.5
        inside = np.isfinite(cf) & np.isfinite(rf) & (cf >= -0.5) & (cf <= w - 0.5)
        inside &= (rf >= -0.5) & (rf <= h - 0.5)
        c0 = np.clip(np.floor(cf), 0, w - 1).astype(np.int64)
        r0 = np.clip(np.floor(rf), 0, h - 1).astype(np.int64)
        c1 = np.minimum(c0 + 1, w - 1)
        r1 = np.minimum(r0 + 1, h - 1)
        fx = np.clip(cf - c0, 0.0, 1.0)
        fy = np.clip(rf - r0, 0.0, 1.0)
        a = self.array.astype(np.float64)
        z00, z01, z10, z11 = a[r0, c0], a[r0, c1], a[r1, c0], a[r1, c1]
        bil = (z00 * (1 - fx) + z01 * fx) * (1 - fy) + (z10 * (1 - fx) + z11 * fx) * fy
        rn = np.clip(np.rint(rf), 0, h - 1).astype(np.int64)
        cn = np.clip(np.rint(cf), 0, w - 1).astype(np.int64)
        near = a[rn, cn]
        alt = np.where(np.isfinite(bil), bil, near)
        alt = np.where(inside, alt, np.nan)
        used_filled = np.where(
            np.isfinite(bil),
            self.filled[r0, c0] | self.filled[r0, c1] | self.filled[r1, c0] | self.filled[r1, c1],
            self.filled[rn, cn],
        )
        status = np.where(
            ~inside,
            "outside",
            np.where(~np.isfinite(alt), "void", np.where(used_filled, "dem_filled", "dem")),
        )
        return ElevationSample(alt, status.astype(np.str_))


def _open(path: Path) -> Any:
    import rasterio
    from rasterio.errors import RasterioIOError
    from rasterio.vrt import WarpedVRT

    try:
        ds = rasterio.open(path)
    except RasterioIOError as exc:
        raise DataValidationError(
            f"{path}: not a readable DEM ({exc}); give SRTM .hgt files or GeoTIFFs"
        ) from exc
    if ds.crs is None:
        ds.close()
        raise DataValidationError(f"{path}: the DEM has no CRS; georeference it (e.g. EPSG:4326)")
    if ds.crs.to_epsg() != 4326:
        return WarpedVRT(ds, crs="EPSG:4326", resampling=rasterio.enums.Resampling.bilinear)
    return ds


def load_dem(locations: Sequence[str | Path], *, void_fill_px: int = 3) -> DemMosaic:
    """Open and mosaic DEM tiles (SRTM ``.hgt``, GeoTIFF; any CRS, read as EPSG:4326).

    Parameters
    ----------
    locations
        Paths of the tiles (resolved by the caller); overlapping tiles keep the
        first tile's values where both have data.
    void_fill_px
        Fill voids up to this many pixels from valid data (0: never fill).

    Raises
    ------
    SourceNotFoundError
        If a file does not exist.
    DataValidationError
        If a file is not a readable, georeferenced raster, or none is given.
    """
    from rasterio.fill import fillnodata
    from rasterio.merge import merge

    paths = [Path(p) for p in locations]
    if not paths:
        raise DataValidationError("no DEM file given: list them in [elevation] locations")
    for p in paths:
        if not p.is_file():
            raise SourceNotFoundError(
                f"DEM file not found: {p} (fix [elevation] locations in the build config)"
            )
    datasets = [_open(p) for p in paths]
    try:
        voids_read = 0
        bounds = [tuple(ds.bounds) for ds in datasets]
        for ds in datasets:
            nd = ds.nodata
            band = ds.read(1, masked=False)
            voids_read += int((band == nd).sum()) if nd is not None else 0
        arr, transform = merge(datasets, nodata=-32768.0, dtype="float32")
    finally:
        for ds in datasets:
            ds.close()
    grid = arr[0].astype(np.float32)
    # pixels inside some tile's footprint: nodata there is a void, elsewhere a gap
    covered = np.zeros(grid.shape, dtype=bool)
    for b in bounds:
        c0, r0 = ~transform * (b[0], b[3])
        c1, r1 = ~transform * (b[2], b[1])
        rows = slice(max(round(r0), 0), round(r1))
        covered[rows, slice(max(round(c0), 0), round(c1))] = True
    void = (grid <= -32767.0) & covered
    filled = np.zeros(grid.shape, dtype=bool)
    n_filled = 0
    if void.any() and void_fill_px > 0:
        valid = (~void).astype(np.uint8)
        out = fillnodata(grid.copy(), mask=valid, max_search_distance=float(void_fill_px))
        now = out > -32767.0
        filled = void & now
        n_filled = int(filled.sum())
        grid = np.where(filled, out, grid).astype(np.float32)
        void = void & ~filled
    grid[grid <= -32767.0] = np.nan
    prov = [
        Provenance(
            source="dem",
            location=str(p),
            sha256=sha256_file(p),
            licence="see the DEM publisher (SRTM: public domain, NASA/USGS)",
        )
        for p in paths
    ]
    return DemMosaic(grid, filled, transform, prov, voids_read, n_filled)
