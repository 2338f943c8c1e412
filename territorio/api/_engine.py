"""Travel times from one point on the bundle's road network (built once, lazily)."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from territorio.config import AccessConfig
from territorio.errors import OutsideCoverageError

__all__ = ["Engine"]


class Engine:
    """Car travel times from a point to services and offers.

    The :class:`~territorio.accessibility.network.RoadNetwork` is built on
    first use (a few seconds on the real Turin graph) and kept; services are
    snapped once per category.

    Parameters
    ----------
    bundle
        The territory bundle.
    cfg
        Snapping parameters (``max_snap_m``, ``off_network_kmh``).
    """

    def __init__(self, bundle: Any, cfg: AccessConfig) -> None:
        self.bundle = bundle
        self.cfg = cfg
        self._net: Any = None
        self._lock = threading.Lock()
        self._snaps: dict[str, Any] = {}

    @property
    def network(self) -> Any:
        """The road network (built on first use)."""
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

    def times_from(self, lon: float, lat: float, *, limit_s: float, what: str) -> np.ndarray:
        """Seconds from the point to every node (``inf`` beyond ``limit_s``).

        Raises
        ------
        OutsideCoverageError
            If the point is farther than ``max_snap_m`` from the network or
            outside its coverage.
        """
        from scipy.sparse.csgraph import dijkstra

        net = self.network
        snap = net.snap(lon, lat)
        if not bool(snap.covered[0]):
            raise OutsideCoverageError(
                f"{what} ({lon:.5f}, {lat:.5f}) is outside the road network's coverage "
                f"(more than {self.cfg.max_snap_m:g} m from a road of the network, or outside "
                "the area the network covers); travel times there are unknown"
            )
        off = float(snap.offset_s[0])
        if off > limit_s:
            return np.full(net.n_nodes, np.inf)
        dist = dijkstra(net.graph, directed=True, indices=int(snap.node[0]), limit=limit_s - off)
        return np.asarray(dist, dtype=float) + off

    def snap_points(self, lon: Any, lat: Any, *, key: str | None = None) -> Any:
        """Snap points (cached under ``key`` when given)."""
        if key is not None and key in self._snaps:
            return self._snaps[key]
        snap = self.network.snap(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
        if key is not None:
            self._snaps[key] = snap
        return snap

    @staticmethod
    def at_points(node_s: np.ndarray, snap: Any) -> np.ndarray:
        """Seconds to each snapped point (NaN when outside coverage or unreached)."""
        if len(snap.node) == 0:
            return np.zeros(0)
        t = node_s[np.where(snap.covered, snap.node, 0)] + np.where(
            snap.covered, snap.offset_s, 0.0
        )
        return np.where(snap.covered & np.isfinite(t), t, np.nan)
