"""The reusable accessibility context: network + snapped origins, built once.

:class:`AccessContext` is what the indicators, the planning tools (SNAI
classes, siting, what-if scenarios) and the API share. Building it snaps the
population cells (their representative point) and the municipality reference
points once; afterwards every question is one or a few Dijkstra searches.

Conventions
-----------
* Times are seconds in the arrays returned here (minutes only in tables).
* "Outside coverage" (beyond ``max_snap_m`` or outside the bundle's coverage
  polygon) and "unreachable" (no path) both give ``NaN`` and target ``-1``;
  the ``covered`` flags tell them apart.
* Off-network legs are included at both ends: ``time = origin leg + network
  time + facility leg``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from territorio.accessibility.nearest import k_nearest, multi_source_groups, one_to_many
from territorio.accessibility.network import Mode, RoadNetwork, Snapped, network_from_bundle
from territorio.config import AccessConfig
from territorio.schemas import require_columns

__all__ = ["AccessContext", "NearestTimes"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class NearestTimes:
    """Time (s) to the nearest target, and which target, at nodes, cells and refs.

    ``*_s`` are NaN and ``*_target`` ``-1`` where unreachable or outside
    coverage. ``target_snap`` tells which targets were themselves inside
    coverage (targets outside coverage are never chosen).
    """

    node_s: FloatArray
    node_target: IntArray
    cell_s: FloatArray
    cell_target: IntArray
    ref_s: FloatArray
    ref_target: IntArray
    target_snap: Snapped


def _rep_points(geoms: Any) -> tuple[FloatArray, FloatArray]:
    import shapely

    pts = np.asarray(geoms).copy()
    other = shapely.get_type_id(pts) != 0
    if other.any():
        pts[other] = shapely.point_on_surface(pts[other])
    return shapely.get_x(pts).astype(float), shapely.get_y(pts).astype(float)


@dataclass
class AccessContext:
    """Network, snapped population cells and municipality reference points.

    Attributes
    ----------
    network
        The :class:`~territorio.accessibility.network.RoadNetwork`.
    cfg
        The :class:`~territorio.config.AccessConfig` used.
    cells
        One row per population cell piece: ``cell_id``, ``pro_com_t``,
        ``pop_total``, ``pop_65_plus``, ``pop_under_15``, ``lon``, ``lat``
        (representative point), ``node``, ``offset_s``, ``covered``.
    municipalities
        One row per municipality: ``pro_com_t``, ``pop_total``, ``ref_lon``,
        ``ref_lat``, ``node``, ``offset_s``, ``covered``.
    service_categories
        ``manifest["service_categories"]``: per category ``count`` and
        ``coverage`` (``"area"`` or a list of ISTAT codes).
    """

    network: RoadNetwork
    cfg: AccessConfig
    cells: pd.DataFrame
    municipalities: pd.DataFrame
    service_categories: dict[str, Any] = field(default_factory=dict)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------------ build
    @classmethod
    def from_bundle(cls, bundle: Any, cfg: AccessConfig, *, mode: Mode = "car") -> AccessContext:
        """Build the context of a :class:`territorio.bundle.Bundle` (done once).

        Raises
        ------
        UnsupportedModeError
            If ``mode`` is not in ``manifest["roads"]["modes"]``.
        """
        net = network_from_bundle(
            bundle, mode=mode, max_snap_m=cfg.max_snap_m, off_network_kmh=cfg.off_network_kmh
        )
        return cls.from_layers(
            net,
            bundle.layer("population_cells"),
            bundle.layer("municipalities"),
            cfg,
            service_categories=bundle.manifest.get("service_categories") or {},
        )

    @classmethod
    def from_layers(
        cls,
        network: RoadNetwork,
        cells: pd.DataFrame,
        municipalities: pd.DataFrame,
        cfg: AccessConfig,
        *,
        service_categories: Mapping[str, Any] | None = None,
    ) -> AccessContext:
        """Build the context from a network and the cell / municipality layers."""
        require_columns(
            cells,
            ("cell_id", "pro_com_t", "pop_total", "pop_65_plus", "pop_under_15", "geometry"),
            where="layer 'population_cells'",
        )
        require_columns(
            municipalities, ("pro_com_t", "ref_lon", "ref_lat"), where="layer 'municipalities'"
        )
        lon, lat = _rep_points(cells.geometry.to_numpy())
        kw = {"max_snap_m": cfg.max_snap_m, "off_network_kmh": cfg.off_network_kmh}
        snap = network.snap(lon, lat, **kw)
        c = pd.DataFrame(
            {
                "cell_id": cells["cell_id"].astype(str).to_numpy(),
                "pro_com_t": cells["pro_com_t"].astype(str).to_numpy(),
                "pop_total": cells["pop_total"].to_numpy(dtype=float),
                "pop_65_plus": cells["pop_65_plus"].to_numpy(dtype=float),
                "pop_under_15": cells["pop_under_15"].to_numpy(dtype=float),
                "lon": lon,
                "lat": lat,
                "node": snap.node,
                "offset_s": snap.offset_s,
                "covered": snap.covered,
            }
        )
        for col in ("pop_total", "pop_65_plus", "pop_under_15"):
            c[col] = c[col].fillna(0.0)
        m_lon = municipalities["ref_lon"].to_numpy(dtype=float)
        m_lat = municipalities["ref_lat"].to_numpy(dtype=float)
        ms = network.snap(m_lon, m_lat, **kw)
        pop = (
            municipalities["pop_total"].to_numpy(dtype=float)
            if "pop_total" in municipalities
            else np.full(len(municipalities), np.nan)
        )
        m = pd.DataFrame(
            {
                "pro_com_t": municipalities["pro_com_t"].astype(str).to_numpy(),
                "pop_total": pop,
                "ref_lon": m_lon,
                "ref_lat": m_lat,
                "node": ms.node,
                "offset_s": ms.offset_s,
                "covered": ms.covered,
            }
        )
        return cls(network, cfg, c, m, dict(service_categories or {}))

    def arrays(self) -> dict[str, Any]:
        """Return the cell / municipality columns as numpy arrays (cached).

        Keys: ``cell_id``, ``cell_code``, ``cell_node``, ``cell_covered``,
        ``pop``, ``pop65``, ``pop15``, ``cell_group`` (row of the cell's
        municipality in :attr:`municipalities`, -1 if none), ``muni_code``,
        ``muni_covered``.
        """
        if "arrays" not in self._cache:
            c, m = self.cells, self.municipalities
            codes = m["pro_com_t"].to_numpy(dtype=object)
            cell_codes = c["pro_com_t"].to_numpy(dtype=object)
            self._cache["arrays"] = {
                "cell_id": c["cell_id"].to_numpy(dtype=object),
                "cell_code": cell_codes,
                "cell_node": c["node"].to_numpy(),
                "cell_covered": c["covered"].to_numpy(dtype=bool),
                "pop": c["pop_total"].to_numpy(dtype=float),
                "pop65": c["pop_65_plus"].to_numpy(dtype=float),
                "pop15": c["pop_under_15"].to_numpy(dtype=float),
                "cell_group": pd.Index(codes).get_indexer(cell_codes).astype(np.int64),
                "muni_code": codes,
                "muni_covered": m["covered"].to_numpy(dtype=bool),
            }
        return dict(self._cache["arrays"])

    # ------------------------------------------------------------- primitives
    def snap(self, lon: Any, lat: Any) -> Snapped:
        """Snap points with this context's ``max_snap_m`` / ``off_network_kmh``."""
        return self.network.snap(
            lon, lat, max_snap_m=self.cfg.max_snap_m, off_network_kmh=self.cfg.off_network_kmh
        )

    def at_cells(self, node_values: FloatArray) -> FloatArray:
        """Map node times (last axis = nodes) to cells, adding each cell's leg.

        NaN for cells outside coverage and where the node value is ``inf``.
        """
        return self._at(node_values, self.cells)

    def at_refs(self, node_values: FloatArray) -> FloatArray:
        """Map node times (last axis = nodes) to municipality reference points."""
        return self._at(node_values, self.municipalities)

    @staticmethod
    def _at(node_values: FloatArray, table: pd.DataFrame) -> FloatArray:
        node = table["node"].to_numpy()
        off = table["offset_s"].to_numpy()
        cov = table["covered"].to_numpy()
        vals = np.asarray(node_values, dtype=float)
        out = vals[..., np.where(cov, node, 0)] + np.where(cov, off, 0.0)
        out = np.where(cov & np.isfinite(out), out, np.nan)
        return np.asarray(out, dtype=float)

    def _pick(self, target: IntArray, table: pd.DataFrame, times: FloatArray) -> IntArray:
        node = table["node"].to_numpy()
        t = target[np.where(node >= 0, node, 0)]
        return np.where(np.isfinite(times), t, -1).astype(np.int64)

    def times_to_nearest(self, lon: Any, lat: Any, *, limit_s: float = np.inf) -> NearestTimes:
        """Time from every node, cell and reference point to the nearest target.

        One multi-source Dijkstra on the reversed graph from all the targets
        (their off-network legs included as initial offsets).

        Parameters
        ----------
        lon, lat
            Target (facility) coordinates, EPSG:4326.
        limit_s
            Do not search beyond this many seconds (faster; farther = NaN).
        """
        return self.times_to_nearest_many([(lon, lat)], limit_s=limit_s)[0]

    def times_to_nearest_many(
        self, targets: Sequence[tuple[Any, Any]], *, limit_s: float = np.inf
    ) -> list[NearestTimes]:
        """:meth:`times_to_nearest` for several target sets (e.g. categories) at once.

        The searches (one multi-source search per set) run in parallel on the
        available CPUs.

        Parameters
        ----------
        targets
            ``(lon, lat)`` arrays per target set.
        limit_s
            Search bound (s).
        """
        snaps = [self.snap(lon, lat) for lon, lat in targets]
        idxs = [np.flatnonzero(s.covered) for s in snaps]
        groups = [(s.node[i], s.offset_s[i]) for s, i in zip(snaps, idxs, strict=True)]
        dist, srcs = multi_source_groups(self.network.compiled("reverse"), groups, limit=limit_s)
        out = []
        for k, (snap, idx) in enumerate(zip(snaps, idxs, strict=True)):
            d, src = dist[k], srcs[k]
            target = np.full(len(src), -1, dtype=np.int64)
            target[src >= 0] = idx[src[src >= 0]]
            cell_s = self.at_cells(d)
            ref_s = self.at_refs(d)
            if np.isfinite(limit_s):
                cell_s = np.where(cell_s <= limit_s, cell_s, np.nan)
                ref_s = np.where(ref_s <= limit_s, ref_s, np.nan)
            out.append(
                NearestTimes(
                    node_s=np.where(np.isfinite(d), d, np.nan),
                    node_target=target,
                    cell_s=cell_s,
                    cell_target=self._pick(target, self.cells, cell_s),
                    ref_s=ref_s,
                    ref_target=self._pick(target, self.municipalities, ref_s),
                    target_snap=snap,
                )
            )
        return out

    def times_to_k_nearest(
        self, lon: Any, lat: Any, k: int, *, limit_s: float = np.inf
    ) -> tuple[FloatArray, IntArray]:
        """Time (s) from every cell to its ``k`` nearest targets, and which targets.

        Exact, via :func:`~territorio.accessibility.nearest.k_nearest` (one
        bounded search per target: meant for categories with few facilities or
        with ``limit_s``).

        Returns
        -------
        times : ndarray, shape (k, n_cells)
            Ascending; NaN where outside coverage or fewer than ``k`` reachable.
        targets : ndarray, shape (k, n_cells)
            Index of the target in the input arrays, ``-1`` where none.
        """
        snap = self.snap(lon, lat)
        idx = np.flatnonzero(snap.covered)
        d, src = k_nearest(
            self.network.compiled("reverse"), snap.node[idx], snap.offset_s[idx], k, limit=limit_s
        )
        times = self.at_cells(d)
        if np.isfinite(limit_s):
            times = np.where(times <= limit_s, times, np.nan)
        node = self.cells["node"].to_numpy()
        tgt = src[:, np.where(node >= 0, node, 0)]
        tgt = np.where(np.isfinite(times) & (tgt >= 0), idx[np.maximum(tgt, 0)], -1)
        return times, tgt.astype(np.int64)

    def times_from(self, lon: Any, lat: Any, *, limit_s: float = np.inf) -> FloatArray:
        """Dense times (s) FROM each point to every node, shape ``(m, n_nodes)``.

        Points outside coverage get an all-``inf`` row; nodes beyond
        ``limit_s`` are ``inf``. Includes each point's off-network leg.
        Use :meth:`at_cells` to read the values at the population cells.
        """
        return self._dense(self.network.compiled("forward"), lon, lat, limit_s)

    def times_to(self, lon: Any, lat: Any, *, limit_s: float = np.inf) -> FloatArray:
        """Dense times (s) from every node TO each point, shape ``(m, n_nodes)``.

        What residents drive to reach a candidate site ("residents within
        T minutes of site s": ``ctx.at_cells(ctx.times_to(...)) <= T*60``).
        """
        return self._dense(self.network.compiled("reverse"), lon, lat, limit_s)

    def _dense(self, graph: Any, lon: Any, lat: Any, limit_s: float) -> FloatArray:
        snap = self.snap(lon, lat)
        out = np.full((len(snap), self.network.n_nodes), np.inf)
        idx = np.flatnonzero(snap.covered)
        if len(idx):
            out[idx] = one_to_many(graph, snap.node[idx], snap.offset_s[idx], limit=limit_s)
        if np.isfinite(limit_s):
            out[out > limit_s] = np.inf
        return out

    def ref_times_by_node(self, limit_s: float) -> tuple[IntArray, Any]:
        """Return times (s) from the covered reference points to every node, cached.

        Returns
        -------
        rows : ndarray of int
            Rows of :attr:`municipalities` whose reference point is covered.
        times : ndarray of float64, shape (n_nodes, len(rows))
            Node-major (gathering the nodes of a set of facilities is one
            contiguous take), ``inf`` beyond ``limit_s``, off-network leg of
            the reference point included. One bounded search per reference
            point, run in parallel, written node-major by the kernel. Used for
            ``opportunities_*``.
        """
        key = f"ref_fwd_{limit_s}"
        if key not in self._cache:
            m = self.municipalities
            rows = np.flatnonzero(m["covered"].to_numpy())
            nodes = m["node"].to_numpy()[rows]
            offs = m["offset_s"].to_numpy()[rows]
            out = one_to_many(
                self.network.compiled("forward"), nodes, offs, limit=limit_s, node_major=True
            )
            self._cache[key] = (rows, out)
        rows, out = self._cache[key]
        return rows, out
