"""A hand-built territory: a chain of five 10 km square municipalities, west to east.

::

    +-------+-------+-------+-------+-------+
    | Alfa  | Bravo | Carlo | Delta | Eco   |   y 4,990-5,000 km (UTM 32N)
    +-------+-------+-------+-------+-------+
    x: 380   390     400     410     420     430 km

Each square shares one edge with its neighbours only, so the adjacency graph
is the path Alfa - Bravo - Carlo - Delta - Eco.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import box

CODES = ["001901", "001902", "001903", "001904", "001905"]
NAMES = ["Alfa", "Bravo", "Carlo", "Delta", "Eco"]
X0, Y0, SIDE = 380_000.0, 4_990_000.0, 10_000.0


def chain_municipalities() -> gpd.GeoDataFrame:
    """Municipalities layer of the chain (EPSG:4326, as in a bundle)."""
    geoms = [box(X0 + i * SIDE, Y0, X0 + (i + 1) * SIDE, Y0 + SIDE) for i in range(5)]
    gdf = gpd.GeoDataFrame(
        {
            "pro_com_t": CODES,
            "name": NAMES,
            "pop_total": [10_000, 2_000, 1_000, 500, 300],
            "pop_0_14": [1_500, 250, 100, 50, 20],
            "pop_65_plus": [2_000, 500, 300, 150, 120],
            "area_km2": [100.0] * 5,
            # density = pop / 100 km2
            "density": [100.0, 20.0, 10.0, 5.0, 3.0],
            # old-age index = 65+ per 100 under 15
            "old_age_index": [2_000 / 15, 200.0, 300.0, 300.0, 600.0],
            # plain, hill, mountain, mountain, mountain
            "altitude_zone_code": [5, 3, 1, 1, 1],
            "network_coverage": ["full"] * 5,
        },
        geometry=geoms,
        crs="EPSG:32632",
    )
    cent = gdf.geometry.centroid
    gdf["ref_x"], gdf["ref_y"] = cent.x, cent.y
    gdf = gdf.to_crs("EPSG:4326")
    ref = gpd.GeoSeries(gpd.points_from_xy(gdf["ref_x"], gdf["ref_y"]), crs="EPSG:32632")
    ref = ref.to_crs("EPSG:4326")
    gdf["ref_lon"], gdf["ref_lat"] = ref.x.to_numpy(), ref.y.to_numpy()
    return gdf.drop(columns=["ref_x", "ref_y"])


def chain_services(rows: list[tuple[str, str, str, str]]) -> pd.DataFrame:
    """Services table from ``(service_id, category, pro_com_t, attributes_json)`` rows."""
    df = pd.DataFrame(rows, columns=["service_id", "category", "pro_com_t", "attributes"])
    df["name"] = df["service_id"]
    df["capacity"] = np.nan
    return df


def point_cells(m: pd.DataFrame, pts: gpd.GeoSeries) -> gpd.GeoDataFrame:
    """One 100 m population cell per comune, centred on its reference point ``pts``."""
    metric = pts.to_crs("EPSG:32632")
    return gpd.GeoDataFrame(
        {
            "cell_id": [f"cell-{c}" for c in CODES],
            "pro_com_t": CODES,
            "pop_total": m["pop_total"].astype(float).to_numpy(),
            "pop_65_plus": m["pop_65_plus"].astype(float).to_numpy(),
            "pop_under_15": m["pop_0_14"].astype(float).to_numpy(),
        },
        geometry=[box(p.x - 50, p.y - 50, p.x + 50, p.y + 50) for p in metric],
        crs="EPSG:32632",
    ).to_crs("EPSG:4326")


def chain_context(
    edges: list[tuple[int, int, float, float]],
    *,
    municipalities: gpd.GeoDataFrame | None = None,
    service_categories: dict | None = None,
):
    """An AccessContext on a road graph whose nodes are the five reference points.

    ``edges`` are ``(i, j, minutes i->j, minutes j->i)`` between municipalities
    ``i`` and ``j`` (0 = Alfa ... 4 = Eco). Each municipality has one populated
    cell: a 100 m square centred on its reference point (off-network leg 0),
    with all its residents.
    """
    from territorio.accessibility.context import AccessContext
    from territorio.accessibility.network import build_network
    from territorio.config import AccessConfig

    m = chain_municipalities() if municipalities is None else municipalities
    pts = gpd.GeoSeries(gpd.points_from_xy(m["ref_lon"], m["ref_lat"]), crs="EPSG:4326")
    nodes = gpd.GeoDataFrame({"node_id": np.arange(5, dtype=np.int64)}, geometry=pts)
    e = pd.DataFrame(
        {
            "u": [a for a, _, _, _ in edges],
            "v": [b for _, b, _, _ in edges],
            "length_m": [SIDE] * len(edges),
            "travel_time_s": [f * 60.0 for _, _, f, _ in edges],
            "travel_time_reverse_s": [r * 60.0 for _, _, _, r in edges],
        }
    )
    net = build_network(nodes, e, metric_crs="EPSG:32632")
    return AccessContext.from_layers(
        net,
        point_cells(m, pts),
        m,
        AccessConfig(),
        service_categories=service_categories or {},
    )


def service_at(code: str, category: str, service_id: str) -> gpd.GeoDataFrame:
    """A one-row services GeoDataFrame at the reference point of ``code``."""
    m = chain_municipalities().set_index("pro_com_t")
    return gpd.GeoDataFrame(
        {
            "service_id": [service_id],
            "category": [category],
            "name": [service_id],
            "source": ["test"],
            "source_id": [service_id],
            "pro_com_t": [code],
            "capacity": [np.nan],
            "attributes": ["{}"],
        },
        geometry=gpd.points_from_xy([m.loc[code, "ref_lon"]], [m.loc[code, "ref_lat"]]),
        crs="EPSG:4326",
    )
