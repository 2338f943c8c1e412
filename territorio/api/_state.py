"""The app's state: the bundle loaded once, with the lookups the routes need."""

from __future__ import annotations

import json
import logging
import math
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import mapping

from territorio._version import __version__
from territorio.bundle import Bundle
from territorio.errors import BundleError, NotFoundError, OutsideCoverageError

__all__ = ["TerritoryData", "clean", "provenance_summary"]

log = logging.getLogger("territorio.api")

_THRESHOLD_PREFIXES = (
    "pop_beyond_",
    "pop65_beyond_",
    "pop_u15_beyond_",
    "share_beyond_",
    "share65_beyond_",
)


def clean(value: Any) -> Any:
    """Turn numpy/pandas scalars into JSON values (NaN and NA become None)."""
    if value is None:
        return None
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return None if math.isnan(f) or math.isinf(f) else f
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def _walk_sources(obj: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(obj, Mapping):
        if isinstance(obj.get("source"), str):
            yield obj
        for v in obj.values():
            yield from _walk_sources(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _walk_sources(v)


def _public_location(loc: Any) -> str | None:
    if not isinstance(loc, str) or not loc:
        return None
    if urlparse(loc).scheme in ("http", "https"):
        return loc
    return Path(loc).name  # never show the server's folders


def _mapping(obj: Any) -> Mapping[str, Any]:
    return obj if isinstance(obj, Mapping) else {}


def provenance_summary(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """Summarise a bundle manifest: build time, OSM timestamp, ISTAT year, sources."""
    sources: list[dict[str, Any]] = []
    seen: set[tuple[Any, ...]] = set()
    # the roads' OSM date is the headline; older manifests: their roads' provenance
    roads_prov = _mapping(_mapping(manifest.get("sources")).get("roads"))
    osm: str | None = clean(
        manifest.get("roads_osm_timestamp")
        if "roads_osm_timestamp" in manifest
        else roads_prov.get("data_date") or manifest.get("osm_timestamp")
    )
    for rec in _walk_sources(manifest.get("sources") or manifest.get("provenance") or {}):
        key = (rec.get("source"), rec.get("location"), rec.get("data_date"))
        if key in seen:
            continue
        seen.add(key)
        sources.append(
            {
                "source": str(rec.get("source")),
                "location": _public_location(rec.get("location")),
                "data_date": clean(rec.get("data_date")),
                "retrieved_at": clean(rec.get("retrieved_at")),
                "licence": clean(rec.get("licence")),
            }
        )
    area: Mapping[str, Any] = _mapping(manifest.get("area"))
    raw_area = _mapping(_mapping(manifest.get("config")).get("area"))
    istat = manifest.get("istat_year") or area.get("year") or raw_area.get("year")
    build = _mapping(manifest.get("build"))
    built = (
        build.get("finished_at")
        or manifest.get("built_at")
        or manifest.get("build_time")
        or manifest.get("created_at")
        or manifest.get("updated_at")
    )
    return {
        "software_version": __version__,
        "bundle_software_version": clean(manifest.get("software_version")),
        "format_version": clean(manifest.get("format_version")),
        "area": clean(area.get("name") or manifest.get("name") or manifest.get("slug")),
        "built_at": clean(built),
        "osm_timestamp": osm,
        "istat_year": clean(istat),
        "layers": {str(k): int(v) for k, v in (manifest.get("layers") or {}).items()},
        "sources": sources,
    }


def _header(summary: Mapping[str, Any]) -> str:
    def part(v: Any) -> str:
        return str(v).replace(";", ",") if v is not None else "unknown"

    return (
        f"osm={part(summary['osm_timestamp'])}; istat={part(summary['istat_year'])}; "
        f"build={part(summary['built_at'])}"
    )


@dataclass
class TerritoryData:
    """A bundle, read once, with indexes for the routes.

    Attributes
    ----------
    bundle
        The territory bundle.
    municipalities
        The municipality layer indexed by ``pro_com_t`` (geometry dropped).
    """

    bundle: Bundle
    municipalities: pd.DataFrame
    geometries: dict[str, dict[str, Any]]
    services: pd.DataFrame
    service_lon: np.ndarray
    service_lat: np.ndarray
    access: pd.DataFrame | None
    summary: dict[str, Any]
    header: str
    _area: Any
    _muni_tree: shapely.STRtree
    _muni_geoms: np.ndarray
    _muni_codes: np.ndarray
    bounds: tuple[float, float, float, float]
    cache: dict[tuple[str, ...], bytes] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)
    #: Why the plan folder beside the bundle is not served (another build's), or None.
    stale_plan: str | None = None
    _build_lock: threading.Lock = field(default_factory=threading.Lock)

    def derived(self, key: str, build: Callable[[], Any]) -> Any:
        """Return ``extras[key]``, built once by ``build()`` on first use.

        Concurrent first callers wait for the one build instead of each
        repeating it (16 threads of a worker building 8,500 service dicts at
        once held the first requests for seconds).
        """
        value = self.extras.get(key)
        if value is None:
            with self._build_lock:
                value = self.extras.get(key)
                if value is None:
                    value = build()
                    self.extras[key] = value
        return value

    @classmethod
    def load(cls, path: str | Path) -> TerritoryData:
        """Read the bundle at ``path`` and build the indexes."""
        bundle = Bundle(path)
        munis = bundle.layer("municipalities")
        if munis.crs is None or munis.crs.to_epsg() != 4326:
            raise BundleError(f"{bundle.path}: municipalities layer is not in EPSG:4326")
        munis = munis.sort_values("pro_com_t").reset_index(drop=True)
        codes = munis["pro_com_t"].astype(str).to_numpy()
        geoms = munis.geometry.to_numpy()
        geometries = {c: mapping(g) for c, g in zip(codes, geoms, strict=True)}
        area = shapely.union_all(geoms)
        shapely.prepare(area)
        table = pd.DataFrame(munis.drop(columns=munis.geometry.name))
        table.index = pd.Index(codes, name="pro_com_t")
        if bundle.has_layer("services"):
            svc = bundle.layer("services").reset_index(drop=True)
            lon = svc.geometry.x.to_numpy(dtype=float)
            lat = svc.geometry.y.to_numpy(dtype=float)
            services = pd.DataFrame(svc.drop(columns=svc.geometry.name))
        else:
            services = pd.DataFrame(
                columns=["service_id", "category", "name", "source", "pro_com_t"]
            )
            lon = lat = np.empty(0)
        services["lon"] = lon
        services["lat"] = lat
        services.index = pd.Index(services["service_id"].astype(str), name="service_id")
        access = (
            bundle.layer("access_municipalities")
            if bundle.has_layer("access_municipalities")
            else None
        )
        summary = provenance_summary(bundle.manifest)
        minx, miny, maxx, maxy = (float(v) for v in munis.total_bounds)
        return cls(
            bundle=bundle,
            municipalities=table,
            geometries=geometries,
            services=services,
            service_lon=lon,
            service_lat=lat,
            access=access,
            summary=summary,
            header=_header(summary),
            _area=area,
            _muni_tree=shapely.STRtree(geoms),
            _muni_geoms=geoms,
            _muni_codes=codes,
            bounds=(minx, miny, maxx, maxy),
        )

    # -- lookups ---------------------------------------------------------------

    def load_plan(self, folder: str | Path) -> None:
        """Read the outputs of ``territorio plan`` (municipalities and clusters)."""
        import geopandas as gpd

        folder = Path(folder)
        mpath = folder / "municipalities.parquet"
        if not mpath.is_file():
            raise BundleError(
                f"no planning results at {folder} (missing municipalities.parquet); "
                "run: territorio plan, or unset TERRITORIO_PLAN_PATH"
            )
        table = pd.read_parquet(mpath)
        table = pd.DataFrame(table.drop(columns=["geometry"], errors="ignore"))
        table = table.rename(columns={"score": "marginality_score"})
        table.index = pd.Index(table["pro_com_t"].astype(str), name="pro_com_t")
        self.extras["planning"] = table.drop(columns=["pro_com_t", "name"], errors="ignore")
        cpath = folder / "clusters.parquet"
        if cpath.is_file():
            meta = pq_meta(cpath)
            self.extras["clusters"] = (
                gpd.read_parquet(cpath).to_crs(4326) if meta else pd.read_parquet(cpath)
            )

    def municipality(self, code: str) -> pd.Series:
        """Return the row of a municipality, or raise :class:`NotFoundError`."""
        if code not in self.municipalities.index:
            raise NotFoundError(
                f"no municipality with ISTAT code {code!r} in this territory; "
                "list them at /municipalities"
            )
        row: pd.Series = self.municipalities.loc[code]  # type: ignore[assignment]
        return row

    def check_in_area(self, lon: float, lat: float, *, what: str = "point") -> None:
        """Raise :class:`OutsideCoverageError` if the point is outside the area."""
        if not bool(shapely.contains_xy(self._area, lon, lat)):
            b = self.bounds
            raise OutsideCoverageError(
                f"{what} ({lon:.5f}, {lat:.5f}) is outside the territory served "
                f"(lon {b[0]:.3f} to {b[2]:.3f}, lat {b[1]:.3f} to {b[3]:.3f}, "
                "within the municipalities' boundaries)"
            )

    def municipality_at(self, lon: float, lat: float) -> str | None:
        """Return the ISTAT code of the municipality containing the point, if any."""
        hits = self._muni_tree.query(shapely.Point(lon, lat), predicate="intersects")
        if len(hits) == 0:
            return None
        return str(self._muni_codes[int(np.min(hits))])

    def service(self, service_id: str) -> pd.Series:
        """Return the row of a service, or raise :class:`NotFoundError`."""
        if service_id not in self.services.index:
            raise NotFoundError(f"no service with id {service_id!r}; search them at /services")
        row: pd.Series = self.services.loc[service_id]  # type: ignore[assignment]
        return row

    def municipalities_in_bbox(self, bbox: tuple[float, float, float, float]) -> list[str]:
        """ISTAT codes of the municipalities intersecting a lon/lat box."""
        hits = self._muni_tree.query(shapely.box(*bbox), predicate="intersects")
        return [str(self._muni_codes[int(i)]) for i in np.sort(hits)]

    def access_rows(self, code: str) -> pd.DataFrame:
        """Rows of ``access_municipalities`` for one municipality (may be empty)."""
        access = self.access
        if access is None:
            return pd.DataFrame()
        # positions per code, grouped once (a mask over every row cost ~0.3 ms a call)
        groups = self.derived(
            "access_positions", lambda: access.groupby("pro_com_t", sort=False).indices
        )
        pos = groups.get(code)
        return access.iloc[pos] if pos is not None else access.iloc[:0]

    def to_json_bytes(self, payload: Any) -> bytes:
        """Serialise a payload compactly (NaN never appears: values are cleaned)."""
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def pq_meta(path: Path) -> bool:
    """Whether a Parquet file is GeoParquet."""
    import pyarrow.parquet as pq

    return b"geo" in (pq.read_schema(path).metadata or {})


def threshold_columns(columns: Any) -> list[tuple[str, int]]:
    """Return ``(prefix, minutes)`` for every ``*_beyond_<T>`` column."""
    out = []
    for c in columns:
        for p in _THRESHOLD_PREFIXES:
            if str(c).startswith(p) and str(c)[len(p) :].isdigit():
                out.append((p, int(str(c)[len(p) :])))
    return out
