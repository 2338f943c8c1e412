"""Turn bundle rows into response dictionaries (cached per app)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from territorio.api._state import TerritoryData, clean, threshold_columns
from territorio.categories import CATEGORIES

__all__ = [
    "PLANNING_COLUMNS",
    "category_indicator",
    "municipality_detail",
    "municipality_summaries",
    "service_dict",
    "service_dicts",
    "warm_up",
]

_SUMMARY = (
    "pro_com_t",
    "name",
    "province_code",
    "pop_total",
    "pop_65_plus",
    "area_km2",
    "density",
    "old_age_index",
    "altitude_zone",
    "network_coverage",
    "ref_lon",
    "ref_lat",
    "ref_source",
)
#: Planning columns shown with a municipality when the bundle has them.
PLANNING_COLUMNS = (
    "snai_class",
    "time_to_polo_min",
    "polo_destination",
    "polo_destination_name",
    "marginality_score",
    "cluster_id",
)
_PLANNING_TEXT = {"snai_class", "polo_destination", "polo_destination_name", "cluster_id"}
_INDICATOR = (
    "status",
    "covered_pop_share",
    "ref_time_min",
    "mean_min",
    "median_min",
    "p90_min",
    "opportunities_15",
    "opportunities_30",
    "sfca",
    "e2sfca",
)
_PREFIX_FIELD = {
    "pop_beyond_": "pop_beyond",
    "pop65_beyond_": "pop65_beyond",
    "pop_u15_beyond_": "pop_u15_beyond",
    "share_beyond_": "share_beyond",
    "share65_beyond_": "share65_beyond",
}


def _int(v: Any) -> int:
    c = clean(v)
    return round(c) if c is not None else 0


def _summary(code: str, row: pd.Series, planning: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {k: clean(row.get(k)) for k in _SUMMARY if k != "pro_com_t"}
    out["pro_com_t"] = code
    out["pop_total"] = _int(row.get("pop_total"))
    out["pop_65_plus"] = _int(row.get("pop_65_plus"))
    out["province_code"] = str(row.get("province_code") or code[:3])
    for k in PLANNING_COLUMNS:
        v = planning.get(k)
        if v is not None and k in _PLANNING_TEXT:
            v = str(v)
        elif v is not None:
            v = float(v)
        out[k] = v
    return out


def planning_of(data: TerritoryData, code: str) -> dict[str, Any]:
    """Planning facts of a municipality (empty when the bundle has none)."""
    table: pd.DataFrame | None = data.extras.get("planning")
    if table is None or code not in table.index:
        return {}
    return {str(k): clean(v) for k, v in table.loc[code].items()}


def municipality_summaries(data: TerritoryData) -> list[dict[str, Any]]:
    """Summaries of every municipality, in ISTAT-code order (built once per app)."""
    cached = data.derived(
        "summaries",
        lambda: [
            _summary(str(code), row, planning_of(data, str(code)))
            for code, row in data.municipalities.iterrows()
        ],
    )
    return list(cached)


def service_dicts(data: TerritoryData) -> tuple[dict[str, Any], ...]:
    """Every service as a :class:`ServiceOut` dict, in layer order (built once per app)."""
    cached: tuple[dict[str, Any], ...] = data.derived(
        "service_dicts", lambda: tuple(service_dict(r) for _, r in data.services.iterrows())
    )
    return cached


def warm_up(data: TerritoryData) -> None:
    """Build the cached response rows now, so no request pays for them."""
    municipality_summaries(data)
    service_dicts(data)


def category_indicator(data: TerritoryData, row: pd.Series) -> dict[str, Any]:
    """One ``access_municipalities`` row as a :class:`CategoryIndicator` dict."""
    cat = str(row["category"])
    meta = CATEGORIES.get(cat)
    out: dict[str, Any] = {
        "category": cat,
        "label_it": meta.label_it if meta else None,
        "label_en": meta.label_en if meta else None,
    }
    for k in _INDICATOR:
        out[k] = clean(row.get(k))
    out["status"] = str(out["status"] or "no_data")
    sid = clean(row.get("ref_nearest_service_id"))
    nearest = None
    if sid is not None and str(sid) in data.services.index:
        s = data.services.loc[str(sid)]
        nearest = {
            "service_id": str(sid),
            "name": clean(s.get("name")),
            "category": str(s.get("category")),
            "lon": clean(s.get("lon")),
            "lat": clean(s.get("lat")),
            "time_min": out["ref_time_min"],
        }
    out["nearest"] = nearest
    by_t: dict[int, dict[str, Any]] = {}
    for prefix, minutes in threshold_columns(row.index):
        t = by_t.setdefault(minutes, {"minutes": minutes})
        t[_PREFIX_FIELD[prefix]] = clean(row[f"{prefix}{minutes}"])
    out["thresholds"] = [by_t[m] for m in sorted(by_t)]
    return out


def municipality_detail(data: TerritoryData, code: str) -> dict[str, Any]:
    """Everything known about one municipality (raises NotFoundError if unknown)."""
    row = data.municipality(code)
    planning = planning_of(data, code)
    out = _summary(code, row, planning)
    out["attributes"] = {
        str(k): clean(v)
        for k, v in row.items()
        if k not in _SUMMARY and not isinstance(v, (list, dict, np.ndarray))
    }
    rows = data.access_rows(code)
    out["indicators"] = [category_indicator(data, r) for _, r in rows.iterrows()]
    out["planning"] = planning or None
    return out


def service_dict(row: pd.Series) -> dict[str, Any]:
    """Return a services row as a :class:`ServiceOut` dict."""
    attrs_raw = row.get("attributes")
    attrs: dict[str, Any] = {}
    if isinstance(attrs_raw, str) and attrs_raw:
        try:
            parsed = json.loads(attrs_raw)
            attrs = parsed if isinstance(parsed, dict) else {"value": parsed}
        except json.JSONDecodeError:
            attrs = {"raw": attrs_raw}
    pro = clean(row.get("pro_com_t"))
    return {
        "service_id": str(row["service_id"]),
        "category": str(row["category"]),
        "name": clean(row.get("name")),
        "source": clean(row.get("source")),
        "source_id": None if clean(row.get("source_id")) is None else str(row["source_id"]),
        "pro_com_t": None if pro is None else str(pro),
        "capacity": clean(row.get("capacity")),
        "attributes": attrs,
        "lon": float(row["lon"]),
        "lat": float(row["lat"]),
    }
