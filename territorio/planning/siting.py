"""Where to put a community-cooperative welfare point: maximal covering location.

Problem
-------
A new multi-service point offers every category of a *service bundle*
(e.g. pharmacy corner, post desk, digital help). A resident is **served**
when, for every category of the bundle, a service is within ``T`` minutes
by road (driving *to* it): an existing one, or a new point. Existing services
stay fixed. Choose ``k`` sites among candidates to maximise the residents
(or residents aged 65+) newly served.

Because a new point offers the whole bundle, a cell not served today becomes
served exactly when some chosen site is within ``T`` of it: the problem is
the classic maximal covering location problem (Church & ReVelle 1974) on the
demand of the cells not served today.

Method
------
1. *Served today*: per bundle category, the time from each population cell to
   the nearest existing service (the accessibility engine's one multi-source
   search per category, or the bundle's ``access_cells``). Cells outside
   network coverage, unreachable, or whose category has no data are left out
   of the demand (we cannot say they are unserved) and counted in the report.
2. *Coverage matrix*: a sparse candidate x cell boolean matrix ``A`` with
   ``A[i, j] = 1`` when cell ``j`` reaches candidate ``i`` within ``T``;
   computed with one limited multi-source search (``limit = T``) per batch
   of candidates on the reversed graph, no loop over cells.
3. *Greedy with exact marginal gains*: ``gain = A @ w`` (``w`` = demand still
   uncovered), take the best candidate (ties: first in candidate order), zero
   the weights of the cells it covers, repeat ``k`` times or until no
   candidate adds anyone. Greedy is within ``1 - 1/e`` of the optimum for
   this submodular objective, and exact for ``k = 1``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from territorio.errors import DataValidationError, MissingColumnError, SourceNotFoundError

__all__ = [
    "SitingResult",
    "coverage_matrix",
    "greedy_max_cover",
    "load_candidates",
    "served_today",
    "site_services",
]

FloatArray = npt.NDArray[np.float64]


def greedy_max_cover(
    cover: sp.csr_matrix, demand: FloatArray, k: int
) -> tuple[list[int], list[float]]:
    """Greedy maximal covering with exact marginal gains.

    Parameters
    ----------
    cover
        Sparse boolean matrix, candidates x demand points.
    demand
        Weight of each demand point still to cover (0 for those already served).
    k
        Number of sites to choose.

    Returns
    -------
    chosen, gains
        Candidate row indices in the order chosen, and the weight each one
        newly covered. Stops early when no candidate adds any weight.
    """
    a = sp.csr_matrix(cover, dtype=np.float64)
    w = np.asarray(demand, dtype=float).copy()
    chosen: list[int] = []
    gains: list[float] = []
    for _ in range(k):
        g = np.asarray(a @ w).ravel()
        if chosen:
            g[chosen] = -1.0
        if len(g) == 0:
            break
        best = int(np.argmax(g))
        if g[best] <= 0:
            break
        chosen.append(best)
        gains.append(float(g[best]))
        w[a.indices[a.indptr[best] : a.indptr[best + 1]]] = 0.0
    return chosen, gains


def coverage_matrix(
    ctx: Any,
    lon: FloatArray,
    lat: FloatArray,
    *,
    t_min: float,
    cells: npt.NDArray[np.intp] | None = None,
    batch: int = 32,
) -> sp.csr_matrix:
    """Candidate x cell coverage within ``t_min`` minutes (residents driving to the site).

    Parameters
    ----------
    ctx
        :class:`~territorio.accessibility.context.AccessContext`.
    lon, lat
        Candidate coordinates (EPSG:4326).
    t_min
        Coverage time in minutes.
    cells
        Positions (in ``ctx.cells``) of the demand cells; default all.
    batch
        Candidates per search (memory ``8 * batch * n_nodes`` bytes).

    Returns
    -------
    scipy.sparse.csr_matrix
        Boolean, shape ``(n_candidates, len(cells))``. Candidates outside
        network coverage get an empty row.
    """
    limit = t_min * 60.0
    cols = np.arange(len(ctx.cells)) if cells is None else np.asarray(cells)
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    blocks = []
    for start in range(0, len(lon), batch):
        sl = slice(start, start + batch)
        d = ctx.times_to(lon[sl], lat[sl], limit_s=limit)  # nodes -> candidate
        t = ctx.at_cells(d)[:, cols]  # adds each cell's off-network leg
        with np.errstate(invalid="ignore"):
            blocks.append(sp.csr_matrix(t <= limit))
    if not blocks:
        return sp.csr_matrix((0, len(cols)), dtype=bool)
    return sp.vstack(blocks).tocsr()


def served_today(
    ctx: Any,
    services: pd.DataFrame,
    categories: Sequence[str],
    *,
    t_min: float,
    access_cells: pd.DataFrame | None = None,
    scope: npt.NDArray[np.bool_] | None = None,
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_], list[str]]:
    """Which cells are served today by the whole bundle, and which can be judged.

    Returns
    -------
    served, known, dropped
        Boolean arrays over ``ctx.cells``: ``served`` when every category has
        a service within ``t_min``; ``known`` when every category has status
        ``ok`` (outside coverage, unreachable or no data make a cell unknown:
        it is left out of the demand). ``dropped``: categories with no data
        anywhere in ``scope`` (e.g. no source of digital help at all); they
        cannot tell who is served today, so they are left out of the test
        (the new point offers them anyway) instead of making every cell unknown.
    """
    from territorio.planning.scenarios import indicators

    n = len(ctx.cells)
    served = np.ones(n, dtype=bool)
    known = np.ones(n, dtype=bool)
    dropped: list[str] = []
    in_scope = np.ones(n, dtype=bool) if scope is None else np.asarray(scope, dtype=bool)
    key = pd.MultiIndex.from_arrays(
        [ctx.cells["cell_id"].astype(str), ctx.cells["pro_com_t"].astype(str)]
    )
    for cat in categories:
        rows: pd.DataFrame | None = None
        if access_cells is not None:
            rows = access_cells[access_cells["category"] == cat]
            if len(rows) == 0:
                rows = None
        if rows is None:
            svc = services[services["category"] == cat]
            rows, _ = indicators(ctx, svc, cat)
        idx = pd.MultiIndex.from_arrays(
            [rows["cell_id"].astype(str), rows["pro_com_t"].astype(str)]
        )
        pos = idx.get_indexer(key)
        status = np.where(pos >= 0, rows["status"].to_numpy(dtype=object)[pos], "no_data")
        time = np.where(pos >= 0, rows["time_min"].to_numpy(dtype=float)[pos], np.nan)
        if (status[in_scope] == "no_data").all():
            dropped.append(cat)
            continue
        ok = status == "ok"
        with np.errstate(invalid="ignore"):
            served &= ok & (time <= t_min)
        known &= ok
    return served, known, dropped


def load_candidates(path: str | Path) -> pd.DataFrame:
    """Read candidate sites from a CSV (``lon``, ``lat``) or a GeoJSON/GeoPackage of points.

    Optional columns ``site_id`` and ``name``. Returns ``site_id``, ``name``,
    ``lon``, ``lat``.
    """
    p = Path(path)
    if not p.is_file():
        raise SourceNotFoundError(f"candidate sites file not found: {p}")
    if p.suffix.lower() in (".csv", ".txt"):
        df = pd.read_csv(p, dtype={"site_id": str, "name": str})
        cols = {c.lower(): c for c in df.columns}
        lon = cols.get("lon") or cols.get("longitude") or cols.get("x")
        lat = cols.get("lat") or cols.get("latitude") or cols.get("y")
        if lon is None or lat is None:
            raise MissingColumnError(
                f"{p}: candidate sites need 'lon' and 'lat' columns (EPSG:4326); "
                f"found {', '.join(map(str, df.columns))}"
            )
        out = pd.DataFrame(
            {
                "lon": pd.to_numeric(df[lon], errors="coerce"),
                "lat": pd.to_numeric(df[lat], errors="coerce"),
            }
        )
    else:
        import geopandas as gpd

        df = gpd.read_file(p)
        if df.crs is not None and df.crs.to_epsg() != 4326:
            df = df.to_crs(4326)
        pts = df.geometry.representative_point()
        out = pd.DataFrame({"lon": pts.x.to_numpy(), "lat": pts.y.to_numpy()})
    bad = ~(out["lon"].between(-180, 180) & out["lat"].between(-90, 90))
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataValidationError(
            f"{p}: row {row + 1}: invalid coordinates; give lon/lat in degrees (EPSG:4326)"
        )
    ids = (
        df["site_id"]
        if "site_id" in df.columns
        else pd.Series([f"site{i + 1}" for i in range(len(df))])
    )
    names = df["name"] if "name" in df.columns else ids
    out.insert(0, "site_id", ids.astype(str).to_numpy())
    out.insert(1, "name", names.astype(str).to_numpy())
    return out


class SitingResult:
    """Chosen sites and the coverage they bring.

    Attributes
    ----------
    sites
        One row per chosen site in the order chosen: ``order``, ``site_id``,
        ``name``, ``lon``, ``lat``, ``marginal_gain`` (residents, or 65+,
        newly served), ``marginal_gain_pop``, ``marginal_gain_65``,
        ``served_before`` and ``served_after`` (cumulative, residents or 65+),
        ``share_before`` / ``share_after`` (of the judged demand).
    summary
        Totals: ``demand`` column, ``t_min``, ``categories``, ``residents``
        in scope, ``served_today``, ``unknown`` (left out: outside coverage or
        no data), ``served_after``, ``candidates``, ``covered_candidates``.
    cells
        Per demand cell: ``cell_id``, ``pro_com_t``, ``pop_total``,
        ``pop_65_plus``, ``served_today``, ``known``, ``served_by`` (site_id).
    """

    def __init__(self, sites: pd.DataFrame, summary: dict[str, Any], cells: pd.DataFrame) -> None:
        self.sites = sites
        self.summary = summary
        self.cells = cells

    def __repr__(self) -> str:
        return f"SitingResult({len(self.sites)} sites, {self.summary})"


def site_services(
    ctx: Any,
    services: pd.DataFrame,
    *,
    categories: Sequence[str],
    k: int,
    t_min: float,
    demand: str = "pop_total",
    municipalities: Sequence[str] | None = None,
    candidates: pd.DataFrame | None = None,
    access_cells: pd.DataFrame | None = None,
    names: Mapping[str, str] | None = None,
    batch: int = 32,
) -> SitingResult:
    """Choose ``k`` sites maximising the residents newly within ``t_min`` of the bundle.

    Parameters
    ----------
    ctx
        :class:`~territorio.accessibility.context.AccessContext`.
    services
        Services layer (existing services, kept fixed).
    categories
        The service bundle offered by each new site.
    k
        Number of sites.
    t_min
        Coverage time (minutes, driving to the site).
    demand
        ``"pop_total"`` or ``"pop_65_plus"``.
    municipalities
        ISTAT codes of the area (a cluster); default the whole context.
        Demand cells are those of these municipalities; default candidates
        are their reference points.
    candidates
        ``site_id``, ``name``, ``lon``, ``lat`` (see :func:`load_candidates`).
    access_cells
        The bundle's ``access_cells`` (saves one search per category).
    names
        Municipality names by ISTAT code, to name the default candidates.
    batch
        Candidates per search.
    """
    if demand not in ("pop_total", "pop_65_plus"):
        raise DataValidationError(f"demand must be 'pop_total' or 'pop_65_plus', got {demand!r}")
    cells = ctx.cells
    munis = ctx.municipalities
    in_area = (
        np.ones(len(cells), dtype=bool)
        if municipalities is None
        else cells["pro_com_t"].astype(str).isin(list(municipalities)).to_numpy()
    )
    if candidates is None:
        sel = (
            np.ones(len(munis), dtype=bool)
            if municipalities is None
            else munis["pro_com_t"].astype(str).isin(list(municipalities)).to_numpy()
        )
        codes = munis["pro_com_t"][sel].astype(str)
        candidates = pd.DataFrame(
            {
                "site_id": codes.to_numpy(),
                "name": [str((names or {}).get(c, c)) for c in codes],
                "lon": munis["ref_lon"][sel].to_numpy(dtype=float),
                "lat": munis["ref_lat"][sel].to_numpy(dtype=float),
            }
        )
    served, known, dropped = served_today(
        ctx, services, categories, t_min=t_min, access_cells=access_cells, scope=in_area
    )
    area_idx = np.flatnonzero(in_area)
    pop = cells["pop_total"].to_numpy(dtype=float)[area_idx]
    pop65 = cells["pop_65_plus"].to_numpy(dtype=float)[area_idx]
    weight = pop if demand == "pop_total" else pop65
    s_today, k_today = served[area_idx], known[area_idx]
    open_ = k_today & ~s_today
    cover = coverage_matrix(
        ctx,
        candidates["lon"].to_numpy(float),
        candidates["lat"].to_numpy(float),
        t_min=t_min,
        cells=area_idx,
        batch=batch,
    )
    chosen, gains = greedy_max_cover(cover, np.where(open_, weight, 0.0), k)
    judged = float(weight[k_today].sum())
    before = float(weight[s_today].sum())
    rows = []
    covered = np.zeros(len(area_idx), dtype=bool)
    served_by = np.full(len(area_idx), None, dtype=object)
    cum = before
    for order, (i, g) in enumerate(zip(chosen, gains, strict=True), start=1):
        cols = cover.indices[cover.indptr[i] : cover.indptr[i + 1]]
        new = np.zeros(len(area_idx), dtype=bool)
        new[cols] = True
        new &= open_ & ~covered
        covered |= new
        served_by[new] = str(candidates["site_id"].iloc[i])
        rows.append(
            {
                "order": order,
                "site_id": str(candidates["site_id"].iloc[i]),
                "name": str(candidates["name"].iloc[i]),
                "lon": float(candidates["lon"].iloc[i]),
                "lat": float(candidates["lat"].iloc[i]),
                "marginal_gain": g,
                "marginal_gain_pop": float(pop[new].sum()),
                "marginal_gain_65": float(pop65[new].sum()),
                "served_before": cum,
                "served_after": cum + g,
                "share_before": cum / judged if judged > 0 else np.nan,
                "share_after": (cum + g) / judged if judged > 0 else np.nan,
            }
        )
        cum += g
    sites = pd.DataFrame(
        rows,
        columns=[
            "order",
            "site_id",
            "name",
            "lon",
            "lat",
            "marginal_gain",
            "marginal_gain_pop",
            "marginal_gain_65",
            "served_before",
            "served_after",
            "share_before",
            "share_after",
        ],
    )
    summary = {
        "demand": demand,
        "t_min": t_min,
        "categories": list(categories),
        "k": k,
        "in_scope": float(weight.sum()),
        "judged": judged,
        "unknown": float(weight[~k_today].sum()),
        "served_today": before,
        "served_after": cum,
        "candidates": len(candidates),
        "covered_candidates": int((cover.getnnz(axis=1) > 0).sum()),
        "categories_without_data": dropped,
    }
    cells_out = pd.DataFrame(
        {
            "cell_id": cells["cell_id"].to_numpy()[area_idx],
            "pro_com_t": cells["pro_com_t"].to_numpy()[area_idx],
            "pop_total": pop,
            "pop_65_plus": pop65,
            "served_today": s_today,
            "known": k_today,
            "served_by": served_by,
        }
    )
    return SitingResult(sites, summary, cells_out)
