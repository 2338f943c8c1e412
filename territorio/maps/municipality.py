"""Municipality map: boundary, services by category, isochrones from the reference point."""

from __future__ import annotations

from collections.abc import Sequence

import folium
import geopandas as gpd
import numpy as np
from folium.plugins import MarkerCluster

from territorio.errors import NotFoundError
from territorio.maps._assets import CLUSTER_CSS, CLUSTER_JS, use_local_assets
from territorio.maps._data import isochrone_view
from territorio.maps._palette import (
    CATEGORY_STYLE,
    GREY,
    NO_DATA_FILL,
    OSM_TILES,
    category_label,
    check_lang,
    esc,
    tr,
)
from territorio.maps._style import (
    HATCH_FILL,
    MUNICIPALITY_TOLERANCE_M,
    Legend,
    base_map,
    display_frame,
    div_icon,
    feature_collection,
    icon_html,
    icon_row,
    swatch,
)
from territorio.schemas import require_columns

__all__ = [
    "CLUSTER_ABOVE",
    "HIDDEN_CATEGORIES",
    "ISOCHRONE_COLOURS",
    "municipality_map",
    "municipality_services",
]

#: Isochrone fill colours by minutes (10, 20, 30): near = dark green.
ISOCHRONE_COLOURS: dict[int, str] = {10: "#1a9850", 20: "#91cf60", 30: "#d9ef8b"}
BOUNDARY_COLOUR = "#222222"
#: Categories drawn but switched off at first (dense infrastructure that would
#: hide the services; the layer control switches them on).
HIDDEN_CATEGORIES = frozenset({"pt_stop"})
#: Categories with more services than this in the municipality are clustered
#: (a disc of the category's colour with the count), e.g. Torino's 285 pharmacies.
CLUSTER_ABOVE = 25


def municipality_services(
    services: gpd.GeoDataFrame, municipality: gpd.GeoSeries | gpd.GeoDataFrame, code: str
) -> gpd.GeoDataFrame:
    """Services of a municipality: ``pro_com_t == code``, or inside its boundary when unset."""
    if len(services) == 0:
        return services
    codes = services["pro_com_t"] if "pro_com_t" in services.columns else None
    inside = services.geometry.within(municipality.geometry.iloc[0])
    mask = inside if codes is None else (codes.astype("string") == code).fillna(False)
    if codes is not None:
        mask = mask | (codes.isna() & inside)
    return services[mask.to_numpy(dtype=bool)]


def municipality_map(
    municipalities: gpd.GeoDataFrame,
    code: str,
    *,
    services: gpd.GeoDataFrame | None = None,
    isochrones: gpd.GeoDataFrame | None = None,
    isochrones_outside: bool = False,
    no_data: Sequence[str] = (),
    tiles: str | None = OSM_TILES,
    lang: str = "it",
    tolerance_m: float = MUNICIPALITY_TOLERANCE_M,
) -> folium.Map:
    """Build the map of one municipality.

    Draws its boundary (grey and hatched when outside network coverage), its
    services with one icon per category (one toggleable layer per
    category), the reference point, and the isochrones (10/20/30 minutes by
    car from the reference point) when given.

    Parameters
    ----------
    municipalities
        Municipalities layer (``pro_com_t``, ``name``, geometry; optional
        ``ref_lon``, ``ref_lat``, ``network_coverage``), EPSG:4326.
    code
        ISTAT code of the municipality.
    services
        Services layer (``category``, ``name``, ``pro_com_t``, Point
        geometry); those of the municipality are drawn.
    isochrones
        Polygons with a ``minutes`` column (e.g. 10, 20, 30), EPSG:4326.
    isochrones_outside
        True when there are no isochrones because the reference point is
        outside the road network's coverage: the legend says so.
    no_data
        Service categories no source covers in this municipality (status
        ``no_data`` in ``access_municipalities``): listed in the legend, so
        that a missing icon is not read as a missing service.
    tiles, lang, tolerance_m
        As in :func:`territorio.maps.choropleth_map`.

    Raises
    ------
    NotFoundError
        If ``code`` is not in ``municipalities``.
    """
    check_lang(lang)
    require_columns(municipalities, ("pro_com_t", "name", "geometry"), where="municipalities layer")
    sel = municipalities[municipalities["pro_com_t"].astype(str) == str(code)]
    if len(sel) == 0:
        raise NotFoundError(
            f"no municipality with ISTAT code {code!r} in this territory "
            "(codes are 6-digit strings, e.g. '001272' for Torino)"
        )
    muni = display_frame(sel.reset_index(drop=True), tolerance_m=tolerance_m)
    row = muni.iloc[0]
    coverage = str(row.get("network_coverage", "full"))
    outside = coverage == "none"
    bounds = list(muni.total_bounds)
    iso = None
    if isochrones is not None and len(isochrones):
        require_columns(isochrones, ("minutes", "geometry"), where="isochrones")
        iso = display_frame(
            isochrones.sort_values("minutes", ascending=False).reset_index(drop=True),
            tolerance_m=tolerance_m,
        )
        bounds = isochrone_view(bounds, iso)
    fmap = base_map(bounds, tiles=tiles)
    legend = ""
    if iso is not None:
        group = folium.FeatureGroup(name=tr("isochrones", lang), overlay=True, show=True)
        minutes = iso["minutes"].astype(int).to_numpy()
        labels = [f"{m} min" for m in minutes]
        colours = {f"iso-{m}": ISOCHRONE_COLOURS.get(int(m), "#cccccc") for m in minutes}
        folium.GeoJson(
            feature_collection(iso, {"label": labels}, ids=[f"iso-{m}" for m in minutes]),
            style_function=lambda f, c=colours: {
                "fillColor": c[f["id"]],
                "fillOpacity": 0.35,
                "color": c[f["id"]],
                "weight": 1.2,
            },
            tooltip=folium.GeoJsonTooltip(fields=["label"], aliases=[tr("isochrones", lang)]),
        ).add_to(group)
        group.add_to(fmap)
        legend += f"<h4>{esc(tr('isochrones', lang))}</h4>" + "".join(
            swatch(ISOCHRONE_COLOURS.get(int(m), "#cccccc"), f"≤ {int(m)} min")
            for m in sorted(set(minutes))
        )
    note = (
        tr("outside", lang) if outside else (tr("partial", lang) if coverage == "partial" else "")
    )
    folium.GeoJson(
        feature_collection(muni, {"name": [row["name"]], "note": [note]}, ids=[str(code)]),
        style_function=lambda f: {
            "fillColor": HATCH_FILL if outside else "#ffffff",
            "fillOpacity": 0.55 if outside else 0.0,
            "color": BOUNDARY_COLOUR,
            "weight": 2.5,
        },
        tooltip=folium.GeoJsonTooltip(
            fields=["name", "note"], aliases=[tr("municipality", lang), ""]
        ),
        name=tr("boundary", lang),
    ).add_to(fmap)
    legend += f"<h4>{esc(row['name'])}</h4>"
    legend += (
        '<div class="row"><span class="sw" style="background:transparent;'
        f'border:2.5px solid {BOUNDARY_COLOUR}"></span>'
        f"<span>{esc(tr('boundary', lang))}</span></div>"
    )
    if outside:
        legend += swatch(HATCH_FILL, tr("outside", lang), border=GREY)
    if "ref_lon" in muni.columns and np.isfinite(float(row.get("ref_lon", np.nan))):
        folium.Marker(
            [round(float(row["ref_lat"]), 5), round(float(row["ref_lon"]), 5)],
            icon=div_icon(
                '<div class="territorio-icon" style="background:#000;font-size:13px">◎</div>'
            ),
            tooltip=esc(tr("ref_point", lang)),
        ).add_to(fmap)
        legend += (
            '<div class="row"><div class="territorio-icon" style="background:#000">◎</div>'
            f"<span>{esc(tr('ref_point', lang))}</span></div>"
        )
    if services is not None and len(services):
        svc = municipality_services(services, sel, str(code))
        if len(svc):
            legend += f"<h4>{esc(tr('services', lang))}</h4>"
            for cat, part in svc.groupby("category", sort=True):
                _add_category(fmap, str(cat), part, lang=lang)
                label = f"{category_label(str(cat), lang)} ({len(part)})"
                if cat in HIDDEN_CATEGORIES:
                    label += f" – {tr('layer_off', lang)}"
                legend += icon_row(str(cat), label)
    if no_data:
        missing = ", ".join(category_label(c, lang) for c in no_data)
        legend += swatch(NO_DATA_FILL, f"{tr('no_data', lang)}: {missing}")
    notice = tr("iso_outside", lang) if isochrones_outside and iso is None else None
    Legend([(None, legend)], title=tr("legend", lang), notice=notice).add_to(fmap)
    # Collapsed: on a municipality page the map is a small frame, and the
    # legend already names every layer.
    folium.LayerControl(collapsed=True).add_to(fmap)
    return fmap


def _add_category(fmap: folium.Map, cat: str, part: gpd.GeoDataFrame, *, lang: str) -> None:
    """One toggleable layer of a category's services; clustered when dense."""
    label = category_label(cat, lang)
    name = f"{label} ({len(part)})"
    show = cat not in HIDDEN_CATEGORIES
    layer: folium.FeatureGroup | MarkerCluster
    if len(part) > CLUSTER_ABOVE:
        colour = CATEGORY_STYLE.get(cat, ("#616161", "?"))[0]
        layer = use_local_assets(
            MarkerCluster(
                name=name,
                show=show,
                icon_create_function=(
                    "function (c) { return L.divIcon({className: 't-mk', iconSize: [30, 30], "
                    f'html: \'<div class="territorio-icon" style="background:{colour};'
                    "width:30px;height:30px;line-height:30px\">' + c.getChildCount() + "
                    "'</div>'}); }"
                ),
                options={"showCoverageOnHover": False, "maxClusterRadius": 40},
            ),
            js=CLUSTER_JS,
            css=CLUSTER_CSS,
        )
    else:
        layer = folium.FeatureGroup(name=name, overlay=True, show=show)
    for geom, svc_name in zip(part.geometry, part["name"], strict=True):
        folium.Marker(
            [round(geom.y, 5), round(geom.x, 5)],
            icon=div_icon(icon_html(cat)),
            tooltip=f"<b>{esc(label)}</b><br>{esc(svc_name)}",
        ).add_to(layer)
    layer.add_to(fmap)
