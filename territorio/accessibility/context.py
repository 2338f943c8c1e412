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

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from territorio.accessibility.nearest import multi_source, one_to_many
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

    arr = np.asarray(geoms)
    kinds = shapely.get_type_id(arr)
    pts = np.where(kinds == 0, arr, shapely.point_on_surface(arr))
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
        snap = self.snap(lon, lat)
        idx = np.flatnonzero(snap.covered)
        d, src = multi_source(
            self.network.reverse, snap.node[idx], snap.offset_s[idx], limit=limit_s
        )
        target = np.full(len(src), -1, dtype=np.int64)
        target[src >= 0] = idx[src[src >= 0]]
        cell_s = self.at_cells(d)
        ref_s = self.at_refs(d)
        if np.isfinite(limit_s):
            cell_s = np.where(cell_s <= limit_s, cell_s, np.nan)
            ref_s = np.where(ref_s <= limit_s, ref_s, np.nan)
        return NearestTimes(
            node_s=np.where(np.isfinite(d), d, np.nan),
            node_target=target,
            cell_s=cell_s,
            cell_target=self._pick(target, self.cells, cell_s),
            ref_s=ref_s,
            ref_target=self._pick(target, self.municipalities, ref_s),
            target_snap=snap,
        )

    def times_from(self, lon: Any, lat: Any, *, limit_s: float = np.inf) -> FloatArray:
        """Dense times (s) FROM each point to every node, shape ``(m, n_nodes)``.

        Points outside coverage get an all-``inf`` row; nodes beyond
        ``limit_s`` are ``inf``. Includes each point's off-network leg.
        Use :meth:`at_cells` to read the values at the population cells.
        """
        return self._dense(self.network.graph, lon, lat, limit_s)

    def times_to(self, lon: Any, lat: Any, *, limit_s: float = np.inf) -> FloatArray:
        """Dense times (s) from every node TO each point, shape ``(m, n_nodes)``.

        What residents drive to reach a candidate site ("residents within
        T minutes of site s": ``ctx.at_cells(ctx.times_to(...)) <= T*60``).
        """
        return self._dense(self.network.reverse, lon, lat, limit_s)

    def _dense(self, graph: Any, lon: Any, lat: Any, limit_s: float) -> FloatArray:
        snap = self.snap(lon, lat)
        out = np.full((len(snap), self.network.n_nodes), np.inf)
        idx = np.flatnonzero(snap.covered)
        if len(idx):
            out[idx] = one_to_many(graph, snap.node[idx], snap.offset_s[idx], limit=limit_s)
        if np.isfinite(limit_s):
            out[out > limit_s] = np.inf
        return out

    def ref_forward_times(self, limit_s: float) -> FloatArray:
        """Return times (s, float32) from each covered reference point to every node, cached.

        Shape ``(n_municipalities, n_nodes)``; ``inf`` beyond ``limit_s`` or for
        reference points outside coverage. Used for ``opportunities_*``.
        """
        key = f"ref_fwd_{limit_s}"
        if key not in self._cache:
            m = self.municipalities
            out = np.full((len(m), self.network.n_nodes), np.inf, dtype=np.float32)
            idx = np.flatnonzero(m["covered"].to_numpy())
            for start in range(0, len(idx), 64):
                sel = idx[start : start + 64]
                d = one_to_many(
                    self.network.graph,
                    m["node"].to_numpy()[sel],
                    m["offset_s"].to_numpy()[sel],
                    limit=limit_s,
                )
                out[sel] = d.astype(np.float32)
            self._cache[key] = out
        return np.asarray(self._cache[key])
