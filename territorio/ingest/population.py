"""Population grid: GISCO census-2021 1 km CSV, or a population GeoTIFF.

Each grid cell is split by the municipality boundaries and its people are
apportioned to the pieces by area share (one output row per cell piece), so
that every piece belongs to exactly one municipality. People in the parts of
cells lying outside all municipalities of the area are dropped and counted in
the provenance.

GISCO CSV
    ``GRD_ID`` like ``CRS3035RES1000mN2413000E4094000`` (south-west corner
    and cell size in the CRS it names), ``T`` total, ``Y_LT15`` under 15,
    ``Y_GE65`` 65 and over. Negative or blank values (confidential) are
    treated as unknown: an unknown total drops the cell, an unknown age count
    is estimated from the municipality's ISTAT age shares.
GeoTIFF (GHS-POP, WorldPop, ...)
    Band 1 = residents per pixel. Only the window covering the municipalities
    is read. The raster has no ages: 65+ and under-15 are estimated from each
    municipality's ISTAT shares.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from territorio.errors import DataValidationError, MissingColumnError
from territorio.ingest._fetch import resolve_location
from territorio.ingest._geo import apportion_cells, metric_crs
from territorio.ingest._result import SourceResult
from territorio.provenance import Provenance, sha256_file
from territorio.schemas import require_columns, validate_layer

__all__ = ["load_population_grid"]

_GRD_RE = r"^CRS(?P<epsg>\d+)RES(?P<res>\d+)mN(?P<n>-?\d+)E(?P<e>-?\d+)$"
_VALUES = ["pop_total", "pop_65_plus", "pop_under_15"]
_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")


def _is_tiff(path: Path) -> bool:
    with open(path, "rb") as fh:
        head = fh.read(4)
    return path.suffix.lower() in {".tif", ".tiff"} or head in _TIFF_MAGIC


def _municipal_shares(municipalities: gpd.GeoDataFrame) -> pd.DataFrame:
    """Share of residents aged 65+ and under 15 per municipality (ISTAT)."""
    require_columns(
        municipalities,
        ["pro_com_t", "pop_total", "pop_65_plus", "pop_0_14"],
        where="municipalities layer (needed for age shares)",
    )
    total = municipalities["pop_total"].to_numpy(dtype=float)
    safe = np.where(total > 0, total, np.nan)
    return pd.DataFrame(
        {
            "pop_65_plus": municipalities["pop_65_plus"].to_numpy(dtype=float) / safe,
            "pop_under_15": municipalities["pop_0_14"].to_numpy(dtype=float) / safe,
        },
        index=municipalities["pro_com_t"].to_numpy(),
    ).fillna(0.0)


def _read_gisco_csv(path: Path) -> tuple[gpd.GeoDataFrame, dict[str, int], list[str]]:
    """Parse the GISCO grid CSV into cell polygons in the CRS named by GRD_ID."""
    with open(path, encoding="utf-8-sig") as fh:
        header = fh.readline()
    sep = ";" if header.count(";") > header.count(",") else ","
    df = pd.read_csv(path, dtype={"GRD_ID": str}, sep=sep, encoding="utf-8-sig")
    df.columns = [str(c).strip() for c in df.columns]
    if "GRD_ID" not in df.columns or "T" not in df.columns:
        raise MissingColumnError(
            f"{path}: missing column(s) "
            f"{', '.join(c for c in ('GRD_ID', 'T') if c not in df.columns)}; "
            "expected the GISCO census grid layout (GRD_ID, T, Y_LT15, Y_GE65, ...); "
            f"found: {', '.join(df.columns)}"
        )
    ids = df["GRD_ID"].astype(str).str.strip()
    parts = ids.str.extract(_GRD_RE)
    bad = parts["epsg"].isna().to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataValidationError(
            f"{path}, row {i + 2}, column GRD_ID: {ids.iloc[i]!r} is not a grid cell id "
            "like 'CRS3035RES1000mN2413000E4094000'; fix or delete the row"
            + (f" ({int(bad.sum())} bad rows in all)" if bad.sum() > 1 else "")
        )
    epsgs = parts["epsg"].unique()
    if len(epsgs) > 1:
        i = int(np.flatnonzero((parts["epsg"] != epsgs[0]).to_numpy())[0])
        raise DataValidationError(
            f"{path}, row {i + 2}, column GRD_ID: CRS{parts['epsg'].iloc[i]} differs from "
            f"CRS{epsgs[0]} of the first row; a grid file must use one CRS"
        )

    def numeric(col: str) -> np.ndarray:
        raw = df[col]
        vals = pd.to_numeric(raw, errors="coerce")
        garbage = vals.isna() & raw.notna() & (raw.astype(str).str.strip() != "")
        if garbage.any():
            i = int(np.flatnonzero(garbage.to_numpy())[0])
            raise DataValidationError(
                f"{path}, row {i + 2}, column {col}: {raw.iloc[i]!r} is not a number"
            )
        out = vals.to_numpy(dtype=float, copy=True)
        out[out < 0] = np.nan  # negative codes mark confidential values
        return out

    total = numeric("T")
    notes: list[str] = []
    ages: dict[str, np.ndarray] = {}
    for out_col, src in (("pop_65_plus", "Y_GE65"), ("pop_under_15", "Y_LT15")):
        if src in df.columns:
            ages[out_col] = numeric(src)
        else:
            ages[out_col] = np.full(len(df), np.nan)
            notes.append(f"no {src} column: {out_col} estimated from municipal ISTAT shares")
    res = parts["res"].astype(float).to_numpy()
    x0 = parts["e"].astype(float).to_numpy()
    y0 = parts["n"].astype(float).to_numpy()
    counts = {
        "cells_read": len(df),
        "people_read": round(float(np.nansum(total))),
        "pop_65_plus_read": round(float(np.nansum(ages["pop_65_plus"]))),
    }
    unknown_total = np.isnan(total)
    if unknown_total.any():
        counts["cells_dropped_unknown_total"] = int(unknown_total.sum())
        notes.append(f"{int(unknown_total.sum())} cells with a blank/confidential T dropped")
    keep = ~unknown_total
    cells = gpd.GeoDataFrame(
        {
            "cell_id": ids.to_numpy()[keep],
            "pop_total": total[keep],
            "pop_65_plus": ages["pop_65_plus"][keep],
            "pop_under_15": ages["pop_under_15"][keep],
        },
        geometry=shapely.box(x0[keep], y0[keep], x0[keep] + res[keep], y0[keep] + res[keep]),
        crs=CRS.from_epsg(int(epsgs[0])),
    )
    return cells, counts, notes


def _read_raster(
    path: Path, municipalities: gpd.GeoDataFrame
) -> tuple[gpd.GeoDataFrame, dict[str, int], list[str]]:
    """Read the window of a population GeoTIFF covering the municipalities as cell polygons."""
    import rasterio
    from rasterio.errors import RasterioError
    from rasterio.windows import Window, from_bounds

    try:
        src = rasterio.open(path)
    except RasterioError as exc:
        raise DataValidationError(f"{path}: cannot read the GeoTIFF ({exc})") from exc
    with src:
        if src.crs is None:
            raise DataValidationError(
                f"{path}: the GeoTIFF has no CRS; assign one (gdal_edit.py -a_srs) and retry"
            )
        t = src.transform
        if t.b != 0 or t.d != 0:
            raise DataValidationError(
                f"{path}: rotated rasters are not supported; warp it to a north-up grid first"
            )
        crs = CRS.from_user_input(src.crs.to_wkt())
        bounds = municipalities.to_crs(crs).total_bounds
        win = from_bounds(*bounds, transform=t)
        win = win.round_offsets(op="floor").round_lengths(op="ceil")
        full = Window(0, 0, src.width, src.height)
        try:
            win = win.intersection(full)
        except Exception as exc:  # rasterio raises WindowError when disjoint
            raise DataValidationError(
                f"{path}: the raster does not cover the area's municipalities"
            ) from exc
        band = src.read(1, window=win, masked=True)
        nodata_note = src.nodata
    values = np.ma.filled(band.astype(float), np.nan)
    rows, cols = np.nonzero(np.isfinite(values) & (values > 0))
    pop = values[rows, cols]
    r0, c0 = int(win.row_off), int(win.col_off)
    grow, gcol = rows + r0, cols + c0
    # corner arithmetic from the affine transform (north-up: no rotation terms)
    xa = t.c + t.a * gcol
    xb = t.c + t.a * (gcol + 1)
    ya = t.f + t.e * grow
    yb = t.f + t.e * (grow + 1)
    geoms = shapely.box(
        np.minimum(xa, xb), np.minimum(ya, yb), np.maximum(xa, xb), np.maximum(ya, yb)
    )
    cells = gpd.GeoDataFrame(
        {
            "cell_id": [f"{path.stem}:r{r}c{c}" for r, c in zip(grow, gcol, strict=True)],
            "pop_total": pop,
            "pop_65_plus": np.full(len(pop), np.nan),
            "pop_under_15": np.full(len(pop), np.nan),
        },
        geometry=geoms,
        crs=crs,
    )
    counts = {
        "cells_read": len(cells),
        "people_read": round(float(pop.sum())),
    }
    notes = [
        f"GeoTIFF window rows {r0}-{r0 + int(win.height)}, cols {c0}-{c0 + int(win.width)} "
        f"of {crs.to_string()}, nodata={nodata_note}",
        "the raster has no ages: pop_65_plus and pop_under_15 are the cell population "
        "times each municipality's ISTAT share of residents aged 65+ and 0-14",
    ]
    return cells, counts, notes


def _extract_grid_csv(path: Path, *, cache_dir: Path) -> Path:
    """Extract the grid CSV from a zip as GISCO publishes it (once, into the cache)."""
    with zipfile.ZipFile(path) as zf:
        csvs = [n for n in zf.namelist() if n.lower().endswith(".csv")]
        if not csvs:
            raise DataValidationError(
                f"{path}: the zip holds no .csv file; expected the GISCO census grid CSV"
            )
        # The full-layout table is the largest CSV (GISCO zips also hold small metadata CSVs).
        member = max(csvs, key=lambda n: zf.getinfo(n).file_size)
        target = cache_dir / "unzipped" / f"{sha256_file(path)[:16]}-{Path(member).name}"
        if not target.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_suffix(".part")
            with zf.open(member) as src, open(tmp, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
            tmp.replace(target)
    return target


def load_population_grid(
    location: str | Path,
    *,
    municipalities: gpd.GeoDataFrame,
    cache_dir: Path,
) -> SourceResult:
    """Load a population grid and apportion it to the municipalities.

    Parameters
    ----------
    location
        Path or URL of a GISCO census grid CSV (``GRD_ID`` column; also inside
        a ``.zip`` as GISCO distributes it) or of a
        population GeoTIFF (``.tif``/``.tiff``, band 1 = residents).
    municipalities
        The ``municipalities`` layer (``pro_com_t``, ``pop_total``,
        ``pop_65_plus``, ``pop_0_14``, geometry), any CRS.
    cache_dir
        Where URL downloads are cached.

    Returns
    -------
    SourceResult
        The ``population_cells`` layer (EPSG:4326, one row per piece of cell
        inside one municipality) and its provenance, whose counts give cells
        and people read, kept and dropped outside the area.

    Raises
    ------
    DataValidationError
        For a bad ``GRD_ID`` or a non-numeric count (naming file, row and
        column), a raster without CRS, or one not covering the area.
    MissingColumnError
        If the CSV has no ``GRD_ID`` or ``T`` column.
    """
    path = resolve_location(location, cache_dir=cache_dir, what="population grid")
    if zipfile.is_zipfile(path):
        path = _extract_grid_csv(path, cache_dir=cache_dir)
    require_columns(municipalities, ["pro_com_t", "geometry"], where="municipalities layer")
    if municipalities.crs is None:
        raise DataValidationError("municipalities layer: no CRS set")
    if _is_tiff(path):
        cells, counts, notes = _read_raster(path, municipalities)
        source, data_date = "population_geotiff", None
    else:
        cells, counts, notes = _read_gisco_csv(path)
        source, data_date = "gisco_census2021_grid", "2021"

    # Area shares in an equal-area/projected grid CRS as published; a geographic
    # raster is reprojected to the area's UTM zone first.
    work_crs = cells.crs if cells.crs.is_projected else metric_crs(municipalities)
    cells = cells.to_crs(work_crs)
    munis = municipalities[["pro_com_t", "geometry"]].to_crs(work_crs)
    # Only cells near the area take part in the (costlier) intersection.
    near = cells.sindex.query(shapely.box(*munis.total_bounds), predicate="intersects")
    pieces = apportion_cells(cells.iloc[np.sort(near)], munis, value_columns=_VALUES)

    missing_age = pieces[["pop_65_plus", "pop_under_15"]].isna()
    if missing_age.to_numpy().any():
        shares = _municipal_shares(municipalities)
        for col in ("pop_65_plus", "pop_under_15"):
            est = pieces["pop_total"] * shares[col].reindex(pieces["pro_com_t"]).to_numpy()
            pieces[col] = pieces[col].fillna(est)
        if source != "population_geotiff":
            n_est = pieces.loc[missing_age.any(axis=1), "cell_id"].nunique()
            counts["cells_age_estimated"] = int(n_est)
            notes.append(
                f"{n_est} cells with blank/confidential age counts: ages estimated "
                "from municipal ISTAT shares"
            )

    kept = float(pieces["pop_total"].sum())
    counts.update(
        cells_kept=int(pieces["cell_id"].nunique()),
        pieces=len(pieces),
        people_kept=round(kept),
        people_dropped_outside_area=round(counts["people_read"] - kept),
        pop_65_plus_kept=round(float(pieces["pop_65_plus"].sum())),
    )
    notes.append(
        f"cells split by municipality boundaries in {CRS.from_user_input(work_crs).to_string()}; "
        "people apportioned by area share; people in parts of cells outside every "
        "municipality of the area are dropped (people_dropped_outside_area)"
    )
    out = pieces.to_crs("EPSG:4326")
    out = gpd.GeoDataFrame(
        out[["cell_id", "pro_com_t", *_VALUES, "area_share", "geometry"]],
        geometry="geometry",
        crs="EPSG:4326",
    )
    validate_layer(out, "population_cells")
    prov = Provenance(
        source=source,
        location=str(location),
        sha256=sha256_file(path),
        data_date=data_date,
        licence=(
            "Eurostat / ISTAT census 2021 grid (© European Union, reuse authorised)"
            if source == "gisco_census2021_grid"
            else None
        ),
        counts=counts,
        notes=notes,
    )
    return SourceResult(out, prov)
