"""Thin data access for the maps: the planning outputs folder and isochrones."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from territorio.bundle import Bundle, default_plan_dir
from territorio.errors import SourceNotFoundError

log = logging.getLogger("territorio.maps")

#: Files of the planning outputs folder the maps read (``territorio plan``).
PLAN_FILES = ("municipalities.parquet", "clusters.parquet", "summary.json")

#: The bundle layer of the isochrones from every comune's reference point.
ISOCHRONE_LAYER = "access_isochrones"


@dataclass
class PlanOutputs:
    """The planning outputs of one ``territorio plan`` run, as read from its folder.

    Attributes
    ----------
    path
        The folder.
    municipalities
        One row per municipality (``pro_com_t``, ``snai_class``,
        ``time_to_polo_min``, ``score``, ``index_status``, ``rank``,
        ``main_factor``, ``flagged``, ``cluster_id`` ...), EPSG:4326.
    clusters
        One row per underserved cluster (``cluster_id``, ``name_it``,
        ``member_codes``, ``pop_total`` ..., polygon = union of members).
    sites
        The chosen sites (points, ``name``, ``marginal_gain_pop`` ...);
        empty when siting found nothing, None when it was not configured.
    summary
        The ``summary.json`` dict.
    winter
        The first winter scenario's municipalities table
        (``winter_<name>_municipalities.csv``), None when the plan ran none.
    """

    path: Path
    municipalities: gpd.GeoDataFrame
    clusters: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame | None
    summary: dict[str, Any] = field(default_factory=dict)
    winter: pd.DataFrame | None = None

    def row(self, code: str) -> dict[str, Any] | None:
        """Return the planning row of municipality ``code`` as a dict, or None."""
        m = self.municipalities
        sel = m[m["pro_com_t"].astype(str) == str(code)]
        if len(sel) == 0:
            return None
        return dict(sel.drop(columns=sel.geometry.name).iloc[0].to_dict())


def resolve_plan_dir(bundle_path: Path, plan_dir: str | Path | None) -> Path | None:
    """Return the planning outputs folder to read, or None when there is none.

    Parameters
    ----------
    bundle_path
        The bundle folder; the default plan folder is
        :func:`territorio.bundle.default_plan_dir` of it.
    plan_dir
        An explicit folder (must exist), or None for the default when it
        exists.

    Raises
    ------
    SourceNotFoundError
        If an explicit ``plan_dir`` does not exist.
    """
    if plan_dir is not None:
        p = Path(plan_dir)
        if not p.is_dir():
            raise SourceNotFoundError(
                f"planning outputs folder {p} does not exist; run: territorio plan "
                f"{bundle_path} --out {p}, or omit the plan folder"
            )
        return p
    default = default_plan_dir(bundle_path)
    return default if default.is_dir() else None


def load_plan(plan_dir: str | Path) -> PlanOutputs:
    """Read the planning outputs written by :func:`territorio.planning.run.run_plan`.

    Raises
    ------
    SourceNotFoundError
        If the folder lacks ``municipalities.parquet``, ``clusters.parquet``
        or ``summary.json`` (an interrupted or older run).
    """
    p = Path(plan_dir)
    missing = [f for f in PLAN_FILES if not (p / f).is_file()]
    if missing:
        raise SourceNotFoundError(
            f"planning outputs folder {p} lacks {', '.join(missing)}; run territorio plan again"
        )
    munis = gpd.read_parquet(p / "municipalities.parquet").to_crs(4326)
    munis["pro_com_t"] = munis["pro_com_t"].astype(str)
    clusters = gpd.read_parquet(p / "clusters.parquet")
    if clusters.crs is not None and len(clusters):
        clusters = clusters.to_crs(4326)
    summary = json.loads((p / "summary.json").read_text(encoding="utf-8"))
    sites_path = p / "sites.parquet"
    # A sites file left over by an earlier run with siting is not this run's.
    sites: gpd.GeoDataFrame | None = None
    if sites_path.is_file() and "sites.parquet" in summary.get("files", ["sites.parquet"]):
        sites = gpd.read_parquet(sites_path)
        if sites.crs is not None and len(sites):
            sites = sites.to_crs(4326)
    winter = None
    for w in summary.get("winter") or []:
        f = f"winter_{w.get('name')}_municipalities.csv"
        if (p / f).is_file() and f in summary.get("files", []):
            winter = pd.read_csv(p / f, dtype={"pro_com_t": str})
            break
    return PlanOutputs(p, munis, clusters, sites, summary, winter)


def marginality_table(plan: PlanOutputs) -> pd.DataFrame:
    """Return the plan's municipalities as :func:`~territorio.maps.marginality_map` reads them.

    ``index_status`` is renamed ``status`` (its name in the index table).
    """
    m = plan.municipalities
    table = pd.DataFrame(m.drop(columns=m.geometry.name))
    return table.rename(columns={"index_status": "status"})


def municipality_isochrones(bundle: Bundle, row: pd.Series) -> tuple[gpd.GeoDataFrame | None, bool]:
    """The car isochrones from a comune's reference point, and whether it is outside coverage.

    They are read from the bundle's ``access_isochrones`` layer (10/20/30
    minutes, traced by ``territorio access``), one comune's rows only.

    Returns ``(isochrones, False)`` for a covered reference point (``minutes``
    ascending, EPSG:4326), ``(None, True)`` when the comune or its reference
    point is outside the road network's coverage (the map then says so), and
    ``(None, False)`` when the bundle has no such layer (``territorio access``
    has not run, or ran with a version that did not trace them).
    """
    if str(row.get("network_coverage", "full")) == "none":
        return None, True
    if "ref_lon" not in row.index or pd.isna(row["ref_lon"]):
        return None, True
    if not bundle.has_layer(ISOCHRONE_LAYER):
        log.info("no isochrones for %s: bundle has no %s layer", row.get("pro_com_t"), ISOCHRONE_LAYER)
        return None, False
    iso = bundle.layer_rows(ISOCHRONE_LAYER, "pro_com_t", str(row["pro_com_t"]))
    if len(iso) == 0:
        log.info("no isochrones for %s: reference point outside coverage", row.get("pro_com_t"))
        return None, True
    return iso.sort_values("minutes").reset_index(drop=True), False


def isochrone_view(bounds: Any, isochrones: gpd.GeoDataFrame | None) -> list[float]:
    """Return ``bounds`` (minx, miny, maxx, maxy) widened to the smallest isochrone.

    A map shows the comune and its shortest-time area (10 minutes): a city's
    30-minute area reaches far beyond what one screen or page can show
    legibly. ``isochrones`` (``minutes``, geometry) must be in the CRS of
    ``bounds``; None or empty leaves ``bounds`` as they are.
    """
    out = [float(b) for b in bounds]
    if isochrones is None or len(isochrones) == 0:
        return out
    first = isochrones[isochrones["minutes"] == isochrones["minutes"].min()]
    ib = first.total_bounds
    return [min(out[0], ib[0]), min(out[1], ib[1]), max(out[2], ib[2]), max(out[3], ib[3])]


def no_data_categories(access: pd.DataFrame | None, code: str) -> list[str]:
    """Return the categories with status ``no_data`` for ``code`` in ``access_municipalities``.

    Returns an empty list when there is no access table.
    """
    if access is None or len(access) == 0:
        return []
    rows = access[(access["pro_com_t"].astype(str) == str(code)) & (access["status"] == "no_data")]
    return [str(c) for c in rows["category"]]
