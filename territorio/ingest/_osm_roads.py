"""OSM road graphs: fetch (Overpass, PBF, OSM XML), tag rules, travel times, simplification.

Every OSM source is turned into the same thing: an osmnx-style *unsimplified*
``MultiDiGraph`` (nodes with ``x``/``y``, one directed edge per way segment and
allowed direction, the way's tags as edge attributes). :func:`prepare_graph`
then derives per-segment ``car``/``foot`` permissions and car travel times
(:mod:`territorio.ingest._speeds`), and simplifies the topology with osmnx,
never merging segments whose permissions differ and summing lengths and times.

Network type ``"all"`` (car and walking) is fetched in **one** request with
osmnx's ``"all"`` way filter, and the permissions are derived from the tags of
each way; fetching the ``"drive"`` and ``"walk"`` networks separately would
download every street twice and still need merging. Directions follow osmnx:
a one-way way (``oneway=yes|-1|...``, roundabouts) yields a single directed
edge; pedestrians may walk it both ways (the caller keeps ``foot`` per
undirected row).

OSM data timestamps
-------------------
Overpass: osmnx does not expose the response, but caches it as JSON; each
request's cache lives in its own folder ``cache_dir/osmnx/<hash of the
request>`` and ``osm3s.timestamp_osm_base`` is read from the cached responses
(the oldest when the area was split into several requests). PBF: the header's
``osmosis_replication_timestamp`` when present, else the newest element
timestamp in the file (a lower bound of the extract date; noted in the
provenance). OSM XML: the ``osm_base`` attribute of Overpass's ``<meta>`` or a
``timestamp`` attribute of the ``<osm>`` element, when present.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

from territorio.errors import DataValidationError, SourceNotFoundError
from territorio.ingest import _speeds

__all__ = [
    "TAG_KEYS",
    "graph_from_osm_xml",
    "graph_from_overpass",
    "graph_from_pbf",
    "metric_crs",
    "pbf_timestamp",
    "prepare_graph",
    "urban_flags",
]

#: Way tags kept on edges: what the permission and speed rules read.
TAG_KEYS = [
    "highway", "maxspeed", "oneway", "junction", "access", "motor_vehicle", "motorcar",
    "vehicle", "foot", "service", "area", "name",
]  # fmt: skip

# osmnx's "all" filter: every way with a highway tag currently in use.
_ALL_FILTER = (
    '["highway"]["area"!~"yes"]["highway"!~"abandoned|construction|no|planned|'
    'platform|proposed|raceway|razed|rest_area|services"]'
)


def metric_crs(geom: BaseGeometry) -> CRS:
    """Return the UTM CRS of a geometry's centroid (EPSG:4326 input)."""
    return gpd.GeoSeries([geom], crs=4326).estimate_utm_crs()


@contextmanager
def _osmnx_settings(**values: Any) -> Iterator[None]:
    """Set osmnx settings for one call and restore them afterwards."""
    import osmnx as ox

    old = {k: getattr(ox.settings, k) for k in values}
    for k, v in values.items():
        setattr(ox.settings, k, v)
    try:
        yield
    finally:
        for k, v in old.items():
            setattr(ox.settings, k, v)


# --------------------------------------------------------------------------- fetch


def graph_from_overpass(
    area: BaseGeometry, *, network_type: str, overpass_url: str, cache_dir: Path
) -> tuple[nx.MultiDiGraph, str | None, str]:
    """Download the unsimplified road graph inside ``area`` from an Overpass API.

    Returns
    -------
    graph, osm_timestamp, sha256
        The graph (``retain_all``: connectivity is handled by the caller), the
        ``timestamp_osm_base`` of the responses (None if absent) and the sha256
        of the responses.
    """
    import osmnx as ox

    custom_filter = None if network_type == "drive" else _ALL_FILTER
    key = hashlib.sha256("|".join([overpass_url, area.wkt, network_type]).encode()).hexdigest()[:16]
    folder = Path(cache_dir) / "osmnx" / key
    tags = sorted(set(ox.settings.useful_tags_way) | set(TAG_KEYS))
    try:
        with _osmnx_settings(
            overpass_url=overpass_url,
            cache_folder=folder,
            use_cache=True,
            useful_tags_way=tags,
            log_console=False,
        ):
            graph = ox.graph_from_polygon(
                area,
                network_type="drive" if network_type == "drive" else "all",
                custom_filter=custom_filter,
                simplify=False,
                retain_all=True,
                truncate_by_edge=False,
            )
    except ox._errors.InsufficientResponseError as exc:
        raise DataValidationError(
            f"Overpass at {overpass_url} returned no roads inside the area: {exc} "
            "(check the area and the Overpass endpoint)"
        ) from exc
    except ox._errors.ResponseStatusCodeError as exc:
        raise SourceNotFoundError(
            f"Overpass at {overpass_url} answered with an error: {exc} "
            "(check roads.overpass_url, or try again later / use a mirror)"
        ) from exc
    except OSError as exc:  # requests' ConnectionError is an OSError
        raise SourceNotFoundError(
            f"cannot query Overpass at {overpass_url}: {exc.__class__.__name__}: {exc} "
            "(check roads.overpass_url and your connection, or use a .osm.pbf extract)"
        ) from exc
    stamps: list[str] = []
    digest = hashlib.sha256()
    for f in sorted(folder.glob("*.json")):
        raw = f.read_bytes()
        digest.update(raw)
        m = re.search(rb'"timestamp_osm_base":\s*"([^"]+)"', raw[:4096])
        if m:
            stamps.append(m.group(1).decode())
    return graph, (min(stamps) if stamps else None), digest.hexdigest()


def graph_from_osm_xml(path: Path, area: BaseGeometry) -> tuple[nx.MultiDiGraph, str | None]:
    """Read an ``.osm`` XML extract with osmnx and keep the part inside ``area``."""
    import osmnx as ox

    tags = sorted(set(ox.settings.useful_tags_way) | set(TAG_KEYS))
    with _osmnx_settings(useful_tags_way=tags, log_console=False):
        graph = ox.graph_from_xml(path, bidirectional=False, simplify=False, retain_all=True)
    # graph_from_xml keeps every way; drop the ones that are not roads
    drop = [
        (u, v, k)
        for u, v, k, d in graph.edges(keys=True, data=True)
        if _speeds.highway_class(d.get("highway")) == "unknown"
    ]
    graph.remove_edges_from(drop)
    graph = _truncate(graph, area)
    with open(path, "rb") as fh:
        head = fh.read(4096).decode("utf-8", errors="replace")
    m = re.search(r'osm_base="([^"]+)"', head) or re.search(r'<osm[^>]*timestamp="([^"]+)"', head)
    return graph, (m.group(1) if m else None)


def _truncate(graph: nx.MultiDiGraph, area: BaseGeometry) -> nx.MultiDiGraph:
    """Remove nodes outside ``area`` (and isolated nodes)."""
    ids = np.fromiter(graph.nodes, dtype=np.int64, count=graph.number_of_nodes())
    x = np.array([graph.nodes[n]["x"] for n in ids.tolist()], dtype=float)
    y = np.array([graph.nodes[n]["y"] for n in ids.tolist()], dtype=float)
    shapely.prepare(area)
    inside = shapely.intersects_xy(area, x, y)
    graph.remove_nodes_from(ids[~inside].tolist())
    graph.remove_nodes_from([n for n, d in graph.degree() if d == 0])
    return graph


def pbf_timestamp(path: Path) -> str | None:
    """Return the header ``osmosis_replication_timestamp`` of a PBF file, or None."""
    from pyrosm.proto import fileformat_pb2, osmformat_pb2

    with open(path, "rb") as fh:
        head = fh.read(4)
        if len(head) < 4:
            return None
        (n,) = struct.unpack(">I", head)
        bh = fileformat_pb2.BlobHeader()
        bh.ParseFromString(fh.read(n))
        if bh.type != "OSMHeader":
            return None
        blob = fileformat_pb2.Blob()
        blob.ParseFromString(fh.read(bh.datasize))
    raw = zlib.decompress(blob.zlib_data) if blob.HasField("zlib_data") else blob.raw
    hb = osmformat_pb2.HeaderBlock()
    hb.ParseFromString(raw)
    if not hb.HasField("osmosis_replication_timestamp"):
        return None
    return _iso(hb.osmosis_replication_timestamp)


def _iso(unix: int) -> str:
    return datetime.fromtimestamp(int(unix), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _tag_column(edges: pd.DataFrame, key: str) -> pd.Series:
    """Return one tag as a column (pyrosm puts known tags in columns, the rest in ``tags``)."""
    if key in edges.columns:
        return edges[key]
    if "tags" not in edges.columns:
        return pd.Series(np.nan, index=edges.index, dtype=object)

    def get(t: Any) -> Any:
        if isinstance(t, str):
            try:
                t = json.loads(t)
            except ValueError:
                return np.nan
        return t.get(key, np.nan) if isinstance(t, dict) else np.nan

    return edges["tags"].map(get)


def graph_from_pbf(
    path: Path, area: BaseGeometry, *, network_type: str
) -> tuple[nx.MultiDiGraph, str | None, str | None]:
    """Read the road network inside ``area`` from an ``.osm.pbf`` file with pyrosm.

    Returns
    -------
    graph, header_timestamp, newest_element_timestamp
        The unsimplified directed graph (one-way rules as osmnx) and the two
        candidate data dates (see the module notes).
    """
    from pyrosm import OSM

    osm = OSM(str(path), bounding_box=area)
    extra = [k for k in TAG_KEYS if k not in {"highway", "maxspeed", "oneway", "name"}]
    result = osm.get_network(
        network_type="driving" if network_type == "drive" else "all",
        nodes=True,
        extra_attributes=extra,
    )
    if result is None or result[1] is None or len(result[1]) == 0:
        raise DataValidationError(
            f"{path}: no roads inside the requested area (the extract covers "
            f"{osm._data_bounding_box.bounds if osm._data_bounding_box is not None else '?'}; "
            "check that the PBF covers the area)"
        )
    nodes, edges = result
    newest = None
    stamps = [
        pd.to_numeric(df["timestamp"], errors="coerce").max()
        for df in (nodes, edges)
        if "timestamp" in df.columns and len(df)
    ]
    stamps = [s for s in stamps if pd.notna(s)]
    if stamps:
        newest = _iso(int(max(stamps)))
    attrs = pd.DataFrame({k: _tag_column(edges, k) for k in TAG_KEYS})
    attrs["osmid"] = edges["id"].to_numpy() if "id" in edges.columns else -1
    u = edges["u"].to_numpy(dtype=np.int64)
    v = edges["v"].to_numpy(dtype=np.int64)
    length = edges["length"].to_numpy(dtype=float)
    oneway = attrs["oneway"].astype(str).str.lower()
    roundabout = attrs["junction"].astype(str) == "roundabout"
    rev_only = oneway.isin(["-1", "reverse"]).to_numpy()
    one = (oneway.isin(["yes", "true", "1", "t"]) | roundabout).to_numpy() | rev_only
    fwd = ~rev_only
    back = ~one | rev_only
    records = attrs.to_dict("records")
    graph = nx.MultiDiGraph(crs="epsg:4326")
    nid = nodes["id"].to_numpy(dtype=np.int64)
    graph.add_nodes_from(
        (int(i), {"x": float(x), "y": float(y)})
        for i, x, y in zip(
            nid, nodes["lon"].to_numpy(float), nodes["lat"].to_numpy(float), strict=True
        )
    )
    for i in np.flatnonzero(fwd).tolist():
        graph.add_edge(int(u[i]), int(v[i]), length=float(length[i]), **_clean(records[i]))
    for i in np.flatnonzero(back).tolist():
        graph.add_edge(int(v[i]), int(u[i]), length=float(length[i]), **_clean(records[i]))
    graph = _truncate(graph, area)
    return graph, pbf_timestamp(path), newest


def _clean(rec: dict[Any, Any]) -> dict[str, Any]:
    return {str(k): v for k, v in rec.items() if not (isinstance(v, float) and np.isnan(v))}


# --------------------------------------------------------------------------- attributes


def _urban_flags(
    graph: nx.MultiDiGraph, u: np.ndarray, v: np.ndarray, car: np.ndarray
) -> np.ndarray:
    """Urban context per edge from car-junction density (see :mod:`._speeds`)."""
    ids = np.fromiter(graph.nodes, dtype=np.int64, count=graph.number_of_nodes())
    x = np.array([graph.nodes[n]["x"] for n in ids.tolist()], dtype=float)
    y = np.array([graph.nodes[n]["y"] for n in ids.tolist()], dtype=float)
    if len(ids) == 0:
        return np.zeros(len(u), dtype=bool)
    crs = metric_crs(shapely.box(x.min(), y.min(), x.max(), y.max()))
    mx, my = Transformer.from_crs(4326, crs, always_xy=True).transform(x, y)
    order = np.argsort(ids)
    iu = order[np.searchsorted(ids, u, sorter=order)]
    iv = order[np.searchsorted(ids, v, sorter=order)]
    return urban_flags(np.asarray(mx), np.asarray(my), iu[car], iv[car], iu, iv)


def urban_flags(
    mx: np.ndarray,
    my: np.ndarray,
    car_u: np.ndarray,
    car_v: np.ndarray,
    iu: np.ndarray,
    iv: np.ndarray,
) -> np.ndarray:
    """Urban context of edges ``(iu, iv)`` from the density of car junctions (see :mod:`._speeds`).

    Parameters
    ----------
    mx, my
        Metric coordinates of the nodes.
    car_u, car_v
        Node indices of the car segments (junctions are nodes with three or
        more distinct car neighbours).
    iu, iv
        Node indices of the edges to classify.
    """
    a, b = np.minimum(car_u, car_v), np.maximum(car_u, car_v)
    pairs = np.unique(np.column_stack([a, b]), axis=0) if len(a) else np.empty((0, 2), int)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    degree = np.bincount(pairs.ravel(), minlength=len(mx))
    junction = degree >= 3
    if not junction.any():
        return np.zeros(len(iu), dtype=bool)
    tree = cKDTree(np.column_stack([mx[junction], my[junction]]))
    mid = np.column_stack([(mx[iu] + mx[iv]) / 2, (my[iu] + my[iv]) / 2])
    counts = tree.query_ball_point(mid, r=_speeds.URBAN_RADIUS_M, return_length=True)
    return np.asarray(counts) >= _speeds.URBAN_MIN_JUNCTIONS


def prepare_graph(
    graph: nx.MultiDiGraph, *, speed_factor: float, walk: bool
) -> tuple[nx.MultiDiGraph, dict[str, int]]:
    """Derive ``car``, ``foot``, ``car_time`` per segment, then simplify the graph.

    Parameters
    ----------
    graph
        Unsimplified osmnx-style graph with way tags on its edges.
    speed_factor
        Share of the speed limit actually driven.
    walk
        Whether the walking network is wanted; if False every ``foot`` is False.

    Returns
    -------
    graph, counts
        The simplified graph (edge attributes ``length``, ``car``, ``foot``,
        ``car_time``, ``highway``) and counts of segments read / unusable.
    """
    import osmnx as ox

    edges = list(graph.edges(keys=True, data=True))
    n = len(edges)
    if n == 0:
        raise DataValidationError("the OSM data holds no road segment inside the area")
    u = np.fromiter((e[0] for e in edges), dtype=np.int64, count=n)
    v = np.fromiter((e[1] for e in edges), dtype=np.int64, count=n)
    length = np.fromiter((float(e[3].get("length", 0.0)) for e in edges), dtype=float, count=n)
    # evaluate the tag rules once per distinct tag combination
    keys = ["highway", "maxspeed", "access", "motor_vehicle", "motorcar", "vehicle", "foot",
            "service", "area"]  # fmt: skip
    combos = [tuple(_hashable(e[3].get(k)) for k in keys) for e in edges]
    uniq: dict[tuple[Any, ...], int] = {}
    codes = np.fromiter((uniq.setdefault(c, len(uniq)) for c in combos), dtype=np.int64, count=n)
    table = [dict(zip(keys, c, strict=True)) for c in uniq]
    car_u = np.array([_speeds.car_allowed(t) for t in table], dtype=bool)
    foot_u = np.array([walk and _speeds.foot_allowed(t) for t in table], dtype=bool)
    limit_u = np.array(
        [np.nan if (s := _speeds.parse_maxspeed(t["maxspeed"])) is None else s for t in table]
    )
    hw_u = np.array([_speeds.highway_class(t["highway"]) for t in table], dtype=object)
    car, foot, limit, hw = car_u[codes], foot_u[codes], limit_u[codes], hw_u[codes]
    urban = _urban_flags(graph, u, v, car)
    default = np.array(
        [_speeds.default_speed_kmh(h, urban=bool(b)) for h, b in zip(hw, urban, strict=True)]
    )
    speed = np.where(np.isnan(limit), default, limit) * speed_factor
    car_time = np.where(car, length / (speed / 3.6), np.nan)

    out = nx.MultiDiGraph(**graph.graph)
    out.add_nodes_from((nid, {"x": d["x"], "y": d["y"]}) for nid, d in graph.nodes(data=True))
    keep = car | foot
    out.add_edges_from(
        (
            int(u[i]),
            int(v[i]),
            edges[i][2],
            {
                "length": float(length[i]),
                "car": bool(car[i]),
                "foot": bool(foot[i]),
                "car_time": float(car_time[i]),
                "highway": str(hw[i]),
            },
        )
        for i in np.flatnonzero(keep).tolist()
    )
    out.remove_nodes_from([nid for nid, d in out.degree() if d == 0])
    counts = {
        "segments_read": n,
        "segments_unusable": int((~keep).sum()),
        "segments_urban": int(urban.sum()),
        "segments_maxspeed_tagged": int((~np.isnan(limit) & car).sum()),
    }
    if out.number_of_edges() == 0:
        raise DataValidationError(
            "no road segment usable by car or on foot inside the area (check the network type)"
        )
    simple = ox.simplify_graph(
        out,
        edge_attrs_differ=["car", "foot"],
        edge_attr_aggs={"length": sum, "car_time": sum},
    )
    return simple, counts


def _hashable(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(value)
    if isinstance(value, float) and np.isnan(value):
        return None
    return value
