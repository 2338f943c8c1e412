"""Road network ingest: Overpass, ``.osm.pbf`` / ``.osm`` extracts, or a prebuilt edge table.

:func:`load_roads` returns the ``road_nodes`` and ``road_edges`` layers (see
:mod:`territorio.schemas`), the area the network covers, provenance, the
available travel modes and a report of what was read and dropped.

Sources (``RoadsConfig.source``)
--------------------------------
``"overpass"``
    osmnx ``graph_from_polygon`` against ``RoadsConfig.overpass_url``.
``"pbf"``
    A ``.osm.pbf`` file read with pyrosm, or an ``.osm`` XML file read with
    osmnx (chosen by the file name), clipped to the area.
``"vector_tiles"``
    OpenMapTiles-schema vector tiles (a ``z/x/y.pbf`` folder with
    ``metadata.json``, or an ``.mbtiles`` file) read through GDAL; the graph is
    rebuilt from the ``transportation`` layer (:mod:`._tile_roads`). Car only.
``"edges"``
    A GeoParquet / GeoPackage table of junction-to-junction segments with
    ``u, v, length_m, travel_time_s`` and optionally ``travel_time_reverse_s``
    (null when one-way) or ``oneway``. Car only: ``highway="unknown"``,
    ``car=True``, ``foot=False``.

Connectivity
------------
For OSM sources (Overpass, PBF, vector tiles) only the largest strongly
connected component of the car network is kept
(a car can reach every kept node from every other). With walking
(``network_type="all"``) the largest connected component of the foot network
(undirected) is kept as well; an edge outside one of them loses that mode,
and an edge left with no mode is dropped. The report gives the nodes, edges
and kilometres dropped. Prebuilt edge tables are kept whole; the report gives
what lies outside the largest strongly connected component (the engine
snaps to that component only).

Coverage
--------
OSM sources: the requested area clipped to the data extent (the convex hull
of the nodes read, plus 500 m; for PBF also the file's bounding box).
Vector tiles: the area clipped to the tiles' squares (where the tile set
has data). Edge tables (clipped to the area like OSM sources: segments with
both ends inside): the 250 m grid cells touched by the edges, grown by one cell,
simplified, with holes under 5 km² filled, within the area — it hugs the data
and leaves out valleys the table does not reach.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, NamedTuple

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
import shapely.ops
from pyproj import Transformer
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from shapely.geometry.base import BaseGeometry

from territorio.config import RoadsConfig
from territorio.errors import ConfigError, DataValidationError, MissingColumnError
from territorio.ingest import _osm_roads, _speeds, _tile_roads, _vector_tiles
from territorio.ingest._fetch import resolve_location
from territorio.provenance import Provenance, sha256_file
from territorio.schemas import validate_layer

__all__ = ["OSM_LICENCE", "TILE_LOSSES", "RoadsResult", "load_roads", "read_edge_table"]

OSM_LICENCE = "© OpenStreetMap contributors, ODbL 1.0"

_COVERAGE_CELL_M = 250.0
_COVERAGE_HOLE_KM2 = 5.0
_EXTENT_BUFFER_M = 500.0


class RoadsResult(NamedTuple):
    """The road network layers and what is known about them.

    Attributes
    ----------
    nodes
        ``road_nodes`` layer (EPSG:4326).
    edges
        ``road_edges`` layer (EPSG:4326).
    coverage
        The area the network covers (EPSG:4326).
    provenance
        Where the network came from.
    modes
        ``["car"]`` or ``["car", "walk"]``.
    report
        Counts: read, dropped by the connectivity step (nodes, edges, km), kept,
        and the seconds taken.
    """

    nodes: gpd.GeoDataFrame
    edges: gpd.GeoDataFrame
    coverage: BaseGeometry
    provenance: Provenance
    modes: list[str]
    report: dict[str, Any]


def load_roads(
    cfg: RoadsConfig,
    *,
    area: BaseGeometry,
    cache_dir: Path,
    location: str | None,
) -> RoadsResult:
    """Load the road network of ``area`` from the configured source.

    Parameters
    ----------
    cfg
        The ``[roads]`` configuration.
    area
        The municipalities' union plus the buffer, EPSG:4326.
    cache_dir
        Cache folder (Overpass responses, downloads).
    location
        The resolved ``cfg.location`` (path or URL); required for ``pbf`` and
        ``edges``, ignored for ``overpass``.

    Returns
    -------
    RoadsResult

    Raises
    ------
    ConfigError
        If ``location`` is missing for a file source.
    SourceNotFoundError
        If the file or the Overpass server cannot be reached.
    MissingColumnError
        If an edge table lacks a required column.
    DataValidationError
        If the source holds no usable road inside the area.
    """
    t0 = time.perf_counter()
    cache_dir = Path(cache_dir)
    walk = cfg.network_type == "all"
    if cfg.source == "edges":
        if location is None:
            raise ConfigError("roads: source 'edges' needs roads.location (a GeoParquet/GPKG)")
        path = resolve_location(location, cache_dir=cache_dir, what="road edge table")
        edges = read_edge_table(path)
        report: dict[str, Any] = {"source": "edges", "edges_read": len(edges)}
        nodes = _nodes_from_edge_table(edges, where=str(path))
        report["nodes_read"] = len(nodes)
        edges, nodes = _clip_to_area(edges, nodes, area)
        report["edges_outside_area"] = report["edges_read"] - len(edges)
        # The publisher's routing graph is kept whole (as OSRM keeps it): the
        # pieces outside the largest strongly connected component are mostly
        # one-way stubs cut by the extract's edge. They cannot change a time
        # between two nodes of the main component, and the accessibility engine
        # snaps origins and services to the main component only.
        _, _, outside = _keep_largest_components(edges, nodes, walk=False)
        report.update(
            {
                k.replace("dropped_components", "outside_main_component"): v
                for k, v in outside.items()
                if k.startswith("dropped_components")
            }
        )
        coverage = shapely.make_valid(shapely.intersection(coverage_from_edges(edges), area))
        prov = Provenance(
            source="edge_table",
            location=str(location),
            sha256=sha256_file(path),
            licence=OSM_LICENCE,
            notes=["prebuilt car graph: highway unknown, no walking network"],
        )
        modes = ["car"]
    elif cfg.source == "vector_tiles":
        edges, nodes, coverage, prov, report = _load_tiles(
            cfg, area=area, cache_dir=cache_dir, location=location
        )
        modes = ["car"]
    else:
        edges, nodes, coverage, prov, report = _load_osm(
            cfg, area=area, cache_dir=cache_dir, location=location, walk=walk
        )
        modes = ["car", "walk"] if walk else ["car"]
    report["nodes_kept"] = len(nodes)
    report["edges_kept"] = len(edges)
    report["km_kept"] = round(float(edges["length_m"].sum()) / 1000, 3)
    report["seconds"] = round(time.perf_counter() - t0, 3)
    prov.counts.update({k: int(v) for k, v in report.items() if isinstance(v, int | np.integer)})
    validate_layer(nodes, "road_nodes")
    validate_layer(edges, "road_edges")
    return RoadsResult(nodes, edges, coverage, prov, modes, report)


# --------------------------------------------------------------------------- vector tiles

#: What the OpenMapTiles profile loses of OSM, said in every tile source's provenance.
TILE_LOSSES = [
    "no maxspeed in the tiles: car speeds are the Italian defaults by road class and "
    "urban/rural context (junction density), times the speed factor",
    "oneway=-1 is not encoded: such streets are two-way here",
    "ways tagged access=private or access=no were dropped by the tile profile",
    "residential, unclassified, living_street and road are merged into class 'minor' "
    "(recovered from transportation_name's subclass where a name piece matches)",
    "no OSM ids: junctions are rebuilt from shared vertices on the tile grid",
]


def _load_tiles(
    cfg: RoadsConfig, *, area: BaseGeometry, cache_dir: Path, location: str | None
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, BaseGeometry, Provenance, dict[str, Any]]:
    if location is None:
        raise ConfigError(
            "roads: source 'vector_tiles' needs roads.location (a folder of z/x/y.pbf tiles "
            "with metadata.json, or an .mbtiles file)"
        )
    if cfg.network_type == "all":
        raise ConfigError(
            "roads: source 'vector_tiles' builds the car network only; set "
            'roads.network_type = "drive"'
        )
    local = Path(location).expanduser()
    # a tile folder is used in place; an .mbtiles file may also be a URL (downloaded once)
    path = local if local.is_dir() else resolve_location(location, cache_dir=cache_dir,
                                                         what="vector tile set")  # fmt: skip
    tiles = _vector_tiles.open_tileset(path)
    crs = _osm_roads.metric_crs(area)
    graph = _tile_roads.graph_from_tiles(tiles, area, crs=crs, speed_factor=cfg.speed_factor)
    report: dict[str, Any] = {"source": "vector_tiles", **graph.report}
    report["edges_read"] = len(graph.edges)
    report["nodes_read"] = len(graph.nodes)
    edges, nodes, dropped = _keep_largest_components(graph.edges, graph.nodes, walk=False)
    report.update(dropped)
    coverage = shapely.make_valid(shapely.intersection(area, _vector_tiles.footprint(tiles)))
    notes = [
        f"tile set {tiles.name!r} ({tiles.kind}, zoom {tiles.zoom})",
        *([f"made from: {cfg.extract}"] if cfg.extract else []),
        *TILE_LOSSES,
        f"car speed = Italian default by class and context x {cfg.speed_factor}",
    ]
    if cfg.data_date is None:
        notes.append("data_date unknown: the tiles do not say it (set roads.data_date)")
    prov = Provenance(
        source="vector_tiles",
        location=str(location),
        sha256=tiles.metadata_sha256,
        data_date=cfg.data_date,
        licence=OSM_LICENCE,
        notes=notes,
    )
    return edges, nodes, coverage, prov, report


# --------------------------------------------------------------------------- OSM


def _load_osm(
    cfg: RoadsConfig, *, area: BaseGeometry, cache_dir: Path, location: str | None, walk: bool
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, BaseGeometry, Provenance, dict[str, Any]]:
    notes: list[str] = []
    extent: BaseGeometry | None = None
    if cfg.source == "overpass":
        graph, stamp, digest = _osm_roads.graph_from_overpass(
            area, network_type=cfg.network_type, overpass_url=cfg.overpass_url,
            cache_dir=cache_dir,
        )  # fmt: skip
        prov = Provenance(source="overpass", location=cfg.overpass_url, sha256=digest,
                          data_date=stamp, licence=OSM_LICENCE)  # fmt: skip
        if stamp:
            notes.append("data_date is Overpass osm3s.timestamp_osm_base")
    else:
        if location is None:
            raise ConfigError("roads: source 'pbf' needs roads.location (.osm.pbf or .osm)")
        path = resolve_location(location, cache_dir=cache_dir, what="OSM extract")
        name = path.name.lower()
        if name.endswith(".pbf"):
            graph, header, newest = _osm_roads.graph_from_pbf(
                path, area, network_type=cfg.network_type
            )
            stamp = header or newest
            notes.append(
                "data_date is the PBF header osmosis_replication_timestamp"
                if header
                else "data_date is the newest element timestamp in the PBF (no replication "
                "timestamp in its header): the extract is at least that recent"
            )
            extent = _pbf_bbox(path)
        elif name.endswith((".osm", ".xml")):
            graph, stamp = _osm_roads.graph_from_osm_xml(path, area)
            if stamp:
                notes.append("data_date from the OSM XML header")
        else:
            raise ConfigError(
                f"roads.location {path}: expected a .osm.pbf or .osm file for source 'pbf'"
            )
        prov = Provenance(source="osm_pbf" if name.endswith(".pbf") else "osm_xml",
                          location=str(location), sha256=sha256_file(path), data_date=stamp,
                          licence=OSM_LICENCE)  # fmt: skip
    prov.notes.extend(notes)
    report: dict[str, Any] = {"source": cfg.source, "osm_nodes_read": graph.number_of_nodes()}
    coverage = _osm_coverage(graph, area, extent)
    simple, counts = _osm_roads.prepare_graph(graph, speed_factor=cfg.speed_factor, walk=walk)
    report.update(counts)
    edges, nodes = _graph_to_layers(simple)
    report["edges_read"] = len(edges)
    report["nodes_read"] = len(nodes)
    edges, nodes, dropped = _keep_largest_components(edges, nodes, walk=walk)
    report.update(dropped)
    prov.notes.append(
        f"car speed = maxspeed or Italian default by class and context, x {cfg.speed_factor}"
        + (f"; walking {_speeds.WALK_KMH} km/h" if walk else "")
    )
    return edges, nodes, coverage, prov, report


def _pbf_bbox(path: Path) -> BaseGeometry | None:
    from pyrosm.utils import get_bounding_box

    try:
        box = get_bounding_box(str(path))
    except (OSError, ValueError, RuntimeError):  # no bbox only loses a refinement
        return None
    return box if isinstance(box, BaseGeometry) else None


def _osm_coverage(
    graph: nx.MultiDiGraph, area: BaseGeometry, extent: BaseGeometry | None
) -> BaseGeometry:
    """Clip the requested area to the data extent (hull of nodes + 500 m, file bbox)."""
    xy = np.array([(d["x"], d["y"]) for _, d in graph.nodes(data=True)], dtype=float)
    crs = _osm_roads.metric_crs(area)
    to_m = Transformer.from_crs(4326, crs, always_xy=True)
    to_ll = Transformer.from_crs(crs, 4326, always_xy=True)
    mx, my = to_m.transform(xy[:, 0], xy[:, 1])
    hull = shapely.MultiPoint(np.column_stack([mx, my])).convex_hull.buffer(_EXTENT_BUFFER_M)
    hull_ll = shapely.ops.transform(to_ll.transform, hull)
    cov = shapely.intersection(area, hull_ll)
    if extent is not None:
        cov = shapely.intersection(cov, extent)
    return shapely.make_valid(cov)


def _graph_to_layers(graph: nx.MultiDiGraph) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Collapse a simplified directed graph into undirected-style rows (see schema)."""
    import osmnx as ox

    gn, ge = ox.graph_to_gdfs(graph, nodes=True, edges=True, fill_edge_geometry=True)
    e = ge.reset_index()[["u", "v", "length", "car", "foot", "car_time", "highway", "geometry"]]
    e = e[e["u"] != e["v"]].copy()  # rings are useless for routing
    e["highway"] = e["highway"].map(_speeds.highway_class)
    e["car"] = e["car"].astype(bool)
    e["foot"] = e["foot"].astype(bool)
    u = e["u"].to_numpy(np.int64)
    v = e["v"].to_numpy(np.int64)
    e["a"] = np.minimum(u, v)
    e["b"] = np.maximum(u, v)
    e["fwd"] = u < v
    e["lkey"] = np.round(e["length"].to_numpy(float), 1)
    e["n"] = e.groupby(["a", "b", "lkey", "fwd"]).cumcount()
    on = ["a", "b", "lkey", "n"]
    f = e[e["fwd"]].set_index(on)
    r = e[~e["fwd"]].set_index(on)
    m = f.join(r, how="outer", lsuffix="_f", rsuffix="_r")
    has_f = m["u_f"].notna().to_numpy()
    rev_geom = shapely.reverse(m["geometry_r"].to_numpy())
    geom = np.where(has_f, m["geometry_f"].to_numpy(), rev_geom)
    car_f = m["car_f"].fillna(False).astype(bool).to_numpy()
    car_r = m["car_r"].fillna(False).astype(bool).to_numpy()
    idx = m.index.to_frame(index=False)
    rows = pd.DataFrame(
        {
            "u": idx["a"].to_numpy(np.int64),
            "v": idx["b"].to_numpy(np.int64),
            "length_m": np.where(has_f, m["length_f"], m["length_r"]).astype(float),
            "travel_time_s": np.where(car_f, m["car_time_f"], np.nan).astype(float),
            "travel_time_reverse_s": np.where(car_r, m["car_time_r"], np.nan).astype(float),
            "highway": np.where(has_f, m["highway_f"], m["highway_r"]).astype(str),
            "car": car_f | car_r,
            "foot": (
                m["foot_f"].fillna(False).astype(bool) | m["foot_r"].fillna(False).astype(bool)
            ).to_numpy(),
        }
    )
    edges = gpd.GeoDataFrame(rows, geometry=list(geom), crs=4326)
    nodes = gpd.GeoDataFrame(
        {"node_id": gn.index.to_numpy(np.int64)},
        geometry=shapely.points(gn["x"].to_numpy(float), gn["y"].to_numpy(float)),
        crs=4326,
    )
    return edges.reset_index(drop=True), nodes


# --------------------------------------------------------------------------- edge table

_EDGE_REQUIRED = ("u", "v", "length_m", "travel_time_s")


def read_edge_table(path: Path) -> gpd.GeoDataFrame:
    """Read a prebuilt edge table into the ``road_edges`` schema (car only).

    Raises
    ------
    MissingColumnError
        Naming the file and the missing column(s).
    DataValidationError
        If ids, lengths or times are invalid, or the CRS is missing.
    """
    path = Path(path)
    if path.suffix.lower() in {".parquet", ".geoparquet"}:
        gdf = gpd.read_parquet(path)
    else:
        gdf = gpd.read_file(path)
    missing = [c for c in _EDGE_REQUIRED if c not in gdf.columns]
    if missing:
        raise MissingColumnError(
            f"{path}: missing column(s) {', '.join(missing)} (an edge table needs "
            f"{', '.join(_EDGE_REQUIRED)}, optionally travel_time_reverse_s or oneway); "
            f"found: {', '.join(map(str, gdf.columns))}"
        )
    if gdf.crs is None:
        raise DataValidationError(f"{path}: no CRS; write the table with its CRS (EPSG:4326)")
    gdf = gdf.to_crs(4326)
    for col in ("u", "v"):
        if gdf[col].isna().any():
            row = int(np.flatnonzero(gdf[col].isna().to_numpy())[0])
            raise DataValidationError(f"{path}: row {row}: column {col} is empty")
    length = pd.to_numeric(gdf["length_m"], errors="coerce").to_numpy(float)
    tt = pd.to_numeric(gdf["travel_time_s"], errors="coerce").to_numpy(float)
    bad = ~(np.isfinite(length) & (length >= 0))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataValidationError(
            f"{path}: row {row}: length_m {gdf['length_m'].iloc[row]!r} is not a length >= 0"
        )
    if "travel_time_reverse_s" in gdf.columns:
        rev = pd.to_numeric(gdf["travel_time_reverse_s"], errors="coerce").to_numpy(float)
    elif "oneway" in gdf.columns:
        rev = np.where(gdf["oneway"].fillna(False).astype(bool).to_numpy(), np.nan, tt)
    else:
        rev = tt.copy()
    tt = np.where(tt >= 0, tt, np.nan)
    rev = np.where(rev >= 0, rev, np.nan)
    out = gpd.GeoDataFrame(
        {
            "u": gdf["u"].to_numpy(np.int64),
            "v": gdf["v"].to_numpy(np.int64),
            "length_m": length,
            "travel_time_s": tt,
            "travel_time_reverse_s": rev,
            "highway": "unknown",
            "car": True,
            "foot": False,
        },
        geometry=gdf.geometry.to_numpy(),
        crs=4326,
    )
    return out[out["u"] != out["v"]].reset_index(drop=True)


def _nodes_from_edge_table(edges: gpd.GeoDataFrame, *, where: str) -> gpd.GeoDataFrame:
    """Node points from the edge geometries' endpoints (first point = u, last = v)."""
    geom = edges.geometry.to_numpy()
    start = shapely.get_point(geom, 0)
    end = shapely.get_point(geom, -1)
    ids = np.concatenate([edges["u"].to_numpy(np.int64), edges["v"].to_numpy(np.int64)])
    pts = np.concatenate([start, end])
    if shapely.is_missing(pts).any():
        row = int(np.flatnonzero(shapely.is_missing(pts))[0]) % len(edges)
        raise DataValidationError(f"{where}: row {row}: geometry is not a LineString")
    uniq, first = np.unique(ids, return_index=True)
    return gpd.GeoDataFrame({"node_id": uniq}, geometry=pts[first], crs=4326)


def _clip_to_area(
    edges: gpd.GeoDataFrame, nodes: gpd.GeoDataFrame, area: BaseGeometry
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Keep the edges whose two end nodes lie in ``area`` (as for OSM sources)."""
    shapely.prepare(area)
    xy = shapely.get_coordinates(nodes.geometry.to_numpy())
    inside = nodes["node_id"].to_numpy(np.int64)[shapely.intersects_xy(area, xy[:, 0], xy[:, 1])]
    keep = edges["u"].isin(inside).to_numpy() & edges["v"].isin(inside).to_numpy()
    if not keep.any():
        raise DataValidationError(
            "the road edge table has no segment inside the area (check that it covers "
            f"the configured territory; its extent is {tuple(edges.total_bounds.round(3))})"
        )
    edges = edges[keep].reset_index(drop=True)
    used = np.union1d(edges["u"].to_numpy(np.int64), edges["v"].to_numpy(np.int64))
    return edges, nodes[nodes["node_id"].isin(used)].reset_index(drop=True)


# --------------------------------------------------------------------------- connectivity


def _keep_largest_components(
    edges: gpd.GeoDataFrame, nodes: gpd.GeoDataFrame, *, walk: bool
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, dict[str, Any]]:
    """Keep the largest car SCC (and largest foot component); report what was dropped."""
    ids = np.unique(np.concatenate([edges["u"].to_numpy(np.int64), edges["v"].to_numpy(np.int64)]))
    iu = np.searchsorted(ids, edges["u"].to_numpy(np.int64))
    iv = np.searchsorted(ids, edges["v"].to_numpy(np.int64))
    n = len(ids)
    fwd = edges["car"].to_numpy(bool) & edges["travel_time_s"].notna().to_numpy()
    rev = edges["car"].to_numpy(bool) & edges["travel_time_reverse_s"].notna().to_numpy()
    car_ok = np.zeros(len(edges), dtype=bool)
    if (fwd | rev).any():
        src = np.concatenate([iu[fwd], iv[rev]])
        dst = np.concatenate([iv[fwd], iu[rev]])
        g = coo_matrix((np.ones(len(src)), (src, dst)), shape=(n, n)).tocsr()
        _, lab = connected_components(g, directed=True, connection="strong")
        # largest component among nodes that touch a car edge
        touched = np.zeros(n, dtype=bool)
        touched[src] = True
        touched[dst] = True
        big = np.bincount(lab[touched]).argmax()
        in_s = lab == big
        car_ok = (fwd | rev) & in_s[iu] & in_s[iv]
    foot = edges["foot"].to_numpy(bool)
    foot_ok = np.zeros(len(edges), dtype=bool)
    if walk and foot.any():
        g = coo_matrix((np.ones(int(foot.sum())), (iu[foot], iv[foot])), shape=(n, n)).tocsr()
        _, lab = connected_components(g, directed=False)
        touched = np.zeros(n, dtype=bool)
        touched[iu[foot]] = True
        touched[iv[foot]] = True
        big = np.bincount(lab[touched]).argmax()
        in_w = lab == big
        foot_ok = foot & in_w[iu] & in_w[iv]
    keep = car_ok | foot_ok
    out = edges[keep].copy()
    lost_car = ~car_ok[keep]
    out.loc[lost_car, ["travel_time_s", "travel_time_reverse_s"]] = np.nan
    out["car"] = car_ok[keep]
    out["foot"] = foot_ok[keep]
    used = np.unique(np.concatenate([out["u"].to_numpy(np.int64), out["v"].to_numpy(np.int64)]))
    kept_nodes = nodes[nodes["node_id"].isin(used)].reset_index(drop=True)
    report = {
        "dropped_components_nodes": int(len(nodes) - len(kept_nodes)),
        "dropped_components_edges": int((~keep).sum()),
        "dropped_components_km": round(
            float(edges["length_m"].to_numpy(float)[~keep].sum()) / 1000, 3
        ),
        "car_edges_lost_components": int(((fwd | rev) & ~car_ok).sum()),
        "foot_edges_lost_components": int((foot & ~foot_ok).sum()) if walk else 0,
    }
    return out.reset_index(drop=True), kept_nodes, report


# --------------------------------------------------------------------------- coverage


def coverage_from_edges(
    edges: gpd.GeoDataFrame, *, cell_m: float = _COVERAGE_CELL_M
) -> BaseGeometry:
    """Polygon (EPSG:4326) covered by a road table: grid cells the edges touch, grown a cell.

    Edges are sampled every half cell (straight segments between their
    vertices, so long motorway links do not leave gaps); every cell holding a
    sample and its 8 neighbours form the coverage, which is then merged,
    simplified by a fifth of a cell and stripped of holes under 5 km².
    """
    bounds = edges.total_bounds
    crs = _osm_roads.metric_crs(shapely.box(*bounds))
    m = edges.geometry.to_crs(crs)
    coords, index = shapely.get_coordinates(m.to_numpy(), return_index=True)
    same = index[1:] == index[:-1]
    a, b = coords[:-1][same], coords[1:][same]
    seg_len = np.hypot(*(b - a).T)
    steps = np.maximum(1, np.ceil(seg_len / (cell_m / 2)).astype(np.int64))
    rep = np.repeat(np.arange(len(a)), steps + 1)
    offs = np.arange(rep.size) - np.repeat(np.cumsum(steps + 1) - (steps + 1), steps + 1)
    t = offs / np.repeat(steps, steps + 1)
    pts = a[rep] + (b[rep] - a[rep]) * t[:, None]
    cells = np.unique(np.floor(pts / cell_m).astype(np.int64), axis=0)
    grown = np.unique(
        (cells[:, None, :] + np.array([(i, j) for i in (-1, 0, 1) for j in (-1, 0, 1)])).reshape(
            -1, 2
        ),
        axis=0,
    )
    x0, y0 = grown[:, 0] * cell_m, grown[:, 1] * cell_m
    boxes = shapely.box(x0, y0, x0 + cell_m, y0 + cell_m)
    poly = shapely.coverage_union_all(boxes).simplify(cell_m / 5)
    min_hole = _COVERAGE_HOLE_KM2 * 1e6
    parts = []
    for p in getattr(poly, "geoms", [poly]):
        holes = [r for r in p.interiors if shapely.Polygon(r).area >= min_hole]
        parts.append(shapely.Polygon(p.exterior, holes))
    merged = shapely.MultiPolygon(parts) if len(parts) > 1 else parts[0]
    to_ll = Transformer.from_crs(crs, 4326, always_xy=True)
    return shapely.make_valid(shapely.ops.transform(to_ll.transform, merged))
