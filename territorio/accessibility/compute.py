"""Compute and persist the accessibility layers of a bundle.

:func:`compute_access` builds the :class:`~territorio.accessibility.context.AccessContext`
once, runs :func:`~territorio.accessibility.indicators.category_indicators`
for every category of the taxonomy (categories without services come out as
``"no_data"``), traces the 10/20/30-minute car isochrones from every comune's
reference point (reusing the indicators' searches), and writes ``access_cells``,
``access_municipalities`` and ``access_isochrones`` plus a
``manifest["access"]`` entry (parameters, mode, timings) with
:func:`territorio.bundle.update_bundle` (atomic).

Cost (real Turin bundle: 73,192 nodes, 6,393 cell pieces, 8,522 services,
2 cores shared with other jobs; ``bench/accessibility.py``): about 0.84 s
cold, of which 0.18 s context (CSR graph, snapping), 0.40 s the bounded
searches from the 62 covered reference points (``opportunities_*``, shared by
all categories), 0.12 s the nearest-facility searches of all categories (one
parallel batch of the compiled Dijkstra) and the rest indicators and 2SFCA.
The bare scipy cost of the same searches is 0.77 s (a/b2 = 1.1); against the
category searches alone (0.10 s) the ratio is 8.4, because cumulative
opportunities and 2SFCA need one search per reference point and per facility.
The numba kernel load (0.3-0.5 s per process, a few seconds to compile the
very first time) is not included.
"""

from __future__ import annotations

import time
from typing import Any

import pandas as pd

from territorio.accessibility.context import AccessContext
from territorio.accessibility.indicators import category_indicators
from territorio.accessibility.isochrones import (
    REFERENCE_CELL_M,
    REFERENCE_MINUTES,
    reference_isochrones,
)
from territorio.accessibility.network import Mode
from territorio.bundle import Bundle, update_bundle
from territorio.categories import CATEGORIES, check_category
from territorio.config import AccessConfig
from territorio.provenance import now_iso

__all__ = ["compute_access", "compute_tables"]


def compute_tables(
    ctx: AccessContext,
    services: pd.DataFrame,
    *,
    categories: list[str] | None = None,
    progress: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, float]]:
    """Compute ``access_cells`` and ``access_municipalities`` for all categories.

    Parameters
    ----------
    ctx
        The access context.
    services
        The bundle's ``services`` layer.
    categories
        Categories to compute (default: the whole taxonomy, plus any other
        valid category present in ``services``).
    progress
        Show a tqdm progress bar on stderr.

    Returns
    -------
    cells, municipalities, timings
        The two long tables and the seconds spent per category.
    """
    from tqdm import tqdm

    present = [str(c) for c in pd.unique(services["category"])] if len(services) else []
    for i, code in enumerate(present):
        check_category(code, where=f"layer 'services', category value #{i}")
    cats = categories or list(CATEGORIES) + [c for c in present if c not in CATEGORIES]
    groups = {c: g for c, g in services.groupby("category", sort=False)} if len(services) else {}
    empty = services.iloc[0:0]
    cell_parts: list[pd.DataFrame] = []
    muni_parts: list[pd.DataFrame] = []
    timings: dict[str, float] = {}
    # the nearest-facility searches of all categories run as one parallel batch
    from territorio.accessibility.indicators import _service_points

    t0 = time.perf_counter()
    with_services = [c for c in cats if c in groups and len(groups[c])]
    nearest = dict(
        zip(
            with_services,
            ctx.times_to_nearest_many([_service_points(groups[c]) for c in with_services]),
            strict=True,
        )
    )
    t_nearest = time.perf_counter() - t0
    for cat in tqdm(cats, desc="access", unit="category", disable=not progress):
        t0 = time.perf_counter()
        cells, munis = category_indicators(
            ctx, groups.get(cat, empty), cat, nearest=nearest.get(cat)
        )
        timings[cat] = round(time.perf_counter() - t0, 4)
        cell_parts.append(cells)
        muni_parts.append(munis)
    timings["nearest_searches"] = round(t_nearest, 4)
    return (
        pd.concat(cell_parts, ignore_index=True),
        pd.concat(muni_parts, ignore_index=True),
        timings,
    )


def compute_access(
    bundle: Bundle,
    cfg: AccessConfig,
    *,
    progress: bool = True,
    mode: Mode = "car",
) -> Bundle:
    """Compute accessibility for every category and cell and persist it in the bundle.

    Parameters
    ----------
    bundle
        The territory bundle (needs ``road_nodes``, ``road_edges``,
        ``municipalities``, ``population_cells`` and ``services``).
    cfg
        Accessibility parameters.
    progress
        Show progress bars.
    mode
        ``"car"`` (default) or ``"walk"`` (only if the bundle was built with it).

    Returns
    -------
    Bundle
        The updated bundle, with ``access_cells``, ``access_municipalities``
        and ``manifest["access"]``.
    """
    t0 = time.perf_counter()
    ctx = AccessContext.from_bundle(bundle, cfg, mode=mode)
    t_ctx = time.perf_counter() - t0
    cells, munis, timings = compute_tables(ctx, bundle.layer("services"), progress=progress)
    t_iso = time.perf_counter()
    isos = reference_isochrones(ctx, progress=progress)
    timings["isochrones"] = round(time.perf_counter() - t_iso, 4)
    t_all = time.perf_counter() - t0
    info: dict[str, Any] = {
        # the build these layers were derived from (territorio.freshness)
        "build_id": bundle.build_id,
        "computed_at": now_iso(),
        "mode": mode,
        "parameters": cfg.model_dump(),
        "network": {
            "nodes": ctx.network.n_nodes,
            "arcs": int(ctx.network.graph.nnz),
            "metric_crs": ctx.network.metric_crs,
        },
        "cells_outside_coverage": int((~ctx.cells["covered"]).sum()),
        "municipality_refs_outside_coverage": int((~ctx.municipalities["covered"]).sum()),
        "isochrones": {
            "minutes": list(REFERENCE_MINUTES),
            "cell_m": REFERENCE_CELL_M,
            "buffer_m": 100.0,
            "from": "reference points",
        },
        "timings_s": {
            "context": round(t_ctx, 3),
            "categories": timings,
            "total": round(t_all, 3),
        },
    }
    return update_bundle(
        bundle,
        {"access_cells": cells, "access_municipalities": munis, "access_isochrones": isos},
        {"access": info},
    )
