"""A small bundle on the toy graph (see ``toy.py``) with hand-checkable numbers.

Cells (local metres -> snapped node, off-network leg at 5 km/h = 1.3889 m/s):

    a (0, 0)       001001  pop 100 (65+ 10, <15 5)   node 1, leg 0 s
    b (1000, 300)  001001  pop 200 (65+ 50, <15 20)  node 2, leg 300 / 1.3889 = 216 s
    c (2000, 0)    001002  pop 300 (65+ 30, <15 30)  node 3, leg 0 s
    d (3500, 0)    001002  pop 400 (65+ 40, <15 0)   1500 m from node 3 > 1000 m: outside
    e (0, 0)       001003  pop 50  (65+ 5, <15 5)    node 1, leg 0 s

Municipality reference points: 001001 (0, 0), 001002 (2000, 0), 001003 (0, 0),
001004 (3500, 0) (outside coverage, no cells).

Services: ``ph1`` pharmacy at (1000, 1000) = node 4 (leg 0), coverage only
001001 and 001002; ``h1`` hospital at (1000, 1000), 10 beds; no post office
(count 0).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from territorio.bundle import Bundle, write_bundle
from tests.accessibility.toy import lonlat, toy_layers

CELLS = [
    ("a", 0, 0, "001001", 100, 10, 5),
    ("b", 1000, 300, "001001", 200, 50, 20),
    ("c", 2000, 0, "001002", 300, 30, 30),
    ("d", 3500, 0, "001002", 400, 40, 0),
    ("e", 0, 0, "001003", 50, 5, 5),
]
REFS = [("001001", 0, 0), ("001002", 2000, 0), ("001003", 0, 0), ("001004", 3500, 0)]


def _square(lon: float, lat: float, h: float = 1e-5) -> shapely.Polygon:
    return shapely.box(lon - h, lat - h, lon + h, lat + h)


def toy_services() -> gpd.GeoDataFrame:
    lon, lat = lonlat([1000, 1000], [1000, 1000])
    return gpd.GeoDataFrame(
        {
            "service_id": ["t:ph1", "t:h1"],
            "category": ["pharmacy", "hospital"],
            "name": ["Farmacia", "Ospedale"],
            "source": "test",
            "source_id": ["ph1", "h1"],
            "pro_com_t": ["001001", "001001"],
            "capacity": [np.nan, 10.0],
            "attributes": "{}",
        },
        geometry=shapely.points(lon, lat),
        crs=4326,
    )


def make_toy_bundle(path: Path) -> Bundle:
    nodes, edges = toy_layers()
    clon, clat = lonlat([c[1] for c in CELLS], [c[2] for c in CELLS])
    cells = gpd.GeoDataFrame(
        {
            "cell_id": [c[0] for c in CELLS],
            "pro_com_t": [c[3] for c in CELLS],
            "pop_total": [float(c[4]) for c in CELLS],
            "pop_65_plus": [float(c[5]) for c in CELLS],
            "pop_under_15": [float(c[6]) for c in CELLS],
            "area_share": 1.0,
            "in_network_coverage": True,
        },
        geometry=[_square(x, y) for x, y in zip(clon, clat, strict=True)],
        crs=4326,
    )
    rlon, rlat = lonlat([r[1] for r in REFS], [r[2] for r in REFS])
    munis = gpd.GeoDataFrame(
        {
            "pro_com_t": [r[0] for r in REFS],
            "name": ["A", "B", "C", "D"],
            "pop_total": [300, 700, 50, 0],
            "ref_lon": rlon,
            "ref_lat": rlat,
            "network_coverage": "full",
        },
        geometry=[_square(x, y, 1e-3) for x, y in zip(rlon, rlat, strict=True)],
        crs=4326,
    )
    manifest = {
        "roads": {"modes": ["car"]},
        "service_categories": {
            "pharmacy": {"count": 1, "coverage": ["001001", "001002"]},
            "hospital": {"count": 1, "coverage": "area"},
            "post_office": {"count": 0, "coverage": "area"},
        },
    }
    return write_bundle(
        path,
        {
            "road_nodes": nodes,
            "road_edges": edges,
            "population_cells": cells,
            "municipalities": munis,
            "services": toy_services(),
        },
        manifest,
    )
