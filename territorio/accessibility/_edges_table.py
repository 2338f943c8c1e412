"""Read a prebuilt OSRM-style edge table (``turin_core_car_edges.parquet``).

Used by tests and the benchmark until/unless a bundle exists: it turns the
table (``u, v, length_m, travel_time_s, travel_time_reverse_s, oneway,
geometry`` LineString u to v) into the ``road_nodes`` / ``road_edges`` layer
schemas (``highway="unknown"``, ``car=True``, ``foot=False``).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

__all__ = ["read_edges_table"]


def read_edges_table(path: str | Path) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Return ``(road_nodes, road_edges)`` built from an edge table file."""
    e = gpd.read_parquet(path)
    e = e.to_crs(4326) if e.crs is not None and e.crs.to_epsg() != 4326 else e
    edges = gpd.GeoDataFrame(
        {
            "u": e["u"].to_numpy(dtype=np.int64),
            "v": e["v"].to_numpy(dtype=np.int64),
            "length_m": e["length_m"].to_numpy(dtype=float),
            "travel_time_s": e["travel_time_s"].to_numpy(dtype=float),
            "travel_time_reverse_s": pd.to_numeric(
                e["travel_time_reverse_s"], errors="coerce"
            ).to_numpy(dtype=float),
            "highway": "unknown",
            "car": True,
            "foot": False,
        },
        geometry=e.geometry.to_numpy(),
        crs=4326,
    )
    coords = shapely.get_coordinates(e.geometry.to_numpy(), return_index=False)
    nverts = shapely.get_num_coordinates(e.geometry.to_numpy())
    first = np.concatenate([[0], np.cumsum(nverts)[:-1]])
    last = np.cumsum(nverts) - 1
    ids = np.concatenate([edges["u"].to_numpy(), edges["v"].to_numpy()])
    xy = np.concatenate([coords[first], coords[last]])
    uniq, pos = np.unique(ids, return_index=True)
    nodes = gpd.GeoDataFrame(
        {"node_id": uniq},
        geometry=shapely.points(xy[pos]),
        crs=4326,
    )
    return nodes, edges
