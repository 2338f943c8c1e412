"""Travel times, isochrones and the planning context on the bundle's road network.

One :class:`Engine` per app (per worker process): the
:class:`~territorio.accessibility.network.RoadNetwork` is built once (at
start-up by :meth:`Engine.warm_up`, or on first use) and shared by every
route, the :class:`~territorio.accessibility.context.AccessContext` of the
planning routes reuses it, and isochrones are served from a bounded LRU cache
keyed by what decides them: the snapped network node, the off-network leg
rounded to :data:`OFFSET_STEP_S` seconds, the minutes and the mode.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np

from territorio.config import AccessConfig
from territorio.errors import BundleError, OutsideCoverageError

__all__ = ["ISOCHRONE_CELL_M", "OFFSET_STEP_S", "SNAP_MEMORY", "Engine", "IsochroneStats"]

#: Off-network legs closer than this (seconds) share a cached isochrone: at the
#: default 5 km/h off-network speed 2 s is under 3 m of walking.
OFFSET_STEP_S = 2.0

#: Finest grid resolution (metres) of API isochrones. 100 m cells cost less
#: than 50 m ones (fresh 15-minute isochrone on Turin, whole response: 5.8 vs
#: 8.3 ms of CPU). At 32 connections the mean latency is 32 / throughput
#: (Little's law), throughput at most 2 cores / CPU per request, and p95 was
#: 1.3-1.5 x the mean: p95 <= 150 ms allows about 6.5 ms of CPU. The area is
#: larger than the exact vector method's by about 5% instead of 2% (see
#: :mod:`territorio.accessibility.isochrones`).
ISOCHRONE_CELL_M = 100.0

#: Points remembered by :meth:`Engine.snap_keyed` (the whole memory is dropped beyond).
SNAP_MEMORY = 200_000

#: Coordinates of isochrone polygons are rounded to 1e-6 degree (about 0.1 m).
_DECIMALS = 6


class IsochroneStats:
    """Counters of the isochrone cache (hits, misses, entries)."""

    def __init__(self) -> None:
        self.hits = 0
        self.misses = 0

    def as_dict(self, size: int, capacity: int) -> dict[str, int]:
        """Return the counters with the cache size and capacity."""
        return {"hits": self.hits, "misses": self.misses, "size": size, "capacity": capacity}


class Engine:
    """Car travel times from a point to services and offers; isochrones; planning context.

    Parameters
    ----------
    bundle
        The territory bundle.
    cfg
        Snapping parameters (``max_snap_m``, ``off_network_kmh``).
    isochrone_cache
        Most isochrone responses kept (least recently used dropped first);
        0 disables the cache.
    isochrone_cell_m
        Finest grid resolution (metres) of the isochrones; coarser when the
        reached area is large (see :func:`~territorio.accessibility.isochrones.isochrones`).
    """

    def __init__(
        self,
        bundle: Any,
        cfg: AccessConfig,
        *,
        isochrone_cache: int = 256,
        isochrone_cell_m: float = ISOCHRONE_CELL_M,
    ) -> None:
        self.bundle = bundle
        self.cfg = cfg
        self._net: Any = None
        self._ctx: Any = None
        self._lock = threading.Lock()
        self._ctx_lock = threading.Lock()
        self._snaps: dict[str, Any] = {}
        self._snap_lock = threading.Lock()
        self._keyed: dict[Any, tuple[Any, ...]] = {}
        self._iso: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
        self._iso_lock = threading.Lock()
        self.iso_capacity = max(0, int(isochrone_cache))
        self.iso_stats = IsochroneStats()
        self._lonlat: Any = None
        self.iso_cell_m = float(isochrone_cell_m)

    # -- building ----------------------------------------------------------------

    @property
    def available(self) -> bool:
        """Whether the bundle has a road network."""
        return bool(self.bundle.has_layer("road_edges"))

    @property
    def network(self) -> Any:
        """The road network (built once, on first use or by :meth:`warm_up`)."""
        if self._net is None:
            with self._lock:
                if self._net is None:
                    from territorio.accessibility.network import network_from_bundle

                    self._net = network_from_bundle(
                        self.bundle,
                        max_snap_m=self.cfg.max_snap_m,
                        off_network_kmh=self.cfg.off_network_kmh,
                    )
        return self._net

    @property
    def context(self) -> Any:
        """The :class:`~territorio.accessibility.context.AccessContext` on the same network.

        Raises
        ------
        BundleError
            If the bundle has no ``population_cells`` layer.
        """
        if self._ctx is None:
            with self._ctx_lock:
                if self._ctx is None:
                    if not self.bundle.has_layer("population_cells"):
                        raise BundleError(
                            f"bundle {self.bundle.path.name} has no layer 'population_cells'; "
                            "planning computations need it: rebuild with territorio build"
                        )
                    from territorio.accessibility.context import AccessContext

                    self._ctx = AccessContext.from_layers(
                        self.network,
                        self.bundle.layer("population_cells"),
                        self.bundle.layer("municipalities"),
                        self.cfg,
                        service_categories=self.bundle.manifest.get("service_categories") or {},
                    )
        return self._ctx

    def warm_up(self, *, isochrones: bool = True) -> None:
        """Build the network now (and the isochrone edge samples), not on the first request."""
        if not self.available:
            return
        from territorio.accessibility import _dijkstra

        # load the compiled kernels now: the first search of a worker otherwise
        # paid it (hundreds of ms: the p99 of /nearest under load)
        _dijkstra.warm_up()
        net = self.network
        if isochrones and len(net.edge_u):
            from territorio.accessibility.isochrones import _samples

            # the per-network edge sampling of the grid method (about 1 s on Turin)
            # at the served resolution and the next coarser one (city-wide contours)
            _samples(net, self.iso_cell_m)
            _samples(net, 2 * self.iso_cell_m)

    # -- travel times ------------------------------------------------------------

    def snap_origin(self, lon: float, lat: float, *, what: str) -> tuple[int, float]:
        """Snap a point to the network: ``(node, off-network seconds)``.

        Raises
        ------
        OutsideCoverageError
            If the point is farther than ``max_snap_m`` from the network or
            outside its coverage.
        """
        snap = self.network.snap(lon, lat)
        if not bool(snap.covered[0]):
            raise OutsideCoverageError(
                f"{what} ({lon:.5f}, {lat:.5f}) is outside the road network's coverage "
                f"(more than {self.cfg.max_snap_m:g} m from a road of the network, or outside "
                "the area the network covers); travel times there are unknown"
            )
        return int(snap.node[0]), float(snap.offset_s[0])

    def times_from(self, lon: float, lat: float, *, limit_s: float, what: str) -> np.ndarray:
        """Seconds from the point to every node (``inf`` beyond ``limit_s``).

        Raises
        ------
        OutsideCoverageError
            If the point is outside network coverage (see :meth:`snap_origin`).
        """
        from scipy.sparse.csgraph import dijkstra

        net = self.network
        node, off = self.snap_origin(lon, lat, what=what)
        if off > limit_s:
            return np.full(net.n_nodes, np.inf)
        dist = dijkstra(net.graph, directed=True, indices=node, limit=limit_s - off)
        return np.asarray(dist, dtype=float) + off

    def snap_points(self, lon: Any, lat: Any, *, key: str | None = None) -> Any:
        """Snap points (cached under ``key`` when given, built once)."""
        if key is None:
            return self.network.snap(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
        snap = self._snaps.get(key)
        if snap is None:
            with self._snap_lock:
                snap = self._snaps.get(key)
                if snap is None:
                    snap = self.network.snap(
                        np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
                    )
                    self._snaps[key] = snap
        return snap

    def snap_keyed(self, keys: Sequence[Any], lon: Any, lat: Any) -> Any:
        """Snap points identified by ``keys`` (e.g. offer ids), remembering each one.

        A point is snapped again only when it is new or has moved (its lon/lat
        differ from the remembered ones), so another worker's edits are never
        served stale; at most :data:`SNAP_MEMORY` points are remembered.
        """
        from territorio.accessibility.network import Snapped

        lon_a = np.asarray(lon, dtype=float)
        lat_a = np.asarray(lat, dtype=float)
        n = len(lon_a)
        node = np.empty(n, dtype=np.int64)
        off = np.empty(n)
        dist = np.empty(n)
        cov = np.empty(n, dtype=bool)
        memo = self._keyed
        todo = []
        for i, k in enumerate(keys):
            hit = memo.get(k)
            if hit is not None and hit[0] == lon_a[i] and hit[1] == lat_a[i]:
                node[i], off[i], dist[i], cov[i] = hit[2], hit[3], hit[4], hit[5]
            else:
                todo.append(i)
        if todo:
            idx = np.asarray(todo, dtype=np.int64)
            snap = self.network.snap(lon_a[idx], lat_a[idx])
            node[idx], off[idx], dist[idx], cov[idx] = (
                snap.node,
                snap.offset_s,
                snap.dist_m,
                snap.covered,
            )
            if len(memo) + len(idx) > SNAP_MEMORY:
                memo.clear()
            for j, i in enumerate(idx):
                memo[keys[int(i)]] = (
                    lon_a[i], lat_a[i], snap.node[j], snap.offset_s[j],
                    snap.dist_m[j], snap.covered[j],
                )  # fmt: skip
        return Snapped(node, off, dist, cov)

    def targets(self, lon: Any, lat: Any, *, key: str) -> Any:
        """Points snapped and indexed by node for :meth:`nearest_from` (cached under ``key``)."""
        found = self._snaps.get(f"targets:{key}")
        if found is None:
            from territorio.accessibility._dijkstra import Targets

            snap = self.snap_points(lon, lat, key=key)
            with self._snap_lock:
                found = self._snaps.get(f"targets:{key}")
                if found is None:
                    found = Targets(
                        self.network.n_nodes,
                        np.where(snap.covered, snap.node, -1),
                        np.where(snap.covered, snap.offset_s, np.inf),
                    )
                    self._snaps[f"targets:{key}"] = found
        return found

    def nearest_from(
        self, lon: float, lat: float, targets: Any, *, k: int, limit_s: float, what: str
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return times (s, sorted) and indices of the ``k`` targets nearest by car from a point.

        Exact, and the search stops once they are known (see
        :func:`territorio.accessibility._dijkstra.nearest_targets`).

        Raises
        ------
        OutsideCoverageError
            If the point is outside network coverage (see :meth:`snap_origin`).
        """
        from territorio.accessibility._dijkstra import nearest_targets

        node, off = self.snap_origin(lon, lat, what=what)
        return nearest_targets(
            self.network.compiled("forward"), node, off, targets, k, limit=limit_s
        )

    @staticmethod
    def at_points(node_s: np.ndarray, snap: Any) -> np.ndarray:
        """Seconds to each snapped point (NaN when outside coverage or unreached)."""
        if len(snap.node) == 0:
            return np.zeros(0)
        t = node_s[np.where(snap.covered, snap.node, 0)] + np.where(
            snap.covered, snap.offset_s, 0.0
        )
        return np.where(snap.covered & np.isfinite(t), t, np.nan)

    # -- isochrones --------------------------------------------------------------

    def isochrone_key(
        self, lon: float, lat: float, minutes: Sequence[float], *, mode: str = "car"
    ) -> tuple[Any, ...]:
        """Cache key of the isochrones from a point.

        ``(node, off-network leg rounded to OFFSET_STEP_S, minutes, mode)``:
        two origins snapping to the same junction with off-network legs within
        a second of each other get the same polygons (the first one computed),
        which differ from a fresh computation by at most that second of travel
        at the contour.

        Raises
        ------
        OutsideCoverageError
            If the point is outside network coverage.
        """
        node, off = self.snap_origin(lon, lat, what="origin")
        mins = tuple(sorted({float(m) for m in minutes}))
        return (node, round(off / OFFSET_STEP_S), mins, mode)

    def isochrone_cached(self, key: tuple[Any, ...]) -> bytes | None:
        """Return the cached GeoJSON of ``key`` (counted as a hit), or None."""
        if not self.iso_capacity:
            return None
        with self._iso_lock:
            hit = self._iso.get(key)
            if hit is not None:
                self._iso.move_to_end(key)
                self.iso_stats.hits += 1
            return hit

    def isochrone_compute(self, key: tuple[Any, ...], lon: float, lat: float) -> bytes:
        """Compute the isochrones of ``key`` from the point, store and return their GeoJSON.

        The API runs one at a time per worker (``routers/isochrones.py``):
        concurrent ones would only contend for the GIL and the caches.
        """
        body = self._compute_isochrones(lon, lat, key[2], key[3])
        with self._iso_lock:
            self.iso_stats.misses += 1
            if self.iso_capacity:
                self._iso[key] = body
                while len(self._iso) > self.iso_capacity:
                    self._iso.popitem(last=False)
        return body

    def _to_lonlat(self) -> Any:
        """Return the metric -> EPSG:4326 pyproj Transformer of the network (built once)."""
        tr = self._lonlat
        if tr is None:
            from pyproj import Transformer

            tr = Transformer.from_crs(self.network.metric_crs, "EPSG:4326", always_xy=True)
            self._lonlat = tr
        return tr

    def _compute_isochrones(
        self, lon: float, lat: float, mins: tuple[float, ...], mode: str
    ) -> bytes:
        import json

        import shapely

        from territorio.accessibility.isochrones import _contours

        # the geopandas-free core of isochrones(): no GeoDataFrame, no to_crs
        # (their set-up cost more than the contour itself)
        values, geoms = _contours(
            self.network, [(lon, lat)], list(mins), mode=mode, min_cell_m=self.iso_cell_m
        )
        areas = [g.area / 1e6 for g in geoms]
        tr = self._to_lonlat()

        def lonlat(xy: np.ndarray) -> np.ndarray:
            x, y = tr.transform(xy[:, 0], xy[:, 1])
            return np.round(np.column_stack([x, y]), _DECIMALS)

        # one vectorised reprojection (and rounding) of every vertex
        out = shapely.transform(np.asarray(geoms, dtype=object), lonlat)
        # shapely.to_geojson is C code: ~15x faster than GeoDataFrame.to_json here
        texts = shapely.to_geojson(out)
        parts = []
        for m, area, g in zip(values, areas, texts, strict=True):
            props = json.dumps({"minutes": float(m), "area_km2": round(float(area), 4)})
            parts.append(f'{{"type":"Feature","properties":{props},"geometry":{g}}}')
        return (
            '{"type":"FeatureCollection","features":['
            + ",".join(parts)
            + f'],"numberReturned":{len(parts)}}}'
        ).encode()

    def isochrone_cache_info(self) -> dict[str, int]:
        """Hits, misses, size and capacity of the isochrone cache."""
        with self._iso_lock:
            return self.iso_stats.as_dict(len(self._iso), self.iso_capacity)
