"""Folium maps of the territory: travel-time choropleth, marginality, municipality, offers.

Maps use only vendored Leaflet assets: :func:`render_html` inlines them
(self-contained files) or points at a base URL (pages served by the web
router), so no CDN is contacted at run time. Municipalities outside the road
network's coverage are drawn grey and hatched; "no data" is never coloured on
a time scale.

The names below are loaded on first use, so the modules that only need the
planning outputs or the labels (the PDF report reads ``maps._data`` and
``maps._palette``) do not load folium.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from territorio._lazy import lazy_attributes

if TYPE_CHECKING:
    from territorio.maps._assets import render_html
    from territorio.maps._palette import OSM_ATTRIBUTION, OSM_TILES
    from territorio.maps.choropleth import choropleth_map
    from territorio.maps.marginality import marginality_map
    from territorio.maps.municipality import municipality_map
    from territorio.maps.offers import offers_map
    from territorio.maps.write import write_maps

__all__ = [
    "OSM_ATTRIBUTION",
    "OSM_TILES",
    "choropleth_map",
    "marginality_map",
    "municipality_map",
    "offers_map",
    "render_html",
    "write_maps",
]

_WHERE = {
    "OSM_ATTRIBUTION": "territorio.maps._palette",
    "OSM_TILES": "territorio.maps._palette",
    "choropleth_map": "territorio.maps.choropleth",
    "marginality_map": "territorio.maps.marginality",
    "municipality_map": "territorio.maps.municipality",
    "offers_map": "territorio.maps.offers",
    "render_html": "territorio.maps._assets",
    "write_maps": "territorio.maps.write",
}


__getattr__ = lazy_attributes(__name__, _WHERE)
