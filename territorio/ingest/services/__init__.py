"""Service ingest: one adapter per source format, the OSM tag map, duplicate merging.

:func:`load_service_source` reads one configured source into the
``services`` layer (see :mod:`territorio.schemas`) with a provenance record
whose ``counts`` say how many rows were read, kept and dropped and why;
:func:`merge_services` concatenates the sources and merges the duplicates
between them. Category mappings are documented in
:mod:`territorio.ingest.services.osm_tags` (OpenStreetMap),
:mod:`territorio.ingest.services.vector_tiles` (OpenMapTiles ``poi`` layer),
:mod:`territorio.ingest.services.registries` (official registries, GTFS) and
:mod:`territorio.ingest.services.table` (user tables).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
from shapely.geometry.base import BaseGeometry

from territorio.categories import check_category
from territorio.config import ServiceSourceConfig
from territorio.errors import ConfigError
from territorio.ingest._result import SourceResult
from territorio.ingest.services._common import empty_services
from territorio.ingest.services.merge import SOURCE_PRIORITY, merge_services
from territorio.ingest.services.osm_tags import OSM_TAG_RULES, classify_osm

__all__ = [
    "OSM_TAG_RULES",
    "SOURCE_PRIORITY",
    "classify_osm",
    "empty_services",
    "load_service_source",
    "merge_services",
]


def _adapters() -> dict[str, Callable[..., SourceResult]]:
    from territorio.ingest.services import registries, table, vector_tiles
    from territorio.ingest.services._osm import load_osm_geojson, load_osm_pbf

    return {
        "osm_pbf": load_osm_pbf,
        "osm_geojson": load_osm_geojson,
        "osm_tiles": vector_tiles.load_osm_tiles,
        "gisco_healthcare": registries.load_gisco_healthcare,
        "iccu_libraries": registries.load_iccu_libraries,
        "viaggiatreno_stations": registries.load_viaggiatreno_stations,
        "gtfs_stops": registries.load_gtfs_stops,
        "moh_pharmacies": registries.load_moh_pharmacies,
        "miur_schools": registries.load_miur_schools,
        "table": table.load_table,
    }


def load_service_source(
    src: ServiceSourceConfig,
    *,
    location: str | None,
    area: BaseGeometry,
    municipalities: gpd.GeoDataFrame,
    cache_dir: Path,
    overpass_url: str = "https://overpass-api.de/api",
) -> SourceResult:
    """Read one service source into a validated ``services`` layer.

    Parameters
    ----------
    src
        The source's configuration; ``src.adapter`` picks the reader.
    location
        The resolved location (absolute path or URL); unused by
        ``osm_overpass`` unless it is a URL (then it is the endpoint).
    area
        Study area in EPSG:4326 (the municipalities' union plus the buffer);
        rows outside it are dropped and counted.
    municipalities
        The ``municipalities`` layer, to assign ``pro_com_t`` (None for
        points in the buffer outside every municipality).
    cache_dir
        Download and osmnx cache folder.
    overpass_url
        Overpass endpoint for ``osm_overpass``.

    Returns
    -------
    SourceResult
        The layer (EPSG:4326) and its provenance; ``provenance.counts`` has
        ``read``, ``kept``, ``kept_<category>`` and every ``dropped_<reason>``.

    Raises
    ------
    ConfigError
        If the source needs a location and has none.
    UnknownCategoryError
        If ``src.categories`` names an unknown category.
    SourceNotFoundError, DataValidationError, MissingColumnError
        If the source cannot be read or is invalid (the message names the
        file, the row and the column).
    """
    for code in src.categories or []:
        check_category(code, where=f"services source {src.adapter!r} (key 'categories')")
    cache_dir = Path(cache_dir)
    if src.adapter == "osm_overpass":
        from territorio.ingest.services._osm import load_osm_overpass

        src_loc = location if location and location.startswith(("http://", "https://")) else None
        return load_osm_overpass(
            src.model_copy(update={"location": src_loc}),
            area=area,
            municipalities=municipalities,
            cache_dir=cache_dir,
            overpass_url=overpass_url,
        )
    adapters = _adapters()
    if src.adapter not in adapters:  # pragma: no cover - the config schema forbids it
        raise ConfigError(f"unknown services adapter {src.adapter!r}")
    loc = location if location is not None else src.location
    if not loc:
        raise ConfigError(
            f'services source {src.adapter!r}: no location; set location = "path or URL"'
        )
    kwargs: dict[str, Any] = {
        "location": loc,
        "area": area,
        "municipalities": municipalities,
        "cache_dir": cache_dir,
    }
    return adapters[src.adapter](src, **kwargs)
