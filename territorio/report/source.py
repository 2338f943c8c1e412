"""What a comune's PDF report reads: the bundle and the planning outputs folder.

:class:`ReportSource` opens both once (checking that ``territorio access``
and ``territorio plan`` have run) and serves every report drawn from them,
so writing the 312 reports of the province loads each layer once.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from territorio.bundle import Bundle
from territorio.errors import MissingOutputsError, NotFoundError
from territorio.maps._data import (
    ISOCHRONE_LAYER,
    PlanOutputs,
    load_plan,
    municipality_isochrones,
    resolve_plan_dir,
)

__all__ = [
    "MIN_COMPARABLES",
    "PRINT_TOLERANCE_M",
    "ComparableGroup",
    "ReportSource",
    "check_code",
    "comparable_group",
    "comparison_table",
]

#: Fewer comparable comuni than this (with the same SNAI class and altitude
#: zone) and the group is widened to the same SNAI class in every zone (the
#: report says so): a median of one or two comuni is no benchmark.
MIN_COMPARABLES = 3

#: Simplification of the printed boundaries (metres): below a printed pixel.
PRINT_TOLERANCE_M = 15.0

_CODE = re.compile(r"\d{6}")


def check_code(code: str, munis: pd.DataFrame, *, bundle_name: str, province: str) -> str:
    """Return ``code`` if it is a comune of the bundle; else raise :class:`NotFoundError`.

    Parameters
    ----------
    code
        The ISTAT code asked for (6 digits, a string: ``"001272"``).
    munis
        The bundle's municipalities (``pro_com_t``).
    bundle_name, province
        Named in the message (the bundle folder and its province code).

    Raises
    ------
    NotFoundError
        If ``code`` is not 6 digits (not an ISTAT code), or names a comune
        the bundle does not hold.
    """
    if not _CODE.fullmatch(code):
        raise NotFoundError(
            f"{code!r} is not an ISTAT municipality code: codes are 6-digit strings, "
            "e.g. 001272 for Torino"
        )
    if code not in set(munis["pro_com_t"].astype(str)):
        where = (
            f"it is not in province {province}, the only one of bundle {bundle_name}"
            if province and not code.startswith(province)
            else f"bundle {bundle_name} has no comune with this code"
        )
        raise NotFoundError(
            f"comune {code} is outside the bundle: {where}; "
            f"list its comuni with: territorio info {bundle_name}"
        )
    return code


@dataclass(frozen=True)
class ComparableGroup:
    """The comuni a comune is compared with.

    Attributes
    ----------
    snai_class
        Their SNAI class (that of the comune).
    altitude_zone
        Their ISTAT altitude zone, or None when the group was widened to
        every zone.
    codes
        Their ISTAT codes, the comune itself excluded.
    widened
        True when fewer than :data:`MIN_COMPARABLES` comuni share both class
        and zone, so the group holds the whole class.
    """

    snai_class: str
    altitude_zone: str | None
    codes: tuple[str, ...]
    widened: bool


def comparable_group(
    table: pd.DataFrame, code: str, *, min_size: int = MIN_COMPARABLES
) -> ComparableGroup | None:
    """Return the comuni comparable with ``code``: same SNAI class and altitude zone.

    Parameters
    ----------
    table
        One row per comune with ``pro_com_t``, ``snai_class`` (A-F, or
        ``outside_coverage``) and ``altitude_zone``.
    code
        The comune.
    min_size
        Smallest group kept with both criteria; below it the group is every
        comune of the same class (``widened``).

    Returns
    -------
    ComparableGroup or None
        None when the comune has no SNAI class (outside network coverage or
        not classified): there is nothing to compare it with.
    """
    codes = table["pro_com_t"].astype(str)
    me = table[codes == code]
    if len(me) == 0:
        return None
    klass = me.iloc[0].get("snai_class")
    if not isinstance(klass, str) or klass not in ("A", "B", "C", "D", "E", "F"):
        return None
    zone = me.iloc[0].get("altitude_zone")
    zone = zone if isinstance(zone, str) and zone else None
    same_class = (table["snai_class"] == klass).to_numpy(dtype=bool) & (codes != code).to_numpy()
    if zone is not None:
        both = same_class & (table["altitude_zone"] == zone).fillna(False).to_numpy(dtype=bool)
        if int(both.sum()) >= min_size:
            return ComparableGroup(klass, zone, tuple(sorted(codes[both])), widened=False)
    return ComparableGroup(klass, None, tuple(sorted(codes[same_class])), widened=True)


def comparison_table(
    access: pd.DataFrame, code: str, group: ComparableGroup | None, categories: list[str]
) -> pd.DataFrame:
    """Minutes to the nearest service per category: the comune against its group.

    The minutes are ``ref_time_min`` of ``access_municipalities`` (by car from
    the comune's reference point, the time the API gives as the nearest
    service's ``time_min``), taken only where the status is ``ok`` or
    ``partial``.

    Returns
    -------
    pandas.DataFrame
        Indexed by category (in ``categories`` order): ``value`` (this comune,
        NaN when unknown), ``status`` (this comune's), ``n`` (comparable
        comuni with a time), ``q1``, ``median``, ``q3`` (NaN when ``n == 0``).
    """
    acc = access[access["category"].isin(categories)]
    timed = acc["status"].isin(["ok", "partial"]) & np.isfinite(
        acc["ref_time_min"].to_numpy(dtype=float)
    )
    mine = {
        str(r["category"]): r for r in acc[acc["pro_com_t"].astype(str) == code].to_dict("records")
    }
    rows = []
    members = set(group.codes) if group is not None else set()
    peers = acc[timed & acc["pro_com_t"].astype(str).isin(members)]
    by_cat = {
        str(c): part["ref_time_min"].to_numpy(dtype=float) for c, part in peers.groupby("category")
    }
    for cat in categories:
        rec = mine.get(cat, {})
        status = str(rec.get("status") or "no_data")
        value = float(rec.get("ref_time_min", np.nan))
        if status not in ("ok", "partial"):
            value = np.nan
        vals = by_cat.get(cat, np.zeros(0))
        q1, med, q3 = np.percentile(vals, [25, 50, 75]) if len(vals) else (np.nan,) * 3
        rows.append(
            {
                "category": cat,
                "value": value,
                "status": status,
                "n": len(vals),
                "q1": float(q1),
                "median": float(med),
                "q3": float(q3),
            }
        )
    return pd.DataFrame(rows).set_index("category")


class ReportSource:
    """The bundle and planning outputs the reports are drawn from (read once).

    Parameters
    ----------
    bundle
        The territory bundle (or its folder); it must have the accessibility
        layer (``territorio access``).
    plan_dir
        The planning outputs folder (``territorio plan``); default:
        ``<bundle>-plan`` beside the bundle.

    Raises
    ------
    MissingOutputsError
        If the bundle has no ``access_municipalities`` layer, or there are no
        planning outputs (the message names the command to run).
    SourceNotFoundError
        If an explicit ``plan_dir`` does not exist or lacks its files.
    """

    def __init__(self, bundle: Bundle | str | Path, *, plan_dir: str | Path | None = None) -> None:
        self.bundle = bundle if isinstance(bundle, Bundle) else Bundle(bundle)
        name = self.bundle.path.name
        if not self.bundle.has_layer("access_municipalities"):
            raise MissingOutputsError(
                f"bundle {name} has no travel times (layer access_municipalities); "
                f"run: territorio access {self.bundle.path}"
            )
        if not self.bundle.has_layer(ISOCHRONE_LAYER):
            raise MissingOutputsError(
                f"bundle {name} has no isochrones from the comuni's reference points "
                f"(layer {ISOCHRONE_LAYER}: its travel times were computed by an older "
                f"territorio); run: territorio access {self.bundle.path}"
            )
        found = resolve_plan_dir(self.bundle.path, plan_dir)
        if found is None:
            raise MissingOutputsError(
                f"no planning outputs for bundle {name} (SNAI class, marginality, clusters); "
                f"run: territorio plan {self.bundle.path} --config configs/plan-torino.toml"
            )
        self.plan: PlanOutputs = load_plan(found)
        self._lock = threading.RLock()
        self._cache: dict[str, Any] = {}

    def _get(self, key: str, build: Any) -> Any:
        with self._lock:
            if key not in self._cache:
                self._cache[key] = build()
            return self._cache[key]

    @property
    def name(self) -> str:
        """The bundle's folder name."""
        return self.bundle.path.name

    @property
    def municipalities(self) -> gpd.GeoDataFrame:
        """The bundle's municipalities with the plan's columns (``snai_class``, ``score``...)."""

        def build() -> gpd.GeoDataFrame:
            m = self.bundle.layer("municipalities").copy()
            m["pro_com_t"] = m["pro_com_t"].astype(str)
            plan = pd.DataFrame(self.plan.municipalities.drop(columns="geometry"))
            plan = plan.drop(columns=[c for c in ("name", "pop_total", "pop_65_plus") if c in plan])
            out = m.merge(plan, on="pro_com_t", how="left")
            return gpd.GeoDataFrame(out, geometry=m.geometry.name, crs=m.crs)

        frame: gpd.GeoDataFrame = self._get("municipalities", build)
        return frame

    @property
    def access(self) -> pd.DataFrame:
        """``access_municipalities`` (one row per comune and category)."""

        def build() -> pd.DataFrame:
            a = self.bundle.layer("access_municipalities").copy()
            a["pro_com_t"] = a["pro_com_t"].astype(str)
            return a

        frame: pd.DataFrame = self._get("access", build)
        return frame

    @property
    def services(self) -> gpd.GeoDataFrame:
        """The services layer (empty when the bundle has none), indexed by ``service_id``."""

        def build() -> gpd.GeoDataFrame:
            if not self.bundle.has_layer("services"):
                return gpd.GeoDataFrame(
                    {"service_id": [], "category": [], "name": [], "pro_com_t": []},
                    geometry=gpd.GeoSeries([], crs=4326),
                )
            s = self.bundle.layer("services")
            return s.set_index(s["service_id"].astype(str), drop=False)

        frame: gpd.GeoDataFrame = self._get("services", build)
        return frame

    @property
    def metric_crs(self) -> Any:
        """The metric CRS the network was computed in (UTM zone of the data otherwise)."""

        def build() -> Any:
            crs = ((self.bundle.manifest.get("access") or {}).get("network") or {}).get(
                "metric_crs"
            )
            return crs or self.bundle.layer("municipalities").estimate_utm_crs()

        return self._get("metric_crs", build)

    @property
    def municipalities_metric(self) -> gpd.GeoDataFrame:
        """The municipalities in :attr:`metric_crs`, simplified for print (``ref_x``, ``ref_y``).

        The boundaries are simplified to :data:`PRINT_TOLERANCE_M`, under a
        printed pixel at the report's scales.
        """

        def build() -> gpd.GeoDataFrame:
            m = self.municipalities[["pro_com_t", "name", "ref_lon", "ref_lat", "geometry"]]
            m = m.to_crs(self.metric_crs)
            m["geometry"] = m.geometry.simplify(PRINT_TOLERANCE_M)
            ref = gpd.GeoSeries(
                gpd.points_from_xy(m["ref_lon"], m["ref_lat"]), crs=4326, index=m.index
            ).to_crs(self.metric_crs)
            m["ref_x"] = ref.x.where(m["ref_lon"].notna())
            m["ref_y"] = ref.y.where(m["ref_lat"].notna())
            return m

        frame: gpd.GeoDataFrame = self._get("municipalities_metric", build)
        return frame

    @property
    def services_metric(self) -> gpd.GeoDataFrame:
        """The services (``category``, ``pro_com_t``) in :attr:`metric_crs`."""

        def build() -> gpd.GeoDataFrame:
            s = self.services[["category", "pro_com_t", "geometry"]]
            return s.to_crs(self.metric_crs) if len(s) else s

        frame: gpd.GeoDataFrame = self._get("services_metric", build)
        return frame

    @property
    def scenario_table(self) -> pd.DataFrame | None:
        """``scenario.csv`` of the plan (codes kept as strings), or None without a scenario."""

        def build() -> pd.DataFrame | None:
            p = self.plan.path / "scenario.csv"
            files = self.plan.summary.get("files", [])
            if not p.is_file() or "scenario.csv" not in files:
                return None
            # names are data ("None" is a comune): no NA parsing of text columns
            t = pd.read_csv(p, dtype={"pro_com_t": str, "name": str}, keep_default_na=False)
            for col in t.columns:
                if col not in ("pro_com_t", "name", "class_before", "class_after", "changed"):
                    t[col] = pd.to_numeric(t[col].replace("", np.nan))
            t["changed"] = t["changed"].astype(str).str.lower() == "true"
            return t.set_index("pro_com_t", drop=False)

        table: pd.DataFrame | None = self._get("scenario", build)
        return table

    def isochrones(self, code: str) -> gpd.GeoDataFrame | None:
        """Return the comune's 10/20/30-minute car isochrones in :attr:`metric_crs`, or None.

        None when its reference point is outside the road network's coverage.
        Read from the bundle per comune (``access_isochrones``), not cached:
        the province's contours hold about 3 million vertices.
        """
        row = self.municipalities[self.municipalities["pro_com_t"] == code].iloc[0]
        iso, _outside = municipality_isochrones(self.bundle, row)
        return None if iso is None else iso.to_crs(self.metric_crs)

    def check(self, code: str) -> str:
        """Return ``code`` if it is a comune of the bundle (see :func:`check_code`)."""
        area = self.bundle.manifest.get("area") or {}
        return check_code(
            code,
            self.municipalities,
            bundle_name=str(self.bundle.path),
            province=str(area.get("province_code") or ""),
        )
