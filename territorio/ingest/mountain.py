"""Mountain realism of the road layers: elevation, curvature and gradient, per edge.

:func:`apply_mountain` runs after the roads are loaded (any source: vector
tiles, PBF, Overpass, edge tables) and before the bundle is written. It keeps
the times the source gave in ``travel_time_flat_s`` /
``travel_time_reverse_flat_s`` (so every later report can say what curves
and slopes changed) and writes the adjusted car times in ``travel_time_s`` /
``travel_time_reverse_s``::

    t = t_flat * curve factor (:mod:`~territorio.ingest.curvature`)
               * grade factor of the direction (:mod:`~territorio.ingest.gradient`)

Columns added
-------------
road_edges
    ``travel_time_flat_s``, ``travel_time_reverse_flat_s``; ``geometry_kind``
    (``"true_shape"``, or ``"straight_standin"`` for prebuilt tables whose
    lines are straight u-v stand-ins: no curvature, no gradient, flagged);
    ``curve_min_radius_m``, ``curve_hairpins``, ``curve_sinuosity`` (NaN on
    stand-ins); ``climb_m``, ``descent_m``, ``grade_max_up_pct``,
    ``grade_max_down_pct``, ``alt_min_m``, ``alt_max_m``,
    ``elevation_share`` (share of the length with a DEM profile),
    ``has_elevation`` (the whole edge); ``altitude_m`` (highest point: the DEM
    where it covers the edge, else the ISTAT centre altitude of the comune
    the edge's midpoint lies in) and ``altitude_source`` (``"dem"``,
    ``"istat_centre"`` or ``"none"``); ``pro_com_t`` (that comune, None in the
    buffer outside the area).
road_nodes
    ``altitude_m``, ``has_elevation``, ``elevation_status`` (``"dem"``,
    ``"dem_filled"``, ``"void"``, ``"outside"``, ``"no_dem"`` when no DEM is
    configured).
population_cells
    ``altitude_m``, ``has_elevation`` (at the cell's representative point).
municipalities
    ``altitude_dem_m`` (DEM at the reference point), ``has_elevation``,
    ``elevation_pop_share`` (share of residents in cells with DEM altitude),
    ``altitude_rule_m`` / ``altitude_rule_source``: the altitude altitude-based
    rules use (DEM at the reference point, else the ISTAT centre altitude
    marked ``"istat_centre"``, else NaN with ``"none"``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from territorio.ingest.curvature import curvature, curve_speed_kmh, curve_time_factor
from territorio.ingest.elevation import DemMosaic
from territorio.ingest.gradient import GradientParams, edge_gradients

__all__ = ["MountainParams", "MountainResult", "apply_mountain", "sample_areas"]


@dataclass(frozen=True)
class MountainParams:
    """What to apply and with which parameters (from ``[roads.mountain]``)."""

    curvature: bool = True
    gradient: bool = True
    superelevation: float = 0.07
    step_m: float = 5.0
    window_m: float = 30.0
    hairpin_turn_deg: float = 150.0
    hairpin_arc_m: float = 80.0
    grade: GradientParams = field(default_factory=GradientParams)


@dataclass
class MountainResult:
    """The adjusted layers and the report written to the manifest."""

    nodes: gpd.GeoDataFrame
    edges: gpd.GeoDataFrame
    report: dict[str, Any]


def _metric(edges: gpd.GeoDataFrame) -> tuple[Any, Any]:
    from pyproj import Transformer

    crs = edges.estimate_utm_crs()
    back = Transformer.from_crs(crs, 4326, always_xy=True)
    return edges.geometry.to_crs(crs).to_numpy(), back.transform


def _edge_municipality(edges: gpd.GeoDataFrame, munis: pd.DataFrame | None) -> np.ndarray:
    out = np.full(len(edges), None, dtype=object)
    if munis is None or not len(munis) or not len(edges):
        return out
    mid = shapely.line_interpolate_point(edges.geometry.to_numpy(), 0.5, normalized=True)
    tree = shapely.STRtree(np.asarray(munis.geometry.to_numpy()))
    pi, mi = tree.query(mid, predicate="within")
    codes = munis["pro_com_t"].astype(str).to_numpy()
    out[pi] = codes[mi]
    return out


def apply_mountain(
    nodes: gpd.GeoDataFrame,
    edges: gpd.GeoDataFrame,
    *,
    params: MountainParams,
    dem: DemMosaic | None,
    straight_standin: bool,
    municipalities: pd.DataFrame | None = None,
) -> MountainResult:
    """Add elevation, curvature and gradient to the road layers (see the module notes).

    Parameters
    ----------
    nodes, edges
        ``road_nodes`` / ``road_edges`` layers (EPSG:4326).
    params
        What to apply.
    dem
        The DEM mosaic, or None when no DEM is configured (nothing gets an
        altitude from it; nothing is assumed flat).
    straight_standin
        True when the edge geometries are straight u-v stand-ins (prebuilt
        tables): curvature and gradient are then not computed.
    municipalities
        Municipalities layer with ISTAT ``altitude_m`` (optional): the comune
        of each edge and the altitude stand-in where the DEM is missing.
    """
    e = edges.copy()
    n = nodes.copy()
    tf = e["travel_time_s"].to_numpy(dtype=float)
    tr = e["travel_time_reverse_s"].to_numpy(dtype=float)
    e["travel_time_flat_s"] = tf
    e["travel_time_reverse_flat_s"] = tr
    e["geometry_kind"] = "straight_standin" if straight_standin else "true_shape"
    ne = len(e)
    report: dict[str, Any] = {"geometry": str(e["geometry_kind"].iloc[0]) if ne else None}

    # ------------------------------------------------------------- node altitudes
    nxy = shapely.get_coordinates(n.geometry.to_numpy())
    if dem is not None:
        ns = dem.sample(nxy[:, 0], nxy[:, 1])
        n["altitude_m"] = ns.altitude_m
        n["elevation_status"] = ns.status
    else:
        n["altitude_m"] = np.nan
        n["elevation_status"] = "no_dem"
    n["has_elevation"] = np.isfinite(n["altitude_m"].to_numpy(dtype=float))

    factor_f = np.ones(ne)
    factor_r = np.ones(ne)
    nan = np.full(ne, np.nan)
    cols: dict[str, Any] = {
        "curve_min_radius_m": nan,
        "curve_hairpins": np.zeros(ne, dtype=np.int64),
        "curve_sinuosity": nan,
    }
    geoms_m, to_ll = (None, None) if straight_standin or not ne else _metric(e)
    if params.curvature and geoms_m is not None:
        cv = curvature(
            geoms_m,
            step_m=params.step_m,
            window_m=params.window_m,
            hairpin_turn_deg=params.hairpin_turn_deg,
            hairpin_arc_m=params.hairpin_arc_m,
        )
        length = e["length_m"].to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            vf = np.where(tf > 0, length / tf * 3.6, np.nan)
            vr = np.where(tr > 0, length / tr * 3.6, np.nan)
        vc = curve_speed_kmh(cv.chord_radius_m, superelevation=params.superelevation)
        cf = curve_time_factor(cv, vf, chord_speed_kmh=vc)
        cr = curve_time_factor(cv, vr, chord_speed_kmh=vc)
        car = e["car"].to_numpy(dtype=bool)
        factor_f *= np.where(car, cf, 1.0)
        factor_r *= np.where(car, cr, 1.0)
        cols.update(
            curve_min_radius_m=cv.min_radius_m,
            curve_hairpins=cv.hairpins,
            curve_sinuosity=cv.sinuosity,
        )
        capped = car & ((cf > 1.0 + 1e-9) | (cr > 1.0 + 1e-9))
        report["curvature"] = {
            "applied": True,
            "edges_capped": int(capped.sum()),
            "hairpins": int(cv.hairpins[car].sum()),
            "edges_with_hairpins": int((cv.hairpins[car] > 0).sum()),
            # service roads and local streets hold turning loops and car-park rings:
            # the count by class tells the tornanti of through roads apart
            "hairpins_by_class": {
                str(k): int(v)
                for k, v in pd.Series(cv.hairpins[car])
                .groupby(e["highway"].astype(str).to_numpy()[car])
                .sum()
                .items()
                if v
            },
            "model": "D.M. 5/11/2001: V = sqrt(127 R (q + f_t(V)))",
            "superelevation": params.superelevation,
        }
    else:
        report["curvature"] = {
            "applied": False,
            "reason": "straight stand-in geometries (prebuilt table)"
            if straight_standin
            else "disabled in [roads.mountain]",
        }

    grad_cols = ("climb_m", "descent_m", "grade_max_up_pct", "grade_max_down_pct")
    for c in grad_cols:
        cols[c] = nan
    u_alt = v_alt = nan
    if ne:
        alt_by_id = pd.Series(n["altitude_m"].to_numpy(dtype=float), index=n["node_id"])
        u_alt = alt_by_id.reindex(e["u"].to_numpy()).to_numpy(dtype=float)
        v_alt = alt_by_id.reindex(e["v"].to_numpy()).to_numpy(dtype=float)
    alt_min = np.fmin(u_alt, v_alt)
    alt_max = np.fmax(u_alt, v_alt)
    share = np.where(np.isfinite(u_alt) & np.isfinite(v_alt), 1.0, 0.0)
    if dem is not None and geoms_m is not None:
        gr = edge_gradients(geoms_m, dem, to_lonlat=to_ll, params=params.grade)
        alt_min, alt_max, share = gr.alt_min_m, gr.alt_max_m, gr.elevation_share
        for c in grad_cols:
            cols[c] = getattr(gr, c)
        if params.gradient:
            car = e["car"].to_numpy(dtype=bool)
            factor_f *= np.where(car, gr.factor_forward, 1.0)
            factor_r *= np.where(car, gr.factor_reverse, 1.0)
        slowed = (gr.factor_forward > 1 + 1e-9) | (gr.factor_reverse > 1 + 1e-9)
        report["gradient"] = {
            "applied": bool(params.gradient),
            "edges_with_elevation": int((share >= 1.0 - 1e-9).sum()),
            "edges_partial_elevation": int(((share > 0) & (share < 1.0 - 1e-9)).sum()),
            "edges_without_elevation": int((share <= 0).sum()),
            "edges_slowed": int(slowed.sum()) if params.gradient else 0,
            "piece_m": params.grade.piece_m,
        }
    else:
        report["gradient"] = {
            "applied": False,
            "reason": "no DEM configured ([elevation] locations)"
            if dem is None
            else "straight stand-in geometries (prebuilt table): node altitudes only",
        }
    cols.update(alt_min_m=alt_min, alt_max_m=alt_max, elevation_share=share)
    for k, val in cols.items():
        e[k] = val
    e["has_elevation"] = e["elevation_share"].to_numpy(dtype=float) >= 1.0 - 1e-9

    # altitude for altitude-based rules: DEM, else the ISTAT centre altitude
    e["pro_com_t"] = _edge_municipality(e, municipalities)
    alt = e["alt_max_m"].to_numpy(dtype=float)
    source = np.where(np.isfinite(alt), "dem", "none").astype(object)
    if municipalities is not None and "altitude_m" in municipalities:
        istat = pd.Series(
            municipalities["altitude_m"].to_numpy(dtype=float),
            index=municipalities["pro_com_t"].astype(str),
        )
        stand = istat.reindex(e["pro_com_t"].astype(str)).to_numpy(dtype=float)
        use = ~np.isfinite(alt) & np.isfinite(stand)
        alt = np.where(use, stand, alt)
        source[use] = "istat_centre"
    e["altitude_m"] = alt
    e["altitude_source"] = source

    e["travel_time_s"] = tf * factor_f
    e["travel_time_reverse_s"] = tr * factor_r
    with np.errstate(invalid="ignore"):
        added = np.nansum(e["travel_time_s"] - tf) + np.nansum(e["travel_time_reverse_s"] - tr)
    report["added_car_hours_all_edges"] = round(float(added) / 3600.0, 2)
    report["nodes"] = {
        "total": len(n),
        "with_dem": int(n["has_elevation"].sum()),
        "status": {str(k): int(v) for k, v in n["elevation_status"].value_counts().items()},
    }
    report["edges"] = {
        "total": ne,
        "altitude_source": {str(k): int(v) for k, v in pd.Series(source).value_counts().items()},
    }
    return MountainResult(n, e, report)


def sample_areas(
    dem: DemMosaic | None,
    municipalities: gpd.GeoDataFrame,
    cells: gpd.GeoDataFrame | None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame | None, dict[str, Any]]:
    """Altitude of the population cells and municipalities, and the coverage report.

    Returns the two layers with the columns of the module notes and a
    report: residents and cells with DEM altitude, and the comuni without
    DEM coverage (those relying on the ISTAT centre altitude are listed).
    """
    m = municipalities.copy()
    lon = m["ref_lon"].to_numpy(dtype=float)
    lat = m["ref_lat"].to_numpy(dtype=float)
    if dem is not None:
        s = dem.sample(lon, lat)
        m["altitude_dem_m"] = s.altitude_m
    else:
        m["altitude_dem_m"] = np.nan
    m["has_elevation"] = np.isfinite(m["altitude_dem_m"].to_numpy(dtype=float))
    report: dict[str, Any] = {}
    codes = m["pro_com_t"].astype(str)
    if cells is not None:
        c = cells.copy()
        pts = shapely.point_on_surface(c.geometry.to_numpy())
        if dem is not None:
            cs = dem.sample(shapely.get_x(pts), shapely.get_y(pts))
            c["altitude_m"] = cs.altitude_m
        else:
            c["altitude_m"] = np.nan
        c["has_elevation"] = np.isfinite(c["altitude_m"].to_numpy(dtype=float))
        pop = c["pop_total"].to_numpy(dtype=float)
        with_dem = (
            pd.Series(np.where(c["has_elevation"], pop, 0.0))
            .groupby(c["pro_com_t"].astype(str).to_numpy())
            .sum()
        )
        total = pd.Series(pop).groupby(c["pro_com_t"].astype(str).to_numpy()).sum()
        with np.errstate(invalid="ignore", divide="ignore"):
            share = (with_dem / total).reindex(codes).to_numpy(dtype=float)
        m["elevation_pop_share"] = np.round(share, 4)
        report["cells"] = {"total": len(c), "with_dem": int(c["has_elevation"].sum())}
        report["residents"] = round(float(np.nansum(pop)))
        report["residents_with_dem"] = round(float(np.nansum(np.where(c["has_elevation"], pop, 0))))
        report["residents_with_dem_share"] = (
            round(report["residents_with_dem"] / report["residents"], 4)
            if report["residents"]
            else None
        )
    else:
        c = None
        m["elevation_pop_share"] = np.where(m["has_elevation"], 1.0, 0.0)
    istat = m["altitude_m"].to_numpy(dtype=float) if "altitude_m" in m else np.full(len(m), np.nan)
    dem_alt = m["altitude_dem_m"].to_numpy(dtype=float)
    m["altitude_rule_m"] = np.where(np.isfinite(dem_alt), dem_alt, istat)
    m["altitude_rule_source"] = np.where(
        np.isfinite(dem_alt), "dem", np.where(np.isfinite(istat), "istat_centre", "none")
    )
    no_dem = ~m["has_elevation"].to_numpy(dtype=bool)
    report["municipalities"] = {
        "total": len(m),
        "with_dem": int((~no_dem).sum()),
        "without_dem": codes[no_dem].tolist(),
        "istat_centre_standin": codes[(m["altitude_rule_source"] == "istat_centre")].tolist(),
    }
    return m, c, report
