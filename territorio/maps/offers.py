"""Offers map: territorial welfare offers with marker clustering."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import folium
import geopandas as gpd
import pandas as pd
from folium.plugins import MarkerCluster

from territorio.errors import DataValidationError
from territorio.maps._assets import CLUSTER_CSS, CLUSTER_JS, use_local_assets
from territorio.maps._palette import OSM_TILES, esc, tr
from territorio.maps._style import (
    PROVINCE_TOLERANCE_M,
    Legend,
    base_map,
    display_frame,
    div_icon,
    feature_collection,
)

__all__ = ["OFFER_STYLE", "offers_frame", "offers_map"]

#: Offer category -> (colour, glyph, Italian label, English label).
OFFER_STYLE: dict[str, tuple[str, str, str, str]] = {
    "childcare": ("#42a5f5", "N", "Infanzia e nidi", "Childcare"),
    "elderly_care": ("#ad1457", "A", "Assistenza anziani", "Elderly care"),
    "transport": ("#6d4c41", "T", "Trasporto e mobilità", "Transport"),
    "health": ("#e53935", "+", "Salute e prevenzione", "Health"),
    "training": ("#3949ab", "F", "Formazione", "Training"),
    "leisure": ("#8e24aa", "L", "Tempo libero e cultura", "Leisure"),
    "shopping": ("#f9a825", "S", "Spesa e consegne", "Shopping"),
    "digital": ("#00838f", "@", "Assistenza digitale", "Digital help"),
}


def offers_frame(offers: gpd.GeoDataFrame | Sequence[Mapping[str, Any]]) -> gpd.GeoDataFrame:
    """Normalise offers to a GeoDataFrame of points in EPSG:4326.

    Parameters
    ----------
    offers
        A GeoDataFrame of points, or a list of mappings with ``lon`` and
        ``lat`` (e.g. rows of the offers API). Useful columns: ``title``,
        ``category``, ``provider``, ``contact``, ``pro_com_t``.
    """
    if isinstance(offers, gpd.GeoDataFrame):
        if offers.crs is None:
            raise DataValidationError("offers: GeoDataFrame has no CRS; set it (EPSG:4326)")
        return offers.to_crs(4326)
    df = pd.DataFrame(list(offers))
    if len(df) == 0:
        return gpd.GeoDataFrame(
            {"title": [], "category": []}, geometry=gpd.GeoSeries([], crs=4326), crs=4326
        )
    missing = [c for c in ("lon", "lat") if c not in df.columns]
    if missing:
        raise DataValidationError(
            f"offers: missing {', '.join(missing)} in the offer records; give lon/lat in degrees"
        )
    return gpd.GeoDataFrame(
        df, geometry=gpd.points_from_xy(df["lon"].astype(float), df["lat"].astype(float)), crs=4326
    )


def offer_icon_html(category: str) -> str:
    """HTML of an offer icon: a coloured square with a glyph."""
    colour, glyph, *_ = OFFER_STYLE.get(category, ("#616161", "?", category, category))
    return (
        f'<div class="territorio-icon" style="background:{colour};border-radius:4px">'
        f"{esc(glyph)}</div>"
    )


def offers_map(
    offers: gpd.GeoDataFrame | Sequence[Mapping[str, Any]],
    *,
    municipalities: gpd.GeoDataFrame | None = None,
    tiles: str | None = OSM_TILES,
    lang: str = "it",
    bounds: Sequence[float] | None = None,
) -> folium.Map:
    """Build the map of welfare offers, clustered (Leaflet.markercluster).

    Parameters
    ----------
    offers
        Offers as a GeoDataFrame of points or a list of mappings with
        ``lon``/``lat`` (see :func:`offers_frame`); independent of the DB.
    municipalities
        Optional boundaries drawn faintly for context (and used for the
        extent when there are no offers).
    tiles, lang
        As in :func:`territorio.maps.choropleth_map`.
    bounds
        Extent to show (lon/lat); default: offers and municipalities.
    """
    pts = offers_frame(offers)
    munis = (
        display_frame(municipalities.reset_index(drop=True), tolerance_m=PROVINCE_TOLERANCE_M)
        if municipalities is not None and len(municipalities)
        else None
    )
    if bounds is None:
        if munis is not None:
            bounds = list(munis.total_bounds)
        elif len(pts):
            b = pts.total_bounds
            pad = 0.01
            bounds = [b[0] - pad, b[1] - pad, b[2] + pad, b[3] + pad]
        else:
            raise DataValidationError(
                "offers map: no offers and no municipalities, so no extent; pass bounds"
            )
    fmap = base_map(bounds, tiles=tiles)
    if munis is not None:
        codes = munis["pro_com_t"].astype(str).tolist()
        folium.GeoJson(
            feature_collection(munis, {"name": munis["name"]}, ids=codes),
            style_function=lambda f: {"color": "#777777", "weight": 0.7, "fill": False},
            interactive=False,
            name=tr("boundary", lang),
        ).add_to(fmap)
    cluster = use_local_assets(
        MarkerCluster(name=tr("offers", lang), control=False), js=CLUSTER_JS, css=CLUSTER_CSS
    )
    cols = pts.columns
    seen: dict[str, int] = {}
    for i in range(len(pts)):
        rec = pts.iloc[i]
        cat = str(rec["category"]) if "category" in cols else ""
        seen[cat] = seen.get(cat, 0) + 1
        style = OFFER_STYLE.get(cat)
        cat_label = (style[2] if lang == "it" else style[3]) if style else cat
        title = esc(rec["title"]) if "title" in cols else ""
        lines = [f"<b>{title}</b>", esc(cat_label)]
        for key, label in (("provider", tr("provider", lang)), ("contact", "")):
            if key in cols and isinstance(rec[key], str) and rec[key]:
                lines.append(f"{esc(label)}: {esc(rec[key])}" if label else esc(rec[key]))
        geom = rec.geometry
        folium.Marker(
            [round(geom.y, 5), round(geom.x, 5)],
            icon=div_icon(offer_icon_html(cat)),
            # A tooltip, not a folium.Popup: folium's Popup needs jQuery.
            tooltip="<br>".join(lines),
        ).add_to(cluster)
    cluster.add_to(fmap)
    legend = f"<h4>{esc(tr('offers', lang))} ({len(pts)})</h4>"
    if not len(pts):
        legend += f"<div>{esc(tr('no_offers', lang))}</div>"
    for cat, n in sorted(seen.items()):
        style = OFFER_STYLE.get(cat)
        label = (style[2] if lang == "it" else style[3]) if style else cat
        legend += f'<div class="row">{offer_icon_html(cat)}<span>{esc(label)} ({n})</span></div>'
    Legend([(None, legend)], title=tr("legend", lang)).add_to(fmap)
    return fmap
