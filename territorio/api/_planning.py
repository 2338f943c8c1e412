"""Planning computations of the API: siting in a scope, what-if scenarios on a shared baseline.

One :class:`PlanningState` per app. It reuses the app's
:class:`~territorio.api._engine.Engine` (one road network, one
:class:`~territorio.accessibility.context.AccessContext`) and builds the
scenario :class:`~territorio.planning.scenarios.Baseline` once, on first use.
Computations are bounded by the request models and run at most
``concurrency`` at a time per worker.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from starlette.concurrency import run_in_threadpool

from territorio.api._engine import Engine
from territorio.api._state import TerritoryData, clean
from territorio.api.errors import InvalidParameterError, ServerBusyError, ServiceUnavailableError
from territorio.errors import NotFoundError, TerritorioError

__all__ = ["ComputeGate", "PlanningState"]

_T = TypeVar("_T")

log = logging.getLogger("territorio.api")

#: Seconds a client is told to wait (Retry-After) when every computation slot is taken.
RETRY_S = 30


class ComputeGate:
    """At most ``concurrency`` computations at once, ``queue`` more waiting; beyond: 503.

    The waiting requests are coroutines on the event loop, not threads: a
    burst never occupies the thread pool the other endpoints run in (before,
    up to 40 threads sat blocked on a semaphore and municipality detail fell
    from 1,260 to 511 req/s).

    Parameters
    ----------
    concurrency
        Computations run at once (in the thread pool).
    queue
        Computations that may wait for a slot.
    """

    def __init__(self, *, concurrency: int, queue: int) -> None:
        self.concurrency = concurrency
        self.queue = queue
        self._slots = asyncio.Semaphore(concurrency)
        self._admitted = 0

    @property
    def admitted(self) -> int:
        """Computations running or waiting now."""
        return self._admitted

    async def run(self, fn: Callable[..., _T], /, **kwargs: Any) -> _T:
        """Run ``fn(**kwargs)`` in the thread pool when a slot is free.

        Raises
        ------
        ServerBusyError
            At once, when ``concurrency + queue`` computations are already
            admitted.
        """
        if self._admitted >= self.concurrency + self.queue:
            raise ServerBusyError(
                f"the server is busy with {self._admitted} planning computations; retry in "
                f"{RETRY_S} s / server occupato, riprova tra {RETRY_S} s",
                retry_after=RETRY_S,
            )
        self._admitted += 1
        try:
            async with self._slots:
                return await run_in_threadpool(fn, **kwargs)
        finally:
            self._admitted -= 1


def _num(v: Any, digits: int = 2) -> float | None:
    c = clean(v)
    return None if c is None else round(float(c), digits)


_CLUSTER_KEYS = ("cluster_id", "name_it", "name_en", "new_members", "pop_total", "new")


class PlanningState:
    """Siting and scenarios for the API, on the app's engine.

    Parameters
    ----------
    data
        The territory data of the app (planning results included when loaded).
    engine
        The app's engine (its network and context are reused).
    plan_config
        The ``territorio plan`` TOML used for the loaded results (index
        weights, poli rules), or None.
    concurrency
        Computations run at once (see :class:`ComputeGate`).
    queue
        Computations that may wait for a slot; beyond, 503 at once.
    """

    def __init__(
        self,
        data: TerritoryData,
        engine: Engine,
        *,
        plan_config: Path | None = None,
        concurrency: int = 1,
        queue: int = 4,
    ) -> None:
        self.data = data
        self.engine = engine
        self._cfg: Any = None
        if plan_config is not None:
            from territorio.planning.run import load_plan_config

            self._cfg = load_plan_config(plan_config)  # a bad file stops the start-up
        self._baseline: Any = None
        self._lock = threading.Lock()
        self.gate = ComputeGate(concurrency=concurrency, queue=queue)

    # -- shared inputs -------------------------------------------------------------

    @property
    def config(self) -> Any:
        """The plan configuration (given, or one matching the loaded results)."""
        if self._cfg is None:
            from territorio.planning.config import PlanConfig

            table = self.data.extras.get("planning")
            if table is not None and "snai_class" in table:
                # no config file: keep the loaded classes' poli fixed, default weights
                cls = table["snai_class"].astype(str)
                inter = sorted(cls.index[cls == "B"].astype(str))
                dest: dict[str, str] = {}
                if "polo_destination" in table:
                    d = table["polo_destination"].reindex(inter)
                    dest = {str(k): str(v) for k, v in d.items() if isinstance(v, str) and v}
                self._cfg = PlanConfig(
                    poli=sorted(cls.index[cls == "A"].astype(str)),
                    poli_intercomunali=inter,
                    polo_destinations=dest,
                    siting=None,
                )
            else:
                self._cfg = PlanConfig(siting=None)
        return self._cfg

    def _require_network(self) -> None:
        if not self.engine.available:
            raise ServiceUnavailableError(
                "this bundle has no road network (layer 'road_edges'); planning computations "
                "need one: rebuild the bundle with roads"
            )

    def baseline(self) -> Any:
        """Return the scenario baseline: layers, SNAI classes and index (built once)."""
        if self._baseline is None:
            with self._lock:
                if self._baseline is None:
                    self._baseline = self._build_baseline()
        return self._baseline

    def _build_baseline(self) -> Any:
        from territorio.planning.marginality import index_from_access
        from territorio.planning.scenarios import Baseline

        self._require_network()
        b = self.data.bundle
        for layer in ("services", "access_municipalities"):
            if not b.has_layer(layer):
                hint = "run: territorio access" if layer.startswith("access") else "rebuild it"
                raise ServiceUnavailableError(
                    f"this bundle has no layer {layer!r}; scenarios need it: {hint}"
                )
        ctx = self.engine.context
        m = b.layer("municipalities")
        services = b.layer("services")
        am = b.layer("access_municipalities")
        ac = b.layer("access_cells") if b.has_layer("access_cells") else None
        pc = b.layer("population_cells") if b.has_layer("population_cells") else None
        cfg = self.config
        adj = None
        if cfg.poli == "derive":
            from territorio.planning._graph import adjacency

            adj = adjacency(m)
        table = self.data.extras.get("planning")
        if table is not None and "snai_class" in table:
            codes = m["pro_com_t"].astype(str)
            snai = pd.DataFrame(
                {
                    "pro_com_t": codes.to_numpy(),
                    "name": m["name"].to_numpy(),
                    "snai_class": table["snai_class"].reindex(codes).to_numpy(dtype=object),
                }
            )
        else:
            from territorio.planning.snai import classify_with

            try:
                snai, _, _ = classify_with(cfg, ctx, m, services, adj=adj)
            except TerritorioError as exc:
                raise ServiceUnavailableError(
                    f"cannot classify the municipalities for the scenario baseline ({exc}); "
                    "run territorio plan and serve its results (TERRITORIO_PLAN_PATH, "
                    "TERRITORIO_PLAN_CONFIG)"
                ) from exc
        idx = index_from_access(m, am, cfg=cfg.index, access_cells=ac, population_cells=pc)
        log.info("scenario baseline built (%d municipalities)", len(m))
        return Baseline(m, services, am, snai, idx, access_cells=ac, population_cells=pc, adj=adj)

    # -- siting --------------------------------------------------------------------

    def _scope(
        self, cluster: str | None, municipalities: Sequence[str] | None
    ) -> tuple[str, list[str] | None]:
        """Return ``(label, ISTAT codes or None for the whole territory)``."""
        if cluster is not None and municipalities:
            raise InvalidParameterError(
                "body.cluster", "give either cluster or municipalities, not both"
            )
        if municipalities:
            known = self.data.municipalities.index
            bad = [c for c in municipalities if c not in known]
            if bad:
                raise InvalidParameterError(
                    "body.municipalities",
                    f"ISTAT code {bad[0]!r} is not a municipality of this territory; "
                    "list them at /municipalities",
                )
            return "municipalities", sorted(set(municipalities))
        if cluster is None or cluster == "all":
            return "all", None
        table = self.data.extras.get("clusters")
        planning = self.data.extras.get("planning")
        if table is None or planning is None:
            raise ServiceUnavailableError(
                "no planning results are loaded, so there are no clusters; run: territorio "
                "plan, or give municipalities (ISTAT codes) or cluster 'all'"
            )
        ids = [str(c) for c in table["cluster_id"]]
        if cluster == "worst":
            if not ids:
                raise NotFoundError("no underserved cluster was found by territorio plan")
            cluster = ids[0]
        if cluster not in ids:
            raise NotFoundError(
                f"no cluster {cluster!r}; clusters: {', '.join(ids) or 'none'} "
                "(list them at /planning/clusters)"
            )
        col = planning["cluster_id"].map(clean)
        members = sorted(str(c) for c in planning.index[col.astype(object) == cluster])
        if not members:
            raise NotFoundError(f"cluster {cluster!r} has no member municipality")
        return cluster, members

    def site(
        self,
        *,
        cluster: str | None,
        municipalities: Sequence[str] | None,
        candidates: Sequence[tuple[float, float, str | None]] | None,
        categories: Sequence[str],
        k: int,
        minutes: float,
        demand: str,
    ) -> dict[str, Any]:
        """Choose up to ``k`` sites in the scope (see :func:`site_services`)."""
        from territorio.planning.siting import site_services

        self._require_network()
        label, codes = self._scope(cluster, municipalities)
        cand = None
        if candidates:
            for i, (lon, lat, _) in enumerate(candidates):
                self.data.check_in_area(lon, lat, what=f"candidate {i} (body.candidates.{i})")
            cand = pd.DataFrame(
                {
                    "site_id": [f"candidate{i + 1}" for i in range(len(candidates))],
                    "name": [n or f"candidate {i + 1}" for i, (_, _, n) in enumerate(candidates)],
                    "lon": [float(c[0]) for c in candidates],
                    "lat": [float(c[1]) for c in candidates],
                }
            )
        b = self.data.bundle
        services = b.layer("services") if b.has_layer("services") else None
        if services is None:
            raise ServiceUnavailableError("this bundle has no services layer; rebuild it")
        names = {str(k): str(v) for k, v in self.data.municipalities["name"].items()}
        ctx = self.engine.context
        res = site_services(
            ctx,
            services,
            categories=list(categories),
            k=k,
            t_min=minutes,
            demand=demand,
            municipalities=codes,
            candidates=cand,
            access_cells=b.layer("access_cells") if b.has_layer("access_cells") else None,
            names=names,
        )
        s = res.summary
        notes: list[str] = []
        if s["categories_without_data"]:
            notes.append(
                "no data anywhere in scope for "
                f"{', '.join(s['categories_without_data'])}: left out of the 'served today' "
                "test (the new point offers them anyway)"
            )
        if s["unknown"] > 0:
            notes.append(
                f"{s['unknown']:.0f} of the {s['in_scope']:.0f} people in scope ({demand}) "
                "live outside network coverage or where a category has no data: left out"
            )
        if s["candidates"] and not s["covered_candidates"]:
            notes.append("no candidate site is inside network coverage")
        sites = [
            {
                "order": int(r["order"]),
                "site_id": str(r["site_id"]),
                "name": str(r["name"]),
                "pro_com_t": self.data.municipality_at(float(r["lon"]), float(r["lat"])),
                "lon": float(r["lon"]),
                "lat": float(r["lat"]),
                "marginal_gain": _num(r["marginal_gain"]),
                "marginal_gain_pop": _num(r["marginal_gain_pop"]),
                "marginal_gain_65": _num(r["marginal_gain_65"]),
                "served_before": _num(r["served_before"]),
                "served_after": _num(r["served_after"]),
                "share_before": _num(r["share_before"], 4),
                "share_after": _num(r["share_after"], 4),
            }
            for _, r in res.sites.iterrows()
        ]
        return {
            "scope": label,
            "municipalities": codes
            if codes is not None
            else [str(c) for c in self.data.municipalities.index],
            "demand": demand,
            "minutes": float(minutes),
            "categories": list(categories),
            "k": k,
            "in_scope": _num(s["in_scope"]),
            "judged": _num(s["judged"]),
            "unknown": _num(s["unknown"]),
            "served_today": _num(s["served_today"]),
            "served_after": _num(s["served_after"]),
            "candidates": int(s["candidates"]),
            "covered_candidates": int(s["covered_candidates"]),
            "categories_without_data": list(s["categories_without_data"]),
            "sites": sites,
            "notes": notes,
        }

    # -- scenarios -----------------------------------------------------------------

    def scenario(
        self, *, name: str, changes: Sequence[Any], only_changed: bool = True
    ) -> dict[str, Any]:
        """Run a what-if scenario against the baseline (see :func:`run_scenario`)."""
        from territorio.planning.scenarios import run_scenario

        self._require_network()
        ids = self.data.services.index
        for i, c in enumerate(changes):
            if c.action == "remove" and c.service_id not in ids:
                raise InvalidParameterError(
                    f"body.changes.{i}.service_id",
                    f"{c.service_id!r} is not in the services layer; search ids at /services",
                )
            if c.action == "add":
                where = f"change {i} (body.changes.{i}.lon, body.changes.{i}.lat)"
                self.data.check_in_area(float(c.lon), float(c.lat), what=where)
                self.engine.snap_origin(float(c.lon), float(c.lat), what=where)
        base = self.baseline()
        res = run_scenario(self.engine.context, base, list(changes), self.config, name=name)
        t = res.changes
        cats = list(res.categories)
        rows = t[t["changed"]] if only_changed else t
        items = []
        for _, r in rows.iterrows():
            indicators = []
            for cat in cats:
                ind: dict[str, Any] = {"category": cat}
                for short in ("mean_min", "ref_min", "pop_beyond_30"):
                    for side in ("before", "after"):
                        col = f"{cat}_{short}_{side}"
                        ind[f"{short}_{side}"] = _num(r[col]) if col in r.index else None
                indicators.append(ind)
            items.append(
                {
                    "pro_com_t": str(r["pro_com_t"]),
                    "name": str(r["name"]),
                    "score_before": _num(r["score_before"]),
                    "score_after": _num(r["score_after"]),
                    "score_delta": _num(r["score_delta"]),
                    "class_before": None
                    if clean(r["class_before"]) is None
                    else str(r["class_before"]),
                    "class_after": None
                    if clean(r["class_after"]) is None
                    else str(r["class_after"]),
                    "changed": bool(r["changed"]),
                    "indicators": indicators,
                }
            )
        k0 = t["class_before"].astype(object).to_numpy()
        k1 = t["class_after"].astype(object).to_numpy()
        notes = []
        if np.isinf(t.filter(like="_ref_min_after").to_numpy(dtype=float)).any():
            notes.append(
                "a category has no service left: its times are shown as null (unreachable)"
            )
        return {
            "name": name,
            "categories": cats,
            "municipalities": len(t),
            "changed": int(t["changed"].sum()),
            "class_changes": int((k0 != k1).sum()),
            "items": items,
            "notes": notes,
        }

    # -- road presets (winter) -------------------------------------------------------

    def winter(self, *, name: str, only_changed: bool = True) -> dict[str, Any]:
        """Run a winter preset or variant against the summer baseline (:func:`run_winter`)."""
        import time

        from territorio.planning.winter import run_winter

        self._require_network()
        winter = self.config.winter_scenario(name)  # ConfigError (422) when unknown
        b = self.data.bundle
        # bounded by the router's compute gate, like the other computations
        t0 = time.perf_counter()
        base = self.baseline()
        res = run_winter(
            self.engine.context,
            base,
            b.layer("road_edges"),
            b.layer("road_nodes"),
            self.config,
            winter,
        )
        secs = time.perf_counter() - t0
        mt = res.municipalities
        cats = list(res.summary["categories"])
        long = res.categories.set_index(["pro_com_t", "category"])
        tag = "30"
        changed = mt["class_changed"].to_numpy(dtype=bool).copy()
        for cat in cats:
            add = mt[f"{cat}_added_min"].to_numpy(dtype=float)
            unreached = mt[f"{cat}_unreachable_pop"].to_numpy(dtype=float) > 0
            changed |= (np.nan_to_num(add) > 0.005) | unreached
        mt = mt.assign(changed=changed)
        rows = mt[mt["changed"]] if only_changed else mt
        items = []
        for _, r in rows.iterrows():
            code = str(r["pro_com_t"])
            indicators = []
            for cat in cats:
                x = long.loc[(code, cat)]
                indicators.append(
                    {
                        "category": cat,
                        "mean_min_before": _num(x["mean_min_summer"]),
                        "mean_min_after": _num(x["mean_min_winter"]),
                        "pop_beyond_30_before": _num(x[f"pop_beyond_{tag}_summer"]),
                        "pop_beyond_30_after": _num(x[f"pop_beyond_{tag}_winter"]),
                        "status_after": str(x["status_winter"]),
                        "pop_unreachable_after": _num(x["pop_unreachable_winter"]),
                    }
                )
            items.append(
                {
                    "pro_com_t": code,
                    "name": str(r["name"]),
                    "score_before": _num(r["score_summer"]),
                    "score_after": _num(r["score_winter"]),
                    "score_delta": _num(clean(r["score_winter"]) - clean(r["score_summer"]))
                    if clean(r["score_winter"]) is not None
                    and clean(r["score_summer"]) is not None
                    else None,
                    "class_before": None if clean(r["class_summer"]) is None
                    else str(r["class_summer"]),
                    "class_after": None if clean(r["class_winter"]) is None
                    else str(r["class_winter"]),
                    "changed": bool(r["changed"]),
                    "indicators": indicators,
                    "has_elevation": None if "has_elevation" not in r.index
                    else bool(r["has_elevation"]),
                    "altitude_source": None if "altitude_rule_source" not in r.index
                    else str(r["altitude_rule_source"]),
                }
            )  # fmt: skip
        s = res.summary
        roads = s["roads"]
        winter_out = {
            **{
                k: roads[k]
                for k in (
                    "edges_closed",
                    "km_closed",
                    "edges_slowed",
                    "km_slowed",
                    "altitude_m",
                    "altitude_speed_factor",
                    "edges_without_altitude",
                )
            },
            "closures": roads["closures"],
            "categories": [
                {
                    "category": c,
                    "minutes_added_mean": v["minutes_added_mean"],
                    "minutes_added_max": v["minutes_added_max"],
                    "residents_pushed_beyond_30": v[f"residents_pushed_beyond_{tag}"],
                    "residents_65_pushed_beyond_30": v[f"residents_65_pushed_beyond_{tag}"],
                    "residents_unreachable": v["residents_unreachable"],
                    "comuni_with_unreachable_residents": v["comuni_with_unreachable_residents"],
                }
                for c, v in s["categories"].items()
            ],
            "clusters_appearing": [
                {
                    k: c[k]
                    for k in ("cluster_id", "name_it", "name_en", "new_members", "pop_total", "new")
                }
                for c in s["clusters_appearing"]
            ],
            "comuni_without_dem": s["comuni_without_dem"],
            "seconds": round(secs, 2),
        }
        return {
            "name": res.name,
            "categories": cats,
            "municipalities": len(mt),
            "changed": int(changed.sum()),
            "class_changes": int(mt["class_changed"].sum()),
            "items": items,
            "notes": list(res.notes),
            "winter": winter_out,
        }
