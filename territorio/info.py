"""A plain-text summary of a bundle (``territorio info``)."""

from __future__ import annotations

from typing import Any

from territorio.bundle import Bundle
from territorio.categories import CATEGORIES

__all__ = ["coverage_summary", "format_info"]


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


def format_info(bundle: Bundle) -> str:
    """Return the summary printed by ``territorio info``."""
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
    refs = m.get("reference_points")
    if refs:
        lines += ["", "reference points of the municipalities (ref_source)"]
        lines += [f"  {src:<30}{n:>5}" for src, n in refs.items()]
    return "\n".join(lines)


def _osm_line(m: dict[str, Any]) -> str:
    stamps = m.get("osm_timestamps") or {}
    roads = stamps.get("roads") or "unknown"
    services = sorted({v for v in (stamps.get("services") or {}).values() if v})
    line = f"roads {roads}"
    if services:
        line += f"; services {', '.join(services)}"
    return line
