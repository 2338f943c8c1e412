"""The effect report: what curvature, gradient and winter change, comune by comune.

A planner reads it to trust the model. For every comune, minutes from the
capoluogo to the nearest polo (SNAI definition, same poli as the plan):

* ``polo_min_flat``: summer, with the times the road source gave (no curves,
  no slopes: the bundle's ``travel_time_flat_s`` columns);
* ``polo_min_summer``: summer with curvature and gradient (the bundle's
  times);
* ``polo_min_winter``: the winter scenario on top of that.

Also the coverage figures of the DEM (junctions, residents, comuni without
DEM) and named climbs (:func:`climb`): the hairpins met on the fastest route
between two comuni and the minutes curves and slopes add along it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from territorio.errors import BundleError, NotFoundError
from territorio.planning.config import PlanConfig, WinterConfig

__all__ = [
    "DEFAULT_CLIMBS",
    "ClimbResult",
    "baseline_of",
    "climb",
    "coverage_summary",
    "effect_table",
]

#: Named climbs of the province: (from, to) ISTAT codes.
DEFAULT_CLIMBS: tuple[tuple[str, str, str], ...] = (
    ("001191", "001263", "Pinerolo - Sestriere (Val Chisone, via Fenestrelle)"),
    ("001270", "001157", "Susa - Moncenisio"),
    ("001128", "001019", "Lanzo Torinese - Balme (Val d'Ala)"),
)


def baseline_of(bundle: Any, cfg: PlanConfig, ctx: Any) -> Any:
    """Build the scenario :class:`~territorio.planning.scenarios.Baseline` of a bundle."""
    from territorio.planning._graph import adjacency
    from territorio.planning.marginality import index_from_access
    from territorio.planning.scenarios import Baseline
    from territorio.planning.snai import classify_with

    m = bundle.layer("municipalities")
    services = bundle.layer("services")
    am = bundle.layer("access_municipalities")
    ac = bundle.layer("access_cells") if bundle.has_layer("access_cells") else None
    pc = bundle.layer("population_cells") if bundle.has_layer("population_cells") else None
    adj = adjacency(m)
    snai, _, notes = classify_with(cfg, ctx, m, services, adj=adj)
    idx = index_from_access(m, am, cfg=cfg.index, access_cells=ac, population_cells=pc)
    return Baseline(
        m, services, am, snai, idx, access_cells=ac, population_cells=pc, adj=adj, notes=notes
    )


def _flat_edges(edges: pd.DataFrame) -> pd.DataFrame:
    if "travel_time_flat_s" not in edges.columns:
        raise BundleError(
            "this bundle's road_edges have no travel_time_flat_s column (built before "
            "curvature and gradient existed); rebuild it with: territorio build"
        )
    e = edges.copy()
    e["travel_time_s"] = e["travel_time_flat_s"]
    e["travel_time_reverse_s"] = e["travel_time_reverse_flat_s"]
    return e


def effect_table(
    ctx: Any, bundle: Any, cfg: PlanConfig, base: Any, winter: WinterConfig
) -> pd.DataFrame:
    """Minutes to the nearest polo per comune: flat, with curves and slopes, in winter.

    Returns one row per comune, sorted by the largest change (winter minus
    flat; unreachable comuni first): ``pro_com_t``, ``name``, ``pop_total``,
    ``polo_min_flat``, ``polo_min_summer``, ``polo_min_winter``,
    ``curves_slopes_added_min``, ``winter_added_min``, ``total_added_min``,
    ``winter_status`` (``"ok"`` or ``"unreachable"``), ``has_elevation``,
    ``altitude_rule_source``.
    """
    from territorio.planning.snai import poli_frame, polo_times
    from territorio.planning.winter import context_with_edges, winter_edges

    m = base.municipalities
    edges = bundle.layer("road_edges")
    nodes = bundle.layer("road_nodes")
    pf, _ = poli_frame(
        m,
        base.services,
        poli=cfg.poli,
        poli_intercomunali=cfg.poli_intercomunali,
        criteria=cfg.criteria,
        adj=base.adj,
    )
    flat_ctx = context_with_edges(ctx, nodes, _flat_edges(edges))
    e_w, _ = winter_edges(edges, winter)
    w_ctx = context_with_edges(ctx, nodes, e_w)
    t_flat = polo_times(flat_ctx, pf)["time_min"].to_numpy(dtype=float).copy()
    t_sum = polo_times(ctx, pf)["time_min"].to_numpy(dtype=float).copy()
    t_win = polo_times(w_ctx, pf)["time_min"].to_numpy(dtype=float).copy()
    is_polo = (
        pf.set_index(pf["pro_com_t"].astype(str))["polo_type"]
        .reindex(ctx.municipalities["pro_com_t"].astype(str))
        .isin(["polo", "intercomunale"])
        .to_numpy()
    )
    for t in (t_flat, t_sum, t_win):
        t[is_polo] = 0.0
    unreachable = np.isfinite(t_sum) & ~np.isfinite(t_win)
    out = pd.DataFrame(
        {
            "pro_com_t": ctx.municipalities["pro_com_t"].astype(str).to_numpy(),
        }
    )
    mm = m.set_index(m["pro_com_t"].astype(str)).reindex(out["pro_com_t"])
    out["name"] = mm["name"].astype(str).to_numpy()
    out["pop_total"] = mm["pop_total"].to_numpy(dtype=float)
    out["polo_min_flat"] = np.round(t_flat, 2)
    out["polo_min_summer"] = np.round(t_sum, 2)
    out["polo_min_winter"] = np.round(np.where(np.isfinite(t_win), t_win, np.nan), 2)
    out["curves_slopes_added_min"] = np.round(t_sum - t_flat, 2)
    out["winter_added_min"] = np.round(out["polo_min_winter"] - t_sum, 2)
    out["total_added_min"] = np.round(out["polo_min_winter"] - t_flat, 2)
    out["winter_status"] = np.where(
        unreachable, "unreachable", np.where(np.isfinite(t_sum), "ok", "outside_coverage")
    )
    for col in ("has_elevation", "altitude_rule_source"):
        out[col] = mm[col].to_numpy() if col in mm.columns else None
    key = np.where(unreachable, np.inf, out["total_added_min"].fillna(-np.inf))
    return out.iloc[np.argsort(-key, kind="stable")].reset_index(drop=True)


@dataclass(frozen=True)
class ClimbResult:
    """The fastest summer route between two comuni and what the mountain adds to it."""

    label: str
    origin: str
    destination: str
    km: float
    minutes_flat: float
    minutes_mountain: float
    hairpins: int
    edges: int
    climb_m: float | None
    max_altitude_m: float | None

    @property
    def added_min(self) -> float:
        """Minutes curves and slopes add along the route."""
        return self.minutes_mountain - self.minutes_flat


def climb(ctx: Any, bundle: Any, origin: str, destination: str, *, label: str = "") -> ClimbResult:
    """Route from the capoluogo of ``origin`` to that of ``destination`` (car, summer).

    The route is the fastest with curvature and gradient; ``minutes_flat`` is
    the same route at the source's flat times. Hairpins are counted on the
    route's geometry joined into one line (so a hairpin split by a junction
    counts once).

    Raises
    ------
    NotFoundError
        If a code is not a municipality of the bundle or has no route.
    """
    import shapely
    from scipy.sparse.csgraph import dijkstra

    from territorio.ingest.curvature import line_hairpins

    net = ctx.network
    m = ctx.municipalities.set_index(ctx.municipalities["pro_com_t"].astype(str))
    for code in (origin, destination):
        if code not in m.index or not bool(m.loc[code, "covered"]):
            raise NotFoundError(
                f"climb {origin}->{destination}: {code} is not a municipality of the bundle "
                "inside network coverage"
            )
    a, b = int(m.loc[origin, "node"]), int(m.loc[destination, "node"])
    dist, pred = dijkstra(net.graph, indices=a, return_predecessors=True)
    if not np.isfinite(dist[b]):
        raise NotFoundError(f"climb {origin}->{destination}: no car route")
    path = [b]
    while path[-1] != a:
        path.append(int(pred[path[-1]]))
    path.reverse()
    edges = bundle.layer("road_edges")
    src, dst = net.arc_src, net.arc_dst
    order = np.lexsort((net.arc_time, dst, src))
    key_sorted = src[order].astype(np.int64) * net.n_nodes + dst[order]
    want = np.asarray(path[:-1], dtype=np.int64) * net.n_nodes + np.asarray(path[1:])
    pos = np.searchsorted(key_sorted, want)  # first = fastest of parallel arcs
    arcs = order[pos]
    rows = net.arc_edge[arcs]
    fwd = net.arc_forward[arcs]
    e = edges.iloc[rows]
    flat_f = e["travel_time_flat_s"].to_numpy(dtype=float)
    flat_r = e["travel_time_reverse_flat_s"].to_numpy(dtype=float)
    flat = float(np.where(fwd, flat_f, flat_r).sum()) / 60.0
    metric = e.geometry.to_crs(net.metric_crs).to_numpy()
    parts = [g if f else shapely.reverse(g) for g, f in zip(metric, fwd, strict=True)]
    coords = np.vstack([shapely.get_coordinates(p) for p in parts])
    hp = line_hairpins(shapely.LineString(coords)) if len(coords) >= 2 else 0
    climb_m = None
    if "climb_m" in e.columns:
        up = np.where(fwd, e["climb_m"].to_numpy(float), e["descent_m"].to_numpy(float))
        climb_m = float(np.nansum(up)) if np.isfinite(up).any() else None
    alt = e["altitude_m"].to_numpy(float) if "altitude_m" in e.columns else np.array([np.nan])
    return ClimbResult(
        label=label or f"{origin} - {destination}",
        origin=origin,
        destination=destination,
        km=round(float(e["length_m"].sum()) / 1000.0, 2),
        minutes_flat=round(flat, 2),
        minutes_mountain=round(float(dist[b]) / 60.0, 2),
        hairpins=hp,
        edges=len(e),
        climb_m=None if climb_m is None else round(climb_m),
        max_altitude_m=round(float(np.nanmax(alt))) if np.isfinite(alt).any() else None,
    )


def coverage_summary(bundle: Any) -> dict[str, Any]:
    """DEM coverage of the bundle (``manifest["elevation"]``) and the mountain report."""
    man = bundle.manifest
    el = man.get("elevation")
    if el is None:
        raise BundleError(
            "this bundle has no elevation report (built before elevation existed); rebuild it"
        )
    return {"elevation": el, "mountain": (man.get("roads") or {}).get("mountain")}
