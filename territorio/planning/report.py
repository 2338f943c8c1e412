"""Short Markdown reports, in Italian and English: one per cluster and one overview.

Numbers come with their unit and population, the data sources and date next
to them, and places outside network coverage are said to be so, never given
a number.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from territorio.planning.marginality import category_label
from territorio.planning.snai import SNAI_LABELS

__all__ = ["cluster_report", "overview_report"]

_T: dict[str, dict[str, str]] = {
    "it": {
        "cluster": "Area sottoservita",
        "members": "Comuni",
        "residents": "residenti",
        "old": "con 65 anni e più",
        "area": "superficie",
        "score": "Indice di marginalità medio (0 = ben servito, 100 = molto marginale)",
        "lacking": "Servizi più carenti",
        "none": "nessuna carenza rilevata con i dati disponibili",
        "table_m": "| Comune | Residenti | 65+ | Indice | Classe SNAI | Tempo al polo SNAI "
        "(comune di destinazione) | Fattore principale |",
        "sites": "Dove aprire un punto di welfare cooperativo",
        "sites_intro": "Siti scelti (copertura massima, greedy con guadagni marginali esatti): "
        "residenti portati entro {t:g} minuti in auto da un punto che offre: {cats}.",
        "table_s": "| # | Sito | Nuovi serviti | di cui 65+ | Serviti prima | Serviti dopo |",
        "no_sites": "Nessun sito aggiunge residenti serviti entro {t:g} minuti.",
        "unknown": "{n} residenti esclusi dal calcolo (fuori copertura della rete o senza dati).",
        "sources": "Fonti",
        "outside": "fuori copertura",
        "overview": "Pianificazione territoriale: sintesi",
        "classes": "Classi SNAI",
        "clusters": "Aree sottoservite",
        "worst": "Comuni più marginali",
        "scenario": "Scenario",
        "changed": "Comuni con variazioni",
        "notes": "Note",
        "class": "Classe",
        "count": "Comuni",
        "poli": "Poli e comuni di destinazione",
        "poli_intro": "Il tempo di ogni comune è misurato in auto dal suo punto di riferimento "
        "(il centro abitato principale) al punto di riferimento del polo più vicino; per un "
        "polo intercomunale, a UN solo comune del gruppo, come nella tabella ufficiale SNAI.",
        "polo_single": "polo",
        "polo_inter": "polo intercomunale {g}: {members}; tempi misurati a **{dest}**",
        "refs": "Punti di riferimento dei comuni",
    },
    "en": {
        "cluster": "Underserved area",
        "members": "Municipalities",
        "residents": "residents",
        "old": "aged 65+",
        "area": "area",
        "score": "Mean marginality index (0 = well served, 100 = most marginal)",
        "lacking": "Services most lacking",
        "none": "no shortage found with the data available",
        "table_m": "| Municipality | Residents | 65+ | Index | SNAI class | Time to the SNAI hub "
        "(destination comune) | Main factor |",
        "sites": "Where to open a cooperative welfare point",
        "sites_intro": "Chosen sites (maximal covering, greedy with exact marginal gains): "
        "residents brought within {t:g} minutes by car of a point offering: {cats}.",
        "table_s": "| # | Site | Newly served | of whom 65+ | Served before | Served after |",
        "no_sites": "No site adds residents served within {t:g} minutes.",
        "unknown": "{n} residents left out (outside network coverage or no data).",
        "sources": "Sources",
        "outside": "outside coverage",
        "overview": "Territorial planning: overview",
        "classes": "SNAI classes",
        "clusters": "Underserved areas",
        "worst": "Most marginal municipalities",
        "scenario": "Scenario",
        "changed": "Municipalities that change",
        "notes": "Notes",
        "class": "Class",
        "count": "Municipalities",
        "poli": "Hubs and destination comuni",
        "poli_intro": "Each municipality's time is driven from its reference point (its main "
        "inhabited centre) to the reference point of the nearest hub; for an inter-municipal "
        "hub, to ONE comune of the group, as in the official SNAI table.",
        "polo_single": "hub",
        "polo_inter": "inter-municipal hub {g}: {members}; times measured to **{dest}**",
        "refs": "Reference points of the municipalities",
    },
}

#: ``ref_source`` values in words.
_REF_NAMES: dict[str, dict[str, str]] = {
    "it": {
        "istat_2011_centre": "centro capoluogo ISTAT 2011",
        "osm_place": "località OpenStreetMap con il nome del comune",
        "population_cell": "cella più popolata della griglia di popolazione",
        "representative_point": "punto interno al poligono (nessun centro abitato noto)",
        "user": "file dell'utente",
    },
    "en": {
        "istat_2011_centre": "ISTAT 2011 centro capoluogo",
        "osm_place": "OpenStreetMap place named like the comune",
        "population_cell": "most populated cell of the population grid",
        "representative_point": "point inside the polygon (no inhabited centre known)",
        "user": "user file",
    },
}


def _num(x: Any, lang: str, digits: int = 0) -> str:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "–"
    if not np.isfinite(v):
        return "–"
    s = f"{v:,.{digits}f}"
    if lang == "it":
        s = s.replace(",", "_").replace(".", ",").replace("_", ".")
    return s


def _sources(manifest: Mapping[str, Any] | None, lang: str) -> str:
    if not manifest:
        return ""
    build = manifest.get("build") or {}
    built = build.get("finished_at", "") if isinstance(build, Mapping) else ""
    src = manifest.get("sources") or {}
    names: list[str] = []
    if isinstance(src, Mapping):
        names = [str(k) for k in src]
    elif isinstance(src, list):
        names = [str(s.get("source", s)) if isinstance(s, Mapping) else str(s) for s in src]
    head = "Fonti" if lang == "it" else "Sources"
    date = (" – bundle " + str(built)) if built else ""
    return f"_{head}: {', '.join(names) or 'territory bundle'}{date}._\n"


def _polo_time(r: Mapping[str, Any] | pd.Series, lang: str) -> str:
    """``"33 min (Collegno)"``: the time to the polo and the comune it is measured to."""
    minutes = _num(r.get("time_to_polo_min"), lang)
    if minutes == "–":
        return minutes
    dest = r.get("polo_destination_name")
    where = f" ({dest})" if isinstance(dest, str) and dest else ""
    return f"{minutes} min{where}"


def _poli_lines(snai: pd.DataFrame, lang: str) -> list[str]:
    """List the poli and, for each polo intercomunale, the ONE comune its times go to."""
    t = _T[lang]
    if "polo_group" not in snai.columns:
        return []
    lines = [f"## {t['poli']}", "", t["poli_intro"], ""]
    single = snai[snai["polo_type"] == "polo"].sort_values("name")
    if len(single):
        lines.append(f"- {t['polo_single']}: {', '.join(single['name'].astype(str))}")
    inter = snai[snai["polo_type"] == "intercomunale"]
    for gid, grp in inter.groupby("polo_group", sort=True):
        dest = grp["polo_destination_name"].dropna()
        lines.append(
            "- "
            + t["polo_inter"].format(
                g=gid,
                members=" – ".join(grp["name"].astype(str)),
                dest=dest.iloc[0] if len(dest) else "–",
            )
        )
    return [*lines, ""]


def _ref_lines(manifest: Mapping[str, Any] | None, lang: str) -> list[str]:
    """How many reference points came from each source (from the bundle manifest)."""
    refs = (manifest or {}).get("reference_points")
    if not isinstance(refs, Mapping) or not refs:
        return []
    names = _REF_NAMES[lang]
    lines = [f"## {_T[lang]['refs']}", ""]
    for src, n in refs.items():
        key = "user" if str(src).startswith("user:") else str(src)
        lines.append(f"- {names.get(key, key)} (`{src}`): {_num(n, lang)}")
    return [*lines, ""]


def cluster_report(
    cluster: Mapping[str, Any] | pd.Series,
    members: pd.DataFrame,
    *,
    lang: str = "it",
    sites: pd.DataFrame | None = None,
    siting_summary: Mapping[str, Any] | None = None,
    manifest: Mapping[str, Any] | None = None,
) -> str:
    """Markdown report of one cluster.

    Parameters
    ----------
    cluster
        One row of the clusters table (:func:`~territorio.planning.clusters.find_clusters`).
    members
        The member municipalities with ``name``, ``pop_total``, ``pop_65_plus``,
        ``score``, ``snai_class``, ``main_factor``.
    lang
        ``"it"`` or ``"en"``.
    sites, siting_summary
        Siting result for this cluster, if any.
    manifest
        The bundle manifest (sources and date).
    """
    t = _T[lang]
    name = cluster[f"name_{lang}"]
    lines = [f"# {t['cluster']} {cluster['cluster_id']}: {name}", ""]
    lines.append(
        f"**{_num(cluster['pop_total'], lang)} {t['residents']}**, "
        f"{_num(cluster['pop_65_plus'], lang)} {t['old']}; {t['area']} "
        f"{_num(cluster['area_km2'], lang, 1)} km²; {cluster['n_members']} "
        f"{t['members'].lower()}."
    )
    lines += ["", f"{t['score']}: **{_num(cluster['mean_score'], lang, 1)}**", ""]
    lacking = cluster.get(f"lacking_text_{lang}") or t["none"]
    lines += [f"## {t['lacking']}", "", *[f"- {x}" for x in str(lacking).split("; ")], ""]
    lines += [f"## {t['members']}", "", t["table_m"], "|---|---:|---:|---:|---|---|---|"]
    mem = members.sort_values("pop_total", ascending=False)
    for _, r in mem.iterrows():
        cls = str(r.get("snai_class") or "")
        cls_txt = (
            f"{cls} {SNAI_LABELS[cls][0 if lang == 'it' else 1]}" if cls in SNAI_LABELS else "–"
        )
        if cls == "outside_coverage":
            cls_txt = t["outside"]
        score = _num(r.get("score"), lang, 1) if r.get("status", "ok") == "ok" else t["outside"]
        mf = r.get("main_factor")
        factor = category_label(str(mf), lang) if isinstance(mf, str) and mf else "–"
        lines.append(
            f"| {r['name']} | {_num(r.get('pop_total'), lang)} | "
            f"{_num(r.get('pop_65_plus'), lang)} | {score} | {cls_txt} | {_polo_time(r, lang)} "
            f"| {factor} |"
        )
    lines.append("")
    if sites is not None and siting_summary is not None:
        cats = ", ".join(category_label(c, lang) for c in siting_summary["categories"])
        lines += [
            f"## {t['sites']}",
            "",
            t["sites_intro"].format(t=siting_summary["t_min"], cats=cats),
            "",
        ]
        if len(sites):
            lines += [t["table_s"], "|---:|---|---:|---:|---:|---:|"]
            for _, s in sites.iterrows():
                lines.append(
                    f"| {s['order']} | {s['name']} | {_num(s['marginal_gain_pop'], lang)} | "
                    f"{_num(s['marginal_gain_65'], lang)} | {_num(s['served_before'], lang)} | "
                    f"{_num(s['served_after'], lang)} |"
                )
        else:
            lines.append(t["no_sites"].format(t=siting_summary["t_min"]))
        if siting_summary.get("unknown"):
            lines += ["", t["unknown"].format(n=_num(siting_summary["unknown"], lang))]
        lines.append("")
    src = _sources(manifest, lang)
    if src:
        lines += [src]
    return "\n".join(lines)


def overview_report(
    snai: pd.DataFrame,
    index: pd.DataFrame,
    clusters: pd.DataFrame,
    *,
    lang: str = "it",
    scenario: pd.DataFrame | None = None,
    scenario_name: str = "",
    notes: list[str] | None = None,
    manifest: Mapping[str, Any] | None = None,
    top: int = 10,
) -> str:
    """Markdown overview: SNAI class counts, most marginal places, clusters, scenario."""
    t = _T[lang]
    lines = [
        f"# {t['overview']}",
        "",
        f"## {t['classes']}",
        "",
        f"| {t['class']} | {t['count']} |",
        "|---|---:|",
    ]
    counts = snai["snai_class"].value_counts()
    for code, labels in SNAI_LABELS.items():
        if code in counts.index:
            lab = labels[0 if lang == "it" else 1]
            head = f"{code} {lab}" if code in SNAI_LABELS and len(code) == 1 else lab
            lines.append(f"| {head} | {int(counts[code])} |")
    lines += ["", *_poli_lines(snai, lang), *_ref_lines(manifest, lang)]
    lines += [
        f"## {t['worst']}",
        "",
        "| # | Comune / Municipality | Indice / Index |",
        "|---:|---|---:|",
    ]
    ok = index[index["status"] == "ok"].sort_values("score", ascending=False).head(top)
    for _, r in ok.iterrows():
        lines.append(f"| {_num(r['rank'], lang)} | {r['name']} | {_num(r['score'], lang, 1)} |")
    lines += ["", f"## {t['clusters']}", ""]
    for _, c in clusters.iterrows():
        lines.append(
            f"- **{c['cluster_id']}** {c[f'name_{lang}']}: {_num(c['pop_total'], lang)} "
            f"{t['residents']}, {_num(c['pop_65_plus'], lang)} {t['old']}, "
            f"{_num(c['mean_score'], lang, 1)}"
        )
    if scenario is not None:
        ch = scenario[scenario["changed"]]
        lines += ["", f"## {t['scenario']}: {scenario_name}", "", f"{t['changed']}: {len(ch)}", ""]
        for _, r in ch.sort_values("score_delta").head(top).iterrows():
            cls = (
                f"{r['class_before']} → {r['class_after']}"
                if r["class_before"] != r["class_after"]
                else str(r["class_after"])
            )
            lines.append(
                f"- {r['name']}: {_num(r['score_before'], lang, 1)} → "
                f"{_num(r['score_after'], lang, 1)} ({cls})"
            )
    if notes:
        lines += ["", f"## {t['notes']}", "", *[f"- {n}" for n in notes]]
    src = _sources(manifest, lang)
    if src:
        lines += ["", src]
    return "\n".join(lines) + "\n"
