"""Geometry plumbing shared by the ingest adapters (metric CRS, polygon clean-up, apportioning)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

__all__ = ["apportion_cells", "metric_crs", "polygonal", "to_metric"]


def metric_crs(gdf: gpd.GeoDataFrame) -> CRS:
    """Return the WGS 84 UTM zone CRS covering the centre of ``gdf``.

    The zone is chosen from the data (EPSG:32632 for Turin), so an adapter can
    serve any area.
    """
    crs = gdf.estimate_utm_crs(datum_name="WGS 84")
    return CRS.from_user_input(crs)


def to_metric(gdf: gpd.GeoDataFrame, crs: CRS | None = None) -> gpd.GeoDataFrame:
    """Reproject ``gdf`` to ``crs`` or, when ``None``, to its UTM zone."""
    return gdf.to_crs(crs if crs is not None else metric_crs(gdf))


def polygonal(geoms: np.ndarray) -> np.ndarray:
    """Keep only the polygonal parts of each geometry (drop points and lines).

    Intersections and ``make_valid`` can return GeometryCollections mixing
    polygons with slivers of lower dimension; area-based work needs only the
    polygons. Rows left with no polygon become empty polygons.
    """
    geoms = np.asarray(geoms, dtype=object)
    out = geoms.copy()
    types = shapely.get_type_id(geoms)
    # 7 = GeometryCollection; 3/6 = (Multi)Polygon are already fine.
    mixed = np.flatnonzero(types == 7)
    if len(mixed) == 0:
        return out
    parts, idx = shapely.get_parts(geoms[mixed], return_index=True)
    ptypes = shapely.get_type_id(parts)
    keep = (ptypes == 3) | (ptypes == 6)
    # MultiPolygon parts inside a collection are exploded once more.
    polys, pidx = shapely.get_parts(parts[keep], return_index=True)
    owner = idx[keep][pidx]
    merged = np.full(len(mixed), shapely.Polygon(), dtype=object)
    if len(polys):
        groups = np.unique(owner)
        multi = shapely.multipolygons(polys, indices=owner)
        # multipolygons() returns one geometry per index from 0..max(owner).
        merged[groups] = multi[groups]
    out[mixed] = merged
    return out


def apportion_cells(
    cells: gpd.GeoDataFrame,
    municipalities: gpd.GeoDataFrame,
    *,
    value_columns: list[str],
) -> gpd.GeoDataFrame:
    """Split grid cells by municipality and apportion their values by area share.

    Both inputs must share one projected CRS. Cells are intersected with the
    municipality polygons (spatial index join, then one vectorised
    ``shapely.intersection`` over all cell/municipality pairs); each piece
    gets ``area_share = piece area / cell area`` and every value column
    multiplied by that share. Pieces outside all municipalities are not
    returned (their people are "dropped": the caller reports them).

    Parameters
    ----------
    cells
        One row per cell: ``cell_id``, the value columns, geometry (Polygon).
    municipalities
        ``pro_com_t`` and geometry.
    value_columns
        Columns of ``cells`` to apportion (NaN stays NaN).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per cell piece: ``cell_id``, ``pro_com_t``, value columns,
        ``area_share``, geometry (the piece), in the input CRS.
    """
    crs = cells.crs
    cell_geoms = cells.geometry.values
    muni_geoms = municipalities.geometry.values
    tree = shapely.STRtree(np.asarray(muni_geoms))
    cell_idx, muni_idx = tree.query(np.asarray(cell_geoms), predicate="intersects")
    pieces = shapely.intersection(
        np.asarray(cell_geoms)[cell_idx], np.asarray(muni_geoms)[muni_idx]
    )
    pieces = polygonal(pieces)
    piece_area = shapely.area(pieces)
    cell_area = shapely.area(np.asarray(cell_geoms))[cell_idx]
    ok = piece_area > 0  # cells that only touch a border give zero-area pieces
    cell_idx, muni_idx, pieces = cell_idx[ok], muni_idx[ok], pieces[ok]
    share = piece_area[ok] / cell_area[ok]
    data: dict[str, object] = {
        "cell_id": cells["cell_id"].to_numpy()[cell_idx],
        "pro_com_t": municipalities["pro_com_t"].to_numpy()[muni_idx],
    }
    for col in value_columns:
        data[col] = cells[col].to_numpy(dtype=float)[cell_idx] * share
    data["area_share"] = share
    out = gpd.GeoDataFrame(pd.DataFrame(data), geometry=pieces, crs=crs)
    return out.sort_values(["cell_id", "pro_com_t"], kind="stable").reset_index(drop=True)
