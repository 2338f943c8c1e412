"""OpenStreetMap service adapters: Overpass (osmnx), ``.osm.pbf`` (pyrosm), GeoJSON.

All three turn OSM features into a table of tags and classify it with
:func:`territorio.ingest.services.osm_tags.classify_osm`, so the same OSM
feature gets the same category on every path. ``source`` is ``"osm"`` and
``source_id`` is ``"<node|way|relation>/<id>"`` on every path, so the same
feature loaded twice is merged by :func:`merge_services`. Ways and relations
become their representative point (``shapely.point_on_surface``, inside the
polygon or on the line).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from territorio.config import ServiceSourceConfig
from territorio.errors import DataValidationError, SourceNotFoundError
from territorio.ingest._fetch import resolve_location
from territorio.ingest._osm_roads import pbf_timestamp
from territorio.ingest._result import SourceResult
from territorio.ingest.services._common import RawServices, finish, representative_lonlat
from territorio.ingest.services.osm_tags import ATTRIBUTE_TAGS, classify_osm, query_tags
from territorio.provenance import Provenance, sha256_bytes, sha256_file

__all__ = ["load_osm_geojson", "load_osm_overpass", "load_osm_pbf", "raw_from_osm"]

SOURCE = "osm"
LICENCE = "© OpenStreetMap contributors, ODbL 1.0"


def raw_from_osm(
    tags: pd.DataFrame,
    osm_ids: pd.Series,
    lon: np.ndarray,
    lat: np.ndarray,
) -> RawServices:
    """Classify OSM features and build the adapter table.

    Parameters
    ----------
    tags
        One row per feature, one column per OSM key.
    osm_ids
        ``"node/1"``-style ids aligned with ``tags``.
    lon, lat
        Representative point of each feature.

    Notes
    -----
    Public buildings that are also digital-help points produce a second row,
    ``category="digital_help"`` with ``source_id`` ``"<id>#digital_help"``.
    """
    tags = tags.reset_index(drop=True)
    ids = osm_ids.reset_index(drop=True).astype(str)
    category, school_level, digital = classify_osm(tags)
    present = [t for t in ATTRIBUTE_TAGS if t in tags.columns]
    records = tags[present].astype(object).where(tags[present].notna(), None).to_dict("records")
    for rec, how in zip(records, school_level.to_numpy(), strict=True):
        if how is not None:
            rec["school_level"] = how
    name = tags["name"] if "name" in tags.columns else pd.Series("", index=tags.index)
    line = "feature " + ids
    d = np.flatnonzero(digital.to_numpy())
    if len(d):
        extra = [{**records[i], "digital_help_from": category.iloc[i]} for i in d]
        records = records + extra
        category = pd.concat([category, pd.Series("digital_help", index=range(len(d)))])
        ids = pd.concat([ids, ids.iloc[d] + "#digital_help"])
        name = pd.concat([name, name.iloc[d]])
        line = pd.concat([line, line.iloc[d]])
        lon = np.concatenate([lon, lon[d]])
        lat = np.concatenate([lat, lat[d]])
    return RawServices(
        source_id=ids.reset_index(drop=True),
        name=name.reset_index(drop=True),
        category=category.reset_index(drop=True),
        lon=pd.Series(lon),
        lat=pd.Series(lat),
        line=line.reset_index(drop=True),
        attributes=records,
        counts={"read": len(tags)},
        lon_column="geometry",
        lat_column="geometry",
    )


def _finish_osm(
    raw: RawServices,
    src: ServiceSourceConfig,
    *,
    where: str,
    area: BaseGeometry,
    municipalities: gpd.GeoDataFrame,
    provenance: Provenance,
) -> SourceResult:
    result = finish(
        raw,
        source=SOURCE,
        where=where,
        area=area,
        municipalities=municipalities,
        categories=src.categories,
        provenance=provenance,
    )
    n_digital = int(raw.source_id.str.endswith("#digital_help").sum())
    if n_digital:
        result.provenance.counts["extra_digital_help_rows"] = n_digital
    return result


# --------------------------------------------------------------------------- Overpass


@contextmanager
def _osmnx_settings(url: str, cache_folder: Path) -> Iterator[Any]:
    """Set osmnx's global settings for one call and restore them afterwards."""
    import osmnx as ox

    keys = ("overpass_url", "cache_folder", "use_cache", "log_console")
    saved = {k: getattr(ox.settings, k) for k in keys}
    ox.settings.overpass_url = url.rstrip("/")
    ox.settings.cache_folder = cache_folder
    ox.settings.use_cache = True
    ox.settings.log_console = False
    try:
        yield ox
    finally:
        for k, v in saved.items():
            setattr(ox.settings, k, v)


def _overpass_features(
    ox: Any, polygon: BaseGeometry, tags: dict[str, Any]
) -> tuple[gpd.GeoDataFrame, list[str], str]:
    """Download features; return them, the OSM data timestamps and a hash.

    osmnx's public ``features_from_polygon`` discards the response metadata,
    so the responses are read through the same two steps it runs
    (``_download_overpass_features`` then ``_create_gdf``) to keep
    ``osm3s.timestamp_osm_base``; if a future osmnx renames them we fall back
    to the public call without the timestamp.
    """
    from osmnx import _errors

    stamps: list[str] = []
    blobs: list[bytes] = []

    def tap(responses: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for r in responses:
            ts = (r.get("osm3s") or {}).get("timestamp_osm_base")
            if ts:
                stamps.append(str(ts))
            blobs.append(json.dumps(r, sort_keys=True).encode())
            yield r

    try:
        download = ox._overpass._download_overpass_features
        create = ox.features._create_gdf
    except AttributeError:  # pragma: no cover - depends on the osmnx version
        download = create = None
    try:
        if download is not None and create is not None:
            gdf = create(tap(download(polygon, tags)), polygon, tags)
        else:  # pragma: no cover
            gdf = ox.features_from_polygon(polygon, tags)
    except _errors.InsufficientResponseError:
        gdf = gpd.GeoDataFrame({"geometry": []}, geometry="geometry", crs="EPSG:4326")
    return gdf, stamps, sha256_bytes(b"".join(blobs))


def load_osm_overpass(
    src: ServiceSourceConfig,
    *,
    area: BaseGeometry,
    municipalities: gpd.GeoDataFrame,
    cache_dir: Path,
    overpass_url: str,
) -> SourceResult:
    """Download services from an Overpass API endpoint with osmnx.

    Parameters
    ----------
    src
        The source configuration (``adapter = "osm_overpass"``).
    area
        Study area (EPSG:4326 Polygon or MultiPolygon); the query polygon.
    municipalities
        Municipality polygons, to assign ``pro_com_t``.
    cache_dir
        osmnx caches responses in ``cache_dir / "osmnx"``.
    overpass_url
        Endpoint base URL (``.../api``); ``src.location``, when a URL, wins.
    """
    import requests

    url = src.location if src.location and src.location.startswith("http") else overpass_url
    tags = query_tags()
    try:
        with _osmnx_settings(url, Path(cache_dir) / "osmnx") as ox:
            gdf, stamps, digest = _overpass_features(ox, area, tags)
    except (requests.RequestException, ConnectionError) as exc:
        raise SourceNotFoundError(
            f"Overpass API {url}: request failed ({exc.__class__.__name__}: {exc}); "
            "check the connection or set another endpoint (services source location or "
            'roads.overpass_url), or use an .osm.pbf extract with adapter = "osm_pbf"'
        ) from exc
    except Exception as exc:  # osmnx's own HTTP status errors
        if exc.__class__.__module__.startswith("osmnx"):
            raise SourceNotFoundError(f"Overpass API {url}: {exc}") from exc
        raise
    ids = pd.Series([f"{e}/{i}" for e, i in gdf.index] if len(gdf) else [], dtype=object)
    tag_cols = gdf.drop(columns="geometry").reset_index(drop=True) if len(gdf) else pd.DataFrame()
    lon, lat = representative_lonlat(gdf.geometry.to_numpy())
    raw = raw_from_osm(tag_cols, ids, lon, lat)
    prov = Provenance(
        source="overpass",
        location=url,
        sha256=digest,
        data_date=min(stamps) if stamps else None,
        licence=LICENCE,
        notes=[f"osmnx features_from_polygon, tags {sorted(tags)}"],
    )
    return _finish_osm(
        raw,
        src,
        where=f"Overpass {url}",
        area=area,
        municipalities=municipalities,
        provenance=prov,
    )


# --------------------------------------------------------------------------- PBF


def load_osm_pbf(
    src: ServiceSourceConfig,
    *,
    location: str,
    area: BaseGeometry,
    municipalities: gpd.GeoDataFrame,
    cache_dir: Path,
) -> SourceResult:
    """Read services from an ``.osm.pbf`` extract with pyrosm.

    The extract is clipped to the bounding box of ``area`` while reading.
    """
    path = resolve_location(location, cache_dir=cache_dir, what="OSM .pbf extract")
    from pyrosm import OSM

    try:
        osm = OSM(str(path), bounding_box=list(area.bounds))
        gdf = osm.get_data_by_custom_criteria(
            custom_filter=query_tags(),
            tags_as_columns=[*ATTRIBUTE_TAGS, "name"],
            keep_other_tags=False,
        )
    except (OSError, ValueError, RuntimeError) as exc:
        raise DataValidationError(
            f"{path}: cannot read as an OSM .pbf extract ({exc}); "
            "download a .osm.pbf file (e.g. from Geofabrik) and point the source at it"
        ) from exc
    if gdf is None or len(gdf) == 0:
        gdf = gpd.GeoDataFrame(
            {"id": [], "osm_type": []}, geometry=gpd.GeoSeries([]), crs="EPSG:4326"
        )
    gdf = gdf.reset_index(drop=True)
    data_date = pbf_timestamp(path)
    notes = []
    if data_date is None and "timestamp" in gdf.columns and len(gdf):
        newest = pd.to_numeric(gdf["timestamp"], errors="coerce").max()
        if np.isfinite(newest) and newest > 0:
            data_date = pd.Timestamp(int(newest), unit="s", tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
            notes.append("data_date: newest edit among the features read (no header timestamp)")
    ids = gdf["osm_type"].astype(str) + "/" + gdf["id"].astype("int64").astype(str)
    drop = [
        c
        for c in ("geometry", "lon", "lat", "visible", "version", "changeset", "timestamp")
        if c in gdf
    ]
    lon, lat = representative_lonlat(gdf.geometry.to_numpy())
    raw = raw_from_osm(pd.DataFrame(gdf.drop(columns=drop)), ids, lon, lat)
    prov = Provenance(
        source="osm-pbf",
        location=str(location),
        sha256=sha256_file(path),
        data_date=data_date,
        licence=LICENCE,
        notes=notes,
    )
    return _finish_osm(
        raw, src, where=str(path), area=area, municipalities=municipalities, provenance=prov
    )


# --------------------------------------------------------------------------- GeoJSON


def _feature_lonlat(features: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
    """Return representative lon/lat of GeoJSON features, tolerant of degenerate shapes.

    Overpass-turbo exports contain rings of two points, which GEOS rejects;
    those fall back to the mean of their vertices.
    """
    texts = [json.dumps(f.get("geometry")) if f.get("geometry") else None for f in features]
    geoms = shapely.from_geojson(np.asarray(texts, dtype=object), on_invalid="ignore")
    lon, lat = representative_lonlat(np.asarray(geoms, dtype=object))
    for i in np.flatnonzero(np.isnan(lon)):
        coords = np.asarray(_flatten((features[i].get("geometry") or {}).get("coordinates")))
        if coords.ndim == 2 and coords.shape[0] and coords.shape[1] >= 2:
            lon[i], lat[i] = coords[:, 0].mean(), coords[:, 1].mean()
    return lon, lat


def _flatten(c: Any) -> list[list[float]]:
    if not isinstance(c, list) or not c:
        return []
    if all(isinstance(v, int | float) for v in c):
        return [c[:2]]
    out: list[list[float]] = []
    for v in c:
        out.extend(_flatten(v))
    return out


def load_osm_geojson(
    src: ServiceSourceConfig,
    *,
    location: str,
    area: BaseGeometry,
    municipalities: gpd.GeoDataFrame,
    cache_dir: Path,
) -> SourceResult:
    """Read services from a GeoJSON export of OSM features with raw tags.

    Tags are read from each feature's ``properties`` (or
    ``properties.tags``, as some exporters nest them); the OSM id from
    ``properties["@id"]``, ``properties.type/id`` or the feature ``id``.
    """
    path = resolve_location(location, cache_dir=cache_dir, what="OSM GeoJSON")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataValidationError(f"{path}: not valid GeoJSON ({exc})") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("features"), list):
        raise DataValidationError(
            f"{path}: not a GeoJSON FeatureCollection (no 'features' list); "
            "export the OSM features as GeoJSON (e.g. overpass-turbo > Export > GeoJSON)"
        )
    features: list[dict[str, Any]] = doc["features"]
    rows: list[dict[str, Any]] = []
    ids: list[str] = []
    for k, f in enumerate(features):
        props = dict(f.get("properties") or {})
        nested = props.pop("tags", None)
        if isinstance(nested, dict):
            props.update(nested)
        rows.append(props)
        fid = props.get("@id") or f.get("id")
        if not fid and props.get("type") and props.get("id"):
            fid = f"{props['type']}/{props['id']}"
        ids.append(str(fid) if fid else f"feature{k + 1}")
    tags = pd.DataFrame(rows)
    lon, lat = _feature_lonlat(features)
    raw = raw_from_osm(tags, pd.Series(ids, dtype=object), lon, lat)
    ts = doc.get("timestamp") or (doc.get("osm3s") or {}).get("timestamp_osm_base")
    prov = Provenance(
        source="osm-geojson",
        location=str(location),
        sha256=sha256_file(path),
        data_date=str(ts) if ts else None,
        licence=LICENCE,
    )
    return _finish_osm(
        raw, src, where=str(path), area=area, municipalities=municipalities, provenance=prov
    )
