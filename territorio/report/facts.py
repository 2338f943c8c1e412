"""The facts of one comune's report, as the template shows them (text already formatted)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from territorio._version import __version__
from territorio.categories import CATEGORIES
from territorio.maps._palette import SNAI_TEXT, category_label, finite
from territorio.report._texts import (
    ALTITUDE_ZONE_EN,
    STRUCTURAL_FACTORS,
    TEXTS,
    fmt_int,
    fmt_min,
    fmt_num,
)
from territorio.report.source import (
    MIN_COMPARABLES,
    ComparableGroup,
    ReportSource,
    comparable_group,
    comparison_table,
)

__all__ = ["CATEGORY_ORDER", "report_facts"]

#: Categories in the order of the taxonomy (the table and the chart follow it).
CATEGORY_ORDER: list[str] = list(CATEGORIES)
#: Main factors of the marginality index shown (largest contributions first).
TOP_FACTORS = 3


def _zone_text(zone: Any, lang: str) -> str:
    if not isinstance(zone, str) or not zone:
        return "–"
    return ALTITUDE_ZONE_EN.get(zone, zone) if lang == "en" else zone


def _factor_label(code: str, lang: str) -> str:
    if code in STRUCTURAL_FACTORS:
        return STRUCTURAL_FACTORS[code][0 if lang == "it" else 1]
    return category_label(code, lang)


def _service_name(
    services: pd.DataFrame, sid: str, lang: str, *, with_category: bool = False
) -> str:
    """Return a service's name, or ``unnamed`` when the source gives none."""
    if sid not in services.index:
        return sid
    name = services.at[sid, "name"]
    text = f"«{name}»" if isinstance(name, str) and name.strip() else TEXTS[lang]["unnamed"]
    if with_category:
        return f"{category_label(str(services.at[sid, 'category']), lang)} {text}"
    return text.strip("«»")


def _first(rec: pd.Series, *keys: str) -> str:
    """Return the first non-empty text among ``rec[key]`` (``""`` when none)."""
    for k in keys:
        v = rec.get(k)
        if isinstance(v, str) and v.strip():
            return v
    return ""


def _header(src: ReportSource, rec: pd.Series, lang: str) -> dict[str, Any]:
    t = TEXTS[lang]
    klass = rec.get("snai_class")
    coverage = str(rec.get("network_coverage") or "full")
    if isinstance(klass, str) and klass in SNAI_TEXT:
        snai = SNAI_TEXT[klass][0 if lang == "it" else 1]
        # the destination polo (``polo_destination*``; ``nearest_polo*`` in older plans)
        dest = _first(rec, "polo_destination", "nearest_polo")
        if dest == str(rec["pro_com_t"]) or _first(rec, "polo_type") in (
            "polo",
            "polo_intercomunale",
        ):
            snai_detail = t["snai_is_polo"]
        elif finite(rec.get("time_to_polo_min")):
            polo = _first(rec, "polo_destination_name", "nearest_polo_name") or dest or "–"
            snai_detail = t["snai_polo"].format(
                minutes=fmt_min(rec["time_to_polo_min"], lang), polo=polo
            )
        else:
            snai_detail = ""
    elif klass == "outside_coverage":
        snai, snai_detail = t["snai_outside"], ""
    else:
        snai, snai_detail = t["snai_none"], ""
    return {
        "name": str(rec["name"]),
        "code": str(rec["pro_com_t"]),
        "residents": fmt_int(rec.get("pop_total"), lang),
        "residents65": fmt_int(rec.get("pop_65_plus"), lang),
        "zone": _zone_text(rec.get("altitude_zone"), lang),
        "snai": snai,
        "snai_detail": snai_detail,
        "coverage": coverage,
        "coverage_text": t.get(f"coverage_{coverage}", coverage),
        "outside": coverage == "none",
    }


def _provenance(src: ReportSource, lang: str) -> dict[str, Any]:
    """Return the data dates and sources, from the bundle's manifest."""
    man = src.bundle.manifest
    sources = man.get("sources") or {}
    records: list[dict[str, Any]] = []
    for key, val in sources.items():
        items = val if isinstance(val, list) else [val]
        for v in items:
            if isinstance(v, dict):
                records.append({"key": key, **v})
    dates: list[str] = []
    licences: list[str] = []
    for r in records:
        lic = str(r.get("licence") or "").strip()
        if lic and lic not in licences:
            licences.append(lic)
    by_source: dict[str, str] = {}
    for r in records:
        date = r.get("data_date")
        if not date:
            continue
        label = str(r.get("source") or r.get("key"))
        day = str(date)[:10]
        # one date per source name (the newest of its files)
        if label not in by_source or day > by_source[label]:
            by_source[label] = day
    dates = [f"{k} {v}" for k, v in sorted(by_source.items())]
    computed = str((man.get("access") or {}).get("computed_at") or "")[:10]
    t = TEXTS[lang]
    short = []
    for key, label in (("municipalities", "istat"), ("population", "census")):
        src_rec = sources.get(key)
        if isinstance(src_rec, dict) and src_rec.get("data_date"):
            short.append(f"{t['src_' + label]} {str(src_rec['data_date'])[:10]}")
    if man.get("osm_timestamp"):
        short.append(f"OpenStreetMap {str(man['osm_timestamp'])[:10]}")
    if computed:
        short.append(t["computed"].format(date=computed))
    return {
        "short": ", ".join(short),
        "dates": "; ".join(dates),
        "licences": "; ".join(licences),
        "generated": t["generated"].format(
            version=man.get("software_version") or __version__,
            date=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d"),
            bundle=src.name,
        ),
    }


def _table(src: ReportSource, code: str, lang: str) -> list[dict[str, Any]]:
    t = TEXTS[lang]
    acc = src.access
    part: dict[str, dict[str, Any]] = {
        str(r["category"]): {str(k): v for k, v in r.items()}
        for r in acc[acc["pro_com_t"] == code].to_dict("records")
    }
    services = src.services
    rows = []
    for cat in CATEGORY_ORDER:
        rec = part.get(cat, {})
        status = str(rec.get("status") or "no_data")
        timed = status in ("ok", "partial")
        raw_share = rec.get("covered_pop_share")
        share = float(raw_share) if isinstance(raw_share, int | float) else float("nan")
        # a sliver of residents beyond every road (cells over 1 km from one) is
        # said once under the table; the row is flagged when it is 1% or more
        flag = status == "partial" and not (pd.notna(share) and share >= MINOR_GAP_SHARE)
        nearest = "–"
        if timed:
            sid = rec.get("ref_nearest_service_id")
            if isinstance(sid, str) and sid:
                nearest = _service_name(services, sid, lang)
        rows.append(
            {
                "category": cat,
                "label": category_label(cat, lang),
                "status": status,
                "status_text": (
                    t["status_partial_share"].format(pct=_pct(share, lang))
                    if flag
                    else t.get(f"status_{status}", status)
                ),
                "flag": flag,
                "covered_share": float(share) if pd.notna(share) else None,
                "timed": timed,
                "nearest": nearest,
                "minutes": fmt_num(rec.get("ref_time_min"), lang) if timed else "",
                "pop15": fmt_int(rec.get("pop_beyond_15"), lang) if timed else "",
                "pop65_15": fmt_int(rec.get("pop65_beyond_15"), lang) if timed else "",
                "pop30": fmt_int(rec.get("pop_beyond_30"), lang) if timed else "",
                "pop65_30": fmt_int(rec.get("pop65_beyond_30"), lang) if timed else "",
            }
        )
    return rows


#: Residents within the network's reach above which a "partial" row is not flagged.
MINOR_GAP_SHARE = 0.99


def _pct(share: Any, lang: str) -> str:
    text = f"{100 * float(share):.1f}"
    return text.replace(".", ",") if lang == "it" else text


def _gap_note(rows: list[dict[str, Any]], lang: str) -> str:
    """One sentence for the residents beyond every road when they are under 1%."""
    shares = [
        r["covered_share"]
        for r in rows
        if r["status"] == "partial" and not r["flag"] and r["covered_share"] is not None
    ]
    if not shares:
        return ""
    return TEXTS[lang]["minor_gap"].format(pct=_pct(1 - min(shares), lang))


def _group_text(group: ComparableGroup | None, rec: pd.Series, lang: str) -> str:
    t = TEXTS[lang]
    if group is None:
        return t["group_none"] if rec.get("snai_class") == "outside_coverage" else t["no_chart"]
    klass = SNAI_TEXT[group.snai_class][0 if lang == "it" else 1]
    zone = _zone_text(rec.get("altitude_zone"), lang)
    if group.widened:
        return t["group_widened"].format(
            klass=klass, n=len(group.codes), min=MIN_COMPARABLES, zone=zone
        )
    return t["group"].format(klass=klass, zone=zone, n=len(group.codes))


def _marginality(src: ReportSource, rec: pd.Series, lang: str) -> dict[str, Any]:
    t = TEXTS[lang]
    plan = src.plan
    status = str(rec.get("index_status") or "no_data")
    if status == "ok" and finite(rec.get("score")):
        score = t["score_value"].format(
            score=fmt_num(rec["score"], lang),
            rank=int(rec["rank"]) if finite(rec.get("rank")) else "–",
            n=int(plan.summary.get("scored") or 0),
        )
    else:
        score = t["score_missing"].format(why=t.get(f"status_{status}", status))
    contrib = {
        c.removeprefix("contrib_"): float(rec[c])
        for c in rec.index
        if str(c).startswith("contrib_") and finite(rec[c]) and float(rec[c]) > 0
    }
    top = sorted(contrib.items(), key=lambda kv: -kv[1])[:TOP_FACTORS]
    factors = ", ".join(f"{_factor_label(k, lang)} {fmt_num(v, lang)}" for k, v in top)
    cluster = None
    cid = rec.get("cluster_id")
    if isinstance(cid, str) and cid:
        cl = plan.clusters[plan.clusters["cluster_id"].astype(str) == cid]
        col = "name_it" if lang == "it" else "name_en"
        cname = str(cl.iloc[0][col]) if len(cl) and col in cl.columns else ""
        lacking = ""
        lcol = "lacking_text_it" if lang == "it" else "lacking_text_en"
        if len(cl) and lcol in cl.columns and isinstance(cl.iloc[0][lcol], str):
            lacking = str(cl.iloc[0][lcol])
        cluster = {"id": cid, "name": cname, "lacking": lacking}
    return {
        "score": score,
        "factors": factors,
        "cluster": cluster,
        "site": _site(src, rec, lang),
    }


def _site(src: ReportSource, rec: pd.Series, lang: str) -> str:
    """Describe the best welfare-point site of the comune's cluster, or why there is none."""
    t = TEXTS[lang]
    siting = src.plan.summary.get("siting")
    if not siting:
        return t["site_not_run"]
    code = str(rec["pro_com_t"])
    cid = rec.get("cluster_id")
    scope = str(siting.get("cluster") or "all")
    in_scope = scope == "all" or (isinstance(cid, str) and cid == scope)
    sites = src.plan.sites
    if sites is None or len(sites) == 0:
        return t["site_none"].format(cluster=scope) if in_scope else t["site_other"]
    munis = src.municipalities
    where = munis[["pro_com_t", "name", munis.geometry.name]].sjoin(
        sites[[sites.geometry.name]].to_crs(munis.crs), predicate="contains"
    )
    here = where[where["pro_com_t"] == code]
    if not in_scope and len(here) == 0:
        return t["site_other"]
    best = sites.sort_values("order").iloc[0] if "order" in sites.columns else sites.iloc[0]
    host = where[where["index_right"] == best.name]
    host_name = str(host.iloc[0]["name"]) if len(host) else "–"
    return t["site_found"].format(
        name=str(best.get("name") or best.get("site_id")),
        where=host_name,
        gain=fmt_int(best.get("marginal_gain_65", best.get("marginal_gain")), lang),
        t=fmt_num(siting.get("t_min"), lang, digits=0),
    )


def _whatif(src: ReportSource, rec: pd.Series, lang: str) -> dict[str, Any] | None:
    """Return the what-if box when the plan's scenario touches the comune (None otherwise).

    It touches the comune when a changed service lies in it, or when the
    scenario changed one of its figures (``scenario.csv``'s ``changed``).
    """
    scen = src.plan.summary.get("scenario")
    table = src.scenario_table
    if not scen or table is None:
        return None
    t = TEXTS[lang]
    code = str(rec["pro_com_t"])
    services = src.services
    geom = src.municipalities[src.municipalities["pro_com_t"] == code].geometry.iloc[0]
    changes = []
    located_here = False
    for ch in scen.get("changes") or []:
        if ch.get("action") == "remove":
            sid = str(ch.get("service_id"))
            what = _service_name(services, sid, lang, with_category=True)
            if sid in services.index:
                host = str(services.at[sid, "pro_com_t"])
                located_here |= host == code
                names = src.municipalities.set_index("pro_com_t")["name"]
                if host in names.index:
                    what += f", {names[host]}"
            changes.append(t["remove"].format(what=what))
        elif ch.get("action") == "add":
            from shapely.geometry import Point

            what = category_label(str(ch.get("category")), lang)
            if ch.get("name"):
                what += f" «{ch['name']}»"
            located_here |= bool(geom.contains(Point(float(ch["lon"]), float(ch["lat"]))))
            changes.append(t["add"].format(what=what))
    row: dict[str, Any] | None = None
    if code in table.index:
        row = {str(k): v for k, v in table.loc[code].to_dict().items()}
    changed = bool(row is not None and row["changed"])
    if not (changed or located_here):
        return None
    lines: list[dict[str, str]] = []
    if row is not None:
        for cat in scen.get("categories") or []:
            label = category_label(str(cat), lang)
            for key, col, fmt in (
                ("whatif_ref", "ref_min", "min"),
                ("whatif_mean", "mean_min", "min"),
                ("whatif_beyond", "pop_beyond_30", "int"),
            ):
                b, a = row.get(f"{cat}_{col}_before"), row.get(f"{cat}_{col}_after")
                if not (finite(b) or finite(a)):
                    continue
                if finite(b) and finite(a) and abs(float(a) - float(b)) < 0.05:  # type: ignore[arg-type]
                    continue
                f = fmt_min if fmt == "min" else fmt_int
                lines.append(
                    {"what": t[key].format(cat=label), "before": f(b, lang), "after": f(a, lang)}
                )
        sb, sa = row.get("score_before"), row.get("score_after")
        if finite(sb) and finite(sa) and abs(float(sa) - float(sb)) >= 0.005:  # type: ignore[arg-type]
            lines.append(
                {
                    "what": t["whatif_score"],
                    "before": fmt_num(row["score_before"], lang, digits=2),
                    "after": fmt_num(row["score_after"], lang, digits=2),
                }
            )
        if row.get("class_before") != row.get("class_after"):
            lines.append(
                {
                    "what": t["whatif_class"],
                    "before": str(row.get("class_before")),
                    "after": str(row.get("class_after")),
                }
            )
    return {
        "title": t["whatif_scenario"].format(name=scen.get("name") or "scenario"),
        "changes": changes,
        "lines": lines,
        "none": t["whatif_none"] if not lines else "",
    }


def report_facts(src: ReportSource, code: str, lang: str) -> dict[str, Any]:
    """Everything the report of ``code`` shows, formatted in ``lang`` (but the pictures).

    Returns
    -------
    dict
        ``header``, ``table`` (one row per category), ``group`` (the
        :class:`~territorio.report.source.ComparableGroup` or None),
        ``group_text``, ``comparison`` (the chart's table),
        ``marginality``, ``whatif`` (None when the scenario does not touch
        the comune), ``provenance``.
    """
    munis = src.municipalities
    rec = munis[munis["pro_com_t"] == code].drop(columns=munis.geometry.name).iloc[0]
    group = comparable_group(munis, code)
    comparison = comparison_table(src.access, code, group, CATEGORY_ORDER)
    return {
        "header": _header(src, rec, lang),
        "table": (table := _table(src, code, lang)),
        "gap_note": _gap_note(table, lang),
        "group": group,
        "group_text": _group_text(group, rec, lang),
        "comparison": comparison,
        "marginality": _marginality(src, rec, lang),
        "whatif": _whatif(src, rec, lang),
        "provenance": _provenance(src, lang),
        "attribution": TEXTS[lang]["attribution"],
        "lang": lang,
        "t": TEXTS[lang],
    }
