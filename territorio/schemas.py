"""Schemas of the territory bundle's layers, and their validator.

All layers are stored in EPSG:4326. ISTAT codes are 6-digit strings
(``pro_com_t``, e.g. ``"001272"`` for Torino). Columns listed here are
required; layers may carry more.

municipalities
    ``pro_com_t`` str (unique), ``name`` str, ``province_code`` str (3 digits),
    ``province`` str, ``pop_total``, ``pop_0_14``, ``pop_15_64``, ``pop_65_plus``,
    ``pop_80_plus`` int, ``area_km2``, ``density`` (residents/km2),
    ``old_age_index`` (65+ per 100 under 15) float, ``ref_lon``, ``ref_lat``
    float (reference point inside the polygon: where people live), ``ref_source``
    str (``"user:<file>"``, ``"istat_2011_centre"``, ``"osm_place"``,
    ``"population_cell"`` or ``"representative_point"``, see
    :mod:`territorio.ingest.reference_points`), optional ``ref_detail`` str
    (which locality, place or cell), ``altitude_zone`` str,
    ``altitude_zone_code`` int, ``altitude_m`` float, ``urbanisation`` int
    (DEGURBA 1 city, 2 towns and suburbs, 3 rural), ``network_coverage`` str
    (``"full"``, ``"partial"``, ``"none"``), ``network_coverage_share`` float
    (share of area inside the network's coverage), geometry (Multi)Polygon.
population_cells
    ``cell_id`` str (GRD_ID or raster cell), ``pro_com_t`` str, ``pop_total``,
    ``pop_65_plus``, ``pop_under_15`` float (apportioned by area when a cell is
    split between municipalities: one row per cell piece), ``area_share``
    float, ``in_network_coverage`` bool, geometry Polygon (the piece).
road_nodes
    ``node_id`` int64 (unique), geometry Point.
road_edges
    ``u``, ``v`` int64, ``length_m`` float, ``travel_time_s`` float (u to v by
    car; NaN where cars may not go u to v), ``travel_time_reverse_s`` float
    (v to u by car; NaN when one-way or closed), ``highway`` str (OSM class,
    ``"unknown"`` for prebuilt tables without it), ``car`` bool, ``foot`` bool,
    geometry LineString.
road_nodes, road_edges, population_cells, municipalities: elevation and mountain columns
    Added by :mod:`territorio.ingest.mountain` when the build runs it (not
    required): ``altitude_m``, ``has_elevation`` on nodes, cells and edges;
    ``travel_time_flat_s`` / ``travel_time_reverse_flat_s``,
    ``geometry_kind``, ``curve_*``, ``climb_m``, ``grade_max_*``,
    ``altitude_source`` on edges; ``altitude_dem_m``, ``has_elevation``,
    ``elevation_pop_share``, ``altitude_rule_m`` / ``altitude_rule_source`` on
    municipalities.
services
    ``service_id`` str (unique, ``"<source>:<id>"``), ``category`` str (see
    :mod:`territorio.categories`), ``name`` str, ``source`` str, ``source_id``
    str, ``pro_com_t`` str or null (outside the area but inside the buffer),
    ``capacity`` float or NaN (e.g. hospital beds), ``attributes`` str (JSON
    object of source-specific facts: emergency level, ISCED level, station
    type, merged duplicates), geometry Point.
"""

from __future__ import annotations

from collections.abc import Iterable

import geopandas as gpd
import pandas as pd

from territorio.errors import DataValidationError, MissingColumnError

__all__ = ["LAYER_COLUMNS", "require_columns", "validate_layer"]

LAYER_COLUMNS: dict[str, tuple[str, ...]] = {
    "municipalities": (
        "pro_com_t",
        "name",
        "province_code",
        "province",
        "pop_total",
        "pop_0_14",
        "pop_15_64",
        "pop_65_plus",
        "pop_80_plus",
        "area_km2",
        "density",
        "old_age_index",
        "ref_lon",
        "ref_lat",
        "ref_source",
        "geometry",
    ),
    "population_cells": (
        "cell_id",
        "pro_com_t",
        "pop_total",
        "pop_65_plus",
        "pop_under_15",
        "area_share",
        "geometry",
    ),
    "road_nodes": ("node_id", "geometry"),
    "road_edges": (
        "u",
        "v",
        "length_m",
        "travel_time_s",
        "travel_time_reverse_s",
        "highway",
        "car",
        "foot",
        "geometry",
    ),
    "services": (
        "service_id",
        "category",
        "name",
        "source",
        "source_id",
        "pro_com_t",
        "capacity",
        "attributes",
        "geometry",
    ),
}

_UNIQUE = {"municipalities": "pro_com_t", "road_nodes": "node_id", "services": "service_id"}


def require_columns(df: pd.DataFrame, columns: Iterable[str], *, where: str) -> None:
    """Raise :class:`MissingColumnError` naming every missing column."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise MissingColumnError(
            f"{where}: missing column(s) {', '.join(missing)}; "
            f"found: {', '.join(map(str, df.columns))}"
        )


def validate_layer(gdf: gpd.GeoDataFrame, layer: str) -> gpd.GeoDataFrame:
    """Check a layer against its schema: columns, CRS, unique ids, no empty geometry.

    Returns the layer unchanged so it can be used inline.
    """
    where = f"layer {layer!r}"
    require_columns(gdf, LAYER_COLUMNS[layer], where=where)
    if gdf.crs is None:
        raise DataValidationError(f"{where}: no CRS set")
    if gdf.crs.to_epsg() != 4326:
        raise DataValidationError(f"{where}: CRS is {gdf.crs}, expected EPSG:4326")
    key = _UNIQUE.get(layer)
    if key is not None:
        dup = gdf[key][gdf[key].duplicated()]
        if len(dup):
            raise DataValidationError(
                f"{where}: {len(dup)} duplicate {key} value(s), e.g. {dup.iloc[0]!r}"
            )
    if "pro_com_t" in gdf.columns:
        codes = gdf["pro_com_t"].dropna()
        bad = codes[~codes.astype(str).str.fullmatch(r"\d{6}")]
        if len(bad):
            raise DataValidationError(
                f"{where}: pro_com_t must be a 6-digit string, got {bad.iloc[0]!r}"
            )
    empty = gdf.geometry.isna() | gdf.geometry.is_empty
    if empty.any():
        raise DataValidationError(f"{where}: {int(empty.sum())} row(s) with empty geometry")
    return gdf
