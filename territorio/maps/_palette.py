"""Labels and colours shared by the interactive maps, the web pages and the PDF reports.

Plain data and formatting helpers, with no folium: the PDF report (matplotlib
and WeasyPrint) uses them without loading the interactive-map stack.
"""

from __future__ import annotations

import html
import math
from typing import Any

from territorio.categories import CATEGORIES
from territorio.errors import ConfigError

#: Default base tiles: OpenStreetMap's standard layer.
OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
#: Attribution required by the OpenStreetMap tile usage policy.
OSM_ATTRIBUTION = (
    '© <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
)

LANGS = ("it", "en")

#: Five sequential classes (ColorBrewer YlOrRd), short to long times.
TIME_COLOURS = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")
#: Five sequential classes (ColorBrewer PuRd), least to most marginal; the
#: first is darker than PuRd's #f1eef6 so it never reads as "no data" (white).
SCORE_COLOURS = ("#e4d3e8", "#d7b5d8", "#df65b0", "#dd1c77", "#980043")
#: SNAI classes A-F (poli dark green to ultraperipheral purple).
SNAI_COLOURS = {
    "A": "#1b7837",
    "B": "#5aae61",
    "C": "#d9f0d3",
    "D": "#e7d4e8",
    "E": "#af8dc3",
    "F": "#762a83",
}
NO_DATA_FILL = "#ffffff"
GREY = "#9e9e9e"
#: Fill of comuni that a road scenario (winter) cuts off from the poli.
UNREACHABLE_FILL = "#3b3b3b"

#: Service category -> (colour, short glyph) of its map icon.
CATEGORY_STYLE: dict[str, tuple[str, str]] = {
    "hospital": ("#c62828", "H"),
    "primary_care": ("#e53935", "+"),
    "pharmacy": ("#2e7d32", "F"),
    "primary_school": ("#1565c0", "E"),
    "secondary_school": ("#0d47a1", "S"),
    "childcare": ("#42a5f5", "N"),
    "post_office": ("#f9a825", "P"),
    "library": ("#6a1b9a", "B"),
    "social_facility": ("#ad1457", "A"),
    "town_hall": ("#37474f", "M"),
    "railway_station": ("#4e342e", "T"),
    "pt_stop": ("#795548", "b"),
    "digital_help": ("#00838f", "@"),
    "bank_atm": ("#558b2f", "€"),
}

TEXT: dict[str, tuple[str, str]] = {
    "legend": ("Legenda", "Legend"),
    "no_data": ("nessun dato", "no data"),
    "outside": ("fuori copertura della rete stradale", "outside road-network coverage"),
    "partial": ("copertura parziale", "partial coverage"),
    "travel_time": ("Tempo di viaggio in auto (min)", "Travel time by car (min)"),
    "mean_time": ("Tempo medio (min)", "Mean time (min)"),
    "share65": ("Quota 65+ oltre 30 min", "Share of 65+ beyond 30 min"),
    "municipality": ("Comune", "Municipality"),
    "score": ("Indice di marginalità (0-100)", "Marginality index (0-100)"),
    "snai": ("Classi SNAI", "SNAI classes"),
    "winter": ("inverno", "winter"),
    "unreachable_winter": ("irraggiungibile in inverno", "unreachable in winter"),
    "clusters": ("Aree sottoservite", "Underserved clusters"),
    "sites": ("Siti proposti per cooperative", "Proposed cooperative sites"),
    "services": ("Servizi", "Services"),
    "isochrones": (
        "Isocrone in auto dal punto di riferimento",
        "Car isochrones from the reference point",
    ),
    "ref_point": ("Punto di riferimento", "Reference point"),
    "boundary": ("Confine comunale", "Municipal boundary"),
    "offers": ("Offerte di welfare", "Welfare offers"),
    "no_offers": ("nessuna offerta pubblicata", "no offers published"),
    "minutes": ("min", "min"),
    "population": ("Popolazione", "Population"),
    "rank": ("Posizione", "Rank"),
    "main_factor": ("Fattore principale", "Main factor"),
    "class": ("Classe", "Class"),
    "members": ("Comuni", "Municipalities"),
    "provider": ("Ente", "Provider"),
    "category": ("Categoria", "Category"),
    "gain": ("Nuovi residenti serviti", "Residents newly served"),
    "gain65": ("di cui 65+", "of whom 65+"),
    "time_to_polo": ("Tempo al polo SNAI (comune di destinazione)", "Time to the SNAI hub (destination comune)"),
    "polo_destination": ("Polo di destinazione SNAI", "SNAI destination hub"),
    "cluster": ("Area sottoservita", "Underserved cluster"),
    "no_plan": (
        "Risultati di pianificazione assenti: eseguire prima «territorio plan»",
        "No planning outputs: run «territorio plan» first",
    ),
    "score_hint": ("più alto = più marginale", "higher = more marginal"),
    "layer_off": (
        "livello spento, attivabile dal selettore dei livelli in alto a destra",
        "layer off, switch it on in the layer control (top right)",
    ),
    "no_sites": ("nessun sito proposto in questo piano", "no sites proposed in this plan"),
    "iso_outside": (
        "Isocrone non disponibili: fuori copertura della rete stradale",
        "No isochrones: outside road-network coverage",
    ),
}

SNAI_TEXT = {
    "A": ("A Polo", "A Hub"),
    "B": ("B Polo intercomunale", "B Inter-municipal hub"),
    "C": ("C Cintura", "C Belt"),
    "D": ("D Intermedio", "D Intermediate"),
    "E": ("E Periferico", "E Peripheral"),
    "F": ("F Ultraperiferico", "F Ultra-peripheral"),
}


def check_lang(lang: str) -> str:
    """Return ``lang`` if supported ("it" or "en"), else raise :class:`ConfigError`."""
    if lang not in LANGS:
        raise ConfigError(f"unsupported language {lang!r}; use one of: {', '.join(LANGS)}")
    return lang


def tr(key: str, lang: str) -> str:
    """Return the label ``key`` in ``lang``."""
    it, en = TEXT[key]
    return it if lang == "it" else en


def category_label(code: str, lang: str) -> str:
    """Label of a service category in ``lang`` (the code itself when unknown)."""
    cat = CATEGORIES.get(code)
    if cat is None:
        return code
    return cat.label_it if lang == "it" else cat.label_en


def esc(value: Any) -> str:
    """HTML-escape a value for tooltips and legends."""
    return html.escape("" if value is None else str(value))


def finite(value: Any) -> bool:
    """Return True for a finite number."""
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def fmt_min(value: Any) -> str:
    """Format minutes with one decimal, or an empty string."""
    return f"{float(value):.1f} min" if finite(value) else ""


def fmt_pct(value: Any) -> str:
    """Format a 0-1 share as a percentage, or an empty string."""
    return f"{100 * float(value):.0f}%" if finite(value) else ""
