"""Texts and number formats of the PDF report, Italian (default) and English."""

from __future__ import annotations

from typing import Any

from territorio.maps._palette import finite

TEXTS: dict[str, dict[str, str]] = {
    "it": {
        "title": "Scheda del comune",
        "istat": "Codice ISTAT",
        "residents": "Residenti",
        "of_65": "di cui 65+",
        "altitude_zone": "Zona altimetrica",
        "snai": "Classe SNAI",
        "snai_polo": "{minutes} dal polo più vicino, {polo}",
        "snai_is_polo": "il comune è un polo",
        "snai_outside": "non classificabile: fuori copertura della rete stradale",
        "snai_none": "non classificata",
        "coverage": "Copertura della rete stradale",
        "coverage_full": "completa",
        "coverage_partial": "parziale: parte dei residenti è fuori copertura",
        "coverage_none": "assente: il comune è fuori copertura, i tempi non sono calcolabili",
        "map": "Servizi e isocrone in auto (10, 20, 30 minuti) dal punto di riferimento",
        "map_outside": (
            "Il comune è fuori dalla copertura della rete stradale di questi dati: "
            "nessuna isocrona; i servizi noti sono comunque disegnati."
        ),
        "map_partial": (
            "Copertura parziale: dove la rete stradale di questi dati non arriva non ci "
            "sono isocrone (non significa che i luoghi siano irraggiungibili)."
        ),
        "chart": "Minuti in auto al servizio più vicino: il comune e i comuni confrontabili",
        "group": (
            "Comuni confrontabili: classe SNAI {klass} e zona altimetrica «{zone}» ({n} comuni)."
        ),
        "group_widened": (
            "Comuni confrontabili: classe SNAI {klass}, tutte le zone altimetriche ({n} comuni; "
            "meno di {min} hanno anche la zona «{zone}»)."
        ),
        "group_none": (
            "Confronto non disponibile: il comune non ha una classe SNAI "
            "(fuori copertura della rete stradale)."
        ),
        "group_note": (
            "Barra: intervallo interquartile; tratto: mediana; punto: il comune "
            "(rosso se oltre il 3° quartile)."
        ),
        "no_chart": "Nessun tempo da confrontare per questo comune.",
        "table": "Servizi per categoria",
        "category": "Servizio",
        "nearest": "Più vicino",
        "unnamed": "senza nome",
        "minutes": "min",
        "beyond15": "Oltre 15 min",
        "beyond30": "Oltre 30 min",
        "res": "resid.",
        "res65": "65+",
        "status_no_data": "nessun dato",
        "status_outside_coverage": "fuori copertura",
        "status_partial": "copertura parziale",
        "status_partial_share": "copertura parziale: {pct}% dei residenti",
        "minor_gap": (
            "Residenti in celle a più di 1 km da ogni strada della rete: {pct}%, esclusi "
            "dai conteggi."
        ),
        "status_ok": "",
        "table_note": (
            "Tempi in auto dal punto di riferimento del comune; residenti oltre la soglia "
            "dalla griglia del censimento 2021. «nessun dato»: nessuna fonte copre la "
            "categoria qui (una lacuna dei dati, non l'assenza del servizio)."
        ),
        "marginality": "Marginalità e welfare point",
        "score": "Indice di marginalità",
        "score_value": "{score} su 100 ({rank}° di {n}; più alto = più marginale)",
        "score_missing": "non calcolato: {why}",
        "factors": "Fattori principali (punti dell'indice)",
        "cluster": "Area sottoservita",
        "no_cluster": "il comune non è in un'area sottoservita",
        "site": "Welfare point cooperativo",
        "site_found": "sito migliore: {name} ({where}), {gain} residenti 65+ in più entro {t} min",
        "site_none": "il piano non ha trovato un sito per l'area {cluster}",
        "site_other": "nessun sito proposto per questo comune",
        "site_not_run": "la localizzazione non è stata calcolata in questo piano",
        "whatif": "Cosa cambia se…",
        "whatif_scenario": "Scenario «{name}»",
        "remove": "chiude: {what}",
        "add": "apre: {what}",
        "before": "prima",
        "after": "dopo",
        "whatif_ref": "{cat}, dal punto di riferimento",
        "whatif_mean": "{cat}, media dei residenti",
        "whatif_beyond": "{cat}, residenti oltre 30 min",
        "whatif_score": "Indice di marginalità",
        "whatif_class": "Classe SNAI",
        "whatif_none": "nessun effetto misurabile su questo comune",
        "sources": "Fonti",
        "data_dates": "Date dei dati",
        "data": "Dati",
        "src_istat": "ISTAT",
        "src_census": "censimento",
        "see_footer": "fonti e licenze in fondo alla pagina",
        "computed": "tempi calcolati il {date}",
        "attribution": "Strade e servizi: © OpenStreetMap contributors (ODbL)",
        "generated": "Generato da territorio {version} il {date}, bundle {bundle}",
        "page": "pag.",
    },
    "en": {
        "title": "Municipality report",
        "istat": "ISTAT code",
        "residents": "Residents",
        "of_65": "of whom 65+",
        "altitude_zone": "Altitude zone",
        "snai": "SNAI class",
        "snai_polo": "{minutes} from the nearest hub, {polo}",
        "snai_is_polo": "the comune is a hub",
        "snai_outside": "not classifiable: outside road-network coverage",
        "snai_none": "not classified",
        "coverage": "Road-network coverage",
        "coverage_full": "full",
        "coverage_partial": "partial: some residents are outside coverage",
        "coverage_none": "none: the comune is outside coverage, times cannot be computed",
        "map": "Services and car isochrones (10, 20, 30 minutes) from the reference point",
        "map_outside": (
            "The comune is outside the road-network coverage of this data: no isochrones; "
            "the known services are drawn all the same."
        ),
        "map_partial": (
            "Partial coverage: where this data's road network does not reach there are no "
            "isochrones (it does not mean those places cannot be reached)."
        ),
        "chart": "Minutes by car to the nearest service: the comune and comparable comuni",
        "group": ("Comparable comuni: SNAI class {klass} and altitude zone “{zone}” ({n} comuni)."),
        "group_widened": (
            "Comparable comuni: SNAI class {klass}, every altitude zone ({n} comuni; fewer "
            "than {min} also share the zone “{zone}”)."
        ),
        "group_none": (
            "No comparison: the comune has no SNAI class (outside road-network coverage)."
        ),
        "group_note": (
            "Bar: interquartile range; tick: median; dot: the comune (red when beyond the "
            "3rd quartile)."
        ),
        "no_chart": "No travel times to compare for this comune.",
        "table": "Services by category",
        "category": "Service",
        "nearest": "Nearest",
        "unnamed": "unnamed",
        "minutes": "min",
        "beyond15": "Beyond 15 min",
        "beyond30": "Beyond 30 min",
        "res": "resid.",
        "res65": "65+",
        "status_no_data": "no data",
        "status_outside_coverage": "outside coverage",
        "status_partial": "partial coverage",
        "status_partial_share": "partial coverage: {pct}% of residents",
        "minor_gap": (
            "{pct}% of residents live in cells more than 1 km from any road of the network: "
            "they are not counted."
        ),
        "status_ok": "",
        "table_note": (
            "Car times from the comune's reference point; residents beyond the threshold "
            "from the 2021 census grid. “no data”: no source covers the category here (a gap "
            "in the data, not a missing service)."
        ),
        "marginality": "Marginality and welfare point",
        "score": "Marginality index",
        "score_value": "{score} out of 100 (rank {rank} of {n}; higher = more marginal)",
        "score_missing": "not computed: {why}",
        "factors": "Main factors (index points)",
        "cluster": "Underserved cluster",
        "no_cluster": "the comune is in no underserved cluster",
        "site": "Cooperative welfare point",
        "site_found": "best site: {name} ({where}), {gain} more residents 65+ within {t} min",
        "site_none": "the plan found no site for cluster {cluster}",
        "site_other": "no site proposed for this comune",
        "site_not_run": "siting was not computed in this plan",
        "whatif": "What changes if…",
        "whatif_scenario": "Scenario “{name}”",
        "remove": "closes: {what}",
        "add": "opens: {what}",
        "before": "before",
        "after": "after",
        "whatif_ref": "{cat}, from the reference point",
        "whatif_mean": "{cat}, residents' mean",
        "whatif_beyond": "{cat}, residents beyond 30 min",
        "whatif_score": "Marginality index",
        "whatif_class": "SNAI class",
        "whatif_none": "no measurable effect on this comune",
        "sources": "Sources",
        "data_dates": "Data dates",
        "data": "Data",
        "src_istat": "ISTAT",
        "src_census": "census",
        "see_footer": "sources and licences at the foot of the page",
        "computed": "times computed on {date}",
        "attribution": "Roads and services: © OpenStreetMap contributors (ODbL)",
        "generated": "Made by territorio {version} on {date}, bundle {bundle}",
        "page": "p.",
    },
}

#: ISTAT altitude zones (as the bundle names them in Italian) in English.
ALTITUDE_ZONE_EN = {
    "Montagna interna": "Inland mountain",
    "Montagna litoranea": "Coastal mountain",
    "Collina interna": "Inland hill",
    "Collina litoranea": "Coastal hill",
    "Pianura": "Plain",
}

#: Marginality index components that are not a service category.
STRUCTURAL_FACTORS = {
    "altitude": ("Zona altimetrica", "Altitude zone"),
    "density": ("Bassa densità", "Low density"),
    "old_age": ("Indice di vecchiaia", "Old-age index"),
}


def fmt_int(value: Any, lang: str) -> str:
    """Format a count: ``12.345`` (it) / ``12,345`` (en); ``–`` when unknown."""
    if not finite(value):
        return "–"
    s = f"{round(float(value)):,}"
    return s.replace(",", ".") if lang == "it" else s


def fmt_num(value: Any, lang: str, *, digits: int = 1) -> str:
    """Format a decimal number with the language's decimal mark; ``–`` when unknown."""
    if not finite(value):
        return "–"
    s = f"{float(value):,.{digits}f}"
    if lang == "it":
        s = s.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return s


def fmt_min(value: Any, lang: str) -> str:
    """Format minutes: ``4,1 min`` (it) / ``4.1 min`` (en); ``–`` when unknown."""
    return "–" if not finite(value) else f"{fmt_num(value, lang)} min"
