"""Plumbing shared by the service adapters: from a raw table to the ``services`` layer.

Each adapter reads its file into a :class:`RawServices` table (one row per
source record, with the category already mapped or ``None`` when the record
is not a service we know) and hands it to :func:`finish`, which drops and
counts, in this order:

1. ``dropped_unmapped_category`` — no category for the record;
2. ``dropped_category_not_selected`` — not in the source's ``categories``;
3. ``dropped_bad_coordinates`` — see :mod:`._coords` (if *every* remaining
   row is bad, the source is an error, not a silent empty layer);
4. ``dropped_outside_area`` — outside the area (``swapped_coordinates``
   counts rows kept after un-swapping lon/lat);
5. ``dropped_duplicate_id`` — a second record with the same source id.

Then it assigns ``pro_com_t`` by point in polygon and validates the layer.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from territorio.errors import DataValidationError, MissingColumnError
from territorio.ingest._result import SourceResult
from territorio.ingest.services._coords import check_coordinates, parse_numbers, unparseable
from territorio.provenance import Provenance
from territorio.schemas import LAYER_COLUMNS, validate_layer

__all__ = [
    "SERVICE_COLUMNS",
    "RawServices",
    "assign_municipality",
    "attributes_json",
    "empty_services",
    "finish",
    "read_csv_checked",
    "representative_lonlat",
    "require",
    "slug",
]

SERVICE_COLUMNS = LAYER_COLUMNS["services"]


@dataclass
class RawServices:
    """An adapter's records before validation.

    Attributes
    ----------
    source_id
        Record id in the source (unique within the source).
    name
        Display name (may be empty).
    category
        Category code, or ``None`` when the record maps to no category.
    lon, lat
        Raw coordinate values (numbers or strings, decimal commas allowed).
    line
        Where each record is in the file (e.g. the 1-based line number),
        for error messages.
    capacity
        Capacity (beds, ...) or NaN.
    attributes
        One dict of source-specific facts per record.
    counts
        Counts already made by the adapter (e.g. ``dropped_closed``).
    lon_column, lat_column
        Names of the coordinate columns in the source, for error messages.
    """

    source_id: pd.Series
    name: pd.Series
    category: pd.Series
    lon: pd.Series
    lat: pd.Series
    line: pd.Series
    capacity: pd.Series | None = None
    attributes: Sequence[Mapping[Any, Any]] | None = None
    counts: dict[str, int] = field(default_factory=dict)
    lon_column: str = "lon"
    lat_column: str = "lat"


def slug(text: str) -> str:
    """Return a lowercase ``[a-z0-9_]`` slug of ``text`` (for source names)."""
    s = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    return s or "source"


def require(df: pd.DataFrame, columns: Iterable[str], *, where: str, hint: str = "") -> None:
    """Raise :class:`MissingColumnError` naming the file and every missing column."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        found = ", ".join(map(str, df.columns[:30]))
        fix = f"; {hint}" if hint else ""
        raise MissingColumnError(
            f"{where}: missing column(s) {', '.join(map(repr, missing))} (found: {found}){fix}"
        )


def read_csv_checked(
    path: Path,
    *,
    what: str,
    sep: str | None = ",",
    encoding: str = "utf-8",
    required: Iterable[str] = (),
) -> pd.DataFrame:
    """Read a CSV as strings and check its required columns.

    Raises
    ------
    DataValidationError
        If the file cannot be parsed (wrong separator or encoding).
    MissingColumnError
        If a required column is missing.
    """
    try:
        df = pd.read_csv(
            path,
            sep=sep,
            dtype=str,
            encoding=encoding,
            keep_default_na=False,
            na_values=[""],
            engine="python" if sep is None else "c",
        )
    except (UnicodeDecodeError, pd.errors.ParserError, ValueError) as exc:
        raise DataValidationError(
            f"{what} {path}: cannot read as CSV (separator {sep!r}, encoding {encoding!r}): "
            f"{exc}; check the file format"
        ) from exc
    df.columns = [str(c).strip().lstrip("\ufeff") for c in df.columns]
    require(
        df,
        required,
        where=f"{what} {path}",
        hint=f"check the separator ({sep!r}) and that this is the expected file layout",
    )
    return df


def _clean(value: Any) -> Any:
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, str):
        v = value.strip()
        return v or None
    return value


def attributes_json(attrs: Mapping[Any, Any]) -> str:
    """Serialise an attribute dict to a JSON object, dropping null values."""
    clean = {str(k): c for k, v in attrs.items() if (c := _clean(v)) is not None}
    return json.dumps(clean, ensure_ascii=False, sort_keys=True, default=str)


def empty_services() -> gpd.GeoDataFrame:
    """Return an empty ``services`` layer (EPSG:4326) with the schema's columns."""
    return gpd.GeoDataFrame(
        {
            c: pd.Series(dtype="float64" if c == "capacity" else "object")
            for c in SERVICE_COLUMNS[:-1]
        },
        geometry=gpd.GeoSeries([], crs="EPSG:4326"),
        crs="EPSG:4326",
    )


def assign_municipality(
    lon: np.ndarray, lat: np.ndarray, municipalities: gpd.GeoDataFrame
) -> np.ndarray:
    """Return the ``pro_com_t`` of the municipality containing each point, else None.

    A point on a shared border gets the first municipality in the layer's order.
    """
    out = np.full(len(lon), None, dtype=object)
    if len(lon) == 0 or len(municipalities) == 0:
        return out
    munis = municipalities
    if munis.crs is not None and munis.crs.to_epsg() != 4326:
        munis = munis.to_crs(4326)
    codes = munis["pro_com_t"].astype(str).to_numpy()
    tree = shapely.STRtree(munis.geometry.to_numpy())
    pts = shapely.points(lon, lat)
    ip, ig = tree.query(pts, predicate="intersects")
    if len(ip):
        order = np.lexsort((ig, ip))
        ip, ig = ip[order], ig[order]
        first = np.unique(ip, return_index=True)[1]
        out[ip[first]] = codes[ig[first]]
    return out


def finish(
    raw: RawServices,
    *,
    source: str,
    where: str,
    area: BaseGeometry,
    municipalities: gpd.GeoDataFrame,
    categories: Sequence[str] | None = None,
    provenance: Provenance,
) -> SourceResult:
    """Validate an adapter's records and build the ``services`` layer.

    Parameters
    ----------
    raw
        The adapter's records.
    source
        Source name, the prefix of ``service_id``.
    where
        The file or URL, for error messages.
    area
        Study area, EPSG:4326.
    municipalities
        Municipality polygons with ``pro_com_t`` (schema ``municipalities``).
    categories
        Keep only these categories (``None``: keep all).
    provenance
        The source's provenance; its ``counts`` are set here.

    Returns
    -------
    SourceResult
        The validated layer, and the provenance whose counts say what was read,
        kept and dropped (``read``, ``kept``, ``dropped_*``,
        ``swapped_coordinates``, ``kept_<category>``).
    """
    counts: dict[str, int] = dict(raw.counts)
    n = len(raw.source_id)
    counts.setdefault("read", n)
    cat = raw.category.reset_index(drop=True).astype(object)
    cat = cat.where(cat.notna(), None)
    keep = cat.notna().to_numpy(dtype=bool).copy()
    counts["dropped_unmapped_category"] = int((~keep).sum())
    if categories is not None:
        sel = cat.isin(list(categories)).to_numpy()
        counts["dropped_category_not_selected"] = int((keep & ~sel).sum())
        keep &= sel
    lon_raw = raw.lon.reset_index(drop=True)
    lat_raw = raw.lat.reset_index(drop=True)
    chk = check_coordinates(lon_raw, lat_raw, area)
    for col, values in ((raw.lon_column, lon_raw), (raw.lat_column, lat_raw)):
        garbled = keep & unparseable(values)
        if garbled.any():
            i = int(np.flatnonzero(garbled)[0])
            line = raw.line.reset_index(drop=True).iloc[i]
            more = f" ({int(garbled.sum())} such rows)" if garbled.sum() > 1 else ""
            raise DataValidationError(
                f"{where}, {line}, column {col!r}: {values.iloc[i]!r} is not a number{more}; "
                "write decimal degrees (e.g. 45.0712 or 45,0712) or leave the cell empty "
                "to skip the row"
            )
    bad = keep & chk.bad
    if keep.any() and bad.sum() == keep.sum():
        i = int(np.flatnonzero(bad)[0])
        line = raw.line.reset_index(drop=True).iloc[i]
        raise DataValidationError(
            f"{where}: every one of the {int(keep.sum())} service rows has missing or invalid "
            f"coordinates (first at {line}: {raw.lon_column}={lon_raw.iloc[i]!r}, "
            f"{raw.lat_column}={lat_raw.iloc[i]!r}); check that columns "
            f"{raw.lon_column!r}/{raw.lat_column!r} hold WGS84 longitude/latitude in degrees"
        )
    counts["dropped_bad_coordinates"] = int(bad.sum())
    keep &= ~chk.bad
    counts["dropped_outside_area"] = int((keep & chk.outside).sum())
    counts["swapped_coordinates"] = int((keep & chk.swapped).sum())
    keep &= ~chk.outside
    sid = raw.source_id.reset_index(drop=True).astype(str).str.strip()
    dup = keep & sid.where(keep).duplicated(keep="first").to_numpy()
    counts["dropped_duplicate_id"] = int(dup.sum())
    keep &= ~dup

    idx = np.flatnonzero(keep)
    lon = chk.lon[idx]
    lat = chk.lat[idx]
    names = raw.name.reset_index(drop=True).iloc[idx].astype(object)
    names = names.where(names.notna(), "").astype(str).str.strip()
    if raw.capacity is None:
        capacity = np.full(len(idx), np.nan)
    else:
        cap_series = raw.capacity.reset_index(drop=True)
        capacity = parse_numbers(cap_series)[idx]
    attrs = raw.attributes if raw.attributes is not None else [{}] * n
    attr_json = [attributes_json(attrs[int(i)]) for i in idx]
    gdf = gpd.GeoDataFrame(
        {
            "service_id": (source + ":" + sid.iloc[idx]).to_numpy(dtype=object),
            "category": cat.iloc[idx].to_numpy(dtype=object),
            "name": names.to_numpy(dtype=object),
            "source": np.full(len(idx), source, dtype=object),
            "source_id": sid.iloc[idx].to_numpy(dtype=object),
            "pro_com_t": assign_municipality(lon, lat, municipalities),
            "capacity": capacity.astype("float64"),
            "attributes": np.asarray(attr_json, dtype=object),
        },
        geometry=shapely.points(lon, lat),
        crs="EPSG:4326",
    )
    counts["kept"] = len(gdf)
    for code, k in gdf["category"].value_counts().sort_index().items():
        counts[f"kept_{code}"] = int(k)
    validate_layer(gdf, "services")
    provenance.counts = counts
    return SourceResult(gdf, provenance)


def representative_lonlat(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lon/lat of a representative point of each geometry (NaN for empty/None)."""
    pts = np.empty(len(geoms), dtype=object)
    missing = shapely.is_missing(geoms)
    valid = ~missing
    if valid.any():
        g = geoms[valid]
        is_point = shapely.get_type_id(g) == 0
        rep = np.asarray(np.where(is_point, g, None), dtype=object)
        others = ~is_point
        if others.any():
            rep[others] = shapely.point_on_surface(g[others])
        pts[valid] = rep
    x = np.full(len(geoms), np.nan)
    y = np.full(len(geoms), np.nan)
    ok = ~shapely.is_missing(pts) & ~shapely.is_empty(pts)
    if ok.any():
        x[ok] = shapely.get_x(pts[ok])
        y[ok] = shapely.get_y(pts[ok])
    return x, y
