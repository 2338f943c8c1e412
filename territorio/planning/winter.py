"""The winter scenario: passes closed, slower roads up high, seasonal services closed.

A :class:`~territorio.planning.config.WinterConfig` changes the road network,
not only the services, so the scenario builds a *winter network* from the
bundle's ``road_edges``:

1. **Closures** (:func:`closed_edges`): edges matched by a
   :class:`~territorio.planning.config.RoadClosure` (``ref`` or name, within
   the listed comuni, above an altitude) lose their car times in both
   directions.
2. **Altitude**: car times of edges whose ``altitude_m`` is at or above
   ``altitude_m`` are divided by ``altitude_speed_factor``. Edges without any
   altitude (``altitude_source = "none"``) are left as they are and counted in
   the report: never assumed low.
3. **Services** listed in ``closed_services`` are removed.

The winter network keeps the summer network's nodes (same indices) and its
snapping: a resident whose junction is cut off by a closure stays attached to
it and is **unreachable** in winter (reported as such, with the residents
concerned), never re-snapped across a mountain and never given infinite
minutes. Summer and winter indicators are computed with the same engine and
parameters (:func:`~territorio.accessibility.category_indicators`), then the
SNAI classes (time to the nearest polo), the marginality index and the
underserved clusters are recomputed on the winter side.

Outputs (:class:`WinterResult`)
-------------------------------
``municipalities``
    One row per comune: ``pro_com_t``, ``name``, ``pop_total``,
    ``pop_65_plus``, ``polo_min_summer`` / ``polo_min_winter`` (minutes from the
    capoluogo to the nearest polo; NaN where unreachable), ``class_summer`` /
    ``class_winter`` (``"unreachable"`` when the polo cannot be reached in
    winter), ``class_changed``, ``score_summer`` / ``score_winter``,
    ``flagged_summer`` / ``flagged_winter``, ``cluster_winter``,
    ``altitude_rule_source``, ``has_elevation``, and per category
    ``<cat>_added_min`` (population-weighted over the residents reachable in
    both seasons) and ``<cat>_unreachable_pop``.
``categories``
    One row per comune and category: ``mean_min_summer`` /
    ``mean_min_winter`` (residents reachable in that season),
    ``added_min``, ``pop_beyond_30_summer`` / ``_winter``,
    ``pop65_beyond_30_summer`` / ``_winter`` (unreachable residents count as
    beyond), ``pop_unreachable_winter``, ``status_winter`` (``"ok"``,
    ``"partly_unreachable"``, ``"unreachable"``, ``"outside_coverage"``,
    ``"no_data"``).
``summary``
    Per category: minutes added (resident-weighted), residents and 65+
    pushed beyond 30 minutes, residents unreachable; comuni changing SNAI
    class; clusters appearing; the road report (edges and km closed per rule,
    edges slowed, rules that matched nothing and why).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from territorio.planning.config import PlanConfig, RoadClosure, WinterConfig

__all__ = ["WinterResult", "closed_edges", "context_with_edges", "run_winter", "winter_edges"]

_NORM = re.compile(r"[\s.\-_]+")


def _norm_ref(value: Any) -> str:
    return _NORM.sub("", str(value)).upper()


def closed_edges(edges: pd.DataFrame, rule: RoadClosure) -> tuple[np.ndarray, str | None]:
    """Return the mask of edges a closure rule matches, and why it matched none (or None).

    See :class:`~territorio.planning.config.RoadClosure` for the matching rules.
    """
    n = len(edges)
    # by area and altitude only (no ref, no name): every road there
    hit = np.full(n, not (rule.ref or rule.name), dtype=bool)
    missing = []
    if rule.ref:
        if "ref" in edges.columns:
            want = _norm_ref(rule.ref)
            refs = edges["ref"].fillna("").astype(str).str.upper()
            refs = refs.str.replace(_NORM.pattern, "", regex=True)
            # one of the ';'-separated refs of the edge equals the wanted one
            pattern = rf"(?:^|;){re.escape(want)}(?:;|$)"
            hit |= refs.str.contains(pattern, regex=True).to_numpy(dtype=bool)
        else:
            missing.append("ref")
    if rule.name:
        if "name" in edges.columns:
            hit |= (
                edges["name"]
                .fillna("")
                .astype(str)
                .str.contains(rule.name, case=False, regex=False)
                .to_numpy(dtype=bool)
            )
        else:
            missing.append("name")
    if rule.municipalities:
        if "pro_com_t" in edges.columns:
            hit &= edges["pro_com_t"].astype(str).isin(rule.municipalities).to_numpy()
        else:
            missing.append("pro_com_t")
            hit[:] = False
    if rule.above_m is not None:
        if "altitude_m" in edges.columns:
            alt = edges["altitude_m"].to_numpy(dtype=float)
            hit &= np.isfinite(alt) & (alt >= rule.above_m)
        else:
            missing.append("altitude_m")
            hit[:] = False
    why = None
    if not hit.any():
        why = (
            f"the road layer has no column {', '.join(missing)} (rebuild from vector tiles, "
            "PBF or Overpass with a DEM)"
            if missing
            else "no edge matches (check the ref/name, the comuni and above_m)"
        )
    return hit, why


def _rule_label(r: dict[str, Any]) -> str:
    return str(r["ref"] or r["name"] or f"{','.join(r['municipalities'])} >= {r['above_m']:g} m")


def winter_edges(edges: pd.DataFrame, cfg: WinterConfig) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Return the road edges with the winter closures and altitude factor applied.

    Returns
    -------
    edges, report
        The edited copy and what changed: per rule the edges and km closed (or
        why nothing matched), edges and km slowed by altitude, edges without
        altitude.
    """
    e = edges.copy()
    length = e["length_m"].to_numpy(dtype=float)
    closed = np.zeros(len(e), dtype=bool)
    rules = []
    for rule in cfg.closures:
        hit, why = closed_edges(e, rule)
        closed |= hit
        rules.append(
            {
                "ref": rule.ref,
                "name": rule.name,
                "municipalities": list(rule.municipalities),
                "above_m": rule.above_m,
                "note": rule.note,
                "edges_closed": int(hit.sum()),
                "km_closed": round(float(length[hit].sum()) / 1000, 2),
                "unmatched_reason": why,
            }
        )
    tf = e["travel_time_s"].to_numpy(dtype=float).copy()
    tr = e["travel_time_reverse_s"].to_numpy(dtype=float).copy()
    if "altitude_m" in e.columns:
        alt = e["altitude_m"].to_numpy(dtype=float)
    else:
        alt = np.full(len(e), np.nan)
    high = np.isfinite(alt) & (alt >= cfg.altitude_m) & ~closed
    tf[high] /= cfg.altitude_speed_factor
    tr[high] /= cfg.altitude_speed_factor
    tf[closed] = np.nan
    tr[closed] = np.nan
    e["travel_time_s"] = tf
    e["travel_time_reverse_s"] = tr
    src = e["altitude_source"].astype(str) if "altitude_source" in e.columns else None
    report = {
        "closures": rules,
        "edges_closed": int(closed.sum()),
        "km_closed": round(float(length[closed].sum()) / 1000, 2),
        "altitude_m": cfg.altitude_m,
        "altitude_speed_factor": cfg.altitude_speed_factor,
        "edges_slowed": int(high.sum()),
        "km_slowed": round(float(length[high].sum()) / 1000, 2),
        "edges_slowed_istat_altitude": int((high & (src == "istat_centre")).sum())
        if src is not None
        else 0,
        "edges_without_altitude": int((~np.isfinite(alt)).sum()),
    }
    return e, report


@dataclass
class WinterResult:
    """Outcome of a winter scenario (see the module notes)."""

    name: str
    municipalities: pd.DataFrame
    categories: pd.DataFrame
    summary: dict[str, Any]
    clusters_winter: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def _cached(base: Any, key: tuple[Any, ...], compute: Any) -> Any:
    """Return ``compute()`` once per baseline and key (summer results between scenarios)."""
    cache = getattr(base, "cache", None)
    if cache is None:
        return compute()
    k = repr(key)
    if k not in cache:
        cache[k] = compute()
    return cache[k]


def _gateway_rule(cfg: PlanConfig, ctx: Any, m: pd.DataFrame, snai: pd.DataFrame) -> Any:
    """Return the plan's valley-gateway rule for clusters on this season's roads, or None."""
    if not cfg.valley_gateways or "polo_destination" not in snai.columns:
        return None
    destination = snai.set_index(snai["pro_com_t"].astype(str))["polo_destination"]

    def gateway(flagged: np.ndarray) -> np.ndarray:
        from territorio.planning.valleys import gateways

        return gateways(ctx, m, destination, flagged)

    return gateway


def _minutes(x: Any) -> float | None:
    v = float(x)
    return round(v, 1) if np.isfinite(v) else None


def context_with_edges(ctx: Any, nodes: pd.DataFrame, edges: pd.DataFrame) -> Any:
    """Return the summer context with the winter graph (same nodes, same snapping)."""
    from territorio.accessibility.context import AccessContext
    from territorio.accessibility.network import build_network

    net = ctx.network
    w = build_network(nodes, edges, mode="car", modes=["car"], metric_crs=net.metric_crs)
    if len(w.node_ids) != len(net.node_ids) or not np.array_equal(w.node_ids, net.node_ids):
        from territorio.errors import DataValidationError

        raise DataValidationError(
            "the winter network's junctions differ from the bundle's: rebuild the bundle"
        )
    w = dataclasses.replace(
        w,
        snappable=net.snappable,
        coverage=net.coverage,
        max_snap_m=net.max_snap_m,
        off_network_kmh=net.off_network_kmh,
        _tree=None,
        _tree_index=None,
        _cache={},
    )
    return AccessContext(w, ctx.cfg, ctx.cells, ctx.municipalities, dict(ctx.service_categories))


def _cell_means(
    cells_s: pd.DataFrame, cells_w: pd.DataFrame, pop: np.ndarray, codes: pd.Index
) -> pd.DataFrame:
    """Per comune: mean minutes (each season, reachable residents) and the added minutes."""
    ts = cells_s["time_min"].to_numpy(dtype=float)
    tw = cells_w["time_min"].to_numpy(dtype=float)
    grp = cells_s["pro_com_t"].astype(str).to_numpy()
    unreach = (cells_w["status"].to_numpy() == "unreachable") & (
        cells_s["status"].to_numpy() == "ok"
    )
    both = np.isfinite(ts) & np.isfinite(tw)
    df = pd.DataFrame(
        {
            "g": grp,
            "ps": np.where(np.isfinite(ts), pop, 0.0),
            "pts": np.where(np.isfinite(ts), pop * np.nan_to_num(ts), 0.0),
            "pw": np.where(np.isfinite(tw), pop, 0.0),
            "ptw": np.where(np.isfinite(tw), pop * np.nan_to_num(tw), 0.0),
            "pb": np.where(both, pop, 0.0),
            "pd": np.where(both, pop * (np.nan_to_num(tw) - np.nan_to_num(ts)), 0.0),
            "pu": np.where(unreach, pop, 0.0),
        }
    )
    s = df.groupby("g").sum().reindex(codes).fillna(0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return pd.DataFrame(
            {
                "mean_min_summer": np.where(s["ps"] > 0, s["pts"] / s["ps"], np.nan),
                "mean_min_winter": np.where(s["pw"] > 0, s["ptw"] / s["pw"], np.nan),
                "added_min": np.where(s["pb"] > 0, s["pd"] / s["pb"], np.nan),
                "pop_unreachable_winter": s["pu"].to_numpy(),
                "pop_both": s["pb"].to_numpy(),
            },
            index=codes,
        )


def run_winter(
    ctx: Any,
    base: Any,
    edges: pd.DataFrame,
    nodes: pd.DataFrame,
    cfg: PlanConfig,
    winter: WinterConfig,
    *,
    beyond_min: float = 30.0,
) -> WinterResult:
    """Run a winter scenario against the summer baseline.

    Parameters
    ----------
    ctx
        The summer :class:`~territorio.accessibility.context.AccessContext`.
    base
        The scenario :class:`~territorio.planning.scenarios.Baseline`
        (municipalities, services, access table, SNAI classes, index).
    edges, nodes
        The bundle's ``road_edges`` and ``road_nodes`` layers.
    cfg
        The plan configuration (poli, thresholds, index, clusters).
    winter
        The winter scenario.
    beyond_min
        Threshold of the "residents beyond" figures (one of the access
        thresholds, default 30).
    """
    from territorio.planning.clusters import find_clusters
    from territorio.planning.marginality import index_from_access
    from territorio.planning.scenarios import indicators
    from territorio.planning.snai import classify_with

    notes: list[str] = []
    e_w, road_report = winter_edges(edges, winter)
    for r in road_report["closures"]:
        if r["unmatched_reason"]:
            notes.append(f"closure {_rule_label(r)}: {r['unmatched_reason']}")
    wctx = context_with_edges(ctx, nodes, e_w)

    svc = base.services
    ids = svc["service_id"].astype(str)
    unknown = sorted(set(winter.closed_services) - set(ids))
    if unknown:
        from territorio.errors import NotFoundError

        raise NotFoundError(
            f"winter scenario {winter.name!r}: service_id {unknown[0]!r} is not in the services "
            "layer; list the ids with: territorio info --layer services"
        )
    gone = ids.isin(winter.closed_services).to_numpy()
    svc_w = svc[~gone]

    def svc_cat(cat: str) -> pd.DataFrame:
        return svc[svc["category"] == cat]

    cats = list(winter.categories or cfg.basket())
    for c in svc.loc[gone, "category"].astype(str).unique():
        if c not in cats:
            cats.append(c)

    m = base.municipalities
    codes = pd.Index(m["pro_com_t"].astype(str))
    tag = f"{beyond_min:g}"
    pop = ctx.cells["pop_total"].to_numpy(dtype=float)
    rows = []
    new_m, new_c, old_m, old_c = [], [], [], []
    wide = pd.DataFrame(index=codes)
    summary_cats: dict[str, Any] = {}
    for cat in cats:
        c0, m0 = _cached(
            base, ("summer", id(ctx), cat), lambda cat=cat: indicators(ctx, svc_cat(cat), cat)
        )
        c1, m1 = indicators(wctx, svc_w[svc_w["category"] == cat], cat)
        new_m.append(m1)
        new_c.append(c1)
        old_m.append(m0)
        old_c.append(c0)
        a = m0.set_index(m0["pro_com_t"].astype(str)).reindex(codes)
        b = m1.set_index(m1["pro_com_t"].astype(str)).reindex(codes)
        means = _cell_means(c0, c1, pop, codes)
        st = b["status"].astype(object).to_numpy()
        unreach = means["pop_unreachable_winter"].to_numpy()
        both = means["pop_both"].to_numpy()
        ok = np.isin(st, ["ok", "partial"])
        status = np.where(
            ok & (unreach > 0) & (both <= 0),
            "unreachable",
            np.where(ok & (unreach > 0), "partly_unreachable", np.where(ok, "ok", st)),
        )
        t = pd.DataFrame(
            {
                "pro_com_t": codes,
                "category": cat,
                "mean_min_summer": means["mean_min_summer"].to_numpy(),
                "mean_min_winter": means["mean_min_winter"].to_numpy(),
                "added_min": means["added_min"].to_numpy(),
                f"pop_beyond_{tag}_summer": a.get(f"pop_beyond_{tag}"),
                f"pop_beyond_{tag}_winter": b.get(f"pop_beyond_{tag}"),
                f"pop65_beyond_{tag}_summer": a.get(f"pop65_beyond_{tag}"),
                f"pop65_beyond_{tag}_winter": b.get(f"pop65_beyond_{tag}"),
                "pop_unreachable_winter": unreach,
                "status_winter": status,
            }
        )
        rows.append(t)
        wide[f"{cat}_added_min"] = t["added_min"].to_numpy()
        wide[f"{cat}_unreachable_pop"] = unreach
        pb = means["pop_both"].to_numpy()
        add = means["added_min"].to_numpy()
        with np.errstate(invalid="ignore"):
            pushed = np.nansum(
                np.maximum(
                    t[f"pop_beyond_{tag}_winter"].to_numpy(dtype=float)
                    - t[f"pop_beyond_{tag}_summer"].to_numpy(dtype=float),
                    0,
                )
            )
            pushed65 = np.nansum(
                np.maximum(
                    t[f"pop65_beyond_{tag}_winter"].to_numpy(dtype=float)
                    - t[f"pop65_beyond_{tag}_summer"].to_numpy(dtype=float),
                    0,
                )
            )
        w_ok = np.isfinite(add) & (pb > 0)
        summary_cats[cat] = {
            "minutes_added_mean": round(float(np.sum(add[w_ok] * pb[w_ok]) / pb[w_ok].sum()), 2)
            if w_ok.any()
            else None,
            "minutes_added_max": round(float(np.nanmax(add)), 1) if w_ok.any() else None,
            f"residents_pushed_beyond_{tag}": round(float(pushed)),
            f"residents_65_pushed_beyond_{tag}": round(float(pushed65)),
            "residents_unreachable": round(float(unreach.sum())),
            "comuni_with_unreachable_residents": int((unreach > 0).sum()),
        }
    long = pd.concat(rows, ignore_index=True)
    names = dict(zip(codes, m["name"].astype(str), strict=True))
    long.insert(1, "name", long["pro_com_t"].map(names))

    # classes, index and clusters, winter side
    # both seasons classified here, with the same poli and engine
    from territorio.errors import DataValidationError

    try:
        snai_s = _cached(
            base,
            ("summer_snai", id(ctx), id(cfg)),
            lambda: classify_with(cfg, ctx, m, svc, adj=base.adj)[0],
        )
        snai_w, _, snotes = classify_with(cfg, wctx, m, svc_w, adj=base.adj)
        notes += [f"winter classification: {n}" for n in snotes]
    except DataValidationError as exc:
        # no polo can be derived here (e.g. the served plan gives classes only):
        # keep the baseline classes, say so, and report no class change
        notes.append(f"SNAI classes not recomputed ({exc}); the baseline classes are kept")
        snai_s = snai_w = base.snai.copy()
        if "time_to_polo_min" not in snai_s.columns:
            snai_s = snai_w = snai_s.assign(time_to_polo_min=np.nan)

    def swap(table: pd.DataFrame | None, new: list[pd.DataFrame]) -> pd.DataFrame | None:
        if table is None:
            return None
        return pd.concat([table[~table["category"].isin(cats)], *new], ignore_index=True)

    am_all = base.access_municipalities
    am_s = pd.concat([am_all[~am_all["category"].isin(cats)], *old_m], ignore_index=True)
    am_w = pd.concat([am_all[~am_all["category"].isin(cats)], *new_m], ignore_index=True)
    ac_s = swap(base.access_cells, old_c)
    ac_w = swap(base.access_cells, new_c)
    idx_s = index_from_access(
        m, am_s, cfg=cfg.index, access_cells=ac_s, population_cells=base.population_cells
    )
    idx_w = index_from_access(
        m, am_w, cfg=cfg.index, access_cells=ac_w, population_cells=base.population_cells
    )
    cl_kw: dict[str, Any] = {
        "threshold": cfg.threshold,
        "flag_classes": cfg.flag_classes,
        "categories": cfg.basket(),
    }
    # clusters are valleys: neighbours linked by road (in winter, by the winter roads)
    adj_s = adj_w = base.adj
    if cfg.valley_link_min is not None and base.adj is not None:
        from territorio.planning.run import _valley_adjacency

        adj_s = _cached(
            base,
            ("summer_valleys", id(ctx), cfg.valley_link_min),
            lambda: _valley_adjacency(ctx, m, base.adj, cfg.valley_link_min * 60.0),
        )
        adj_w = _valley_adjacency(wctx, m, base.adj, cfg.valley_link_min * 60.0)
    mem_s, clusters_s = find_clusters(
        m,
        idx_s,
        snai_s,
        access_municipalities=am_s,
        adj=adj_s,
        gateway=_gateway_rule(cfg, ctx, m, snai_s),
        **cl_kw,
    )
    mem_w, clusters_w = find_clusters(
        m,
        idx_w,
        snai_w,
        access_municipalities=am_w,
        adj=adj_w,
        gateway=_gateway_rule(cfg, wctx, m, snai_w),
        **cl_kw,
    )

    def by_code(df: pd.DataFrame, col: str) -> np.ndarray:
        return df.set_index(df["pro_com_t"].astype(str))[col].reindex(codes).to_numpy()

    k0 = by_code(snai_s, "snai_class").astype(object)
    k1 = by_code(snai_w, "snai_class").astype(object)
    t0 = by_code(snai_s, "time_to_polo_min").astype(float)
    t1 = by_code(snai_w, "time_to_polo_min").astype(float)
    lost = (k1 == "outside_coverage") & (k0 != "outside_coverage")
    k1 = np.where(lost, "unreachable", k1)
    out = pd.DataFrame(
        {
            "pro_com_t": codes,
            "name": m["name"].astype(str).to_numpy(),
            "pop_total": m["pop_total"].to_numpy(dtype=float),
            "pop_65_plus": m["pop_65_plus"].to_numpy(dtype=float),
            "polo_min_summer": t0,
            "polo_min_winter": t1,
            "polo_added_min": t1 - t0,
            "class_summer": k0,
            "class_winter": k1,
            "class_changed": k0 != k1,
            "score_summer": by_code(idx_s, "score").astype(float),
            "score_winter": by_code(idx_w, "score").astype(float),
            "flagged_summer": by_code(mem_s, "flagged").astype(bool),
            "flagged_winter": by_code(mem_w, "flagged").astype(bool),
            "cluster_winter": by_code(mem_w, "cluster_id"),
        }
    )
    for col in ("has_elevation", "altitude_rule_source", "altitude_rule_m"):
        if col in m.columns:
            out[col] = m[col].to_numpy()
    out = pd.concat([out, wide.reset_index(drop=True)], axis=1)

    newly = out["flagged_winter"] & ~out["flagged_summer"]
    new_codes = set(out.loc[newly, "pro_com_t"])
    appearing = []
    for _, row in clusters_w.iterrows():
        members = set(str(row["member_codes"]).split(","))
        if members & new_codes:
            summer_ids = {
                str(c) for c in by_code(mem_s, "cluster_id")[codes.isin(list(members))] if c
            }
            appearing.append(
                {
                    "cluster_id": str(row["cluster_id"]),
                    "name_it": str(row["name_it"]),
                    "name_en": str(row["name_en"]),
                    "members": str(row["members"]),
                    "new_members": sorted(names[c] for c in members & new_codes),
                    "pop_total": float(row["pop_total"]),
                    "summer_clusters": sorted(summer_ids),
                    "new": not summer_ids,
                }
            )
    changed = out[out["class_changed"]]
    summary = {
        "name": winter.name,
        "categories": summary_cats,
        "comuni_changing_class": [
            {
                "pro_com_t": str(r["pro_com_t"]),
                "name": str(r["name"]),
                "summer": str(r["class_summer"]),
                "winter": str(r["class_winter"]),
                "polo_min_summer": _minutes(r["polo_min_summer"]),
                "polo_min_winter": _minutes(r["polo_min_winter"]),
            }
            for _, r in changed.iterrows()
        ],
        "comuni_newly_flagged": sorted(names[c] for c in new_codes),
        "clusters_appearing": appearing,
        "clusters_summer": len(clusters_s),
        "clusters_winter": len(clusters_w),
        "services_closed": int(gone.sum()),
        "roads": road_report,
        "comuni_without_dem": out.loc[
            ~out.get("has_elevation", pd.Series(True, index=out.index)).astype(bool), "pro_com_t"
        ].tolist(),
    }
    return WinterResult(winter.name, out, long, summary, clusters_w, notes)
