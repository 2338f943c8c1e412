"""What-if scenarios: add or remove services and see what changes, without rebuilding.

A scenario is a list of changes (:class:`~territorio.planning.config.ScenarioChange`):
a service removed by ``service_id`` (a post office closes) or a new one added
at a position (a pharmacy opens). Only the categories touched are recomputed,
with the engine's :func:`~territorio.accessibility.category_indicators` on the
same :class:`~territorio.accessibility.context.AccessContext`, *before and
after* (so both sides use identical parameters); the untouched categories are
taken from the bundle. Then the marginality index and, when the poli are
derived from services that changed (hospital, secondary school, railway
station), the SNAI classes are recomputed. The result is one row per
municipality with the change in indicators, class and score.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from territorio.errors import NotFoundError
from territorio.planning.config import PlanConfig, ScenarioChange
from territorio.planning.marginality import index_from_access

__all__ = ["Baseline", "ScenarioResult", "apply_changes", "indicators", "run_scenario"]

#: Categories that decide whether a municipality is a polo.
POLO_CATEGORIES = ("hospital", "secondary_school", "railway_station")


@dataclass
class Baseline:
    """The state a scenario starts from (layers of the bundle plus computed tables)."""

    municipalities: gpd.GeoDataFrame
    services: gpd.GeoDataFrame
    access_municipalities: pd.DataFrame
    snai: pd.DataFrame
    index: pd.DataFrame
    access_cells: pd.DataFrame | None = None
    population_cells: pd.DataFrame | None = None
    adj: Any = None
    notes: list[str] = field(default_factory=list)
    #: Results that do not depend on the scenario (e.g. the summer side of a
    #: winter scenario), kept between scenarios run on this baseline.
    cache: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class ScenarioResult:
    """Outcome of a scenario.

    Attributes
    ----------
    changes
        One row per municipality: ``pro_com_t``, ``name``, ``score_before``,
        ``score_after``, ``score_delta``, ``class_before``, ``class_after``,
        and per affected category ``<cat>_mean_min_before|after``,
        ``<cat>_ref_min_before|after``, ``<cat>_pop_beyond_<T>_before|after``;
        ``changed`` is True where anything moved.
    services
        The services table after the changes.
    access_municipalities
        The accessibility table after the changes.
    index, snai
        Index and classes after the changes.
    categories
        Categories recomputed.
    """

    changes: pd.DataFrame
    services: gpd.GeoDataFrame
    access_municipalities: pd.DataFrame
    index: pd.DataFrame
    snai: pd.DataFrame
    categories: list[str]


def apply_changes(
    services: gpd.GeoDataFrame,
    changes: Sequence[ScenarioChange],
    *,
    municipalities: gpd.GeoDataFrame | None = None,
    name: str = "scenario",
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Return the services table with the changes applied, and the categories touched.

    Raises
    ------
    NotFoundError
        If a removed ``service_id`` is not in the services layer.
    """
    svc = services
    touched: list[str] = []
    ids = svc["service_id"].astype(str)
    remove = [c.service_id for c in changes if c.action == "remove" and c.service_id]
    missing = [s for s in remove if s not in set(ids)]
    if missing:
        raise NotFoundError(
            f"scenario {name!r}: service_id {missing[0]!r} is not in the services layer; "
            "list the ids with: territorio info --layer services"
        )
    if remove:
        gone = ids.isin(remove).to_numpy()
        touched += svc.loc[gone, "category"].astype(str).tolist()
        svc = svc[~gone]
    adds = [c for c in changes if c.action == "add"]
    if adds:
        lon = [float(c.lon or 0.0) for c in adds]
        lat = [float(c.lat or 0.0) for c in adds]
        pts = gpd.points_from_xy(lon, lat, crs="EPSG:4326")
        codes: list[str | None] = [None] * len(adds)
        if municipalities is not None and len(municipalities):
            import shapely

            tree = shapely.STRtree(municipalities.geometry.to_numpy())
            pi, mi = tree.query(np.asarray(pts), predicate="within")
            mcodes = municipalities["pro_com_t"].astype(str).to_numpy()
            for p, m in zip(pi, mi, strict=True):
                codes[int(p)] = str(mcodes[int(m)])
        new = gpd.GeoDataFrame(
            {
                "service_id": [f"{name}:{i + 1}" for i in range(len(adds))],
                "category": [str(c.category) for c in adds],
                "name": [c.name or f"{c.category} ({name})" for c in adds],
                "source": name,
                "source_id": [str(i + 1) for i in range(len(adds))],
                "pro_com_t": codes,
                "capacity": np.nan,
                "attributes": "{}",
            },
            geometry=pts,
            crs="EPSG:4326",
        )
        touched += [str(c.category) for c in adds]
        svc = pd.concat([svc, new[[c for c in new.columns if c in svc.columns]]], ignore_index=True)
        svc = gpd.GeoDataFrame(svc, geometry="geometry", crs="EPSG:4326")
    return svc, sorted(set(touched))


def indicators(ctx: Any, services: pd.DataFrame, category: str) -> tuple[Any, Any]:
    """Call the engine's ``category_indicators``, also when no service is left.

    With no service of the category left (a scenario closes the last one of a
    category the bundle had) nothing is reachable: covered cells get status
    ``"unreachable"`` and covered municipalities an infinite time (the index
    scores it 100), never a made-up finite number. A category the bundle never
    had is ``"no_data"``, as in the engine.
    """
    from territorio.accessibility import category_indicators

    if len(services):
        return category_indicators(ctx, services, category)
    info = ctx.service_categories.get(category) or {}
    had = bool(info.get("count"))  # the bundle had some: they were all removed
    cells = ctx.cells
    cov = cells["covered"].to_numpy(dtype=bool)
    c = pd.DataFrame(
        {
            "cell_id": cells["cell_id"].to_numpy(),
            "pro_com_t": cells["pro_com_t"].to_numpy(),
            "category": category,
            "status": np.where(~had, "no_data", np.where(cov, "unreachable", "outside_coverage")),
            "time_min": np.nan,
            "nearest_service_id": None,
        }
    )
    m = ctx.municipalities
    mcov = m["covered"].to_numpy(dtype=bool)
    mm = pd.DataFrame(
        {
            "pro_com_t": m["pro_com_t"].to_numpy(),
            "category": category,
            "status": np.where(~had, "no_data", np.where(mcov, "ok", "outside_coverage")),
            "covered_pop_share": np.where(had, np.where(mcov, 1.0, 0.0), np.nan),
            "ref_time_min": np.where(mcov & had, np.inf, np.nan),
            "ref_nearest_service_id": None,
            "mean_min": np.where(mcov & had, np.inf, np.nan),
        }
    )
    return c, mm


def _swap(table: pd.DataFrame | None, new: list[pd.DataFrame], cats: list[str]) -> Any:
    if table is None:
        return None
    keep = table[~table["category"].isin(cats)]
    return pd.concat([keep, *new], ignore_index=True)


def run_scenario(
    ctx: Any,
    base: Baseline,
    changes: Sequence[ScenarioChange],
    cfg: PlanConfig,
    *,
    name: str = "scenario",
    beyond_min: float = 30.0,
) -> ScenarioResult:
    """Apply a scenario and compare every municipality before and after.

    Parameters
    ----------
    ctx
        :class:`~territorio.accessibility.context.AccessContext` of the bundle.
    base
        The baseline (see :class:`Baseline`).
    changes
        Services added or removed.
    cfg
        The plan configuration (index weights, poli, thresholds).
    name
        Scenario name (prefix of the new service ids).
    beyond_min
        Threshold of the ``pop_beyond_*`` columns reported.
    """
    from territorio.planning.snai import classify_with

    svc_after, cats = apply_changes(
        base.services, changes, municipalities=base.municipalities, name=name
    )
    before_m, after_m, before_c, after_c = [], [], [], []
    for cat in cats:
        c0, m0 = indicators(ctx, base.services[base.services["category"] == cat], cat)
        c1, m1 = indicators(ctx, svc_after[svc_after["category"] == cat], cat)
        before_m.append(m0)
        after_m.append(m1)
        before_c.append(c0)
        after_c.append(c1)
    am0 = _swap(base.access_municipalities, before_m, cats)
    am1 = _swap(base.access_municipalities, after_m, cats)
    ac0 = _swap(base.access_cells, before_c, cats)
    ac1 = _swap(base.access_cells, after_c, cats)
    idx0 = index_from_access(
        base.municipalities,
        am0,
        cfg=cfg.index,
        access_cells=ac0,
        population_cells=base.population_cells,
    )
    idx1 = index_from_access(
        base.municipalities,
        am1,
        cfg=cfg.index,
        access_cells=ac1,
        population_cells=base.population_cells,
    )
    snai1 = base.snai
    if cfg.poli == "derive" and set(cats) & set(POLO_CATEGORIES):
        snai1, _, _ = classify_with(cfg, ctx, base.municipalities, svc_after, adj=base.adj)
    codes = base.municipalities["pro_com_t"].astype(str)
    out = pd.DataFrame(
        {"pro_com_t": codes.to_numpy(), "name": base.municipalities["name"].to_numpy()}
    )
    s0 = idx0.set_index("pro_com_t")["score"].reindex(codes).to_numpy(dtype=float)
    s1 = idx1.set_index("pro_com_t")["score"].reindex(codes).to_numpy(dtype=float)
    out["score_before"], out["score_after"] = s0, s1
    out["score_delta"] = np.round(s1 - s0, 2)
    k0 = base.snai.set_index(base.snai["pro_com_t"].astype(str))["snai_class"].reindex(codes)
    k1 = snai1.set_index(snai1["pro_com_t"].astype(str))["snai_class"].reindex(codes)
    out["class_before"], out["class_after"] = k0.to_numpy(), k1.to_numpy()
    changed = (k0.to_numpy() != k1.to_numpy()) | (np.abs(np.nan_to_num(s1 - s0)) >= 0.005)
    tag = f"{beyond_min:g}"
    for cat, m0, m1 in zip(cats, before_m, after_m, strict=True):
        a = m0.set_index(m0["pro_com_t"].astype(str)).reindex(codes)
        b = m1.set_index(m1["pro_com_t"].astype(str)).reindex(codes)
        for col, short in (
            ("mean_min", "mean_min"),
            ("ref_time_min", "ref_min"),
            (f"pop_beyond_{tag}", f"pop_beyond_{tag}"),
        ):
            if col not in a.columns:
                continue
            va, vb = a[col].to_numpy(dtype=float), b[col].to_numpy(dtype=float)
            out[f"{cat}_{short}_before"] = va
            out[f"{cat}_{short}_after"] = vb
            diff = ~np.isclose(va, vb, equal_nan=True, atol=1e-6)
            changed |= diff
    out["changed"] = changed
    return ScenarioResult(out, svc_after, am1, idx1, snai1, cats)
