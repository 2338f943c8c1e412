"""Accessibility engine: CSR road network, nearest-service times, indicators, isochrones.

Heavy modules are imported lazily: ``import territorio.accessibility`` is cheap.
"""

from __future__ import annotations

from territorio._lazy import lazy_attributes

__all__ = [
    "AccessContext",
    "NearestTimes",
    "RoadNetwork",
    "build_network",
    "category_indicators",
    "compute_access",
    "isochrones",
    "isochrones_geojson",
    "network_from_bundle",
]

_WHERE = {
    "AccessContext": "territorio.accessibility.context",
    "NearestTimes": "territorio.accessibility.context",
    "RoadNetwork": "territorio.accessibility.network",
    "build_network": "territorio.accessibility.network",
    "network_from_bundle": "territorio.accessibility.network",
    "category_indicators": "territorio.accessibility.indicators",
    "compute_access": "territorio.accessibility.compute",
    "isochrones": "territorio.accessibility.isochrones",
    "isochrones_geojson": "territorio.accessibility.isochrones",
}

__getattr__ = lazy_attributes(__name__, _WHERE)
