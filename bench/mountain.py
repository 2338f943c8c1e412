"""Mountain realism figures: three named climbs on the real vector tiles, and any bundle.

Run with ``.venv/bin/python bench/mountain.py`` (climbs from the tiles in
../shared/data/osm_tiles) or ``.venv/bin/python bench/mountain.py BUNDLE
[--config configs/plan-torino.toml]`` (the ``territorio effect`` and
``territorio winter`` figures of a built bundle, with timings).

Tiles mode
----------
Until the ``vector_tiles`` road source is on main, this builds a quick car
graph for each climb's valley straight from the z14 tiles: the car classes of
the ``transportation`` layer, clipped to each tile's square (the tiles
overlap by a buffer), snapped to 0.5 m, noded where lines share a point
(``shapely.union_all``: a bridge over a road becomes a junction too, a
simplification that cannot shorten these valley routes), class speeds of
:mod:`territorio.ingest._speeds` (rural) x 0.8, both directions. Then exactly
the build's :func:`~territorio.ingest.mountain.apply_mountain` (DEM of
../shared/data/dem) and the effect report's
:func:`~territorio.planning.effect.climb` between the ISTAT capoluogo points.
The absolute minutes depend on this stand-in graph; the hairpin counts and
the minutes that curves and slopes add on the route are the point.

Timings are of a shared 2-core machine: indicative only.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"

#: (label, from ISTAT, to ISTAT, bbox lon0, lat0, lon1, lat1)
CLIMBS = [
    ("Pinerolo - Sestriere (Val Chisone, via Fenestrelle)", "001191", "001263",
     6.84, 44.86, 7.40, 45.05),
    ("Susa - Moncenisio", "001270", "001157", 6.90, 45.11, 7.08, 45.24),
    ("Lanzo Torinese - Balme (Val d'Ala)", "001128", "001019", 7.13, 45.24, 7.50, 45.34),
]  # fmt: skip

CAR_CLASSES = {"motorway", "trunk", "primary", "secondary", "tertiary", "minor"}
CLASS_SPEED = {"motorway": 130, "trunk": 110, "primary": 90, "secondary": 90,
               "tertiary": 90, "minor": 70}  # fmt: skip


def _tile_xy(lon: float, lat: float, z: int = 14) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def _tile_box_3857(x: int, y: int, z: int = 14) -> Any:
    size = 2 * 20037508.342789244 / 2**z
    x0 = -20037508.342789244 + x * size
    y1 = 20037508.342789244 - y * size
    return shapely.box(x0, y1 - size, x0 + size, y1)


def tile_graph(bbox: tuple[float, float, float, float]) -> tuple[gpd.GeoDataFrame, ...]:
    """Nodes and edges (road_* schemas, EPSG:4326) of the car roads in ``bbox``."""
    import pyogrio

    lon0, lat0, lon1, lat1 = bbox
    xa, ya = _tile_xy(lon0, lat1)
    xb, yb = _tile_xy(lon1, lat0)
    parts = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for x in range(xa, xb + 1):
            for y in range(ya, yb + 1):
                p = SHARED / "osm_tiles" / "14" / str(x) / f"{y}.pbf"
                if not p.exists():
                    continue
                try:
                    df = pyogrio.read_dataframe(p, layer="transportation", columns=["class"])
                except pyogrio.errors.DataLayerError:  # a tile without roads
                    continue
                df = df[df["class"].isin(CAR_CLASSES)]
                if len(df):
                    df["geometry"] = shapely.intersection(
                        df.geometry.to_numpy(), _tile_box_3857(x, y)
                    )
                    parts.append(df)
    raw = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=3857).to_crs(32632)
    raw = raw[~raw.geometry.is_empty]
    geoms = shapely.set_precision(raw.geometry.to_numpy(), 0.5)
    lines = shapely.get_parts(shapely.line_merge(shapely.union_all(geoms)))
    lines = lines[shapely.get_type_id(lines) == 1]
    lines = lines[shapely.length(lines) > 0]
    # class of each noded piece: the source line nearest to its midpoint
    tree = shapely.STRtree(geoms)
    near = tree.nearest(shapely.line_interpolate_point(lines, 0.5, normalized=True))
    cls = raw["class"].to_numpy()[near]
    a = shapely.get_coordinates(shapely.get_point(lines, 0))
    b = shapely.get_coordinates(shapely.get_point(lines, -1))
    keys = np.round(np.vstack([a, b]) * 2).astype(np.int64)
    uniq, inv = np.unique(keys, axis=0, return_inverse=True)
    inv = inv.ravel()
    u, v = inv[: len(lines)], inv[len(lines) :]
    keep = u != v
    lines, cls, u, v = lines[keep], cls[keep], u[keep], v[keep]
    length = shapely.length(lines)
    speed = np.array([CLASS_SPEED[c] for c in cls], dtype=float) * 0.8
    t = length / (speed / 3.6)
    edges = gpd.GeoDataFrame(
        {
            "u": u.astype(np.int64),
            "v": v.astype(np.int64),
            "length_m": length,
            "travel_time_s": t,
            "travel_time_reverse_s": t,
            "highway": cls,
            "car": True,
            "foot": False,
        },
        geometry=lines,
        crs=32632,
    ).to_crs(4326)
    nodes = gpd.GeoDataFrame(
        {"node_id": np.arange(len(uniq), dtype=np.int64)},
        geometry=shapely.points(uniq / 2.0),
        crs=32632,
    ).to_crs(4326)
    return nodes, edges


class _Layers:
    def __init__(self, **layers: Any) -> None:
        self._layers = layers

    def layer(self, name: str) -> Any:
        return self._layers[name]


def tiles_mode() -> list[dict[str, Any]]:
    """Build each valley's graph, apply the mountain model, measure the climb."""
    from territorio.accessibility.context import AccessContext
    from territorio.accessibility.network import build_network
    from territorio.config import AccessConfig
    from territorio.ingest.elevation import load_dem
    from territorio.ingest.mountain import MountainParams, apply_mountain
    from territorio.planning.effect import climb

    dem = load_dem([SHARED / "dem" / "N45E007.hgt", SHARED / "dem" / "N45E008.hgt"])
    loc = gpd.read_file(SHARED / "istat" / "Localita_11_WGS84_topo_points.geojson")
    loc = loc.set_index(loc["PRO_COM_T"].astype(str))
    out = []
    for label, a, b, *bbox in CLIMBS:
        t0 = time.perf_counter()
        nodes, edges = tile_graph(tuple(bbox))  # type: ignore[arg-type]
        t1 = time.perf_counter()
        res = apply_mountain(nodes, edges, params=MountainParams(), dem=dem, straight_standin=False)
        t2 = time.perf_counter()
        net = build_network(res.nodes, res.edges)
        pts = loc.loc[[a, b]]
        munis = pd.DataFrame(
            {
                "pro_com_t": [a, b],
                "ref_lon": pts.geometry.x.to_numpy(),
                "ref_lat": pts.geometry.y.to_numpy(),
                "pop_total": 0.0,
            }
        )
        cells = gpd.GeoDataFrame(
            {"cell_id": ["c"], "pro_com_t": [a], "pop_total": [0.0], "pop_65_plus": [0.0],
             "pop_under_15": [0.0]},
            geometry=[pts.geometry.iloc[0].buffer(0.001)], crs=4326,
        )  # fmt: skip
        ctx = AccessContext.from_layers(net, cells, munis, AccessConfig())
        c = climb(ctx, _Layers(road_edges=res.edges), a, b, label=label)
        e = res.edges
        on_dem = e["has_elevation"].mean()
        row = {
            **c.__dict__,
            "added_min": round(c.added_min, 2),
            "graph_edges": len(e),
            "graph_edges_with_dem_share": round(float(on_dem), 3),
            "seconds_tiles": round(t1 - t0, 1),
            "seconds_mountain": round(t2 - t1, 1),
        }
        out.append(row)
        print(
            f"{label}: {c.km} km, {c.hairpins} hairpins, flat {c.minutes_flat} min -> "
            f"with curves and slopes {c.minutes_mountain} min (+{c.added_min:.1f}); "
            f"climb {c.climb_m} m, highest {c.max_altitude_m} m; "
            f"graph {len(e):,} edges ({100 * on_dem:.0f} % with DEM), "
            f"tiles {t1 - t0:.1f} s, mountain model {t2 - t1:.1f} s",
            flush=True,
        )
    return out


def bundle_mode(bundle_path: Path, config: Path | None) -> dict[str, Any]:
    """Print the effect report and the winter preset of a bundle, timed."""
    from territorio.bundle import Bundle
    from territorio.planning import PlanConfig
    from territorio.planning.mountain_report import effect_report, winter_report
    from territorio.planning.run import default_plan_dir, load_plan_config

    bundle = Bundle(bundle_path)
    cfg = load_plan_config(config) if config else PlanConfig()
    out = default_plan_dir(bundle.path)
    t0 = time.perf_counter()
    eff = effect_report(bundle, cfg, out_dir=out, stream=sys.stdout)
    t1 = time.perf_counter()
    win = winter_report(bundle, cfg, out_dir=out, stream=sys.stdout)
    t2 = time.perf_counter()
    print(f"effect {t1 - t0:.1f} s, winter (incl. context and baseline) {t2 - t1:.1f} s")
    return {"effect": eff, "winter_seconds": win["seconds"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("bundle", nargs="?", type=Path, help="a built bundle (default: tiles mode)")
    ap.add_argument("--config", type=Path, help="plan TOML")
    ap.add_argument("--json", type=Path, help="write the figures to this JSON file")
    args = ap.parse_args()
    if not (SHARED / "README.md").is_file():
        sys.exit(f"real data folder {SHARED} is absent")
    figures: Any = bundle_mode(args.bundle, args.config) if args.bundle else tiles_mode()
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
