"""Folium maps of the territory: travel-time choropleth, marginality, municipality, offers.

Maps use only vendored Leaflet assets: :func:`render_html` inlines them
(self-contained files) or points at a base URL (pages served by the web
router), so no CDN is contacted at run time. Municipalities outside the road
network's coverage are drawn grey and hatched; "no data" is never coloured on
a time scale.
"""

from territorio.maps._assets import render_html
from territorio.maps._style import OSM_ATTRIBUTION, OSM_TILES
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
