"""``territorio winter`` and ``territorio effect``: run, write the tables, print the figures.

``winter`` writes ``winter_<name>_municipalities.csv``,
``winter_<name>_categories.csv`` and ``winter_<name>_summary.json`` to the
output folder and prints the summary (Italian, then English).

``effect`` prints the DEM coverage, the named climbs and the 20 comuni whose
minutes to the nearest polo change most (flat / with curves and slopes /
winter), writes ``effect.csv`` and, with ``--json``, the figures as JSON:
the same numbers for any bundle, so they can be compared across builds.
Timings are printed too (seconds on this machine; not a benchmark).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import pandas as pd

from territorio.planning.config import PlanConfig

__all__ = ["effect_report", "winter_markdown", "winter_report"]


def _ctx(bundle: Any) -> Any:
    from territorio.accessibility import AccessContext
    from territorio.planning.run import access_config_of

    return AccessContext.from_bundle(bundle, access_config_of(bundle), mode="car")


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, float) and not np.isfinite(x):
        return None
    return x


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    return "-" if not np.isfinite(f) else f"{f:.1f}"


def _fmt2(v: Any) -> str:
    return "-" if v is None or not np.isfinite(float(v)) else f"{float(v):.2f}"


def winter_markdown(res: Any, *, lang: str = "it") -> str:
    """Return the report section of a :class:`~territorio.planning.winter.WinterResult`."""
    it = lang == "it"
    s = res.summary
    roads = s["roads"]
    out = [
        f"## {'Scenario invernale' if it else 'Winter scenario'} «{res.name}»",
        "",
        (
            f"Strade chiuse: {roads['km_closed']} km ({roads['edges_closed']} tratti); "
            f"velocità x{roads['altitude_speed_factor']:g} sopra {roads['altitude_m']:g} m "
            f"({roads['km_slowed']} km)."
            if it
            else f"Roads closed: {roads['km_closed']} km ({roads['edges_closed']} edges); "
            f"speed x{roads['altitude_speed_factor']:g} above {roads['altitude_m']:g} m "
            f"({roads['km_slowed']} km)."
        ),
        "",
        "| "
        + (
            "servizio | minuti in più (media, max) | residenti spinti oltre 30' | di cui 65+ | "
            "irraggiungibili"
            if it
            else "service | minutes added (mean, max) | residents pushed beyond 30' | of them "
            "65+ | unreachable"
        )
        + " |",
        "|---|---|---|---|---|",
    ]
    from territorio.planning.marginality import category_label

    for cat, c in s["categories"].items():
        added = (
            ("nessun dato" if it else "no data")
            if c["minutes_added_mean"] is None
            else f"{_fmt2(c['minutes_added_mean'])} (max {_fmt(c['minutes_added_max'])})"
        )
        out.append(
            f"| {category_label(cat, lang)} | {added} | {c['residents_pushed_beyond_30']:,} | "
            f"{c['residents_65_pushed_beyond_30']:,} | {c['residents_unreachable']:,} |"
        )
    out.append("")
    ch = s["comuni_changing_class"]
    head = "Comuni che cambiano classe SNAI" if it else "Comuni changing SNAI class"
    out.append(f"{head}: {len(ch)}")
    for c in ch:
        out.append(
            f"- {c['name']}: {c['summer']} → {c['winter']} "
            f"({_fmt(c['polo_min_summer'])} → {_fmt(c['polo_min_winter'])} min)"
        )
    for c in s["clusters_appearing"]:
        name = c["name_it"] if it else c["name_en"]
        tag = ("nuovo" if it else "new") if c["new"] else ("esteso" if it else "grown")
        out.append(f"- cluster {c['cluster_id']} {name} ({tag}): + {', '.join(c['new_members'])}")
    nd = s["comuni_without_dem"]
    if nd:
        out.append("")
        out.append(
            f"{len(nd)} comuni senza copertura DEM: per le regole di altitudine vale "
            "l'altitudine ISTAT del centro."
            if it
            else f"{len(nd)} comuni without DEM coverage: altitude rules use the ISTAT "
            "centre altitude."
        )
    for n in res.notes:
        out.append(f"- {'nota' if it else 'note'}: {n}")
    return "\n".join(out) + "\n"


def winter_report(
    bundle: Any,
    cfg: PlanConfig,
    *,
    name: str = "winter",
    out_dir: Path,
    stream: TextIO,
    ctx: Any = None,
) -> dict[str, Any]:
    """Run the winter scenario ``name`` (preset or ``[[winter]]`` variant) and write its tables.

    Returns the summary (also written as JSON), with ``seconds`` measured.
    """
    from territorio.planning.effect import baseline_of
    from territorio.planning.winter import run_winter

    t0 = time.perf_counter()
    winter = cfg.winter_scenario(name)
    ctx = ctx if ctx is not None else _ctx(bundle)
    base = baseline_of(bundle, cfg, ctx)
    t1 = time.perf_counter()
    res = run_winter(ctx, base, bundle.layer("road_edges"), bundle.layer("road_nodes"), cfg, winter)
    t2 = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    res.municipalities.to_csv(out_dir / f"winter_{name}_municipalities.csv", index=False)
    res.categories.to_csv(out_dir / f"winter_{name}_categories.csv", index=False)
    summary = dict(res.summary)
    summary["notes"] = res.notes
    summary["seconds"] = {"baseline": round(t1 - t0, 2), "scenario": round(t2 - t1, 2)}
    (out_dir / f"winter_{name}_summary.json").write_text(
        json.dumps(_jsonable(summary), indent=2, ensure_ascii=False), encoding="utf-8"
    )
    p = lambda s="": print(s, file=stream)  # noqa: E731
    roads = summary["roads"]
    p(f"Scenario invernale / winter scenario {name!r}")
    p(
        f"  strade chiuse / roads closed: {roads['edges_closed']} tratti / edges, "
        f"{roads['km_closed']} km; rallentate sopra / slowed above {roads['altitude_m']:g} m: "
        f"{roads['edges_slowed']} tratti / edges, {roads['km_slowed']} km "
        f"(x{roads['altitude_speed_factor']:g} velocità / speed)"
    )
    for r in roads["closures"]:
        what = r["ref"] or r["name"] or f"{', '.join(r['municipalities'])} >= {r['above_m']:g} m"
        if r["unmatched_reason"]:
            p(f"    {what}: nessun tratto / no edge: {r['unmatched_reason']}")
        else:
            p(f"    {what}: {r['edges_closed']} tratti / edges, {r['km_closed']} km ({r['note']})")
    p("  per categoria / per category:")
    for cat, s in summary["categories"].items():
        p(
            f"    {cat}: +{_fmt2(s['minutes_added_mean'])} min in media / on average "
            f"(max +{_fmt(s['minutes_added_max'])}); oltre 30' / pushed beyond 30': "
            f"{s['residents_pushed_beyond_30']:,} residenti / residents, "
            f"{s['residents_65_pushed_beyond_30']:,} di 65+ / aged 65+; "
            f"irraggiungibili / unreachable: {s['residents_unreachable']:,}"
        )
    ch = summary["comuni_changing_class"]
    p(f"  comuni che cambiano classe SNAI / comuni changing SNAI class: {len(ch)}")
    for c in ch[:30]:
        p(
            f"    {c['name']} ({c['pro_com_t']}): {c['summer']} -> {c['winter']} "
            f"({_fmt(c['polo_min_summer'])} -> {_fmt(c['polo_min_winter'])} min)"
        )
    p(
        f"  cluster / clusters: estate / summer {summary['clusters_summer']}, "
        f"inverno / winter {summary['clusters_winter']}"
    )
    for c in summary["clusters_appearing"]:
        tag = "nuovo / new" if c["new"] else f"esteso / grown ({', '.join(c['summer_clusters'])})"
        p(f"    {c['cluster_id']} {c['name_it']} [{tag}]: + {', '.join(c['new_members'])}")
    nd = summary["comuni_without_dem"]
    if nd:
        p(
            f"  senza DEM / without DEM: {len(nd)} comuni (altitudine ISTAT del centro / "
            "ISTAT centre altitude stands in)"
        )
    for n in res.notes:
        if not n.startswith("closure "):  # listed with the closures above
            p(f"  nota / note: {n}")
    p(
        f"  tempo / time: {summary['seconds']['scenario']} s scenario "
        f"(+ {summary['seconds']['baseline']} s baseline)"
    )
    p(f"  tabelle / tables: {out_dir}")
    return summary


def effect_report(
    bundle: Any,
    cfg: PlanConfig,
    *,
    winter_name: str = "winter",
    climbs: Sequence[tuple[str, str, str]] | None = None,
    top: int = 20,
    out_dir: Path,
    stream: TextIO,
) -> dict[str, Any]:
    """Print and write the effect report (see the module notes); return its figures."""
    from territorio.errors import NotFoundError
    from territorio.planning.effect import (
        DEFAULT_CLIMBS,
        baseline_of,
        climb,
        coverage_summary,
        effect_table,
    )

    t0 = time.perf_counter()
    cov = coverage_summary(bundle)
    ctx = _ctx(bundle)
    base = baseline_of(bundle, cfg, ctx)
    table = effect_table(ctx, bundle, cfg, base, cfg.winter_scenario(winter_name))
    p = lambda s="": print(s, file=stream)  # noqa: E731
    el = cov["elevation"]
    nodes = el["nodes"]
    p("Copertura DEM / DEM coverage")
    p(f"  incroci / junctions: {nodes['with_dem']:,} di / of {nodes['total']:,}")
    if "residents_with_dem" in el:
        p(
            f"  residenti / residents: {el['residents_with_dem']:,} di / of "
            f"{el['residents']:,} ({100 * (el['residents_with_dem_share'] or 0):.1f} %)"
        )
    mu = el["municipalities"]
    p(
        f"  comuni senza DEM / comuni without DEM: {len(mu['without_dem'])} di / of {mu['total']} "
        "(altitudine ISTAT del centro al loro posto / ISTAT centre altitude stands in)"
    )
    mnt = cov["mountain"] or {}
    cv = mnt.get("curvature", {})
    p(
        "  curvatura / curvature: "
        + (
            f"{cv['hairpins']:,} tornanti / hairpins, {cv['edges_capped']:,} tratti rallentati / "
            "edges slowed"
            if cv.get("applied")
            else f"non applicata / not applied ({cv.get('reason')})"
        )
    )
    by_class = cv.get("hairpins_by_class") or {}
    if by_class:
        main = ("primary", "secondary", "tertiary", "trunk", "unclassified", "minor")
        p(
            "  tornanti per classe / hairpins by class: "
            + ", ".join(f"{k} {by_class[k]:,}" for k in main if k in by_class)
            + f" (altre / other {sum(v for k, v in by_class.items() if k not in main):,}: "
            "anelli di servizio, parcheggi / service loops, car parks)"
        )
    climbs_out: list[dict[str, Any]] = []
    p("Salite / climbs")
    for o, d, label in climbs if climbs is not None else DEFAULT_CLIMBS:
        try:
            c = climb(ctx, bundle, o, d, label=label)
        except NotFoundError as exc:
            p(f"  {label}: {exc}")
            climbs_out.append({"label": label, "error": str(exc)})
            continue
        p(
            f"  {c.label}: {c.km} km, {c.hairpins} tornanti / hairpins, "
            f"{c.minutes_flat} -> {c.minutes_mountain} min (+{c.added_min:.1f}), "
            f"dislivello / climb {c.climb_m if c.climb_m is not None else 'n/d'} m"
        )
        climbs_out.append({**c.__dict__, "added_min": round(c.added_min, 2)})
    p(f"I {top} comuni che cambiano di più / the {top} comuni that change most")
    p("  comune | polo min: piano / flat, curve+pendenze / curves+slopes, inverno / winter")
    for _, r in table.head(top).iterrows():
        w = "irraggiungibile / unreachable" if r["winter_status"] == "unreachable" else ""
        dem = "" if bool(r.get("has_elevation", True)) else " [senza DEM / no DEM]"
        p(
            f"  {r['name']} ({r['pro_com_t']}){dem}: {_fmt(r['polo_min_flat'])} | "
            f"{_fmt(r['polo_min_summer'])} | {_fmt(r['polo_min_winter'])} {w}"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    table.to_csv(out_dir / "effect.csv", index=False)
    secs = round(time.perf_counter() - t0, 2)
    p(f"tabella / table: {out_dir / 'effect.csv'} ({secs} s)")
    ok = table["winter_status"] == "ok"
    return _jsonable(
        {
            "coverage": {
                "junctions": nodes,
                "residents": el.get("residents"),
                "residents_with_dem": el.get("residents_with_dem"),
                "municipalities_without_dem": len(mu["without_dem"]),
            },
            "curvature": cv,
            "climbs": climbs_out,
            "top": table.head(top).to_dict(orient="records"),
            "mean_curves_slopes_added_min": float(
                pd.to_numeric(table.loc[ok, "curves_slopes_added_min"]).mean()
            )
            if ok.any()
            else None,
            "seconds": secs,
        }
    )
