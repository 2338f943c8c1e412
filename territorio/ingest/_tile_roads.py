"""A routable car graph from the ``transportation`` layer of OpenMapTiles vector tiles.

The tiles carry OpenStreetMap roads as line pieces, one per tile, with no OSM
ids: the graph is rebuilt from their geometry alone.

Rejoining tile pieces
---------------------
GDAL clips every piece to its own tile square (:mod:`._vector_tiles`), so the
tile buffers' overlaps are gone. All vertices are then expressed on the tile
set's world grid of tile units (0.6 m of EPSG:3857 at zoom 14): a vertex
stored in a tile is an integer there, the same in every tile that holds it;
the points GDAL adds on a tile border, where a road leaves one tile and enters
the next, are not, and the two sides' points differ by up to a unit because
each tile quantised its own copy of the road. Border points within
:data:`SNAP_UNITS` units of each other are snapped together (the tolerance is
derived from the tile resolution, so it is the same at any zoom), which makes
a road crossing a tile border one continuous path.

Junctions
---------
A junction is a vertex that several pieces share, or a piece's end; roads
are never joined where they merely cross. A bridge or tunnel shares no
vertex with the road it passes over or under in OSM, but on a 0.6 m grid two
vertices can coincide by chance, so the interior vertices of bridges and
tunnels only join interior vertices of the same level (+1 bridge, -1 tunnel,
0 ground); the end of a piece joins whatever lies at its point (an approach
road, a ramp that ends on a viaduct). Pieces that lie along a tile border
appear in both tiles: duplicate edges (same junctions, same class, same
length within a metre) are dropped and counted.

Classes, names and speeds
-------------------------
Drivable classes: ``motorway``, ``trunk``, ``primary``, ``secondary``,
``tertiary``, ``minor`` and ``service`` (``ramp=1`` makes them ``*_link``).
``minor`` merges OSM ``residential``, ``unclassified``, ``living_street`` and
``road``; the ``transportation_name`` layer, which tilemaker writes feature
by feature with the same geometry, gives back the OSM value (its
``subclass``), the ``name`` and the ``ref`` wherever a name piece has exactly
the road piece's geometry; a ``minor`` piece without one keeps the class
``minor`` (:data:`territorio.ingest._speeds.DEFAULT_SPEEDS_KMH` has a default
for it). Service roads are drivable (a hospital, a school or a hamlet is often
reached by one) at the ``service`` default of 20 km/h; driveways, parking
aisles, alleys and drive-throughs at :data:`SERVICE_MINOR_KMH` km/h, so they
serve the places along them but are never a short cut; ``emergency_access``
is not drivable. ``track`` (which also holds cycleways and bridleways in this
profile), paths, steps and everything not in use are not drivable.
``oneway=1`` gives one direction; ``oneway=-1`` is not encoded by the
profile, so such streets are two-way here (a known loss). The tiles have no
``maxspeed``: car speeds are the Italian class defaults for the urban or rural
context (:mod:`._speeds`, junction density) times the speed factor.

Chains
------
Degree-2 junctions between pieces with the same attributes (tile borders,
OSM way splits) are removed: such chains become one edge with the summed
length and time and the concatenated shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

from territorio.errors import DataValidationError
from territorio.ingest import _osm_roads, _speeds
from territorio.ingest._vector_tiles import TileSet, read_layer, tile_units

__all__ = ["DRIVABLE_CLASSES", "SERVICE_MINOR_KMH", "SNAP_UNITS", "TileGraph", "graph_from_tiles"]

#: Tile classes cars may use.
DRIVABLE_CLASSES = ("motorway", "trunk", "primary", "secondary", "tertiary", "minor", "service")
#: ``service`` values that are not roads for cars.
_NOT_DRIVABLE_SERVICE = {"emergency_access"}
#: ``service`` values driven at walking-car pace: they reach places, they are no route.
_SLOW_SERVICE = {"driveway", "parking_aisle", "alley", "drive-through"}
#: Speed (km/h) on driveways, parking aisles, alleys and drive-throughs.
SERVICE_MINOR_KMH = 10.0
#: Snapping tolerance for tile-border points, in tile units (0.6 m at z14).
SNAP_UNITS = 2.0
#: ``minor`` subclasses (from ``transportation_name``) kept as OSM classes.
_MINOR_SUBCLASSES = {"residential", "unclassified", "living_street", "road"}
_INT_EPS = 1e-6
_LEVEL = {"bridge": 1, "tunnel": -1}


@dataclass
class TileGraph:
    """The rebuilt graph: undirected-style edge rows and their junctions.

    ``edges`` has the ``road_edges`` columns plus ``name``, ``ref``,
    ``brunnel``, ``service`` (strings, empty when unknown) in EPSG:4326;
    ``nodes`` has ``node_id`` and Point geometry; ``report`` the counts.
    """

    edges: gpd.GeoDataFrame
    nodes: gpd.GeoDataFrame
    report: dict[str, Any]


def graph_from_tiles(
    tiles: TileSet, area: BaseGeometry, *, crs: CRS, speed_factor: float
) -> TileGraph:
    """Build the car graph of ``area`` from a tile set's ``transportation`` layer.

    Parameters
    ----------
    tiles
        The tile set.
    area
        The area (EPSG:4326); pieces are read from the tiles touching its
        bounding box and edges with both ends inside it are kept.
    crs
        Metric CRS for lengths and the urban-context rule.
    speed_factor
        Share of the class default speed actually driven.

    Raises
    ------
    DataValidationError
        If the tiles hold no drivable road inside the area.
    """
    report: dict[str, Any] = {}
    raw = read_layer(tiles, "transportation", bbox=area.bounds)
    report["pieces_read"] = len(raw)
    cls = _str_col(raw, "class")
    service = _str_col(raw, "service")
    drivable = cls.isin(DRIVABLE_CLASSES) & ~service.isin(_NOT_DRIVABLE_SERVICE)
    drivable &= raw.geometry.geom_type.isin(["LineString", "MultiLineString"]).to_numpy()
    report["pieces_not_drivable"] = int((~drivable).sum())
    report["pieces_not_drivable_by_class"] = {
        str(k): int(v) for k, v in cls[~drivable].value_counts().items()
    }
    roads = raw[drivable.to_numpy()].reset_index(drop=True)
    if roads.empty:
        raise DataValidationError(
            f"{tiles.location}: the tiles hold no drivable road inside the area "
            f"(bounds {tuple(round(b, 3) for b in area.bounds)}); check that the tile set covers it"
        )
    attrs = _piece_attributes(roads, tiles, area)
    report["pieces_named"] = int(attrs["matched"].sum())
    report["pieces_drivable"] = len(roads)
    pieces, counts = _split_at_junctions(roads.geometry.to_numpy(), attrs, tiles)
    report.update(counts)
    to_m = Transformer.from_crs(3857, crs, always_xy=True)
    length = _edge_lengths(pieces, to_m)
    node_m = np.column_stack(to_m.transform(pieces.node_xy[:, 0], pieces.node_xy[:, 1]))
    e = _edge_table(pieces, attrs, length)
    # loops are useless for routing; pieces along a tile border come twice
    loop = e["u"].to_numpy() == e["v"].to_numpy()
    a = np.minimum(e["u"], e["v"])
    b = np.maximum(e["u"], e["v"])
    dup = pd.DataFrame({"a": a, "b": b, "h": e["highway"], "l": np.rint(length)}).duplicated()
    report["edges_loops_dropped"] = int(loop.sum())
    report["edges_duplicates_dropped"] = int((dup & ~loop).sum())
    e = e[~(loop | dup.to_numpy())].reset_index(drop=True)
    tf, tr = _travel_times(e, node_m, speed_factor)
    e["tf"], e["tr"] = tf, tr
    report["edges_urban"] = int(e["urban"].sum())
    report["edges_before_chains"] = len(e)
    e, xy = _merge_chains(e, pieces.xy)
    report["edges_merged_chains"] = report["edges_before_chains"] - len(e)
    return _layers(e, xy, pieces, area, report)


def _str_col(df: pd.DataFrame, name: str) -> pd.Series:
    if name not in df.columns:
        return pd.Series("", index=df.index, dtype="string")
    return df[name].astype("string").fillna("")


def _piece_attributes(roads: gpd.GeoDataFrame, tiles: TileSet, area: BaseGeometry) -> pd.DataFrame:
    """Class, flags, name and ref of each road piece (names from ``transportation_name``)."""
    cls = _str_col(roads, "class")
    ramp = pd.to_numeric(roads.get("ramp"), errors="coerce").fillna(0).to_numpy() == 1
    oneway = pd.to_numeric(roads.get("oneway"), errors="coerce").fillna(0).to_numpy() == 1
    out = pd.DataFrame(
        {
            "cls": cls.to_numpy(object),
            "ramp": ramp,
            "oneway": oneway,
            "brunnel": _str_col(roads, "brunnel").to_numpy(object),
            "service": _str_col(roads, "service").to_numpy(object),
            "name": "",
            "ref": "",
            "subclass": "",
            "matched": False,
        }
    )
    try:
        names = read_layer(tiles, "transportation_name", bbox=area.bounds)
    except DataValidationError:
        return out
    # tilemaker writes each way to both layers with the same geometry
    key_n = pd.Series(np.arange(len(names)), index=shapely.to_wkb(names.geometry.to_numpy()))
    key_n = key_n[~key_n.index.duplicated()]
    hit = key_n.reindex(shapely.to_wkb(roads.geometry.to_numpy())).to_numpy()
    ok = ~np.isnan(hit)
    j = hit[ok].astype(np.int64)
    for col, src in (("name", "name:latin"), ("ref", "ref"), ("subclass", "subclass")):
        if src in names.columns:
            vals = names[src].astype("string").fillna("").to_numpy(object)
            out.loc[ok, col] = vals[j]
    out.loc[ok, "matched"] = True
    return out


@dataclass
class _Pieces:
    """Road pieces cut at their junctions: edge rows over one coordinate array."""

    xy: np.ndarray  # (n, 2) EPSG:3857 coordinates of every edge's shape, edge after edge
    start: np.ndarray  # first coordinate of each edge in ``xy``
    npts: np.ndarray  # number of coordinates of each edge
    u: np.ndarray  # node index of the first coordinate
    v: np.ndarray  # node index of the last coordinate
    piece: np.ndarray  # the road piece each edge comes from
    node_xy: np.ndarray  # (m, 2) EPSG:3857 junction coordinates
    node_key: np.ndarray  # (m,) int64 stable junction ids


def _split_at_junctions(
    geoms: np.ndarray, attrs: pd.DataFrame, tiles: TileSet
) -> tuple[_Pieces, dict[str, int]]:
    """Rejoin tile pieces and cut them at shared vertices (see module notes)."""
    parts, parent = shapely.get_parts(geoms, return_index=True)
    xy, part = shapely.get_coordinates(parts, return_index=True)
    gx, gy = tile_units(xy[:, 0], xy[:, 1], tiles=tiles)
    dup = np.zeros(len(xy), dtype=bool)  # repeated consecutive vertices
    dup[1:] = (
        (part[1:] == part[:-1])
        & (np.abs(gx[1:] - gx[:-1]) < _INT_EPS)
        & (np.abs(gy[1:] - gy[:-1]) < _INT_EPS)
    )
    xy, part, gx, gy = xy[~dup], part[~dup], gx[~dup], gy[~dup]
    n = len(xy)
    first = np.ones(n, dtype=bool)
    first[1:] = part[1:] != part[:-1]
    last = np.ones(n, dtype=bool)
    last[:-1] = part[1:] != part[:-1]
    end = first | last
    level_piece = np.array([_LEVEL.get(b, 0) for b in attrs["brunnel"]], dtype=np.int64)
    level = level_piece[parent[part]]
    rx, ry = np.rint(gx).astype(np.int64), np.rint(gy).astype(np.int64)
    integer = (np.abs(gx - rx) < _INT_EPS) & (np.abs(gy - ry) < _INT_EPS)
    ext = tiles.extent
    on_border = (integer & ((rx % ext == 0) | (ry % ext == 0))) | ~integer
    ckey = (rx << 27) | ry
    border = np.flatnonzero(on_border)
    joins = 0
    if len(border):
        # the two sides of a tile border, each at its own level (a bridge and the
        # road under it never snap together)
        pts = np.column_stack([gx[border], gy[border], level[border] * 1e6])
        pairs = cKDTree(pts).query_pairs(SNAP_UNITS, output_type="ndarray")
        g = coo_matrix(
            (np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(len(border), len(border))
        )
        ncomp, lab = connected_components(g, directed=False)
        size = np.bincount(lab)
        cx = np.rint(np.bincount(lab, weights=gx[border]) / size).astype(np.int64)
        cy = np.rint(np.bincount(lab, weights=gy[border]) / size).astype(np.int64)
        lvl = level[border][np.unique(lab, return_index=True)[1]]
        ckey[border] = ((1 << 57) | (cx << 27) | cy)[lab] + ((lvl[lab] + 1) << 55)
        joins = int(len(border) - ncomp)
    # a piece's end joins whatever lies at its point (a ramp ending on a viaduct);
    # interior vertices join only interior vertices of the same level
    _, cinv = np.unique(ckey, return_inverse=True)
    has_end = np.bincount(cinv, weights=end.astype(float)) > 0
    key = (ckey << 2) | np.where(has_end[cinv], 3, level + 1)
    uniq, inv, occ = np.unique(key, return_inverse=True, return_counts=True)
    node = end | (occ[inv] >= 2)
    pos = np.flatnonzero(node)
    a, b = pos[:-1], pos[1:]
    keep = part[a] == part[b]
    a, b = a[keep], b[keep]
    node_xy = xy[np.unique(inv, return_index=True)[1]]
    npts = b - a + 1
    idx = _ranges(a, npts)
    exy = xy[idx]
    start = np.cumsum(npts) - npts
    u, v = inv[a], inv[b]
    # each edge's ends sit exactly on its junctions (snapped border points move < 1 m)
    exy[start] = node_xy[u]
    exy[start + npts - 1] = node_xy[v]
    counts = {"tile_border_points": len(border), "tile_border_joins": joins}
    return _Pieces(exy, start, npts, u, v, parent[part[a]], node_xy, uniq), counts


def _ranges(start: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Concatenate ``arange(s, s + c)`` for every (s, c), vectorised."""
    total = int(count.sum())
    offs = np.arange(total) - np.repeat(np.cumsum(count) - count, count)
    return np.repeat(start, count) + offs


def _edge_lengths(p: _Pieces, to_m: Transformer) -> np.ndarray:
    """Each edge's length (m) in the metric CRS."""
    mx, my = to_m.transform(p.xy[:, 0], p.xy[:, 1])
    seg = np.hypot(np.diff(mx), np.diff(my))
    owner = np.repeat(np.arange(len(p.start)), p.npts)
    inside = owner[1:] == owner[:-1]
    length = np.bincount(owner[1:][inside], weights=seg[inside], minlength=len(p.start))
    return length


def _edge_table(p: _Pieces, attrs: pd.DataFrame, length: np.ndarray) -> pd.DataFrame:
    """One row per cut edge: ends, shape slice, length and the piece's attributes."""
    at = attrs.iloc[p.piece].reset_index(drop=True)
    cls = at["cls"].to_numpy(object)
    sub = at["subclass"].to_numpy(object)
    highway = np.where((cls == "minor") & np.isin(sub, list(_MINOR_SUBCLASSES)), sub, cls).astype(
        object
    )
    link = at["ramp"].to_numpy(bool) & ~np.isin(cls, ["minor", "service"])
    highway[link] = np.char.add(highway[link].astype(str), "_link")
    return pd.DataFrame(
        {
            "u": p.u,
            "v": p.v,
            "start": p.start,
            "npts": p.npts,
            "length_m": length,
            "highway": highway,
            "oneway": at["oneway"].to_numpy(bool),
            "brunnel": at["brunnel"].to_numpy(object),
            "service": at["service"].to_numpy(object),
            "name": at["name"].to_numpy(object),
            "ref": at["ref"].to_numpy(object),
        }
    )


def _travel_times(
    e: pd.DataFrame, node_m: np.ndarray, speed_factor: float
) -> tuple[np.ndarray, np.ndarray]:
    """Car seconds forward and backward (NaN against a one-way) from class and context."""
    iu, iv = e["u"].to_numpy(), e["v"].to_numpy()
    # junctions are counted on the road network proper, as for the OSM sources
    # (whose car filter has no service roads): a driveway makes no town
    road = ~np.isin(e["highway"].to_numpy(object), ["service"])
    urban = _osm_roads.urban_flags(node_m[:, 0], node_m[:, 1], iu[road], iv[road], iu, iv)
    e["urban"] = urban
    hw = e["highway"].to_numpy(object)
    pairs = pd.Series(list(zip(hw, urban, strict=True)))
    kmh = pairs.map(lambda hu: _speeds.default_speed_kmh(hu[0], urban=bool(hu[1]))).to_numpy(float)
    slow = np.isin(e["service"].to_numpy(object), list(_SLOW_SERVICE))
    kmh = np.where(slow, SERVICE_MINOR_KMH, kmh) * speed_factor
    tf = e["length_m"].to_numpy(float) / (kmh / 3.6)
    tr = np.where(e["oneway"].to_numpy(bool), np.nan, tf)
    return tf, tr


_CHAIN_KEY = ["highway", "oneway", "brunnel", "service", "name", "ref"]


def _merge_chains(e: pd.DataFrame, xy: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """Merge edges that meet at a degree-2 junction and share every attribute.

    Returns the merged edge table (``start``/``npts`` into the returned
    coordinate array) and that array.
    """
    m = len(e)
    u, v = e["u"].to_numpy(), e["v"].to_numpy()
    code = pd.MultiIndex.from_frame(e[_CHAIN_KEY].astype(str)).factorize()[0]
    oneway = e["oneway"].to_numpy(bool)
    ends = np.concatenate([u, v])
    eid = np.concatenate([np.arange(m), np.arange(m)])
    side = np.concatenate([np.zeros(m, np.int8), np.ones(m, np.int8)])  # 0 = at u, 1 = at v
    order = np.argsort(ends, kind="stable")
    ends, eid, side = ends[order], eid[order], side[order]
    n_nodes = int(max(u.max(), v.max())) + 1
    deg = np.bincount(ends, minlength=n_nodes)
    # nodes with exactly two edge ends: pair them
    two = deg[ends] == 2
    ends2, eid2, side2 = ends[two], eid[two], side[two]
    e1, e2 = eid2[0::2], eid2[1::2]
    s1, s2 = side2[0::2], side2[1::2]
    other1 = np.where(s1 == 0, v[e1], u[e1])
    other2 = np.where(s2 == 0, v[e2], u[e2])
    ok = (e1 != e2) & (code[e1] == code[e2]) & (other1 != other2)
    # one-way chains must flow through the node (one edge ends there, the other starts)
    ok &= ~oneway[e1] | (s1 != s2)
    e1, e2, s1, s2 = e1[ok], e2[ok], s1[ok], s2[ok]
    del ends2
    # link[edge, side] = (neighbour edge, its side at the shared node), -1 if none
    link = np.full((m, 2), -1, dtype=np.int64)
    lside = np.full((m, 2), -1, dtype=np.int64)
    link[e1, s1], lside[e1, s1] = e2, s2
    link[e2, s2], lside[e2, s2] = e1, s1
    start, npts = e["start"].to_numpy(), e["npts"].to_numpy()
    tf, tr, length = e["tf"].to_numpy(), e["tr"].to_numpy(), e["length_m"].to_numpy()
    seen = np.zeros(m, dtype=bool)
    chains: list[list[tuple[int, bool]]] = []
    linked = (link[:, 0] >= 0) | (link[:, 1] >= 0)
    # chain heads: linked edges with a free side; walk away from the free side
    for k in np.flatnonzero(linked & ((link[:, 0] < 0) | (link[:, 1] < 0))).tolist():
        if seen[k]:
            continue
        forward = bool(link[k, 0] < 0)  # free at u: walk u -> v
        chain = [(k, forward)]
        seen[k] = True
        out_side = 1 if forward else 0
        nxt, nside = int(link[k, out_side]), int(lside[k, out_side])
        while nxt >= 0 and not seen[nxt]:
            along = nside == 0  # entered at its u: traverse u -> v
            chain.append((nxt, along))
            seen[nxt] = True
            out_side = 1 if along else 0
            nxt, nside = int(link[nxt, out_side]), int(lside[nxt, out_side])
        if oneway[k] and not chain[0][1]:
            # walked against a one-way chain's flow: list it in travel order
            chain = [(c, not f) for c, f in reversed(chain)]
        chains.append(chain)
    # rings of degree-2 nodes (no free side) stay as they are
    single = np.flatnonzero(~seen)
    groups = [[(int(k), True)] for k in single.tolist()] + chains
    members = np.array([k for g in groups for k, _ in g], dtype=np.int64)
    fwd = np.array([f for g in groups for _, f in g], dtype=bool)
    gid = np.repeat(np.arange(len(groups)), [len(g) for g in groups])
    first = np.r_[True, gid[1:] != gid[:-1]]
    # coordinates: each member's shape in travel order, the shared junction once
    cnt = npts[members] - (~first).astype(np.int64)
    offs = np.arange(int(cnt.sum())) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    skip = (~first).astype(np.int64)
    pos_f = np.repeat(start[members] + skip, cnt) + offs
    pos_r = np.repeat(start[members] + npts[members] - 1 - skip, cnt) - offs
    new_xy = xy[np.where(np.repeat(fwd, cnt), pos_f, pos_r)]
    g_npts = np.bincount(np.repeat(gid, cnt), minlength=len(groups))
    g_start = np.cumsum(g_npts) - g_npts
    t_f = np.where(fwd, tf[members], tr[members])
    t_r = np.where(fwd, tr[members], tf[members])
    head = members[first]
    last_idx = np.r_[np.flatnonzero(first)[1:] - 1, len(members) - 1]
    tail = members[last_idx]
    gu = np.where(fwd[first], u[head], v[head])
    gv = np.where(fwd[last_idx], v[tail], u[tail])
    out = e.iloc[head].reset_index(drop=True).copy()
    out["u"], out["v"] = gu, gv
    out["start"], out["npts"] = g_start, g_npts
    out["length_m"] = np.bincount(gid, weights=length[members])
    out["tf"] = np.bincount(gid, weights=t_f)
    out["tr"] = np.bincount(gid, weights=np.nan_to_num(t_r, nan=0.0))
    out.loc[out["oneway"].to_numpy(bool), "tr"] = np.nan
    out["urban"] = np.bincount(gid, weights=e["urban"].to_numpy(float)[members]) > 0
    return out, new_xy


def _layers(
    e: pd.DataFrame, xy: np.ndarray, p: _Pieces, area: BaseGeometry, report: dict[str, Any]
) -> TileGraph:
    """``road_edges`` and ``road_nodes`` (EPSG:4326) with stable node ids."""
    to_ll = Transformer.from_crs(3857, 4326, always_xy=True)
    lon, lat = to_ll.transform(xy[:, 0], xy[:, 1])
    owner = np.repeat(np.arange(len(e)), e["npts"].to_numpy())
    lines = shapely.linestrings(np.column_stack([lon, lat]), indices=owner)
    used = np.unique(np.concatenate([e["u"].to_numpy(), e["v"].to_numpy()]))
    nlon, nlat = to_ll.transform(p.node_xy[used, 0], p.node_xy[used, 1])
    nodes = gpd.GeoDataFrame(
        {"node_id": p.node_key[used].astype(np.int64)},
        geometry=shapely.points(nlon, nlat),
        crs=4326,
    )
    edges = gpd.GeoDataFrame(
        {
            "u": p.node_key[e["u"].to_numpy()].astype(np.int64),
            "v": p.node_key[e["v"].to_numpy()].astype(np.int64),
            "length_m": e["length_m"].to_numpy(float),
            "travel_time_s": e["tf"].to_numpy(float),
            "travel_time_reverse_s": e["tr"].to_numpy(float),
            "highway": e["highway"].astype(str).to_numpy(),
            "car": True,
            "foot": False,
            "oneway": e["oneway"].to_numpy(bool),
            "brunnel": e["brunnel"].astype(str).to_numpy(),
            "service": e["service"].astype(str).to_numpy(),
            "name": e["name"].astype(str).to_numpy(),
            "ref": e["ref"].astype(str).to_numpy(),
        },
        geometry=lines,
        crs=4326,
    )
    # keep what lies in the area (both ends inside, as for the other sources)
    shapely.prepare(area)
    inside_ids = nodes["node_id"].to_numpy()[
        shapely.intersects_xy(area, np.asarray(nlon), np.asarray(nlat))
    ]
    keep = edges["u"].isin(inside_ids).to_numpy() & edges["v"].isin(inside_ids).to_numpy()
    report["edges_outside_area"] = int((~keep).sum())
    edges = edges[keep].reset_index(drop=True)
    used_ids = np.union1d(edges["u"].to_numpy(), edges["v"].to_numpy())
    nodes = nodes[nodes["node_id"].isin(used_ids)].reset_index(drop=True)
    return TileGraph(edges, nodes, report)
