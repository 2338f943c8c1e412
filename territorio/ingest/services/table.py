"""The generic ``table`` adapter: a user's CSV, GeoJSON or GeoPackage of services.

Configuration (``[[services.sources]]`` with ``adapter = "table"``):

``lon``, ``lat``
    Coordinate columns (default ``"lon"``/``"lat"``). Required for CSV; for
    GeoJSON / GeoPackage the geometry is used unless both are given
    (non-point geometries become their representative point; a projected
    layer is reprojected to EPSG:4326).
``category``
    One category code for every row, or
``category_column`` + ``category_map``
    The column holding the source's own type and a map from its values to
    category codes. Values missing from the map are dropped and counted
    (``dropped_unmapped_category``). Without a map, the column's values must
    be category codes themselves. An unknown code in ``category`` or in the
    map's values is an :class:`~territorio.errors.UnknownCategoryError`.
``name_column``, ``id_column``, ``capacity_column``
    Optional. Without ``id_column`` the row number is the id.
``csv_separator``, ``encoding``
    CSV options (default: sniffed separator, UTF-8 with or without BOM).

``source`` is ``"table-<file name>"`` so several tables can be loaded side by side.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry.base import BaseGeometry

from territorio.categories import check_category
from territorio.config import ServiceSourceConfig
from territorio.errors import ConfigError, DataValidationError
from territorio.ingest._fetch import resolve_location
from territorio.ingest._result import SourceResult
from territorio.ingest.services._common import (
    RawServices,
    finish,
    read_csv_checked,
    representative_lonlat,
    require,
    slug,
)
from territorio.provenance import Provenance, sha256_file

__all__ = ["load_table"]

_VECTOR = {".geojson", ".json", ".gpkg", ".shp", ".fgb", ".parquet"}


def _read(path: Path, src: ServiceSourceConfig) -> tuple[pd.DataFrame, np.ndarray | None]:
    """Return the attribute table and, for vector files, the geometries in EPSG:4326."""
    suffix = path.suffix.lower()
    if suffix not in _VECTOR:
        df = read_csv_checked(
            path,
            what="services table",
            sep=src.csv_separator,
            encoding=src.encoding or "utf-8-sig",
        )
        return df, None
    try:
        if suffix == ".parquet":
            gdf = gpd.read_parquet(path)
        else:
            gdf = (
                gpd.read_file(path, encoding=src.encoding) if src.encoding else gpd.read_file(path)
            )
    except Exception as exc:  # pyogrio / GDAL raise many types
        raise DataValidationError(
            f"services table {path}: cannot read as a vector file ({exc.__class__.__name__}: "
            f"{exc}); check the format"
        ) from exc
    if gdf.crs is not None and gdf.crs.to_epsg() != 4326:
        gdf = gdf.to_crs(4326)
    return pd.DataFrame(gdf.drop(columns=gdf.geometry.name)), gdf.geometry.to_numpy()


def load_table(
    src: ServiceSourceConfig,
    *,
    location: str,
    area: BaseGeometry,
    municipalities: gpd.GeoDataFrame,
    cache_dir: Path,
) -> SourceResult:
    """Read a user's table of services (CSV, GeoJSON, GeoPackage, GeoParquet)."""
    path = resolve_location(location, cache_dir=cache_dir, what="services table")
    where = f"services table {path}"
    if src.category is None and src.category_column is None:
        raise ConfigError(
            f"{where}: give either category (one code for every row) or category_column "
            "(+ category_map) in the source's configuration"
        )
    if src.category is not None:
        check_category(src.category, where=f"{where} (config key 'category')")
    for value, code in (src.category_map or {}).items():
        check_category(code, where=f"{where} (category_map[{value!r}])")

    df, geoms = _read(path, src)
    lon_c, lat_c = src.lon or "lon", src.lat or "lat"
    needed = [
        c for c in (src.category_column, src.name_column, src.id_column, src.capacity_column) if c
    ]
    use_xy = geoms is None or (src.lon is not None and src.lat is not None)
    if use_xy:
        needed = [lon_c, lat_c, *needed]
    require(
        df,
        needed,
        where=where,
        hint="check the column names in the source's configuration (lon, lat, "
        "category_column, name_column, id_column, capacity_column)",
    )
    n = len(df)
    if src.category is not None:
        category = pd.Series([src.category] * n, dtype=object)
    else:
        values = df[str(src.category_column)].astype("string").str.strip()
        if src.category_map is not None:
            category = values.map(src.category_map).astype(object)
        else:
            category = values.where(values.isin(list(_all_codes()))).astype(object)
        category = category.where(category.notna(), None)
    if use_xy or geoms is None:
        lon, lat = df[lon_c], df[lat_c]
    else:
        x, y = representative_lonlat(geoms)
        lon, lat = pd.Series(x), pd.Series(y)
        lon_c = lat_c = "geometry"
    ids = (
        df[src.id_column].astype("string").fillna("")
        if src.id_column
        else pd.Series([str(i + 1) for i in range(n)], dtype=object)
    )
    name = df[src.name_column] if src.name_column else pd.Series([""] * n, dtype=object)
    skip = {lon_c, lat_c, src.category_column, src.name_column, src.id_column, src.capacity_column}
    extra = [c for c in df.columns if c not in skip]
    attrs = df[extra].astype(object).where(df[extra].notna(), None).to_dict("records")
    if src.category_column:
        for rec, v in zip(attrs, df[src.category_column], strict=True):
            rec["source_type"] = v
    first_line = 2 if geoms is None else 1
    raw = RawServices(
        source_id=ids,
        name=name,
        category=category,
        lon=lon,
        lat=lat,
        line=pd.Series(
            [f"{'line' if geoms is None else 'feature'} {i + first_line}" for i in range(n)],
            dtype=object,
        ),
        capacity=df[src.capacity_column] if src.capacity_column else None,
        attributes=attrs,
        lon_column=lon_c,
        lat_column=lat_c,
    )
    prov = Provenance(source="table", location=str(location), sha256=sha256_file(path))
    return finish(
        raw,
        source=f"table-{slug(path.stem)}",
        where=str(path),
        area=area,
        municipalities=municipalities,
        categories=src.categories,
        provenance=prov,
    )


def _all_codes() -> tuple[str, ...]:
    from territorio.categories import CATEGORIES

    return tuple(CATEGORIES)
