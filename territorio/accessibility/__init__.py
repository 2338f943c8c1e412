"""Accessibility engine: CSR road network, nearest-service times, indicators, isochrones.

Heavy modules are imported lazily: ``import territorio.accessibility`` is cheap.
"""

from __future__ import annotations

from typing import Any

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
    "AccessContext": "context",
    "NearestTimes": "context",
    "RoadNetwork": "network",
    "build_network": "network",
    "network_from_bundle": "network",
    "category_indicators": "indicators",
    "compute_access": "compute",
    "isochrones": "isochrones",
    "isochrones_geojson": "isochrones",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        mod = importlib.import_module(f"territorio.accessibility.{_WHERE[name]}")
        return getattr(mod, name)
    raise AttributeError(f"module 'territorio.accessibility' has no attribute {name!r}")
