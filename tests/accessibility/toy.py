"""A hand-checkable toy road graph, laid out in metres in EPSG:32632 near Turin.

Node positions (metres, relative to an origin at E 390000, N 4990000)::

    1 (0, 0)   2 (1000, 0)   3 (2000, 0)   4 (1000, 1000)   7 (1000, 1001)
    5 (5000, 5000)   6 (5100, 5000)          # an island, not connected

Edges (u, v, time u->v s, time v->u s; NaN = closed):

    1-2  60, 60       1-2 (parallel)  50, NaN     2-3  120, NaN (one-way)
    3-4  30, 30       4-2  45, 45                 4-7  0, 0 (zero-length)
    5-6  10, 10       3-3  5, 5 (self-loop, ignored)
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Transformer

E0, N0 = 390000.0, 4990000.0
XY = {1: (0, 0), 2: (1000, 0), 3: (2000, 0), 4: (1000, 1000), 7: (1000, 1001),
      5: (5000, 5000), 6: (5100, 5000)}  # fmt: skip
EDGES = [
    (1, 2, 60.0, 60.0),
    (1, 2, 50.0, np.nan),
    (2, 3, 120.0, np.nan),
    (3, 4, 30.0, 30.0),
    (4, 2, 45.0, 45.0),
    (4, 7, 0.0, 0.0),
    (5, 6, 10.0, 10.0),
    (3, 3, 5.0, 5.0),
]

_TO_LL = Transformer.from_crs("EPSG:32632", "EPSG:4326", always_xy=True)


def lonlat(x: float | np.ndarray, y: float | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Local metres -> (lon, lat) arrays."""
    lon, lat = _TO_LL.transform(np.asarray(x, float) + E0, np.asarray(y, float) + N0)
    return np.atleast_1d(lon), np.atleast_1d(lat)


def toy_layers(*, foot: bool = False) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    ids = sorted(XY)
    lon, lat = lonlat([XY[i][0] for i in ids], [XY[i][1] for i in ids])
    nodes = gpd.GeoDataFrame(
        {"node_id": np.array(ids, dtype=np.int64)}, geometry=shapely.points(lon, lat), crs=4326
    )
    pos = {i: (lon[k], lat[k]) for k, i in enumerate(ids)}
    lines = [shapely.linestrings([pos[u], pos[v]]) for u, v, _, _ in EDGES]
    edges = gpd.GeoDataFrame(
        {
            "u": np.array([e[0] for e in EDGES], dtype=np.int64),
            "v": np.array([e[1] for e in EDGES], dtype=np.int64),
            "length_m": [
                float(np.hypot(XY[u][0] - XY[v][0], XY[u][1] - XY[v][1])) for u, v, _, _ in EDGES
            ],
            "travel_time_s": [e[2] for e in EDGES],
            "travel_time_reverse_s": [e[3] for e in EDGES],
            "highway": "residential",
            "car": True,
            "foot": foot,
        },
        geometry=lines,
        crs=4326,
    )
    return nodes, edges
