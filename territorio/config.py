"""The build configuration: a TOML file listing sources and parameters.

Relative paths in the file are resolved from the folder of the config file,
so ``configs/torino-local.toml`` can name ``../../shared/data/...``. URLs
(``http(s)://``) are downloaded into the cache. Unknown keys are errors, so
a typo never silently falls back to a default.

Example::

    [area]
    slug = "torino"
    name = "Città Metropolitana di Torino"
    province_code = "001"          # or: municipalities = ["001272", "001156"]
    buffer_km = 10
    year = 2023

    [municipalities]                         # reference points where people live
    centres = "Localita_11_WGS84_topo_points.geojson"   # ISTAT 2011 centri capoluogo
    places = "osm_tiles"                     # OpenMapTiles set: place nodes

    [istat]
    classifications = "https://www.istat.it/.../Classificazioni-statistiche-...xls"

    [population]
    location = "census2021_1km_torino.csv"   # GISCO CSV, or a GeoTIFF

    [roads]
    source = "vector_tiles"                  # overpass | pbf | vector_tiles | edges
    location = "turin_core_car_edges.parquet"

    [roads.mountain]                         # curvature and gradient (defaults shown)
    curvature = true
    gradient = true

    [elevation]                              # DEM tiles: SRTM .hgt or GeoTIFF
    locations = ["dem/N45E007.hgt", "dem/N45E008.hgt"]

    [[services.sources]]
    adapter = "gisco_healthcare"
    location = "gisco_healthcare_IT.csv"
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal, overload

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from territorio.errors import ConfigError, SourceNotFoundError

__all__ = [
    "AccessConfig",
    "AreaConfig",
    "BuildConfig",
    "ElevationConfig",
    "IstatConfig",
    "MountainConfig",
    "MunicipalitiesConfig",
    "PopulationConfig",
    "RoadsConfig",
    "ServiceSourceConfig",
    "ServicesConfig",
    "load_config",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AreaConfig(_Strict):
    """Which territory: a province / metropolitan city, or a list of comuni."""

    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str
    province_code: str | None = Field(default=None, pattern=r"^\d{3}$")
    municipalities: list[str] | None = None
    buffer_km: float = Field(default=10.0, ge=0, le=100)
    year: int = 2023

    @field_validator("municipalities")
    @classmethod
    def _six_digits(cls, v: list[str] | None) -> list[str] | None:
        if v is not None:
            bad = [c for c in v if not (isinstance(c, str) and len(c) == 6 and c.isdigit())]
            if bad:
                raise ValueError(f"ISTAT codes must be 6-digit strings, got {bad[:3]}")
        return v


class MunicipalitiesConfig(_Strict):
    """Options for the municipality layer."""

    #: CSV with ``pro_com_t, lon, lat`` (e.g. town-hall coordinates) overriding
    #: the reference point computed inside each polygon (top priority).
    reference_points: str | None = None
    #: ISTAT 2011 *centri capoluogo* points (``Localita_11_WGS84_topo_points.geojson``
    #: layout): each comune's reference point where its centre is known.
    centres: str | None = None
    #: OpenMapTiles vector tile set (folder or ``.mbtiles``) whose ``place``
    #: node named like the comune is the reference point where no centre is.
    places: str | None = None


class IstatConfig(_Strict):
    """ISTAT *Classificazioni statistiche dei comuni* (XLS/XLSX), path or URL."""

    classifications: str | None = None


class PopulationConfig(_Strict):
    """Population grid: GISCO census CSV (``GRD_ID``) or a GeoTIFF, path or URL."""

    location: str | None = None
    #: For GeoTIFFs without an age breakdown: share of residents aged 65+
    #: and under 15 assumed per municipality from ISTAT (``"municipal"``).
    age_shares: Literal["municipal"] = "municipal"


class MountainConfig(_Strict):
    """Curvature and gradient of the car times (:mod:`territorio.ingest.mountain`).

    Curvature caps the speed where the road bends (D.M. 5/11/2001, see
    :mod:`territorio.ingest.curvature`); gradient slows steep ramps and
    descents (needs ``[elevation]``, see :mod:`territorio.ingest.gradient`).
    Edge tables with straight stand-in geometries are left alone (flagged).
    """

    curvature: bool = True
    gradient: bool = True
    #: Superelevation q of the curve-speed equation (7 %: the norm's maximum).
    superelevation: float = Field(default=0.07, ge=0, le=0.12)
    #: Resampling step and radius window (m).
    step_m: float = Field(default=5.0, gt=0, le=50)
    window_m: float = Field(default=30.0, gt=0, le=500)
    #: A hairpin turns by at least this many degrees within this arc (m).
    hairpin_turn_deg: float = Field(default=150.0, gt=0, le=360)
    hairpin_arc_m: float = Field(default=80.0, gt=0, le=1000)
    #: Gradient pieces (m) and the penalty (percent grades, speed factors).
    grade_piece_m: float = Field(default=200.0, gt=0, le=5000)
    up_threshold_pct: float = Field(default=5.0, ge=0)
    up_loss_per_pct: float = Field(default=0.02, ge=0, le=1)
    up_min_factor: float = Field(default=0.75, gt=0, le=1)
    down_threshold_pct: float = Field(default=7.0, ge=0)
    down_loss_per_pct: float = Field(default=0.01, ge=0, le=1)
    down_min_factor: float = Field(default=0.85, gt=0, le=1)


class RoadsConfig(_Strict):
    """Road network source."""

    source: Literal["overpass", "pbf", "vector_tiles", "edges"] = "overpass"
    location: str | None = None
    #: The date of the OSM data when the source does not carry it (vector
    #: tiles: the extract they were made from), ISO 8601, e.g. "2021-08-05".
    data_date: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}")
    #: What the source was made from, for the provenance (e.g. "Geofabrik
    #: italy/nord-ovest extract, tiles by tilemaker").
    extract: str | None = None
    #: Overpass endpoint (osmnx setting); change it to use a mirror.
    overpass_url: str = "https://overpass-api.de/api"
    #: ``"drive"`` (car only) or ``"all"`` (car and walking).
    network_type: Literal["drive", "all"] = "all"
    #: Ratio of the legal speed limit actually driven on average.
    speed_factor: float = Field(default=0.8, gt=0, le=1.2)
    #: Curvature and gradient adjustments of the car times.
    mountain: MountainConfig = MountainConfig()


class ElevationConfig(_Strict):
    """Digital elevation model tiles (SRTM ``.hgt``, GeoTIFF), mosaicked.

    Without ``locations`` nothing gets an altitude from a DEM (and nothing is
    assumed flat); with them, junctions, edges, cells and comuni outside the
    tiles are flagged ``has_elevation = false``.
    """

    locations: list[str] = Field(default_factory=list)
    #: Voids up to this many pixels from valid data are interpolated (flagged).
    void_fill_px: int = Field(default=3, ge=0, le=100)


class ServiceSourceConfig(_Strict):
    """One service source."""

    adapter: Literal[
        "osm_overpass",
        "osm_pbf",
        "osm_geojson",
        "osm_tiles",
        "gisco_healthcare",
        "iccu_libraries",
        "viaggiatreno_stations",
        "gtfs_stops",
        "moh_pharmacies",
        "miur_schools",
        "table",
    ]
    location: str | None = None
    #: Where the source is complete: ``"area"`` (default) or a list of ISTAT
    #: codes (e.g. a city registry). Outside it, a category with no other
    #: source is reported as "no data", not as "far".
    coverage: Literal["area"] | list[str] = "area"
    #: For the generic ``table`` adapter (CSV / GeoJSON / GeoPackage).
    lon: str | None = None
    lat: str | None = None
    category: str | None = None
    category_column: str | None = None
    category_map: dict[str, str] | None = None
    name_column: str | None = None
    id_column: str | None = None
    capacity_column: str | None = None
    csv_separator: str | None = None
    encoding: str | None = None
    #: Only keep these categories from this source (default: all it yields).
    categories: list[str] | None = None
    #: Date of the data (ISO ``YYYY-MM-DD``) when the source does not carry it,
    #: e.g. the OSM extract an ``osm_tiles`` tile set was made from.
    data_date: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}")
    #: What the source was made from, for the provenance (e.g. ``"Geofabrik
    #: italy/nord-ovest extract"`` for a tile set).
    extract: str | None = None


class ServicesConfig(_Strict):
    """Service sources and the duplicate-merging distance."""

    dedup_m: float = Field(default=50.0, ge=0, le=1000)
    sources: list[ServiceSourceConfig] = Field(default_factory=list)


class AccessConfig(_Strict):
    """Accessibility parameters (used by ``territorio access``)."""

    max_snap_m: float = Field(default=1000.0, gt=0)
    off_network_kmh: float = Field(default=5.0, gt=0)
    thresholds_min: list[float] = Field(default_factory=lambda: [15.0, 30.0, 45.0, 60.0])
    catchment_min: float = Field(default=30.0, gt=0)
    #: Categories for which 2SFCA / E2SFCA are computed (one bounded search per
    #: facility); ``None`` = those whose services carry a capacity (e.g. beds).
    sfca_categories: list[str] | None = None


class BuildConfig(_Strict):
    """The whole build configuration."""

    area: AreaConfig
    output_dir: str = "data"
    cache_dir: str = "data/cache"
    municipalities: MunicipalitiesConfig = MunicipalitiesConfig()
    istat: IstatConfig = IstatConfig()
    population: PopulationConfig = PopulationConfig()
    roads: RoadsConfig = RoadsConfig()
    elevation: ElevationConfig = ElevationConfig()
    services: ServicesConfig = ServicesConfig()
    access: AccessConfig = AccessConfig()
    #: The folder relative paths are resolved from (set by :func:`load_config`).
    base_dir: str = "."
    #: The raw TOML, recorded in the manifest.
    raw: dict[str, Any] = Field(default_factory=dict)

    @overload
    def resolve(self, location: str) -> str: ...
    @overload
    def resolve(self, location: None) -> None: ...
    @overload
    def resolve(self, location: str | None) -> str | None: ...
    def resolve(self, location: str | None) -> str | None:
        """Resolve a location from the config: URLs unchanged, paths from ``base_dir``."""
        if location is None or location.startswith(("http://", "https://")):
            return location
        p = Path(location).expanduser()
        return str(p if p.is_absolute() else (Path(self.base_dir) / p).resolve())


def _format_validation(path: Path, exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in err["loc"])
    loc = loc.replace(".[", "[")
    more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
    return f"{path}: {loc}: {err['msg']}{more}"


def load_config(path: str | Path) -> BuildConfig:
    """Read and validate a build configuration file.

    Raises
    ------
    SourceNotFoundError
        If the file does not exist.
    ConfigError
        If it is not valid TOML or does not match the schema (the message names
        the key and the reason).
    """
    path = Path(path)
    if not path.is_file():
        raise SourceNotFoundError(f"config file not found: {path}")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    base = str(path.resolve().parent)
    data = dict(raw)
    out = data.get("output", {})
    if not isinstance(out, dict):
        raise ConfigError(f"{path}: [output] must be a table")
    data.pop("output", None)
    for key in ("dir", "cache_dir"):
        if key in out:
            data["output_dir" if key == "dir" else "cache_dir"] = out.pop(key)
    if out:
        raise ConfigError(f"{path}: output: unknown key(s) {', '.join(out)}")
    try:
        cfg = BuildConfig(**data, base_dir=base, raw=raw)
    except ValidationError as exc:
        raise ConfigError(_format_validation(path, exc)) from exc
    except TypeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    area = cfg.area
    if (area.province_code is None) == (area.municipalities is None):
        raise ConfigError(
            f'{path}: area: give exactly one of province_code (e.g. "001") or municipalities'
        )
    return cfg
