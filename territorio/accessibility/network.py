"""The routing network: a directed CSR graph in seconds, snapping and coverage.

The network is built once from the bundle's ``road_nodes`` / ``road_edges``
layers and then answers every accessibility question with
:func:`scipy.sparse.csgraph.dijkstra`:

* node ids are mapped to ``0..n-1`` (``RoadNetwork.node_ids[i]`` is the id of
  index ``i``);
* the forward matrix ``graph[i, j]`` is the travel time in seconds from ``i``
  to ``j``; ``reverse`` is its transpose (times *to* a facility are single
  searches on it);
* parallel arcs keep their minimum time; self-loops are dropped (they never
  shorten a path);
* zero-time arcs are kept as **explicit zeros** in the CSR structure: scipy's
  csgraph routines treat stored zeros as edges (only absent entries are "no
  edge"), so we build the CSR arrays ourselves and never call
  ``eliminate_zeros`` or arithmetic that would drop them (tested in
  ``tests/accessibility/test_network.py``).

Points (population cells, municipality reference points, services) are snapped
to the nearest node of the network's largest strongly connected component with
a KD-tree in a metric CRS (the UTM zone of the data's centroid, EPSG:32632 for
Turin). The straight-line leg to the node is charged at ``off_network_kmh``.
A point farther than ``max_snap_m`` from the network, or outside the coverage
polygon of the bundle, is *outside coverage*: it gets no time, only a flag.

Modes: ``"car"`` uses ``travel_time_s`` (u to v) and ``travel_time_reverse_s``
(v to u) where not NaN and ``car`` is true; ``"walk"`` uses every ``foot``
edge in both directions at :data:`WALK_KMH`. Walking is only available when the
bundle's road graph was built with ``"walk"`` among its modes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from territorio.errors import DataValidationError, UnsupportedModeError
from territorio.schemas import require_columns

__all__ = [
    "WALK_KMH",
    "Mode",
    "RoadNetwork",
    "Snapped",
    "build_network",
    "coverage_geometry",
    "metric_crs_for",
    "network_from_bundle",
]

Mode = Literal["car", "walk"]

#: Walking speed on the network (km/h).
WALK_KMH = 4.5

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def metric_crs_for(lon: float, lat: float) -> str:
    """Return the UTM zone CRS (``"EPSG:326zz"`` / ``"EPSG:327zz"``) containing a point.

    Parameters
    ----------
    lon, lat
        Coordinates in degrees (EPSG:4326), e.g. the centroid of the data.
    """
    zone = int(np.floor((lon + 180.0) / 6.0)) % 60 + 1
    return f"EPSG:{(32600 if lat >= 0 else 32700) + zone}"


def coverage_geometry(coverage: Any) -> Any:
    """Return a shapely geometry from a GeoJSON geometry, Feature or FeatureCollection.

    ``None`` stays ``None`` (no coverage polygon: only ``max_snap_m`` applies).
    """
    if coverage is None:
        return None
    import shapely
    from shapely.geometry import shape

    if isinstance(coverage, str):
        import json

        coverage = json.loads(coverage)
    if not isinstance(coverage, Mapping) or "type" not in coverage:
        raise DataValidationError("manifest 'coverage' is not a GeoJSON object; rebuild the bundle")
    kind = coverage["type"]
    if kind == "FeatureCollection":
        geoms = [shape(f["geometry"]) for f in coverage.get("features", [])]
        return shapely.union_all(geoms) if geoms else None
    if kind == "Feature":
        return shape(coverage["geometry"])
    return shape(coverage)


@dataclass(frozen=True)
class Snapped:
    """Points snapped to the network.

    Attributes
    ----------
    node
        Node index (``0..n-1``) per point, ``-1`` when outside coverage.
    offset_s
        Off-network leg in seconds (straight line / ``off_network_kmh``),
        NaN when outside coverage.
    dist_m
        Straight-line distance to the node in metres (``inf`` beyond
        ``max_snap_m``).
    covered
        True where the point is inside coverage (within ``max_snap_m`` of the
        network and inside the coverage polygon).
    """

    node: IntArray
    offset_s: FloatArray
    dist_m: FloatArray
    covered: BoolArray

    def __len__(self) -> int:
        return len(self.node)


@dataclass
class RoadNetwork:
    """A directed road graph in CSR form for one travel mode.

    Build it with :func:`build_network` or :func:`network_from_bundle`; the
    attributes are read-only by convention.
    """

    mode: str
    node_ids: IntArray
    lon: FloatArray
    lat: FloatArray
    x: FloatArray
    y: FloatArray
    metric_crs: str
    graph: Any  # scipy.sparse.csr_matrix, forward, seconds
    reverse: Any  # scipy.sparse.csr_matrix, transpose of graph
    #: Arcs used for isochrones: source / target index, time (s), edge row.
    arc_src: IntArray
    arc_dst: IntArray
    arc_time: FloatArray
    arc_edge: IntArray
    arc_forward: BoolArray
    #: Edge geometries in EPSG:4326 (shapely array, one per edge row) or None
    #: (straight lines between the end nodes); see :attr:`edge_geoms`.
    edge_geoms_4326: Any
    #: Node index of each edge row's ``u`` and ``v``.
    edge_u: IntArray
    edge_v: IntArray
    #: Nodes that points may snap to (largest strongly connected component).
    snappable: BoolArray
    coverage: Any = None
    max_snap_m: float = 1000.0
    off_network_kmh: float = 5.0
    _tree: Any = field(default=None, repr=False)
    _tree_index: IntArray | None = field(default=None, repr=False)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def edge_geoms(self) -> Any:
        """Edge geometries in the metric CRS (projected on first use, then cached)."""
        if "edge_geoms" not in self._cache:
            import shapely

            if self.edge_geoms_4326 is not None:
                geoms = np.asarray(self.edge_geoms_4326)
                coords = shapely.get_coordinates(geoms)
                x, y = self.to_metric(coords[:, 0], coords[:, 1])
                out = shapely.set_coordinates(geoms.copy(), np.column_stack([x, y]))
            else:
                u, v = self.edge_u, self.edge_v
                out = shapely.linestrings(
                    np.stack(
                        [
                            np.column_stack([self.x[u], self.y[u]]),
                            np.column_stack([self.x[v], self.y[v]]),
                        ],
                        axis=1,
                    )
                )
            self._cache["edge_geoms"] = out
        return self._cache["edge_geoms"]

    def compiled(self, direction: Literal["forward", "reverse"] = "forward") -> Any:
        """Return the graph's arrays prepared for the compiled Dijkstra (cached).

        Parameters
        ----------
        direction
            ``"forward"`` (times from a point) or ``"reverse"`` (times to it).
        """
        key = f"compiled_{direction}"
        if key not in self._cache:
            from territorio.accessibility._dijkstra import CompiledGraph

            self._cache[key] = CompiledGraph(self.graph if direction == "forward" else self.reverse)
        return self._cache[key]

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.node_ids)

    def to_metric(self, lon: Any, lat: Any) -> tuple[FloatArray, FloatArray]:
        """Project lon/lat arrays (EPSG:4326) to the network's metric CRS."""
        tr = self._cache.get("to_metric")
        if tr is None:
            from pyproj import Transformer

            tr = Transformer.from_crs("EPSG:4326", self.metric_crs, always_xy=True)
            self._cache["to_metric"] = tr
        x, y = tr.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
        return np.atleast_1d(np.asarray(x, dtype=float)), np.atleast_1d(np.asarray(y, dtype=float))

    def snap(
        self,
        lon: Any,
        lat: Any,
        *,
        max_snap_m: float | None = None,
        off_network_kmh: float | None = None,
    ) -> Snapped:
        """Snap points to their nearest node (KD-tree in the metric CRS).

        Parameters
        ----------
        lon, lat
            Point coordinates (EPSG:4326), scalars or arrays.
        max_snap_m
            Points farther than this from every snappable node are outside
            coverage (default: the network's ``max_snap_m``).
        off_network_kmh
            Speed of the straight-line leg to the node (default: the
            network's ``off_network_kmh``).

        Returns
        -------
        Snapped
            Node index, off-network seconds, distance and coverage flag.
        """
        import shapely

        max_snap = self.max_snap_m if max_snap_m is None else float(max_snap_m)
        kmh = self.off_network_kmh if off_network_kmh is None else float(off_network_kmh)
        lon_a = np.atleast_1d(np.asarray(lon, dtype=float))
        lat_a = np.atleast_1d(np.asarray(lat, dtype=float))
        n = len(lon_a)
        node = np.full(n, -1, dtype=np.int64)
        offset = np.full(n, np.nan)
        dist = np.full(n, np.inf)
        if n == 0:
            return Snapped(node, offset, dist, np.zeros(0, dtype=bool))
        finite = np.isfinite(lon_a) & np.isfinite(lat_a)
        if self._tree is None:
            from scipy.spatial import cKDTree

            idx = np.flatnonzero(self.snappable)
            self._tree = cKDTree(np.column_stack([self.x[idx], self.y[idx]]))
            self._tree_index = idx.astype(np.int64)
        x, y = self.to_metric(lon_a[finite], lat_a[finite])
        d, k = self._tree.query(np.column_stack([x, y]), distance_upper_bound=max_snap)
        d = np.asarray(d, dtype=float)
        k = np.asarray(k, dtype=np.int64)
        ok = np.isfinite(d) & (d <= max_snap)
        fidx = np.flatnonzero(finite)
        assert self._tree_index is not None  # set together with _tree
        node[fidx[ok]] = self._tree_index[k[ok]]
        dist[fidx[ok]] = d[ok]
        covered = node >= 0
        if self.coverage is not None:
            inside = shapely.contains_xy(self.coverage, lon_a, lat_a)
            covered &= inside
            node[~covered] = -1
            dist[~covered] = np.inf
        offset[covered] = dist[covered] / (kmh / 3.6)
        return Snapped(node, offset, dist, covered)


def _prepared(geom: Any) -> Any:
    if geom is not None:
        import shapely

        shapely.prepare(geom)
    return geom


def _csr(src: IntArray, dst: IntArray, w: FloatArray, n: int) -> Any:
    """Build a CSR matrix keeping the minimum of parallel arcs and explicit zeros."""
    from scipy.sparse import csr_matrix

    order = np.lexsort((w, dst, src))
    src, dst, w = src[order], dst[order], w[order]
    keep = np.ones(len(src), dtype=bool)
    keep[1:] = (src[1:] != src[:-1]) | (dst[1:] != dst[:-1])
    src, dst, w = src[keep], dst[keep], w[keep]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
    # Built from (data, indices, indptr): scipy stores explicit zeros as given.
    return csr_matrix((w.astype(np.float64), dst.astype(np.int32), indptr), shape=(n, n))


def _arcs(edges: pd.DataFrame, u: IntArray, v: IntArray, mode: str) -> tuple[Any, ...]:
    rows = np.arange(len(edges), dtype=np.int64)
    if mode == "car":
        car = edges["car"].to_numpy(dtype=bool) if "car" in edges else np.ones(len(edges), bool)
        tf = edges["travel_time_s"].to_numpy(dtype=float)
        tr = edges["travel_time_reverse_s"].to_numpy(dtype=float)
        fwd = car & np.isfinite(tf)
        rev = car & np.isfinite(tr)
        src = np.concatenate([u[fwd], v[rev]])
        dst = np.concatenate([v[fwd], u[rev]])
        w = np.concatenate([tf[fwd], tr[rev]])
        erow = np.concatenate([rows[fwd], rows[rev]])
        isfwd = np.concatenate([np.ones(fwd.sum(), bool), np.zeros(rev.sum(), bool)])
    else:
        foot = edges["foot"].to_numpy(dtype=bool)
        t = edges["length_m"].to_numpy(dtype=float) / (WALK_KMH / 3.6)
        src = np.concatenate([u[foot], v[foot]])
        dst = np.concatenate([v[foot], u[foot]])
        w = np.concatenate([t[foot], t[foot]])
        erow = np.concatenate([rows[foot], rows[foot]])
        isfwd = np.concatenate([np.ones(foot.sum(), bool), np.zeros(foot.sum(), bool)])
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        i = int(erow[bad][0])
        raise DataValidationError(
            f"layer 'road_edges': row {i}: travel time {w[bad][0]!r} is negative or not finite; "
            "fix the edge table (times are seconds >= 0, NaN only where the direction is closed)"
        )
    loop = src == dst
    return src[~loop], dst[~loop], w[~loop], erow[~loop], isfwd[~loop]


def _hilbert_order(lon: FloatArray, lat: FloatArray, bits: int = 16) -> IntArray:
    """Return the permutation sorting points along a Hilbert curve (``bits`` per axis).

    NaN coordinates sort last. Vectorised form of the classic ``xy2d``
    (rotate the quadrant, accumulate ``s * s * quadrant``), one pass per bit.
    """
    n = len(lon)
    if n < 2:
        return np.arange(n, dtype=np.int64)
    ok = np.isfinite(lon) & np.isfinite(lat)
    top = (1 << bits) - 1

    def grid(a: FloatArray) -> IntArray:
        lo, hi = np.nanmin(a), np.nanmax(a)
        scaled = (np.where(ok, a, lo) - lo) / ((hi - lo) or 1.0) * top
        return scaled.astype(np.int64)

    x, y = grid(lon), grid(lat)
    key = np.zeros(n, dtype=np.int64)
    s = 1 << (bits - 1)
    while s > 0:
        rx = (x & s) > 0
        ry = (y & s) > 0
        key += s * s * ((3 * rx.astype(np.int64)) ^ ry.astype(np.int64))
        flip = ~ry & rx
        x = np.where(flip, top - x, x)
        y = np.where(flip, top - y, y)
        swap = ~ry
        x, y = np.where(swap, y, x), np.where(swap, x, y)
        s >>= 1
    key[~ok] = np.iinfo(np.int64).max
    return np.argsort(key, kind="stable").astype(np.int64)


def build_network(
    nodes: pd.DataFrame,
    edges: pd.DataFrame,
    *,
    mode: Mode = "car",
    modes: Iterable[str] = ("car",),
    coverage: Any = None,
    max_snap_m: float = 1000.0,
    off_network_kmh: float = 5.0,
    metric_crs: str | None = None,
) -> RoadNetwork:
    """Build a :class:`RoadNetwork` from ``road_nodes`` and ``road_edges`` tables.

    Parameters
    ----------
    nodes
        ``road_nodes`` layer: ``node_id`` and Point geometry (EPSG:4326).
    edges
        ``road_edges`` layer (see :mod:`territorio.schemas`).
    mode
        ``"car"`` or ``"walk"``.
    modes
        Modes the graph was built for (``manifest["roads"]["modes"]``).
    coverage
        Coverage polygon (shapely, EPSG:4326) or GeoJSON; ``None`` for none.
    max_snap_m, off_network_kmh
        Snapping parameters (see :meth:`RoadNetwork.snap`).
    metric_crs
        Metric CRS for distances; default: the UTM zone of the nodes' centroid.

    Raises
    ------
    UnsupportedModeError
        If ``mode`` is unknown or was not built into this graph.
    MissingColumnError
        If a required column is missing.
    """
    import shapely

    if mode not in ("car", "walk"):
        raise UnsupportedModeError(f"unknown travel mode {mode!r}; use 'car' or 'walk'")
    modes = list(modes)
    if mode not in modes:
        raise UnsupportedModeError(
            f"travel mode {mode!r} is not available: this road graph was built for "
            f"{', '.join(modes) or 'no mode'} only; rebuild the bundle with "
            '[roads] network_type = "all" to route on foot'
        )
    require_columns(nodes, ("node_id", "geometry"), where="layer 'road_nodes'")
    cols = ["u", "v", "length_m"] + (
        ["travel_time_s", "travel_time_reverse_s"] if mode == "car" else ["foot"]
    )
    require_columns(edges, cols, where="layer 'road_edges'")

    geom = nodes.geometry.to_numpy() if hasattr(nodes, "geometry") else nodes["geometry"]
    lon = shapely.get_x(np.asarray(geom)).astype(float)
    lat = shapely.get_y(np.asarray(geom)).astype(float)
    # node indices follow a Hilbert curve: neighbours in space are neighbours in
    # memory, so searches and isochrone kernels read the arrays nearly in order
    # (bounded 15-minute search on Turin: 2.4 -> 2.0 ms; see _hilbert_order)
    spatial = _hilbert_order(lon, lat)
    lon, lat = lon[spatial], lat[spatial]
    node_ids = nodes["node_id"].to_numpy(dtype=np.int64)[spatial]
    order = np.argsort(node_ids, kind="stable")
    sorted_ids = node_ids[order]
    if len(sorted_ids) > 1 and (sorted_ids[1:] == sorted_ids[:-1]).any():
        raise DataValidationError("layer 'road_nodes': duplicate node_id values")

    def _index(ids: IntArray, col: str) -> IntArray:
        pos = np.searchsorted(sorted_ids, ids)
        pos = np.clip(pos, 0, max(len(sorted_ids) - 1, 0))
        bad = sorted_ids[pos] != ids if len(sorted_ids) else np.ones(len(ids), bool)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataValidationError(
                f"layer 'road_edges': row {i}: {col}={int(ids[i])} is not in road_nodes; "
                "rebuild the bundle so every edge end is a node"
            )
        return order[pos].astype(np.int64)

    u = _index(edges["u"].to_numpy(dtype=np.int64), "u")
    v = _index(edges["v"].to_numpy(dtype=np.int64), "v")
    if metric_crs is None:
        metric_crs = metric_crs_for(float(np.nanmean(lon)), float(np.nanmean(lat)))
    from pyproj import Transformer

    tr = Transformer.from_crs("EPSG:4326", metric_crs, always_xy=True)
    x, y = (np.asarray(a, dtype=float) for a in tr.transform(lon, lat))

    n = len(node_ids)
    src, dst, w, erow, isfwd = _arcs(edges, u, v, mode)
    graph = _csr(src, dst, w, n)
    # the transpose through CSC keeps explicit zeros (no eliminate_zeros involved)
    reverse = graph.transpose().tocsr()
    reverse.sort_indices()

    from scipy.sparse.csgraph import connected_components

    snappable = np.zeros(n, dtype=bool)
    if n:
        _, labels = connected_components(graph, directed=True, connection="strong")
        used = np.zeros(n, dtype=bool)
        used[src] = True
        used[dst] = True
        counts = np.bincount(labels[used], minlength=labels.max() + 1)
        if counts.size and counts.max() > 0:
            snappable = labels == int(np.argmax(counts))

    edge_geoms = None
    if "geometry" in edges and getattr(edges, "crs", None) is not None:
        gs = edges.geometry.to_crs(4326) if edges.crs.to_epsg() != 4326 else edges.geometry
        edge_geoms = np.asarray(gs.to_numpy())
    return RoadNetwork(
        mode=mode,
        node_ids=node_ids,
        lon=lon,
        lat=lat,
        x=x,
        y=y,
        metric_crs=metric_crs,
        graph=graph,
        reverse=reverse,
        arc_src=src,
        arc_dst=dst,
        arc_time=w,
        arc_edge=erow,
        arc_forward=isfwd,
        edge_geoms_4326=edge_geoms,
        edge_u=u,
        edge_v=v,
        snappable=snappable,
        coverage=_prepared(coverage_geometry(coverage)),
        max_snap_m=float(max_snap_m),
        off_network_kmh=float(off_network_kmh),
    )


def network_from_bundle(
    bundle: Any,
    *,
    mode: Mode = "car",
    max_snap_m: float = 1000.0,
    off_network_kmh: float = 5.0,
) -> RoadNetwork:
    """Build the network of a :class:`territorio.bundle.Bundle` for one mode.

    Uses the ``road_nodes`` and ``road_edges`` layers, ``manifest["roads"]["modes"]``
    (default ``["car"]``) and ``manifest["coverage"]`` (optional GeoJSON).
    """
    manifest = bundle.manifest
    modes: Sequence[str] = (manifest.get("roads") or {}).get("modes") or ["car"]
    return build_network(
        bundle.layer("road_nodes"),
        bundle.layer("road_edges"),
        mode=mode,
        modes=modes,
        coverage=manifest.get("coverage"),
        max_snap_m=max_snap_m,
        off_network_kmh=off_network_kmh,
    )
