"""Thin data access for the maps: bundle layers and planning outputs, when present."""

from __future__ import annotations

import logging
from typing import Any

import geopandas as gpd
import pandas as pd

from territorio.bundle import Bundle

log = logging.getLogger("territorio.maps")

#: Bundle layer names tried, in order, for each planning output. The planning
#: stage may store them under either name.
PLANNING_LAYERS: dict[str, tuple[str, ...]] = {
    "marginality": ("marginality", "planning_marginality"),
    "snai": ("snai", "planning_snai", "snai_classes"),
    "clusters": ("clusters", "planning_clusters", "valleys"),
    "sites": ("sites", "planning_sites", "proposed_sites"),
}


def optional_layer(bundle: Bundle, key: str) -> Any:
    """Return the first present layer among :data:`PLANNING_LAYERS` ``[key]``, else None."""
    for name in PLANNING_LAYERS.get(key, (key,)):
        if bundle.has_layer(name):
            return bundle.layer(name)
    return None


def marginality_from_access(bundle: Bundle) -> pd.DataFrame | None:
    """Compute the marginality index from ``access_municipalities`` when not stored.

    Uses :func:`territorio.planning.marginality.marginality_index` with the
    default :class:`~territorio.planning.config.IndexConfig`; returns None
    when the access layer is absent.
    """
    if not bundle.has_layer("access_municipalities"):
        return None
    from territorio.planning.config import IndexConfig
    from territorio.planning.marginality import marginality_index, municipal_times, status_wide

    cfg = IndexConfig()
    cats = [c for c, w in cfg.service_weights.items() if w > 0]
    access = bundle.layer("access_municipalities")
    munis = bundle.layer("municipalities")
    times = municipal_times(access, categories=cats)
    status = status_wide(access, categories=cats)
    return marginality_index(
        pd.DataFrame(munis.drop(columns=munis.geometry.name)), times, status, cfg=cfg
    )


def isochrones_for(bundle: Bundle, lon: float, lat: float) -> gpd.GeoDataFrame | None:
    """10/20/30-minute isochrones from a point, when the accessibility stage provides them.

    Returns None (the map is drawn without isochrones) when
    ``territorio.accessibility.isochrones`` is unavailable or the point is
    outside network coverage.
    """
    try:
        from territorio.accessibility import isochrones
    except (ImportError, AttributeError):
        return None
    from territorio.errors import TerritorioError

    try:
        result = isochrones(bundle, lon=lon, lat=lat, minutes=(10, 20, 30))
    except TerritorioError as exc:
        log.info("no isochrones at (%.5f, %.5f): %s", lon, lat, exc)
        return None
    except TypeError:
        log.warning("territorio.accessibility.isochrones has an unexpected signature")
        return None
    if isinstance(result, gpd.GeoDataFrame) and "minutes" in result.columns:
        return result
    return None
