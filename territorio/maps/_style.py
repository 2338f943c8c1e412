"""Shared look of the maps: tiles, colours, hatching, legends, labels, geometry for display."""

from __future__ import annotations

import html
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import shapely
from branca.element import MacroElement
from jinja2 import Template

from territorio.categories import CATEGORIES
from territorio.errors import ConfigError
from territorio.maps._assets import LEAFLET_CSS, LEAFLET_JS, use_local_assets
from territorio.maps._palette import (
    CATEGORY_STYLE,
    GREY,
    OSM_ATTRIBUTION,
    esc,
    finite,
)

#: Display simplification tolerances in metres (metric CRS of the data): a
#: province map is read at about 100-200 m per pixel, a municipality map at
#: 10-40 m per pixel, so these errors stay below a pixel or two.
PROVINCE_TOLERANCE_M = 60.0
MUNICIPALITY_TOLERANCE_M = 10.0
#: Coordinates are rounded to 5 decimals (about 1 m) in the HTML.
COORD_DECIMALS = 5

HATCH_ID = "territorio-hatch"
HATCH_FILL = f"url(#{HATCH_ID})"


def base_map(
    bounds: Sequence[float], *, tiles: str | None, attribution: str | None = None
) -> folium.Map:
    """Create a map fitted to ``bounds`` (minx, miny, maxx, maxy) using local assets.

    Parameters
    ----------
    bounds
        Lon/lat bounds to fit.
    tiles
        Tile URL template (``{z}/{x}/{y}``), or None for no base tiles
        (offline use: the map then shows only territorio's own layers).
    attribution
        Tile attribution; defaults to the OpenStreetMap one.
    """
    minx, miny, maxx, maxy = (float(b) for b in bounds)
    fmap = folium.Map(
        location=[(miny + maxy) / 2, (minx + maxx) / 2],
        tiles=None,
        zoom_start=10,
        control_scale=True,
        zoom_snap=0.25,  # fit the area closely on screenshots and small screens
        prefer_canvas=False,  # SVG paths: hatch patterns and testable polygons
    )
    use_local_assets(fmap, js=LEAFLET_JS, css=LEAFLET_CSS)
    if tiles:
        folium.TileLayer(
            tiles=tiles,
            attr=attribution or OSM_ATTRIBUTION,
            name="tiles",
            overlay=True,
            control=False,
            max_zoom=19,
        ).add_to(fmap)
    HatchDefs(bounds=[[miny, minx], [maxy, maxx]]).add_to(fmap)
    return fmap


class HatchDefs(MacroElement):
    """An invisible SVG holding the grey hatch pattern used as ``fillColor``.

    Also makes a DivIcon the default marker icon, so that no marker image
    file is ever fetched.

    Leaflet's SVG renderer writes ``fillColor`` into the path's ``fill``
    attribute, so ``fillColor: "url(#territorio-hatch)"`` fills a polygon with
    this pattern (SVG ids are document-wide).
    """

    _template = Template(
        """
        {% macro header(this, kwargs) %}
        <link rel="icon" href="data:,">
        {% endmacro %}
        {% macro html(this, kwargs) %}
        <svg aria-hidden="true" style="position:absolute;width:0;height:0;overflow:hidden">
          <defs>
            <pattern id="{{ this.pattern_id }}" patternUnits="userSpaceOnUse"
                     width="8" height="8" patternTransform="rotate(45)">
              <rect width="8" height="8" fill="{{ this.grey }}"></rect>
              <line x1="0" y1="0" x2="0" y2="8" stroke="#4d4d4d" stroke-width="3"></line>
            </pattern>
          </defs>
        </svg>
        {% endmacro %}
        {% macro script(this, kwargs) %}
        // Markers get a DivIcon before folium sets theirs: no default marker
        // image is ever requested (there are no image files next to the HTML).
        L.Marker.prototype.options.icon = L.divIcon({className: "t-mk", iconSize: [20, 20]});
        // Leaflet.markercluster needs a maxZoom even when there are no tiles.
        {{ this._parent.get_name() }}.setMaxZoom(19);
        // Fit without animation, so the first paint (and a screenshot) is
        // final; leave room on the right for the legend.
        {{ this._parent.get_name() }}.fitBounds(
          {{ this.bounds_json }}, {animate: false, paddingBottomRight: [250, 0]}
        );
        {% endmacro %}
        """
    )

    def __init__(self, *, bounds: list[list[float]]) -> None:
        super().__init__()
        self._name = "HatchDefs"
        self.bounds_json = json.dumps(bounds)
        self.pattern_id = HATCH_ID
        self.grey = GREY


#: A legend taller than this share of its map starts folded (see :class:`Legend`).
LEGEND_MAX_SHARE = 0.4


class Legend(MacroElement):
    """A legend control; sections tied to a base layer show only while it is selected.

    The legend folds into its title (a ``<details>`` element the reader opens
    and closes) and starts folded when open it would cover more than
    :data:`LEGEND_MAX_SHARE` of the map's height: the small map of the WPT
    municipality page or a phone screen shows the map, not the legend.

    Parameters
    ----------
    sections
        ``(layer_name, html)`` pairs; ``layer_name`` None = always shown.
    initial
        Base layer shown first.
    title
        The legend's title, shown when folded ("Legenda" / "Legend").
    notice
        A warning shown above the title, folded or not (e.g. "no isochrones:
        outside road-network coverage").
    """

    _template = Template(
        """
        {% macro header(this, kwargs) %}
        <style>
        .territorio-legend {background: rgba(255,255,255,0.92); padding: 6px 9px;
          font: 12px/1.3 "DejaVu Sans", Arial, sans-serif; border-radius: 5px;
          box-shadow: 0 0 12px rgba(0,0,0,0.25); max-height: 60vh; overflow-y: auto;
          color: #222; max-width: min(300px, 45vw);}
        .territorio-cluster-label {color: #0b3c8c; font: bold 13px/18px "DejaVu Sans", Arial,
          sans-serif; text-align: center; text-shadow: 0 0 3px #fff, 0 0 3px #fff;}
        .territorio-legend h4 {margin: 0 0 4px; font-size: 13px;}
        .territorio-legend summary {cursor: pointer; font-weight: bold; font-size: 13px;}
        .territorio-legend details[open] summary {margin-bottom: 4px;}
        .territorio-legend .row {display: flex; align-items: center; gap: 6px; margin: 2px 0;}
        .territorio-legend .sw {width: 18px; height: 14px; border: 1px solid #555;
          flex: none; box-sizing: border-box;}
        .territorio-legend svg.sw {border: none;}
        .territorio-legend .territorio-icon {flex: none;}
        .territorio-legend .notice {margin: 0 0 6px; padding: 4px 6px; max-width: 230px;
          background: #fff3cd; border: 1px solid #c69500; font-weight: bold;}
        .territorio-icon {border-radius: 50%; color: #fff; font: bold 11px/20px
          "DejaVu Sans", Arial, sans-serif; text-align: center; width: 20px; height: 20px;
          border: 1.5px solid #fff; box-shadow: 0 0 2px rgba(0,0,0,0.7);}
        </style>
        {% endmacro %}
        {% macro script(this, kwargs) %}
        (function () {
          var map = {{ this._parent.get_name() }};
          var legend = L.control({position: "bottomright"});
          legend.onAdd = function () {
            var div = L.DomUtil.create("div", "territorio-legend");
            div.innerHTML = {{ this.html_json }};
            L.DomEvent.disableClickPropagation(div);
            L.DomEvent.disableScrollPropagation(div);
            return div;
          };
          legend.addTo(map);
          function show(name) {
            var secs = legend.getContainer().querySelectorAll("[data-layer]");
            for (var i = 0; i < secs.length; i++) {
              secs[i].style.display = secs[i].getAttribute("data-layer") === name ? "" : "none";
            }
          }
          map.on("baselayerchange", function (e) { show(e.name); });
          show({{ this.initial_json }});
          var box = legend.getContainer().querySelector("details");
          if (box.offsetHeight > {{ this.max_share }} * map.getSize().y) {
            box.open = false;
          }
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self,
        sections: Iterable[tuple[str | None, str]],
        *,
        initial: str = "",
        title: str,
        notice: str | None = None,
    ) -> None:
        super().__init__()
        self._name = "Legend"
        parts = [f'<p class="notice">{esc(notice)}</p>'] if notice else []
        parts.append(f"<details open><summary>{esc(title)}</summary>")
        for layer, body in sections:
            attr = "" if layer is None else f' data-layer="{esc(layer)}"'
            parts.append(f"<div{attr}>{body}</div>")
        parts.append("</details>")
        self.html_json = json.dumps("".join(parts))
        self.initial_json = json.dumps(initial)
        self.max_share = LEGEND_MAX_SHARE


def swatch(fill: str, label: str, *, border: str = "#555") -> str:
    """One legend row with a coloured (or hatched) square."""
    if fill.startswith("url("):
        box = (
            '<svg class="sw" width="18" height="14"><rect x="0.5" y="0.5" width="17" '
            f'height="13" fill="{fill}" stroke="{border}"></rect></svg>'
        )
    else:
        box = f'<span class="sw" style="background:{fill};border-color:{border}"></span>'
    return f'<div class="row">{box}<span>{esc(label)}</span></div>'


def outline_row(colour: str, label: str, *, dash: str = "") -> str:
    """One legend row with an outlined (unfilled) square."""
    style = f"background:transparent;border:3px {'dashed' if dash else 'solid'} {colour}"
    return (
        f'<div class="row"><span class="sw" style="{style}"></span><span>{esc(label)}</span></div>'
    )


def icon_html(category: str) -> str:
    """HTML of a service icon: a coloured disc with a glyph."""
    colour, glyph = CATEGORY_STYLE.get(category, ("#616161", "?"))
    return f'<div class="territorio-icon" style="background:{colour}">{esc(glyph)}</div>'


def icon_row(category: str, label: str) -> str:
    """One legend row with a service icon."""
    return f'<div class="row">{icon_html(category)}<span>{esc(label)}</span></div>'


def div_icon(inner: str) -> folium.DivIcon:
    """Return a DivIcon of 20x20 px centred on the point (no image files needed)."""
    return folium.DivIcon(html=inner, icon_size=(20, 20), icon_anchor=(10, 10), class_name="t-mk")


def class_rows(
    bins: Sequence[float], colours: Sequence[str], *, unit: str, lower: float | None = None
) -> str:
    """Legend rows for upper class bounds ``bins`` (``lower`` = first lower bound)."""
    rows = []
    lo = lower
    for upper, colour in zip(bins, colours, strict=False):
        label = (
            f"≤ {_bound(upper)} {unit}" if lo is None else f"{_bound(lo)} – {_bound(upper)} {unit}"
        )
        rows.append(swatch(colour, label))
        lo = upper
    return "".join(rows)


def _bound(x: float) -> str:
    return f"{x:.0f}" if float(x).is_integer() else f"{x:.1f}"


def display_frame(gdf: gpd.GeoDataFrame, *, tolerance_m: float) -> gpd.GeoDataFrame:
    """Simplify polygons for display in a metric CRS and round coordinates.

    Parameters
    ----------
    gdf
        Layer in EPSG:4326.
    tolerance_m
        Douglas-Peucker tolerance in metres, applied in the data's UTM zone
        (topology preserved per polygon).
    """
    out = gdf.copy()
    if len(out) == 0:
        return out
    metric = out.estimate_utm_crs()
    geoms = out.geometry.to_crs(metric).simplify(tolerance_m, preserve_topology=True)
    geoms = geoms.to_crs(4326)
    rounded = shapely.transform(
        geoms.to_numpy(),
        lambda c: np.round(c, COORD_DECIMALS),
    )
    out = out.set_geometry(gpd.GeoSeries(rounded, index=out.index, crs=4326))
    return out


def feature_collection(
    gdf: gpd.GeoDataFrame, properties: Mapping[str, Any], *, ids: Sequence[str]
) -> dict[str, Any]:
    """Build a GeoJSON FeatureCollection from geometries and property columns."""
    geoms = shapely.to_geojson(gdf.geometry.to_numpy())
    keys = list(properties)
    cols = [list(properties[k]) for k in keys]
    features = []
    for i, (gid, gjson) in enumerate(zip(ids, geoms, strict=True)):
        props = {k: _json_value(col[i]) for k, col in zip(keys, cols, strict=True)}
        features.append(
            {"type": "Feature", "id": str(gid), "properties": props, "geometry": json.loads(gjson)}
        )
    return {"type": "FeatureCollection", "features": features}


def _json_value(v: Any) -> Any:
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return float(v) if math.isfinite(float(v)) else None
    if isinstance(v, (np.bool_,)):
        return bool(v)
    return v


def quantile_bins(values: Any, *, k: int = 5) -> list[float]:
    """Upper bounds of up to ``k`` quantile classes (mapclassify) over finite values.

    Fewer classes are used when there are fewer distinct values; no values
    gives no classes.
    """
    import mapclassify

    y = np.asarray(values, dtype=float)
    y = y[np.isfinite(y)]
    distinct = np.unique(np.round(y, 1))
    if len(distinct) == 0:
        return []
    if len(distinct) == 1:
        return [float(distinct[0])]
    q = mapclassify.Quantiles(y, k=min(k, len(distinct)))
    bins = sorted({round(float(b), 1) for b in q.bins})
    bins[-1] = max(bins[-1], float(y.max()))
    return bins


def class_index(values: Any, bins: Sequence[float]) -> Any:
    """Class of each value for upper bounds ``bins`` (-1 for non-finite values)."""
    y = np.asarray(values, dtype=float)
    idx = np.searchsorted(np.asarray(bins, dtype=float), np.round(y, 1), side="left")
    idx = np.clip(idx, 0, max(len(bins) - 1, 0))
    return np.where(np.isfinite(y), idx, -1)
