"""Welfare marginality index per municipality (0 = best served, 100 = most marginal).

Definition
----------
Each component is scored 0-100, then combined with configurable weights
(:class:`~territorio.planning.config.IndexConfig`):

* **service components**, one per category of the essential basket
  (primary care, pharmacy, primary school, post office, social services,
  digital help): the municipality's population-weighted travel time ``t`` to
  the nearest service of the category, scored ``100 * min(t / cap, 1)``
  (``cap`` = ``time_cap_min``, 45 min by default). For health categories
  (hospital, primary care, pharmacy) a resident aged 65+ weighs
  ``elderly_weight`` times (2 by default): the cell weight is
  ``pop_total + (elderly_weight - 1) * pop_65_plus``;
* **altitude zone**: inland or coastal mountain 100, hill 50, plain 0;
* **density**: 100 at or below ``density_low`` residents/km2, 0 at or above
  ``density_high``, linear in ``log10(density)`` between;
* **old-age index** (65+ per 100 under 15): 0 at or below ``old_age_low``,
  100 at or above ``old_age_high``, linear between.

``score = sum(w_i * s_i) / sum(w_i)`` over the *available* components, and
each component's **contribution** ``w_i * s_i / sum(w_i)`` (points of the
score) is reported, so the contributions add up to the score and show why a
place scores badly. A category whose status is ``no_data`` (no source covers
the municipality) or ``outside_coverage`` is excluded and the weights
renormalised, with a note: missing data is never counted as "far". A
municipality outside network coverage gets ``status = "outside_coverage"``
and no score.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from territorio.categories import CATEGORIES
from territorio.planning.config import IndexConfig
from territorio.schemas import require_columns

__all__ = [
    "STRUCTURAL",
    "category_label",
    "index_from_access",
    "marginality_index",
    "municipal_times",
    "status_wide",
    "weighted_times",
]

OUTSIDE = "outside_coverage"
#: Structural components: name -> (Italian label, English label).
STRUCTURAL: dict[str, tuple[str, str]] = {
    "altitude": ("Zona altimetrica", "Altitude zone"),
    "density": ("Bassa densità", "Low density"),
    "old_age": ("Indice di vecchiaia", "Old-age index"),
}
_ALTITUDE_SCORE = {1: 100.0, 2: 100.0, 3: 50.0, 4: 50.0, 5: 0.0}


def weighted_times(
    access_cells: pd.DataFrame,
    population_cells: pd.DataFrame,
    *,
    categories: list[str],
    elderly_categories: list[str],
    elderly_weight: float,
) -> pd.DataFrame:
    """Population-weighted mean travel time (min) per municipality and category.

    Cells outside network coverage (non-finite time or status
    ``outside_coverage``/``no_data``) are left out of the mean. In
    ``elderly_categories`` a resident aged 65+ weighs ``elderly_weight`` times.

    Returns
    -------
    pandas.DataFrame
        Wide table indexed by ``pro_com_t``, one column per category (NaN
        where no populated cell of the municipality has a time).
    """
    require_columns(
        access_cells, ("cell_id", "pro_com_t", "category", "time_min"), where="access_cells layer"
    )
    require_columns(
        population_cells,
        ("cell_id", "pro_com_t", "pop_total", "pop_65_plus"),
        where="population_cells layer",
    )
    ac = access_cells[access_cells["category"].isin(categories)]
    if "status" in ac.columns:
        ac = ac[~ac["status"].isin([OUTSIDE, "no_data"])]
    pop = population_cells[["cell_id", "pro_com_t", "pop_total", "pop_65_plus"]]
    pop = pop.groupby(["cell_id", "pro_com_t"], as_index=False).sum()
    df = ac[["cell_id", "pro_com_t", "category", "time_min"]].merge(
        pop, on=["cell_id", "pro_com_t"], how="inner"
    )
    t = df["time_min"].to_numpy(dtype=float)
    ok = np.isfinite(t)
    extra = np.where(df["category"].isin(elderly_categories), elderly_weight - 1.0, 0.0)
    w = df["pop_total"].to_numpy(dtype=float) + extra * df["pop_65_plus"].to_numpy(dtype=float)
    w = np.where(ok, w, 0.0)
    df = df.assign(_w=w, _wt=np.where(ok, t, 0.0) * w)
    g = df.groupby(["pro_com_t", "category"])[["_w", "_wt"]].sum()
    mean = (g["_wt"] / g["_w"].where(g["_w"] > 0)).unstack("category")
    return mean.reindex(columns=categories)


def municipal_times(access_municipalities: pd.DataFrame, *, categories: list[str]) -> pd.DataFrame:
    """Fallback: the ``mean_min`` of ``access_municipalities`` as a wide table."""
    require_columns(
        access_municipalities,
        ("pro_com_t", "category", "mean_min"),
        where="access_municipalities layer",
    )
    am = access_municipalities[access_municipalities["category"].isin(categories)]
    wide = am.pivot(index="pro_com_t", columns="category", values="mean_min")
    return wide.reindex(columns=categories).astype(float)


def status_wide(access_municipalities: pd.DataFrame, *, categories: list[str]) -> pd.DataFrame:
    """Status (``ok``/``partial``/``outside_coverage``/``no_data``) as a wide table."""
    require_columns(
        access_municipalities,
        ("pro_com_t", "category", "status"),
        where="access_municipalities layer",
    )
    am = access_municipalities[access_municipalities["category"].isin(categories)]
    wide = am.pivot(index="pro_com_t", columns="category", values="status")
    return wide.reindex(columns=categories).fillna("no_data")


def _structural(m: pd.DataFrame, cfg: IndexConfig) -> pd.DataFrame:
    out = pd.DataFrame(index=m.index)
    if "altitude_zone_code" in m.columns:
        codes = pd.to_numeric(m["altitude_zone_code"], errors="coerce")
        out["altitude"] = codes.map(_ALTITUDE_SCORE).astype(float)
    else:
        out["altitude"] = np.nan
    if "density" in m.columns:
        d = pd.to_numeric(m["density"], errors="coerce").to_numpy(dtype=float)
        lo, hi = np.log10(cfg.density_low), np.log10(cfg.density_high)
        with np.errstate(divide="ignore", invalid="ignore"):
            ld = np.log10(np.where(d > 0, d, cfg.density_low))
        out["density"] = np.where(np.isnan(d), np.nan, 100 * np.clip((hi - ld) / (hi - lo), 0, 1))
    else:
        out["density"] = np.nan
    if "old_age_index" in m.columns:
        o = pd.to_numeric(m["old_age_index"], errors="coerce").to_numpy(dtype=float)
        span = cfg.old_age_high - cfg.old_age_low
        out["old_age"] = 100 * np.clip((o - cfg.old_age_low) / span, 0, 1)
    else:
        out["old_age"] = np.nan
    return out


def marginality_index(
    municipalities: pd.DataFrame,
    times: pd.DataFrame,
    status: pd.DataFrame | None = None,
    *,
    cfg: IndexConfig,
) -> pd.DataFrame:
    """Compute the marginality index, its rank and each component's contribution.

    Parameters
    ----------
    municipalities
        ``pro_com_t``, ``name``, ``pop_total``, ``pop_65_plus`` and, when
        present, ``altitude_zone_code``, ``density``, ``old_age_index``,
        ``network_coverage``.
    times
        Wide table indexed by ``pro_com_t``: population-weighted minutes per
        category (:func:`weighted_times`); non-finite = no service reachable
        on the network (scores 100).
    status
        Wide table of category statuses (:func:`status_wide`); ``no_data`` and
        ``outside_coverage`` categories are excluded. None: all ``ok``.
    cfg
        Weights and scales.

    Returns
    -------
    pandas.DataFrame
        One row per municipality: ``pro_com_t``, ``name``, ``status`` (``ok``
        or ``outside_coverage``), ``score`` (NaN when outside coverage),
        ``rank`` (1 = most marginal), ``time_<cat>`` (min), ``contrib_<cat>``
        and ``contrib_altitude|density|old_age`` (points), ``main_factor``
        (largest contribution), ``excluded`` (components left out, with the
        reason).
    """
    require_columns(municipalities, ("pro_com_t", "name"), where="municipalities layer")
    m = municipalities.copy()
    m["pro_com_t"] = m["pro_com_t"].astype(str)
    m = m.set_index("pro_com_t")
    cats = [c for c, w in cfg.service_weights.items() if w > 0]
    t = times.reindex(index=m.index, columns=cats).astype(float)
    st = (
        status.reindex(index=m.index, columns=cats).fillna("no_data")
        if status is not None
        else pd.DataFrame("ok", index=m.index, columns=cats)
    )
    usable = ~st.isin(["no_data", OUTSIDE]).to_numpy()
    tv = t.to_numpy()
    # A usable category with no finite time: nothing reachable on the network.
    s_serv = 100.0 * np.clip(np.where(np.isfinite(tv), tv, np.inf) / cfg.time_cap_min, 0, 1)
    w_serv = np.array([cfg.service_weights[c] for c in cats], dtype=float)
    struct = _structural(m, cfg)
    s_str = struct.to_numpy(dtype=float)
    w_str = np.array([cfg.altitude_weight, cfg.density_weight, cfg.old_age_weight])
    scores = np.concatenate([s_serv, s_str], axis=1)
    avail = np.concatenate([usable, np.isfinite(s_str)], axis=1)
    weights = np.concatenate([w_serv, w_str])
    wmat = np.where(avail, weights[None, :], 0.0)
    wsum = wmat.sum(axis=1)
    contrib = np.where(avail, wmat * np.nan_to_num(scores, nan=0.0, posinf=100.0), 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        contrib = contrib / wsum[:, None]
    outside = ~usable.any(axis=1) if cats else np.zeros(len(m), dtype=bool)
    if "network_coverage" in m.columns:
        outside |= (m["network_coverage"].astype(str) == "none").to_numpy()
    outside |= wsum <= 0
    score = np.where(outside, np.nan, contrib.sum(axis=1))
    names = [*cats, *STRUCTURAL]
    out = pd.DataFrame({"pro_com_t": m.index, "name": m["name"].to_numpy()})
    out["status"] = np.where(outside, OUTSIDE, "ok")
    out["score"] = np.round(score, 2)
    out["rank"] = pd.Series(score).rank(ascending=False, method="min").astype("Int64").to_numpy()
    for j, c in enumerate(cats):
        out[f"time_{c}"] = np.where(usable[:, j], tv[:, j], np.nan)
    for j, c in enumerate(names):
        out[f"contrib_{c}"] = np.where(outside | ~avail[:, j], np.nan, np.round(contrib[:, j], 2))
    cmat = np.where(avail & ~outside[:, None], contrib, -1.0)
    main = np.array(names, dtype=object)[np.argmax(cmat, axis=1)]
    main[outside] = None
    out["main_factor"] = main
    st_np = st.to_numpy()
    excl = []
    for i in range(len(m)):
        parts = [f"{c} ({st_np[i, j]})" for j, c in enumerate(cats) if not usable[i, j]]
        parts += [
            f"{c} (no data)" for j, c in enumerate(STRUCTURAL) if not np.isfinite(s_str[i, j])
        ]
        excl.append("; ".join(parts))
    out["excluded"] = excl
    for col in ("pop_total", "pop_65_plus"):
        if col in m.columns:
            out[col] = m[col].to_numpy()
    return out


def category_label(code: str, lang: str = "en") -> str:
    """Label of a component (service category or structural factor) in ``lang``."""
    if code in STRUCTURAL:
        return STRUCTURAL[code][0 if lang == "it" else 1]
    cat = CATEGORIES[code]
    return cat.label_it if lang == "it" else cat.label_en


def index_from_access(
    municipalities: pd.DataFrame,
    access_municipalities: pd.DataFrame,
    *,
    cfg: IndexConfig,
    access_cells: pd.DataFrame | None = None,
    population_cells: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Compute the index from the accessibility layers of a bundle.

    Uses the cell times (with the 65+ weighting) when ``access_cells`` and
    ``population_cells`` are given, else the municipal ``mean_min`` (no 65+
    weighting); the ``time_source`` column says which.
    """
    cats = [c for c, w in cfg.service_weights.items() if w > 0]
    if access_cells is not None and population_cells is not None:
        times = weighted_times(
            access_cells,
            population_cells,
            categories=cats,
            elderly_categories=cfg.elderly_categories,
            elderly_weight=cfg.elderly_weight,
        )
        how = "cells_65plus_weighted"
    else:
        times = municipal_times(access_municipalities, categories=cats)
        how = "mean_min"
    status = status_wide(access_municipalities, categories=cats)
    out = marginality_index(municipalities, times, status, cfg=cfg)
    out["time_source"] = how
    return out
