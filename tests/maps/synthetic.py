"""A small hand-made territory bundle for map and web tests.

Four square municipalities in a 2 x 2 grid of 0.1 degree cells near
Pinerolo (lon 7.2-7.4, lat 44.8-45.0)::

    lat 45.0 +-------------+-------------+
             | 001193      | 001194      |
             | Piscina     | Pragelato   |
             | full        | none        |
    lat 44.9 +-------------+-------------+
             | 001191      | 001192      |
             | Pinerolo    | Frossasco   |
             | full        | partial     |
    lat 44.8 +-------------+-------------+
           lon 7.2        7.3          7.4

Services: Pinerolo has 1 hospital, 2 pharmacies, 1 post office (4 markers);
Piscina 1 pharmacy; Pragelato 1 post office.

Roads: one two-way street along lat 44.85 through Pinerolo, nodes at lon
7.20, 7.25 (Pinerolo's reference point) and 7.30, each edge 3,946 m long
(0.05 deg x 111.32 km x cos 44.85 deg) and 900 s (15 min) by car. The other
reference points are more than 1 km (the snap limit) from it: outside
coverage for isochrones.

Planning outputs (:func:`write_synthetic_plan`, the format of
``territorio plan``): scores and SNAI classes of :func:`marginality_frame`
and :func:`snai_frame`, one cluster C01 = Frossasco + Piscina, one proposed
site in Piscina.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
from shapely.geometry import LineString, Point, box

from territorio.bundle import Bundle, write_bundle

MUNICIPALITIES = [
    # code, name, minx, miny, coverage, pop_total, pop_65_plus
    ("001191", "Pinerolo", 7.2, 44.8, "full", 35000, 9000),
    ("001192", "Frossasco", 7.3, 44.8, "partial", 2800, 700),
    ("001193", "Piscina", 7.2, 44.9, "full", 3400, 800),
    ("001194", "Pragelato", 7.3, 44.9, "none", 760, 200),
]

SERVICES = [
    # id, category, name, lon, lat, pro_com_t
    ("t:1", "hospital", "Ospedale Agnelli", 7.25, 44.85, "001191"),
    ("t:2", "pharmacy", "Farmacia Centrale", 7.24, 44.84, "001191"),
    ("t:3", "pharmacy", "Farmacia San Maurizio", 7.26, 44.86, "001191"),
    ("t:4", "post_office", "Poste Pinerolo", 7.255, 44.845, "001191"),
    ("t:5", "pharmacy", "Farmacia Piscina", 7.25, 44.95, "001193"),
    ("t:6", "post_office", "Poste Pragelato", 7.35, 44.95, "001194"),
]

# Hand-made access_municipalities (long format); times in minutes.
ACCESS = [
    # code, category, status, ref_time_min, mean_min, median_min, p90_min, share65_beyond_30
    ("001191", "hospital", "ok", 4.0, 6.0, 5.5, 11.0, 0.0),
    ("001191", "pharmacy", "ok", 2.0, 3.0, 2.5, 6.0, 0.0),
    ("001191", "post_office", "ok", 3.0, 4.0, 3.5, 8.0, 0.0),
    ("001192", "hospital", "no_data", None, None, None, None, None),
    ("001192", "pharmacy", "partial", 9.0, 12.0, 11.0, 20.0, 0.05),
    ("001192", "post_office", "ok", 10.0, 14.0, 13.0, 25.0, 0.10),
    ("001193", "hospital", "ok", 15.0, 18.0, 17.0, 31.0, 0.12),
    ("001193", "pharmacy", "ok", 5.0, 7.0, 6.0, 12.0, 0.0),
    ("001193", "post_office", "ok", 20.0, 26.0, 25.0, 40.0, 0.35),
    ("001194", "hospital", "outside_coverage", None, None, None, None, None),
    ("001194", "pharmacy", "outside_coverage", None, None, None, None, None),
    ("001194", "post_office", "outside_coverage", None, None, None, None, None),
]


def municipalities_frame() -> gpd.GeoDataFrame:
    rows = []
    for code, name, x, y, cov, pop, pop65 in MUNICIPALITIES:
        rows.append(
            {
                "pro_com_t": code,
                "name": name,
                "province_code": "001",
                "province": "Torino",
                "pop_total": pop,
                "pop_65_plus": pop65,
                "ref_lon": x + 0.05,
                "ref_lat": y + 0.05,
                "network_coverage": cov,
                "geometry": box(x, y, x + 0.1, y + 0.1),
            }
        )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)


def services_frame() -> gpd.GeoDataFrame:
    rows = [
        {
            "service_id": sid,
            "category": cat,
            "name": name,
            "source": "test",
            "source_id": sid,
            "pro_com_t": code,
            "capacity": float("nan"),
            "attributes": "{}",
            "geometry": Point(lon, lat),
        }
        for sid, cat, name, lon, lat, code in SERVICES
    ]
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)


def access_frame() -> pd.DataFrame:
    cols = [
        "pro_com_t",
        "category",
        "status",
        "ref_time_min",
        "mean_min",
        "median_min",
        "p90_min",
        "share65_beyond_30",
    ]
    df = pd.DataFrame(ACCESS, columns=cols)
    for c in cols[3:]:
        df[c] = df[c].astype(float)
    return df


def marginality_frame() -> pd.DataFrame:
    # score by hand; Pragelato outside coverage (no score).
    return pd.DataFrame(
        {
            "pro_com_t": ["001191", "001192", "001193", "001194"],
            "name": ["Pinerolo", "Frossasco", "Piscina", "Pragelato"],
            "status": ["ok", "ok", "ok", "outside_coverage"],
            "score": [10.0, 35.0, 62.5, float("nan")],
            "rank": [3, 2, 1, None],
            "main_factor": ["density", "post_office", "post_office", None],
        }
    )


def snai_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "pro_com_t": ["001191", "001192", "001193", "001194"],
            "snai_class": ["A", "C", "D", "outside_coverage"],
        }
    )


def clusters_frame() -> pd.DataFrame:
    return pd.DataFrame({"cluster_id": [1], "members": [["001192", "001193"]], "pop_total": [6200]})


def sites_frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": ["Piscina"], "pro_com_t": ["001193"], "gain_pop": [1200]},
        geometry=[Point(7.25, 44.95)],
        crs=4326,
    )


def offers_frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "id": [1, 2, 3],
            "title": ["Nido aziendale", "Trasporto anziani", "Sportello digitale"],
            "category": ["childcare", "transport", "digital"],
            "provider": ["Coop A", "Coop B", "Comune di Pinerolo"],
            "pro_com_t": ["001191", "001191", "001193"],
        },
        geometry=[Point(7.251, 44.851), Point(7.252, 44.852), Point(7.25, 44.951)],
        crs=4326,
    )


ROAD_NODES = [(1, 7.20, 44.85), (2, 7.25, 44.85), (3, 7.30, 44.85)]
#: Edge length: 0.05 deg of longitude at lat 44.85 = 0.05 * 111.32 km * cos(44.85 deg).
EDGE_M = 3946.0
EDGE_S = 900.0


def road_nodes_frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"node_id": [n for n, _, _ in ROAD_NODES]},
        geometry=[Point(x, y) for _, x, y in ROAD_NODES],
        crs=4326,
    )


def road_edges_frame() -> gpd.GeoDataFrame:
    pairs = [(ROAD_NODES[0], ROAD_NODES[1]), (ROAD_NODES[1], ROAD_NODES[2])]
    return gpd.GeoDataFrame(
        {
            "u": [a[0] for a, _ in pairs],
            "v": [b[0] for _, b in pairs],
            "length_m": [EDGE_M] * 2,
            "travel_time_s": [EDGE_S] * 2,
            "travel_time_reverse_s": [EDGE_S] * 2,
            "highway": ["secondary"] * 2,
            "car": [True] * 2,
            "foot": [True] * 2,
        },
        geometry=[LineString([(a[1], a[2]), (b[1], b[2])]) for a, b in pairs],
        crs=4326,
    )


def isochrones_frame() -> gpd.GeoDataFrame:
    """The ``access_isochrones`` layer as ``territorio access`` writes it.

    10/20/30 minutes on 100 m cells from each reference point within the
    snap limit of the street: only Pinerolo's, at node 2.
    """
    from territorio.accessibility.isochrones import (
        REFERENCE_CELL_M,
        REFERENCE_MINUTES,
        isochrones,
    )
    from territorio.accessibility.network import build_network
    from territorio.errors import OutsideCoverageError

    net = build_network(road_nodes_frame(), road_edges_frame())
    parts = []
    for m in municipalities_frame().itertuples():
        try:
            iso = isochrones(
                net, [(m.ref_lon, m.ref_lat)], REFERENCE_MINUTES, cell_m=REFERENCE_CELL_M
            )
        except OutsideCoverageError:
            continue
        parts.append(iso.assign(pro_com_t=m.pro_com_t))
    frame = pd.concat(parts, ignore_index=True)
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=4326)


def write_synthetic_bundle(target: Path) -> Bundle:
    """Write the synthetic bundle (with roads, access table and isochrones) to ``target``."""
    return write_bundle(
        target,
        {
            "municipalities": municipalities_frame(),
            "services": services_frame(),
            "road_nodes": road_nodes_frame(),
            "road_edges": road_edges_frame(),
            "access_municipalities": access_frame(),
            "access_isochrones": isochrones_frame(),
        },
        {"name": "synthetic test territory", "istat_year": 2023, "roads": {"modes": ["car"]}},
    )


def write_synthetic_plan(
    target: Path, *, sites: bool = True, bundle: Path | None = None
) -> Path:
    """Write planning outputs in the format of ``territorio plan`` to ``target``.

    ``summary.json`` records the build id of ``bundle`` (default: the bundle
    ``target`` sits beside, ``<bundle>-plan``, when there is one), as
    ``territorio plan`` does.
    """
    target.mkdir(parents=True, exist_ok=True)
    munis = municipalities_frame()[["pro_com_t", "name", "pop_total", "pop_65_plus", "geometry"]]
    snai = snai_frame().assign(
        time_to_polo_min=[0.0, 12.0, 18.0, float("nan")],
        polo_destination_name=["Pinerolo", "Pinerolo", "Pinerolo", None],
    )
    idx = marginality_frame().drop(columns="name").rename(columns={"status": "index_status"})
    table = munis.merge(snai, on="pro_com_t").merge(idx, on="pro_com_t")
    table["flagged"] = [False, True, True, False]
    table["cluster_id"] = [None, "C01", "C01", None]
    table.to_parquet(target / "municipalities.parquet", index=False)
    members = munis[munis["pro_com_t"].isin(["001192", "001193"])]
    clusters = gpd.GeoDataFrame(
        {
            "cluster_id": ["C01"],
            "name_it": ["Frossasco, Piscina"],
            "name_en": ["Frossasco, Piscina"],
            "n_members": [2],
            "members": ["Frossasco, Piscina"],
            "member_codes": ["001192,001193"],
            "pop_total": [6200.0],  # 2,800 + 3,400
        },
        geometry=[members.geometry.union_all()],
        crs=4326,
    )
    clusters.to_parquet(target / "clusters.parquet", index=False)
    files = ["municipalities.parquet", "clusters.parquet"]
    if sites:
        gpd.GeoDataFrame(
            {
                "site_id": ["s1"],
                "name": ["Piscina centro"],
                "marginal_gain": [300.0],
                "marginal_gain_pop": [1200.0],
                "marginal_gain_65": [300.0],
            },
            geometry=[Point(7.25, 44.95)],
            crs=4326,
        ).to_parquet(target / "sites.parquet", index=False)
        files.append("sites.parquet")
    if bundle is None:
        bundle = target.with_name(target.name.removesuffix("-plan"))
    build = Bundle(bundle).build_id if (bundle / "manifest.json").is_file() else None
    summary = {"bundle_build_id": build, "municipalities": 4, "scored": 3, "files": files}
    (target / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    return target
