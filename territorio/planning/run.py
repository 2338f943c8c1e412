"""``run_plan``: classes, index, clusters, sites and a scenario, written to a folder.

Outputs in ``out_dir``:

``municipalities.parquet`` / ``.csv``
    One row per municipality: SNAI class and time to the nearest polo,
    marginality score, rank and components, flag and cluster id
    (GeoParquet with the polygons; CSV without geometry).
``clusters.parquet`` / ``.csv``
    One row per underserved cluster (GeoParquet: the union of its members).
``sites.parquet`` / ``.csv``
    The chosen sites with their marginal gains (points).
``scenario.csv``
    Per municipality, before and after the scenario (when one is configured).
``reports/<cluster_id>_<lang>.md``, ``reports/overview_<lang>.md``
    Short Markdown reports in Italian and English.
``summary.json``
    The summary dict returned by :func:`run_plan` (``scenario.changes`` lists the
    configured what-if changes).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd

from territorio.config import AccessConfig
from territorio.errors import BundleError, ConfigError, NotFoundError
from territorio.planning.config import PlanConfig

__all__ = ["access_config_of", "load_plan_config", "run_plan"]

_R = TypeVar("_R")


def access_config_of(bundle: Any) -> AccessConfig:
    """Return the accessibility parameters of the bundle's build config, or the defaults."""
    raw = ((bundle.manifest.get("config") or {}).get("access")) or {}
    fields = set(AccessConfig.model_fields)
    return AccessConfig(**{k: v for k, v in raw.items() if k in fields})


class _Steps:
    def __init__(self, progress: bool, total: int) -> None:
        self.timings: dict[str, float] = {}
        self._bar: Any = None
        if progress:
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc="plan", unit="step", leave=False)

    def run(self, name: str, fn: Callable[[], _R]) -> _R:
        if self._bar is not None:
            self._bar.set_postfix_str(name)
        t0 = time.perf_counter()
        out = fn()
        self.timings[name] = round(time.perf_counter() - t0, 3)
        if self._bar is not None:
            self._bar.update(1)
        return out

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _write(df: pd.DataFrame, out_dir: Path, stem: str) -> list[str]:
    files = []
    if isinstance(df, gpd.GeoDataFrame) and len(df.columns):
        df.to_parquet(out_dir / f"{stem}.parquet", index=False)
        files.append(f"{stem}.parquet")
        pd.DataFrame(df.drop(columns=df.geometry.name)).to_csv(out_dir / f"{stem}.csv", index=False)
    else:
        df.to_csv(out_dir / f"{stem}.csv", index=False)
    files.append(f"{stem}.csv")
    return files


def run_plan(
    bundle: Any,
    cfg: PlanConfig,
    *,
    out_dir: Path,
    progress: bool = True,
    access_cfg: AccessConfig | None = None,
    ctx: Any = None,
) -> dict[str, Any]:
    """Run the whole planning chain on a bundle and write its outputs.

    Parameters
    ----------
    bundle
        A :class:`territorio.bundle.Bundle` with the ``access_municipalities``
        layer (``territorio access``); ``access_cells`` is used when present.
    cfg
        The plan configuration.
    out_dir
        Output folder (created).
    progress
        Show a progress bar on stderr.
    access_cfg
        Accessibility parameters; default: those of the bundle's build config.
    ctx
        A prebuilt :class:`~territorio.accessibility.context.AccessContext`
        (e.g. shared with the API); built from the bundle when omitted.

    Returns
    -------
    dict
        ``classes`` (count per SNAI class), ``outside_coverage``,
        ``municipalities``, ``clusters`` (id, name, residents), ``sites``,
        ``scenario`` (municipalities changed), ``timings_s`` per step,
        ``notes`` and ``files`` written.
    """
    from territorio.accessibility import AccessContext
    from territorio.planning._graph import adjacency
    from territorio.planning.clusters import find_clusters
    from territorio.planning.marginality import index_from_access
    from territorio.planning.report import cluster_report, overview_report
    from territorio.planning.scenarios import Baseline, run_scenario
    from territorio.planning.siting import load_candidates, site_services
    from territorio.planning.snai import classify_with

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    steps = _Steps(progress, total=8 + len(cfg.winter))
    notes: list[str] = []
    try:
        m = bundle.layer("municipalities")
        services = bundle.layer("services")
        if not bundle.has_layer("access_municipalities"):
            raise BundleError(
                f"bundle {bundle.path} has no layer 'access_municipalities'; run: territorio access"
            )
        am = bundle.layer("access_municipalities")
        ac = bundle.layer("access_cells") if bundle.has_layer("access_cells") else None
        pc = bundle.layer("population_cells") if bundle.has_layer("population_cells") else None
        acfg = access_cfg if access_cfg is not None else access_config_of(bundle)
        if ctx is None:
            ctx = steps.run(
                "context", lambda: AccessContext.from_bundle(bundle, acfg, mode=cfg.mode)
            )
        adj = steps.run("adjacency", lambda: adjacency(m))
        snai, _poli, snotes = steps.run(
            "classification",
            lambda: classify_with(cfg, ctx, m, services, adj=adj),
        )
        notes += snotes
        idx = steps.run(
            "index",
            lambda: index_from_access(m, am, cfg=cfg.index, access_cells=ac, population_cells=pc),
        )
        dropped = sorted({e for x in idx["excluded"] if x for e in x.split("; ")})
        if dropped:
            notes.append(
                "components excluded from the index where data is missing (weights "
                f"renormalised): {', '.join(dropped[:12])}"
            )
        valley_adj = adj
        if cfg.valley_link_min is not None:
            valley_adj = _valley_adjacency(ctx, m, adj, cfg.valley_link_min * 60.0)
        destination = snai.set_index(snai["pro_com_t"].astype(str))["polo_destination"]

        def gateway(flagged: np.ndarray) -> np.ndarray:
            from territorio.planning.valleys import gateways

            return gateways(ctx, m, destination, flagged)

        members, clusters = steps.run(
            "clusters",
            lambda: find_clusters(
                m,
                idx,
                snai,
                threshold=cfg.threshold,
                flag_classes=cfg.flag_classes,
                access_municipalities=am,
                categories=cfg.basket(),
                adj=valley_adj,
                gateway=gateway if cfg.valley_gateways else None,
            ),
        )

        sites = None
        siting_summary: dict[str, Any] | None = None
        siting_cluster: str | None = None
        if cfg.siting is not None:
            sc = cfg.siting
            scope: list[str] | None = None
            if sc.cluster == "worst":
                if len(clusters):
                    siting_cluster = str(clusters["cluster_id"].iloc[0])
            elif sc.cluster != "all":
                if sc.cluster not in set(clusters["cluster_id"]):
                    raise NotFoundError(
                        f"siting.cluster {sc.cluster!r} does not exist; clusters found: "
                        f"{', '.join(clusters['cluster_id']) or 'none'}"
                    )
                siting_cluster = sc.cluster
            if siting_cluster is not None:
                row = clusters[clusters["cluster_id"] == siting_cluster].iloc[0]
                scope = str(row["member_codes"]).split(",")
            cand = load_candidates(sc.candidates) if sc.candidates else None
            if sc.cluster == "worst" and scope is None:
                notes.append("no underserved cluster: siting skipped")
            else:
                names = dict(zip(m["pro_com_t"].astype(str), m["name"].astype(str), strict=True))
                res = steps.run(
                    "siting",
                    lambda: site_services(
                        ctx,
                        services,
                        categories=sc.categories,
                        k=sc.k,
                        t_min=sc.t_min,
                        demand=sc.demand,
                        municipalities=scope,
                        candidates=cand,
                        access_cells=ac,
                        names=names,
                    ),
                )
                sites, siting_summary = res.sites, dict(res.summary)
                if res.summary["categories_without_data"]:
                    notes.append(
                        "siting: no data anywhere in scope for "
                        f"{', '.join(res.summary['categories_without_data'])}; left out of the "
                        "'served today' test (the new point offers them anyway)"
                    )
                siting_summary["cluster"] = siting_cluster or "all"

        scen = None
        if cfg.scenario is not None and cfg.scenario.changes:
            base = Baseline(
                m, services, am, snai, idx, access_cells=ac, population_cells=pc, adj=adj
            )
            scenario_cfg = cfg.scenario
            scen = steps.run(
                "scenario",
                lambda: run_scenario(ctx, base, scenario_cfg.changes, cfg, name=scenario_cfg.name),
            )

        winters = []
        for wcfg in cfg.winter:
            from territorio.planning.winter import run_winter

            w_base = Baseline(
                m, services, am, snai, idx, access_cells=ac, population_cells=pc, adj=adj
            )
            winters.append(
                steps.run(
                    f"winter {wcfg.name}",
                    lambda wcfg=wcfg, w_base=w_base: run_winter(  # type: ignore[misc]
                        ctx,
                        w_base,
                        bundle.layer("road_edges"),
                        bundle.layer("road_nodes"),
                        cfg,
                        wcfg,
                    ),
                )
            )

        # ------------------------------------------------------------ write
        files: list[str] = []
        ref_cols = [c for c in ("ref_source", "ref_detail") if c in m.columns]
        keep = ["pro_com_t", "name", "pop_total", "pop_65_plus", *ref_cols, "geometry"]
        table = m[keep].copy()
        table["pro_com_t"] = table["pro_com_t"].astype(str)
        table = table.merge(snai.drop(columns=["name"]), on="pro_com_t", how="left")
        table = table.merge(
            idx.drop(columns=[c for c in ("name", "pop_total", "pop_65_plus") if c in idx]),
            on="pro_com_t",
            how="left",
            suffixes=("", "_index"),
        )
        table = table.rename(columns={"status": "index_status"})
        table = table.merge(
            members[["pro_com_t", "flagged", "flag_reason", "cluster_id", "gateway"]],
            on="pro_com_t",
            how="left",
        )
        files += _write(
            gpd.GeoDataFrame(table, geometry="geometry", crs=m.crs), out_dir, "municipalities"
        )
        geo = m[["pro_com_t", "geometry"]].assign(pro_com_t=m["pro_com_t"].astype(str))
        geo = geo.merge(members[["pro_com_t", "cluster_id"]], on="pro_com_t")
        geo = geo[geo["cluster_id"].notna()]
        if len(geo):
            shapes = geo.dissolve(by="cluster_id")[["geometry"]].reset_index()
            cl_geo = gpd.GeoDataFrame(
                clusters.merge(shapes, on="cluster_id"), geometry="geometry", crs=m.crs
            )
        else:
            cl_geo = gpd.GeoDataFrame(clusters, geometry=gpd.GeoSeries([], crs=m.crs))
        files += _write(cl_geo, out_dir, "clusters")
        if sites is not None:
            s_geo = gpd.GeoDataFrame(
                sites, geometry=gpd.points_from_xy(sites["lon"], sites["lat"]), crs="EPSG:4326"
            )
            files += _write(s_geo, out_dir, "sites")
        if scen is not None:
            files += _write(scen.changes, out_dir, "scenario")
        for w in winters:
            files += _write(w.municipalities, out_dir, f"winter_{w.name}_municipalities")
            files += _write(w.categories, out_dir, f"winter_{w.name}_categories")

        rep = out_dir / "reports"
        rep.mkdir(exist_ok=True)
        mem_full = table[
            [
                "pro_com_t",
                "name",
                "pop_total",
                "pop_65_plus",
                "score",
                "index_status",
                "snai_class",
                "time_to_polo_min",
                "polo_destination_name",
                "main_factor",
                "cluster_id",
            ]
        ]
        mem_full = mem_full.rename(columns={"index_status": "status"})
        for _, c in clusters.iterrows():
            cid = str(c["cluster_id"])
            mm = mem_full[mem_full["cluster_id"] == cid]
            own = cid == siting_cluster
            for lang in cfg.languages:
                text = cluster_report(
                    c,
                    mm,
                    lang=lang,
                    sites=sites if own else None,
                    siting_summary=siting_summary if own else None,
                    manifest=bundle.manifest,
                )
                (rep / f"{cid}_{lang}.md").write_text(text, encoding="utf-8")
                files.append(f"reports/{cid}_{lang}.md")
        for lang in cfg.languages:
            text = overview_report(
                snai,
                idx,
                clusters,
                lang=lang,
                scenario=scen.changes if scen else None,
                scenario_name=cfg.scenario.name if cfg.scenario else "",
                notes=notes,
                manifest=bundle.manifest,
            )
            from territorio.planning.mountain_report import winter_markdown

            for w in winters:
                text += "\n" + winter_markdown(w, lang=lang)
            (rep / f"overview_{lang}.md").write_text(text, encoding="utf-8")
            files.append(f"reports/overview_{lang}.md")
    finally:
        steps.close()

    counts = snai["snai_class"].value_counts()
    summary: dict[str, Any] = {
        # the build these outputs were derived from (territorio.freshness)
        "bundle_build_id": bundle.build_id,
        "municipalities": len(m),
        "classes": {str(k): int(v) for k, v in counts.items()},
        "outside_coverage": int(counts.get("outside_coverage", 0)),
        "scored": int((idx["status"] == "ok").sum()),
        "flagged": int(members["flagged"].sum()),
        "clusters": [
            {
                "cluster_id": c["cluster_id"],
                "name": c["name_it"],
                "residents": float(c["pop_total"]),
                "mean_score": float(c["mean_score"]),
            }
            for _, c in clusters.iterrows()
        ],
        "siting": None
        if siting_summary is None
        else {
            **siting_summary,
            "sites": [
                {
                    "site_id": s["site_id"],
                    "name": s["name"],
                    "marginal_gain": float(s["marginal_gain"]),
                }
                for _, s in sites.iterrows()  # type: ignore[union-attr]
            ],
        },
        "scenario": None
        if scen is None
        else {
            "name": cfg.scenario.name if cfg.scenario else "",
            # what the scenario changes, as configured (read by the PDF reports)
            "changes": [c.model_dump(exclude_none=True) for c in cfg.scenario.changes]
            if cfg.scenario
            else [],
            "categories": scen.categories,
            "changed": int(scen.changes["changed"].sum()),
            "class_changes": int(
                (scen.changes["class_before"] != scen.changes["class_after"]).sum()
            ),
        },
        "winter": [
            {k: v for k, v in w.summary.items() if k != "roads"}
            | {"roads_closed_km": w.summary["roads"]["km_closed"]}
            for w in winters
        ],
        "timings_s": steps.timings,
        "notes": notes,
        "files": files,
    }
    (out_dir / "summary.json").write_text(
        json.dumps(summary, indent=2, ensure_ascii=False, default=_jsonable), encoding="utf-8"
    )
    summary["files"].append("summary.json")
    return summary


def _jsonable(x: Any) -> Any:
    if isinstance(x, np.generic):
        return x.item()
    raise TypeError(f"not JSON serialisable: {type(x).__name__}")


def load_plan_config(path: str | Path) -> PlanConfig:
    """Read a :class:`PlanConfig` from a TOML file (top level or a ``[plan]`` table)."""
    import tomllib

    from pydantic import ValidationError

    p = Path(path)
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        from territorio.errors import SourceNotFoundError

        raise SourceNotFoundError(f"plan config not found: {p}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML: {exc}") from exc
    data = raw.get("plan", raw)
    try:
        return PlanConfig(**data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(x) for x in err["loc"])
        raise ConfigError(f"{p}: {loc}: {err['msg']}") from exc


def _valley_adjacency(ctx: Any, m: pd.DataFrame, adj: Any, max_s: float) -> Any:
    """Boundary adjacency restricted to neighbours within ``max_s`` by road (both ways)."""
    from territorio.accessibility.indicators import OPPORTUNITY_MINUTES
    from territorio.planning._graph import road_linked

    cm = ctx.municipalities
    # the searches from the reference points that the opportunities indicators
    # already ran (and cached) reach far enough: reuse them, cut at max_s below
    rows, times = ctx.ref_times_by_node(max(max_s, max(OPPORTUNITY_MINUTES) * 60.0))
    n = len(cm)
    ref = np.full((n, n), np.inf)
    nodes = cm["node"].to_numpy()
    offs = cm["offset_s"].to_numpy()
    covered = cm["covered"].to_numpy(bool)
    # times[node, k]: from the k-th covered reference point to every node
    ref[np.ix_(rows, rows)] = (times[nodes[rows]] + offs[rows][:, None]).T
    order = pd.Index(cm["pro_com_t"].astype(str)).get_indexer(m["pro_com_t"].astype(str))
    return road_linked(adj, ref[np.ix_(order, order)], covered[order], max_s=max_s)
