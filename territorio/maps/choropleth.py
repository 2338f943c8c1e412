"""Province choropleth of travel time per service category."""

from __future__ import annotations

from collections.abc import Sequence

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from territorio.maps._palette import (
    GREY,
    NO_DATA_FILL,
    OSM_TILES,
    TIME_COLOURS,
    category_label,
    check_lang,
    fmt_min,
    fmt_pct,
    tr,
)
from territorio.maps._style import (
    HATCH_FILL,
    PROVINCE_TOLERANCE_M,
    Legend,
    base_map,
    class_index,
    class_rows,
    display_frame,
    feature_collection,
    quantile_bins,
    swatch,
)
from territorio.schemas import require_columns

__all__ = ["choropleth_map", "outside_mask"]


def outside_mask(municipalities: pd.DataFrame) -> np.ndarray:
    """Return True where a municipality is entirely outside the road network's coverage."""
    if "network_coverage" not in municipalities.columns:
        return np.zeros(len(municipalities), dtype=bool)
    return (municipalities["network_coverage"].astype(str) == "none").to_numpy()


def choropleth_map(
    municipalities: gpd.GeoDataFrame,
    access: pd.DataFrame,
    *,
    categories: Sequence[str] | None = None,
    tiles: str | None = OSM_TILES,
    lang: str = "it",
    k: int = 5,
    tolerance_m: float = PROVINCE_TOLERANCE_M,
) -> folium.Map:
    """Build the province map of travel time per service category.

    One base layer per category (the layer control switches between them),
    coloured by the population-weighted mean time (``mean_min``) in up to
    ``k`` quantile classes (mapclassify) computed per category over the
    municipalities with a time; the legend is in minutes and follows the
    selected category. Municipalities outside network coverage
    (``network_coverage == "none"`` or status ``"outside_coverage"``) are
    grey and hatched; status ``"no_data"`` is white and labelled "nessun
    dato" / "no data", never coloured on the time scale.

    Parameters
    ----------
    municipalities
        Municipalities layer (``pro_com_t``, ``name``, geometry; optional
        ``network_coverage``), EPSG:4326.
    access
        ``access_municipalities`` (long format: ``pro_com_t``, ``category``,
        ``status``, ``mean_min``, optional ``share65_beyond_30``).
    categories
        Categories to show, in order (default: those in ``access``).
    tiles
        Tile URL, or None for no base tiles.
    lang
        ``"it"`` or ``"en"``.
    k
        Number of classes.
    tolerance_m
        Display simplification tolerance in metres.

    Returns
    -------
    folium.Map
        Render it with :func:`territorio.maps.render_html`.
    """
    check_lang(lang)
    require_columns(municipalities, ("pro_com_t", "name", "geometry"), where="municipalities layer")
    require_columns(
        access, ("pro_com_t", "category", "status", "mean_min"), where="access_municipalities"
    )
    munis = display_frame(municipalities.reset_index(drop=True), tolerance_m=tolerance_m)
    codes = munis["pro_com_t"].astype(str).to_numpy()
    outside_all = outside_mask(munis)
    acc = access.copy()
    acc["pro_com_t"] = acc["pro_com_t"].astype(str)
    cats = list(categories) if categories is not None else list(dict.fromkeys(acc["category"]))
    fmap = base_map(munis.total_bounds, tiles=tiles)
    sections: list[tuple[str | None, str]] = []
    names: list[str] = []
    for i, cat in enumerate(cats):
        name = category_label(cat, lang)
        names.append(name)
        rows = acc[acc["category"] == cat].drop_duplicates("pro_com_t").set_index("pro_com_t")
        rows = rows.reindex(codes)
        status = rows["status"].fillna("no_data").astype(str).to_numpy()
        t = rows["mean_min"].astype(float).to_numpy()
        share = (
            rows["share65_beyond_30"].astype(float).to_numpy()
            if "share65_beyond_30" in rows.columns
            else np.full(len(rows), np.nan)
        )
        outside = outside_all | (status == "outside_coverage")
        no_data = ~outside & ((status == "no_data") | ~np.isfinite(t))
        timed = ~outside & ~no_data
        bins = quantile_bins(t[timed], k=k)
        cls = class_index(np.where(timed, t, np.nan), bins)
        fills = np.where(
            outside, HATCH_FILL, np.where(no_data, NO_DATA_FILL, np.array(TIME_COLOURS)[cls])
        )
        time_txt = np.where(
            outside,
            tr("outside", lang),
            np.where(no_data, tr("no_data", lang), [fmt_min(v) for v in t]),
        )
        partial = timed & (status == "partial")
        time_txt = np.where(partial, [f"{s} ({tr('partial', lang)})" for s in time_txt], time_txt)
        share_txt = np.where(timed, [fmt_pct(v) for v in share], "")
        styles = {
            c: {
                "fillColor": f,
                "fillOpacity": 0.8 if f != NO_DATA_FILL else 0.6,
                "color": "#555555",
                "weight": 0.6,
            }
            for c, f in zip(codes, fills, strict=True)
        }
        data = feature_collection(
            munis,
            {"name": munis["name"], "time": time_txt, "share65": share_txt},
            ids=codes,
        )
        group = folium.FeatureGroup(name=name, overlay=False, show=i == 0)
        folium.GeoJson(
            data,
            style_function=lambda f, s=styles: s[f["id"]],
            tooltip=folium.GeoJsonTooltip(
                fields=["name", "time", "share65"],
                aliases=[tr("municipality", lang), tr("mean_time", lang), tr("share65", lang)],
                sticky=True,
            ),
            name=name,
        ).add_to(group)
        group.add_to(fmap)
        body = f"<h4>{name}</h4><div>{tr('travel_time', lang)}</div>"
        body += class_rows(bins, TIME_COLOURS[: len(bins)], unit="min")
        sections.append((name, body))
    common = swatch(NO_DATA_FILL, tr("no_data", lang))
    common += swatch(HATCH_FILL, tr("outside", lang), border=GREY)
    sections.append((None, common))
    Legend(sections, initial=names[0] if names else "", title=tr("legend", lang)).add_to(fmap)
    if len(names) > 1:
        folium.LayerControl(collapsed=False).add_to(fmap)
    return fmap
