"""Accessibility indicators per population cell and per municipality.

For one category, :func:`category_indicators` returns two tables:

``access_cells`` (one row per population cell piece)
    ``cell_id``, ``pro_com_t``, ``category``, ``status``, ``time_min``,
    ``nearest_service_id``. ``status`` is ``"ok"``, ``"outside_coverage"``
    (the cell's point is beyond ``max_snap_m`` or outside the network's
    coverage polygon), ``"unreachable"`` (covered, but no facility of the
    category can be reached) or ``"no_data"`` (the category has no source covering
    the cell's municipality). Only ``"ok"`` rows carry a time.

``access_municipalities`` (LONG format, one row per municipality and category)
    ``pro_com_t``, ``category``, ``status`` (``"ok"`` | ``"partial"`` |
    ``"outside_coverage"`` | ``"no_data"``), ``covered_pop_share``,
    ``ref_time_min``, ``ref_nearest_service_id``, ``mean_min``, ``median_min``,
    ``p90_min``, ``pop_beyond_{T}``, ``pop65_beyond_{T}``, ``pop_u15_beyond_{T}``,
    ``share_beyond_{T}``, ``share65_beyond_{T}`` (T in ``thresholds_min``,
    written with ``{T:g}``, e.g. ``pop_beyond_30``), ``opportunities_15``,
    ``opportunities_30``, ``sfca``, ``e2sfca``.

Formulas (cells ``k`` of municipality ``m`` with status ``ok`` or
``unreachable``, residents ``P_k``, time ``t_k`` in minutes; "covered
residents" = sum of their ``P_k``). An unreachable cell is inside coverage but
no facility can be reached on the network (since points snap to the largest
strongly connected component, this happens only when the category has no
facility inside coverage, e.g. after a what-if closure): its time is ``+inf``,
so it counts beyond every threshold and makes the mean (and quantiles that
fall on it) ``inf`` rather than a made-up finite number.

* ``covered_pop_share`` = covered residents / all residents of the
  municipality's cells (cells outside coverage are not covered).
  ``status`` is ``ok`` when it is 1, ``partial`` when in (0, 1),
  ``outside_coverage`` when 0. A municipality with no populated cell takes
  1 or 0 from its reference point.
* ``mean_min`` = sum P_k t_k / sum P_k.
* ``median_min``, ``p90_min``: weighted quantiles (see
  :func:`weighted_quantiles`): the smallest ``t_k`` whose cumulative weight,
  in ascending time order, reaches ``q`` times the total.
* ``pop_beyond_T`` = sum of ``P_k`` with ``t_k > T`` (strictly); ``pop65_*``
  and ``pop_u15_*`` the same with the 65+ and under-15 counts;
  ``share_beyond_T`` = pop_beyond_T / covered residents, ``share65_beyond_T``
  = pop65_beyond_T / covered residents aged 65+.
* ``ref_time_min``: from the municipality's reference point (NaN when it is
  outside coverage, ``inf`` when covered but no facility is reachable),
  ``ref_nearest_service_id`` the facility reached.
* ``opportunities_15`` / ``_30``: number of facilities of the category
  reachable within 15 / 30 minutes FROM the reference point (cumulative
  opportunities, Hansen-type with a step function). NaN when the reference
  point is outside coverage.
* ``sfca`` / ``e2sfca``: see :mod:`territorio.accessibility.fsca` (Luo & Wang
  2003; Luo & Qi 2009) with ``d0 = catchment_min``; the municipality value is
  the population-weighted mean of its covered cells' scores. Computed for the
  categories in ``AccessConfig.sfca_categories`` (default: those whose
  services carry at least one ``capacity``, e.g. hospital beds), NaN for the
  others (documented, not invented).

Outside coverage and no data give NaN numbers and the status, never a number.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from territorio.accessibility.context import AccessContext, NearestTimes
from territorio.accessibility.fsca import two_step_fca
from territorio.accessibility.nearest import one_to_many

__all__ = [
    "CELL_COLUMNS",
    "OPPORTUNITY_MINUTES",
    "category_indicators",
    "municipality_columns",
    "weighted_quantiles",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

CELL_COLUMNS = ("cell_id", "pro_com_t", "category", "status", "time_min", "nearest_service_id")
OPPORTUNITY_MINUTES = (15, 30)
_PREFIXES = ("pop_beyond", "pop65_beyond", "pop_u15_beyond", "share_beyond", "share65_beyond")


def _tag(t: float) -> str:
    return f"{t:g}"


def municipality_columns(thresholds_min: Any) -> list[str]:
    """Column names of ``access_municipalities`` for the given thresholds."""
    cols = [
        "pro_com_t", "category", "status", "covered_pop_share", "ref_time_min",
        "ref_nearest_service_id", "mean_min", "median_min", "p90_min",
    ]  # fmt: skip
    for prefix in _PREFIXES:
        cols += [f"{prefix}_{_tag(t)}" for t in thresholds_min]
    cols += [f"opportunities_{m}" for m in OPPORTUNITY_MINUTES] + ["sfca", "e2sfca"]
    return cols


def weighted_quantiles(
    values: FloatArray,
    weights: FloatArray,
    groups: IntArray,
    n_groups: int,
    qs: Any,
) -> FloatArray:
    """Exact weighted quantiles per group, vectorised (no loop over groups).

    The ``q`` quantile of a group is the smallest value ``v_i`` (values sorted
    ascending) whose cumulative weight ``W_i = w_1 + ... + w_i`` reaches
    ``q * W`` (``W`` the group's total weight), i.e. the inverse of the
    weighted empirical CDF. Zero-weight values are never chosen unless tied
    with a weighted one. Cumulative weights are compared with a relative
    tolerance of 1e-9 to absorb floating-point sums.

    Parameters
    ----------
    values, weights
        Finite values and non-negative weights.
    groups
        Group index of each value, ``0 <= g < n_groups``.
    n_groups
        Number of groups.
    qs
        Quantiles in (0, 1].

    Returns
    -------
    ndarray, shape (n_groups, len(qs))
        NaN for groups with no weight.
    """
    qs = np.atleast_1d(np.asarray(qs, dtype=float))
    out = np.full((n_groups, len(qs)), np.nan)
    if len(values) == 0:
        return out
    order = np.lexsort((values, groups))
    v = np.asarray(values, dtype=float)[order]
    w = np.asarray(weights, dtype=float)[order]
    g = np.asarray(groups, dtype=np.int64)[order]
    cum = np.cumsum(w)
    gid = np.arange(n_groups)
    starts = np.searchsorted(g, gid, side="left")
    ends = np.searchsorted(g, gid, side="right")
    has = (ends > starts) & (np.bincount(g, weights=w, minlength=n_groups) > 0)
    base = np.where(starts > 0, cum[np.maximum(starts - 1, 0)], 0.0)
    total = np.where(ends > starts, cum[np.maximum(ends - 1, 0)] - base, 0.0)
    for j, q in enumerate(qs):
        target = base + q * total - 1e-9 * total
        idx = np.searchsorted(cum, target, side="left")
        idx = np.clip(idx, starts, np.maximum(ends - 1, starts))
        out[has, j] = v[np.minimum(idx[has], len(v) - 1)]
    return out


def _service_points(services: Any) -> tuple[FloatArray, FloatArray]:
    import shapely

    if len(services) == 0:
        return np.zeros(0), np.zeros(0)
    geoms = np.asarray(services.geometry.to_numpy())
    if getattr(services, "crs", None) is not None and services.crs.to_epsg() != 4326:
        geoms = np.asarray(services.geometry.to_crs(4326).to_numpy())
    pts = geoms.copy()
    other = shapely.get_type_id(pts) != 0
    if other.any():
        pts[other] = shapely.point_on_surface(pts[other])
    return shapely.get_x(pts).astype(float), shapely.get_y(pts).astype(float)


def _has_data(ctx: AccessContext, category: str, n_services: int, codes: Any) -> Any:
    """Return True where the category has data for each ISTAT code in ``codes``."""
    info = ctx.service_categories.get(category) or {}
    count = info.get("count")
    has = n_services > 0 or bool(count)
    codes = np.asarray(codes, dtype=object)
    if not has:
        return np.zeros(len(codes), dtype=bool)
    cov = info.get("coverage", "area")
    if isinstance(cov, (list, tuple)):
        return np.isin(codes, np.asarray([str(c) for c in cov], dtype=object))
    return np.ones(len(codes), dtype=bool)


def _sfca_enabled(ctx: AccessContext, category: str, capacity: FloatArray) -> bool:
    chosen = getattr(ctx.cfg, "sfca_categories", None)
    if chosen is None:
        return bool(np.isfinite(capacity).any())
    return category in chosen


def _cell_fca(
    ctx: AccessContext, nodes: IntArray, offsets: FloatArray, capacity: FloatArray, ok: Any
) -> tuple[FloatArray, FloatArray]:
    """2SFCA and E2SFCA per cell (NaN where the cell is not ``ok``).

    One bounded search per facility on the reversed graph (in parallel),
    reporting only the cells' nodes.
    """
    d0 = ctx.cfg.catchment_min * 60.0
    cell_node = ctx.cells["node"].to_numpy()
    leg = ctx.cells["offset_s"].to_numpy()
    d = one_to_many(
        ctx.network.compiled("reverse"), nodes, offsets, limit=d0,
        targets=np.where(ok, cell_node, 0),
    )  # fmt: skip
    with np.errstate(invalid="ignore"):
        times = d + np.where(ok, leg, 0.0)
    times[:, ~ok] = np.nan
    pop = np.where(ok, ctx.cells["pop_total"].to_numpy(), 0.0)
    a = two_step_fca(times, capacity, pop, d0)
    e = two_step_fca(times, capacity, pop, d0, enhanced=True)
    return np.where(ok, a, np.nan), np.where(ok, e, np.nan)


def category_indicators(
    ctx: AccessContext,
    services: Any,
    category: str,
    *,
    nearest: NearestTimes | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cell rows and municipality rows of one category (``access_*`` schemas).

    Recomputes everything for ``services`` without rebuilding the network, so
    a what-if scenario (a post office closes, a pharmacy opens) is a call with
    an edited services table.

    Parameters
    ----------
    ctx
        The :class:`~territorio.accessibility.context.AccessContext`.
    services
        GeoDataFrame of the category's facilities (``service_id``,
        optional ``capacity``, Point geometry in EPSG:4326).
    category
        Category code (used for the ``category`` column and the data
        coverage in ``ctx.service_categories``).
    nearest
        Precomputed :meth:`AccessContext.times_to_nearest` for these services
        (optional; computed when omitted).

    Returns
    -------
    cells : DataFrame
        Columns :data:`CELL_COLUMNS`.
    municipalities : DataFrame
        Columns :func:`municipality_columns` of ``ctx.cfg.thresholds_min``.
    """
    cfg = ctx.cfg
    arr = ctx.arrays()
    n_cells, n_m = len(arr["cell_id"]), len(arr["muni_code"])
    ids = (
        services["service_id"].astype(str).to_numpy(dtype=object)
        if len(services)
        else np.zeros(0, dtype=object)
    )
    capacity = (
        services["capacity"].to_numpy(dtype=float)
        if "capacity" in services and len(services)
        else np.full(len(services), np.nan)
    )
    lon, lat = _service_points(services)
    if nearest is None:
        nearest = ctx.times_to_nearest(lon, lat)

    # ---------------------------------------------------------------- cells
    cell_has = _has_data(ctx, category, len(services), arr["cell_code"])
    covered = arr["cell_covered"]
    t_s = nearest.cell_s
    ok = cell_has & covered & np.isfinite(t_s)
    status = np.where(
        ~cell_has,
        "no_data",
        np.where(~covered, "outside_coverage", np.where(ok, "ok", "unreachable")),
    )
    tgt = nearest.cell_target
    sid = np.full(n_cells, None, dtype=object)
    sid[ok] = ids[tgt[ok]]
    cells_out = pd.DataFrame(
        {
            "cell_id": arr["cell_id"],
            "pro_com_t": arr["cell_code"],
            "category": category,
            "status": status,
            "time_min": np.where(ok, t_s / 60.0, np.nan),
            "nearest_service_id": sid,
        }
    )

    # -------------------------------------------------------- municipalities
    m_codes = arr["muni_code"]
    m_has = _has_data(ctx, category, len(services), m_codes)
    g_all = arr["cell_group"]
    inm = g_all >= 0
    pop, pop65, pop15 = arr["pop"], arr["pop65"], arr["pop15"]
    # covered = inside coverage with data; unreachable cells (no facility at all on
    # the network, e.g. after a closure) count as covered, at an infinite time
    inc = cell_has & covered
    okm = inc & inm
    g = g_all[okm]
    t_min = np.where(ok[okm], t_s[okm] / 60.0, np.inf)
    p, p65, p15 = pop[okm], pop65[okm], pop15[okm]

    def bc(gi: IntArray, w: Any) -> FloatArray:
        return np.bincount(gi, weights=w, minlength=n_m).astype(float)

    pop_all = bc(g_all[inm], pop[inm])
    pop_cov = bc(g, p)
    pop65_cov = bc(g, p65)
    ref_cov = arr["muni_covered"]
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(pop_all > 0, pop_cov / pop_all, np.where(ref_cov, 1.0, 0.0))
    share = np.clip(share, 0.0, 1.0)
    full = share >= 1.0 - 1e-9
    m_status = np.where(
        ~m_has, "no_data", np.where(full, "ok", np.where(share > 0, "partial", "outside_coverage"))
    )
    valid = m_has & (share > 0)
    nan = np.full(n_m, np.nan)
    out: dict[str, Any] = {
        "pro_com_t": m_codes,
        "category": category,
        "status": m_status,
        "covered_pop_share": np.where(m_has, share, np.nan),
    }
    ref_ok = m_has & np.isfinite(nearest.ref_s)
    ref_unreached = m_has & arr["muni_covered"] & ~ref_ok
    out["ref_time_min"] = np.where(
        ref_ok, nearest.ref_s / 60.0, np.where(ref_unreached, np.inf, np.nan)
    )
    rsid = np.full(n_m, None, dtype=object)
    rsid[ref_ok] = ids[nearest.ref_target[ref_ok]]
    out["ref_nearest_service_id"] = rsid
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(pop_cov > 0, bc(g, np.where(p > 0, p * t_min, 0.0)) / pop_cov, np.nan)
    qv = weighted_quantiles(t_min, p, g, n_m, [0.5, 0.9])
    has_w = valid & (pop_cov > 0)
    out["mean_min"] = np.where(has_w, mean, nan)
    out["median_min"] = np.where(has_w, qv[:, 0], nan)
    out["p90_min"] = np.where(has_w, qv[:, 1], nan)
    beyond: dict[str, FloatArray] = {}
    for t in cfg.thresholds_min:
        far = t_min > t
        tag = _tag(t)
        beyond[f"pop_beyond_{tag}"] = np.where(valid, bc(g, p * far), nan)
        beyond[f"pop65_beyond_{tag}"] = np.where(valid, bc(g, p65 * far), nan)
        beyond[f"pop_u15_beyond_{tag}"] = np.where(valid, bc(g, p15 * far), nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        for t in cfg.thresholds_min:
            tag = _tag(t)
            beyond[f"share_beyond_{tag}"] = np.where(
                has_w, beyond[f"pop_beyond_{tag}"] / pop_cov, nan
            )
            beyond[f"share65_beyond_{tag}"] = np.where(
                valid & (pop65_cov > 0), beyond[f"pop65_beyond_{tag}"] / pop65_cov, nan
            )
    for prefix in _PREFIXES:
        for t in cfg.thresholds_min:
            key = f"{prefix}_{_tag(t)}"
            out[key] = beyond[key]

    # opportunities from the reference point
    snap = nearest.target_snap
    fidx = np.flatnonzero(snap.covered)
    ref_in = m_has & ref_cov
    if len(fidx) and ref_in.any():
        lim = max(OPPORTUNITY_MINUTES) * 60.0
        rows, r = ctx.ref_times_by_node(lim)
        tt = r[snap.node[fidx]] + snap.offset_s[fidx][:, None]
        for mins in OPPORTUNITY_MINUTES:
            cnt = np.zeros(n_m)
            cnt[rows] = (tt <= mins * 60.0).sum(axis=0)
            out[f"opportunities_{mins}"] = np.where(ref_in, cnt, np.nan)
    else:
        for mins in OPPORTUNITY_MINUTES:
            out[f"opportunities_{mins}"] = np.where(ref_in, 0.0, np.nan)

    # floating catchment
    if len(fidx) and _sfca_enabled(ctx, category, capacity):
        a, e = _cell_fca(ctx, snap.node[fidx], snap.offset_s[fidx], capacity[fidx], inc)
        with np.errstate(invalid="ignore", divide="ignore"):
            out["sfca"] = np.where(has_w, bc(g, p * a[okm]) / pop_cov, nan)
            out["e2sfca"] = np.where(has_w, bc(g, p * e[okm]) / pop_cov, nan)
    else:
        out["sfca"] = nan
        out["e2sfca"] = nan.copy()
    muni_out = pd.DataFrame(out)[municipality_columns(cfg.thresholds_min)]
    return cells_out, muni_out
