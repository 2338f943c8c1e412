"""A plain-text summary of a bundle (``territorio info``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from territorio.bundle import Bundle
from territorio.categories import CATEGORIES

__all__ = ["coverage_summary", "derived_lines", "format_info"]


def coverage_summary(bundle: Bundle) -> dict[str, Any]:
    """Municipalities and residents inside the road network's coverage.

    Residents are counted from the population grid when the bundle has one
    (cells whose representative point is inside the coverage), else from
    fully covered municipalities.
    """
    munis = bundle.layer("municipalities")
    flags = munis["network_coverage"].value_counts()
    out: dict[str, Any] = {
        "municipalities": len(munis),
        "full": int(flags.get("full", 0)),
        "partial": int(flags.get("partial", 0)),
        "none": int(flags.get("none", 0)),
        "residents": int(munis["pop_total"].sum()),
        "residents_full_municipalities": int(
            munis.loc[munis["network_coverage"] == "full", "pop_total"].sum()
        ),
    }
    if bundle.has_layer("population_cells"):
        cells = bundle.layer("population_cells")
        out["grid_residents"] = float(cells["pop_total"].sum())
        out["grid_residents_covered"] = float(
            cells.loc[cells["in_network_coverage"], "pop_total"].sum()
        )
    return out


def derived_lines(bundle: Bundle, *, maps_dir: Path | None = None) -> list[str]:
    """Say whether each derived output matches this build of the bundle.

    Checks the access layers, the default plan folder (``<bundle>-plan``) and
    ``maps_dir`` (when given); a stale one is flagged with the command that
    refreshes it (see :mod:`territorio.freshness`).
    """
    from territorio.bundle import default_plan_dir
    from territorio.freshness import stale_access, stale_maps, stale_plan

    lines = [f"derived outputs (build {bundle.build_id or 'unknown'})"]
    checks: list[tuple[str, bool, str | None]] = [
        ("access layers", bundle.has_layer("access_municipalities"), stale_access(bundle))
    ]
    plan = default_plan_dir(bundle.path)
    checks.append(
        (f"plan {plan}", plan.is_dir(), stale_plan(bundle, plan) if plan.is_dir() else None)
    )
    if maps_dir is not None:
        present = maps_dir.is_dir() and any(maps_dir.glob("*.html"))
        checks.append(
            (f"maps {maps_dir}", present, stale_maps(bundle, maps_dir) if present else None)
        )
    for label, present, why in checks:
        if not present:
            lines.append(f"  {label}: absent")
        elif why is None:
            lines.append(f"  {label}: up to date")
        else:
            lines.append(f"  {label}: STALE: {why}")
    return lines


def format_info(bundle: Bundle, *, maps_dir: Path | None = None) -> str:
    """Return the summary printed by ``territorio info``.

    ``maps_dir``: a maps folder to check against the bundle's build (see
    :func:`derived_lines`).
    """
    m = bundle.manifest
    lines = [
        f"bundle      {bundle.path}",
        f"area        {m['area']['name']} ({m['area'].get('province_code') or 'custom list'})",
        f"built       {m['build']['finished_at']} in {m['build']['seconds']} s "
        f"with territorio {m['software_version']}",
        f"OSM data    {_osm_line(m)}",
        "",
        "layers",
    ]
    lines += [f"  {name:<24}{n:>10,}" for name, n in sorted(m["layers"].items())]
    lines += ["", "services per category (coverage: where the sources are complete)"]
    for code, c in m["service_categories"].items():
        label = CATEGORIES[code].label_en if code in CATEGORIES else code
        if c["count"] == 0:
            where = "NO DATA in the sources"
        elif c["coverage"] == "area":
            where = "whole area"
        else:
            where = f"only {len(c['coverage'])} municipalities: {', '.join(c['coverage'][:5])}"
        lines.append(f"  {code:<18}{c['count']:>8,}  {label:<32}{where}")
    cov = coverage_summary(bundle)
    roads = m["roads"]
    full_res = cov["residents_full_municipalities"]
    lines += [
        "",
        f"road network ({roads['source']}, modes: {', '.join(roads['modes'])})",
        f"  municipalities fully inside   {cov['full']:>5} of {cov['municipalities']}",
        f"  partly inside                 {cov['partial']:>5}",
        f"  outside coverage              {cov['none']:>5}",
        f"  residents of fully covered municipalities {full_res:>12,}"
        f" of {cov['residents']:,} ({full_res / max(cov['residents'], 1):.1%})",
    ]
    if "grid_residents" in cov:
        lines.append(
            f"  grid residents inside coverage            {cov['grid_residents_covered']:>12,.0f}"
            f" of {cov['grid_residents']:,.0f}"
            f" ({cov['grid_residents_covered'] / max(cov['grid_residents'], 1):.1%})"
        )
    lines += _roads_by_class(bundle)
    lines += _elevation_lines(m)
    lines += _services_by_source(bundle)
    refs = m.get("reference_points")
    if refs:
        lines += ["", "reference points of the municipalities (ref_source)"]
        lines += [f"  {src:<30}{n:>5}" for src, n in refs.items()]
    lines += ["", *derived_lines(bundle, maps_dir=maps_dir)]
    return "\n".join(lines)


def _elevation_lines(m: dict[str, Any]) -> list[str]:
    """DEM coverage and the curvature / gradient adjustments (``manifest["elevation"]``)."""
    el = m.get("elevation")
    if not el:
        return []
    if not el.get("dem"):
        return [
            "",
            "elevation: no DEM configured ([elevation] locations): no altitudes, none assumed",
        ]
    nodes = el["nodes"]
    mu = el["municipalities"]
    out = [
        "",
        f"elevation (DEM: {len(el['tiles'])} tile(s), {el['voids_filled']} of "
        f"{el['voids_read']} void pixels filled)",
        f"  junctions with DEM altitude   {nodes['with_dem']:>9,} of {nodes['total']:,}",
    ]
    if "residents_with_dem" in el:
        out.append(
            f"  residents with DEM altitude   {el['residents_with_dem']:>9,} of {el['residents']:,}"
        )
    out.append(
        f"  comuni without DEM            {len(mu['without_dem']):>9}"
        + (" (ISTAT centre altitude stands in)" if mu["istat_centre_standin"] else "")
    )
    mnt = (m.get("roads") or {}).get("mountain") or {}
    cv = mnt.get("curvature") or {}
    gr = mnt.get("gradient") or {}
    out.append(
        "  curvature                     "
        + (
            f"{cv['hairpins']:>9,} hairpins, {cv['edges_capped']:,} edges slowed"
            if cv.get("applied")
            else f"not applied ({cv.get('reason', 'not configured')})"
        )
    )
    out.append(
        "  gradient                      "
        + (
            f"{gr['edges_slowed']:>9,} edges slowed; {gr['edges_with_elevation']:,} with a "
            f"full profile, {gr['edges_without_elevation']:,} without"
            if gr.get("applied")
            else f"not applied ({gr.get('reason', 'not configured')})"
        )
    )
    return out


def _osm_line(m: dict[str, Any]) -> str:
    stamps = m.get("osm_timestamps") or {}
    roads = m.get("roads_osm_timestamp") or stamps.get("roads") or "unknown"
    services = sorted({v for v in (stamps.get("services") or {}).values() if v})
    line = f"roads {roads}"
    if services:
        line += f"; services {', '.join(services)}"
    return line


def _columns(bundle: Bundle, layer: str, columns: list[str]) -> pd.DataFrame | None:
    path = bundle.path / f"{layer}.parquet"
    if not path.is_file():
        return None
    present = set(pq.read_schema(path).names)
    return pd.read_parquet(path, columns=[c for c in columns if c in present])


def _roads_by_class(bundle: Bundle) -> list[str]:
    """Junctions, edges and kilometres per road class."""
    e = _columns(bundle, "road_edges", ["u", "v", "highway", "length_m"])
    if e is None or e.empty:
        return []
    junctions = len(pd.unique(pd.concat([e["u"], e["v"]], ignore_index=True)))
    lines = [
        "",
        f"roads by class ({junctions:,} junctions, {len(e):,} edges, "
        f"{e['length_m'].sum() / 1000:,.0f} km)",
    ]
    g = e.groupby("highway")["length_m"].agg(["size", "sum"]).sort_values("sum", ascending=False)
    lines += [
        f"  {h!s:<18}{int(r['size']):>9,} edges {r['sum'] / 1000:>10,.1f} km"
        for h, r in g.iterrows()
    ]
    return lines


def _services_by_source(bundle: Bundle) -> list[str]:
    """Services per category and source (after merging duplicates)."""
    s = _columns(bundle, "services", ["category", "source"])
    if s is None or s.empty:
        return []
    g = s.groupby(["category", "source"]).size()
    lines = ["", "services per category and source"]
    for cat in g.index.get_level_values(0).unique():
        parts = ", ".join(f"{src} {n:,}" for src, n in g[cat].sort_values(ascending=False).items())
        lines.append(f"  {cat:<18}{parts}")
    return lines
