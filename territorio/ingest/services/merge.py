"""Concatenate service sources and merge the duplicates between them.

Two rows are duplicates when they have the **same category**, come from
**different parts** (sources) and lie within ``dedup_m`` metres of each
other, e.g. the Ministry's pharmacy and the OSM node of the same pharmacy.
Rows of one source are never merged with each other: two registry
pharmacies 30 m apart are two pharmacies.

Which row is kept follows :data:`SOURCE_PRIORITY` (lower rank wins):
official registries first (they are authoritative and richer: beds,
school type, ISIL codes), then user tables, then GTFS, then
OpenStreetMap. Parts are processed from the best rank to the worst; each
row of a part is merged into the *nearest* already-kept row of the same
category within ``dedup_m`` (a KD-tree query per part, in a metric CRS
chosen from the data), otherwise it is kept. So a chain of points is never
merged transitively beyond ``dedup_m`` of the row that is kept.

The kept row records the merged ``service_id`` values in its ``attributes``
JSON (``"merged": [...]``) and takes the capacity and the name of a merged
row when it has none.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from territorio.categories import CATEGORIES
from territorio.errors import DataValidationError
from territorio.ingest.services._common import SERVICE_COLUMNS, empty_services
from territorio.schemas import validate_layer

__all__ = ["SOURCE_PRIORITY", "merge_services", "source_rank"]

#: Rank of each source (by the prefix of ``source``); lower is preferred.
SOURCE_PRIORITY: dict[str, int] = {
    "gisco": 0,
    "moh": 0,
    "miur": 0,
    "iccu": 0,
    "viaggiatreno": 0,
    "table": 1,
    "gtfs": 2,
    "osm": 3,
}
_UNKNOWN_RANK = 4
#: Categories are placed this far apart on the x axis so that one KD-tree
#: never pairs rows of different categories (far beyond any dedup distance).
_CATEGORY_OFFSET_M = 1.0e8


def source_rank(source: str) -> int:
    """Return the merge priority of a source name (``"gtfs-gtt"`` → rank of ``gtfs``)."""
    for sep in ("-", ":"):
        source = source.split(sep)[0]
    return SOURCE_PRIORITY.get(source, _UNKNOWN_RANK)


def merge_services(
    parts: Sequence[gpd.GeoDataFrame], *, dedup_m: float
) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """Concatenate service layers and merge duplicates across sources.

    Parameters
    ----------
    parts
        ``services`` layers (EPSG:4326), one per source.
    dedup_m
        Merge distance in metres (``0`` merges only identical positions).

    Returns
    -------
    tuple
        The merged ``services`` layer and a report: ``{"input": rows in,
        "output": rows out, "merged": {category: rows merged away},
        "merged_by_source": {source: rows merged away}}``.

    Raises
    ------
    DataValidationError
        If a part is not a valid ``services`` layer, or ``dedup_m`` < 0.
    """
    if dedup_m < 0:
        raise DataValidationError(f"dedup_m must be >= 0 metres, got {dedup_m}")
    layers = [validate_layer(p, "services") for p in parts if len(p)]
    report: dict[str, Any] = {
        "input": int(sum(len(p) for p in layers)),
        "output": 0,
        "merged": {},
        "merged_by_source": {},
    }
    if not layers:
        return empty_services(), report
    ranks = [
        min((source_rank(s) for s in p["source"].unique()), default=_UNKNOWN_RANK) for p in layers
    ]
    order = sorted(range(len(layers)), key=lambda i: (ranks[i], i))
    allrows = pd.concat([layers[i][list(SERVICE_COLUMNS)] for i in order], ignore_index=True)
    allrows = gpd.GeoDataFrame(allrows, geometry="geometry", crs="EPSG:4326")
    part_of = np.concatenate([np.full(len(layers[i]), k) for k, i in enumerate(order)])

    metric = allrows.estimate_utm_crs()
    pts = allrows.geometry.to_crs(metric)
    codes = {c: k for k, c in enumerate(CATEGORIES)}
    cat_idx = allrows["category"].map(codes).fillna(len(codes)).to_numpy(dtype=float)
    xy = np.column_stack([pts.x.to_numpy() + cat_idx * _CATEGORY_OFFSET_M, pts.y.to_numpy()])

    target = np.full(len(allrows), -1)  # row each row is merged into (-1: kept)
    kept_idx = np.flatnonzero(part_of == 0)
    for k in range(1, len(order)):
        rows = np.flatnonzero(part_of == k)
        tree = cKDTree(xy[kept_idx])
        dist, nn = tree.query(xy[rows], k=1, distance_upper_bound=dedup_m + 1e-6)
        hit = np.isfinite(dist)
        target[rows[hit]] = kept_idx[nn[hit]]
        kept_idx = np.concatenate([kept_idx, rows[~hit]])

    merged_rows = np.flatnonzero(target >= 0)
    out = allrows.iloc[np.sort(kept_idx)].copy()
    if len(merged_rows):
        _absorb(out, allrows, merged_rows, target[merged_rows])
        gone = allrows.iloc[merged_rows]
        report["merged"] = {
            str(c): int(n) for c, n in gone["category"].value_counts().sort_index().items()
        }
        report["merged_by_source"] = {
            str(s): int(n) for s, n in gone["source"].value_counts().sort_index().items()
        }
    out = out.reset_index(drop=True)
    report["output"] = len(out)
    validate_layer(out, "services")
    return out, report


def _absorb(
    out: gpd.GeoDataFrame, allrows: gpd.GeoDataFrame, rows: np.ndarray, into: np.ndarray
) -> None:
    """Record merged ids in the kept rows; fill their missing capacity and name."""
    by_target = pd.Series(rows).groupby(into).agg(list)
    for t, members in by_target.items():
        merged = allrows.iloc[members]
        attrs = json.loads(out.at[t, "attributes"] or "{}")
        prior = attrs.get("merged", [])
        attrs["merged"] = [*prior, *merged["service_id"].tolist()]
        out.at[t, "attributes"] = json.dumps(attrs, ensure_ascii=False, sort_keys=True)
        if np.isnan(out.at[t, "capacity"]):
            caps = merged["capacity"].dropna()
            if len(caps):
                out.at[t, "capacity"] = float(caps.iloc[0])
        if not str(out.at[t, "name"] or "").strip():
            names = [n for n in merged["name"] if isinstance(n, str) and n.strip()]
            if names:
                out.at[t, "name"] = names[0]
