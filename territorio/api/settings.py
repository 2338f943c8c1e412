"""Server settings (pydantic-settings, ``TERRITORIO_`` prefix), passed into ``create_app``."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Default base-map tiles of the WPT pages (same value as ``territorio.maps.OSM_TILES``,
#: repeated here so that reading the settings does not import the map builders).
OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"

__all__ = ["Settings"]


class Settings(BaseSettings):
    """Settings of the Welfare Point Territoriale server.

    Every field can be set from the environment with the ``TERRITORIO_``
    prefix, e.g. ``TERRITORIO_BUNDLE_PATH=data/torino``. Nothing is read at
    import time: build ``Settings()`` where the server starts and pass it to
    :func:`territorio.api.create_app`.
    """

    model_config = SettingsConfigDict(env_prefix="TERRITORIO_", extra="ignore")

    #: Folder of the territory bundle to serve.
    bundle_path: Path = Path("data/torino")
    #: Output folder of ``territorio plan`` (SNAI classes, marginality, clusters);
    #: None: ``<bundle>-plan`` beside the bundle when that folder exists.
    plan_path: Path | None = None
    #: The ``territorio plan`` TOML config used for those results: the what-if
    #: scenarios of ``POST /planning/scenarios`` use its index weights and poli
    #: rules. None: default index weights, poli fixed to the classes A/B loaded.
    plan_config: Path | None = None
    #: SQLAlchemy URL of the offers/accounts database (SQLite or PostgreSQL).
    database_url: str = "sqlite:///data/territorio.db"
    #: Run the Alembic migrations when the app starts.
    migrate_on_start: bool = True
    #: Origins allowed by CORS (empty: CORS disabled).
    cors_origins: list[str] = Field(default_factory=list)
    #: Bootstrap administrator token (a secret; unset disables it).
    admin_token: SecretStr | None = None
    #: Largest accepted request body, in bytes (413 beyond).
    max_body_bytes: int = Field(default=64 * 1024, gt=0)
    #: Write requests (POST, PUT, PATCH, DELETE, planning computations) allowed per
    #: window per client: the verified account for a valid token, else the client
    #: address. One limit for the whole server, however many workers.
    write_rate_limit: int = Field(default=60, ge=1)
    #: Length of the rate-limit window, in seconds.
    write_rate_window_s: float = Field(default=60.0, gt=0)
    #: SQLite file of the rate-limit counters, shared by the workers. None: a
    #: temporary file (``territorio serve`` makes one for all its workers).
    rate_limit_path: Path | None = None
    #: Proxies (addresses or CIDR blocks) whose ``X-Forwarded-For`` names the
    #: client; empty: the header is ignored and the TCP peer is the client.
    trusted_proxies: list[str] = Field(default_factory=list)
    #: Host names the server answers to (besides its own address and the public
    #: URL's host); links are never built from another ``Host`` header.
    allowed_hosts: list[str] = Field(default_factory=lambda: ["localhost", "127.0.0.1", "::1"])
    #: Largest page size for list endpoints.
    max_page_size: int = Field(default=1000, ge=1)
    #: Public base URL used in OGC links (default: taken from the request).
    public_url: str | None = None
    #: Tile URL template of the maps of the WPT pages (``/wpt/``); None or
    #: ``"none"``: no base tiles (offline).
    tiles_url: str | None = OSM_TILES
    #: Isochrone responses kept in memory per worker (LRU); 0 disables the cache.
    isochrone_cache_size: int = Field(default=512, ge=0, le=100_000)
    #: Build the road network (and the planning context) at start-up instead of
    #: on the first request that needs it.
    warm_up: bool = True
    #: Largest number of ``POST /planning/*`` computations run at once per worker
    #: (the others wait): they take CPU seconds on large territories.
    planning_concurrency: int = Field(default=1, ge=1, le=16)
    #: Computations that may wait for a slot per worker; beyond, 503 at once
    #: (a burst never fills the thread pool the other endpoints need).
    planning_queue: int = Field(default=4, ge=0, le=1000)

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, v: list[str]) -> list[str]:
        from territorio.api._ratelimit import parse_networks

        try:
            parse_networks(v)
        except ValueError as exc:
            raise ValueError(
                f"trusted_proxies: {exc}; give addresses or CIDR blocks, e.g. 10.0.0.0/8"
            ) from None
        return v

    def hosts(self) -> list[str]:
        """Host names trusted in ``Host`` headers: ``allowed_hosts`` and the public URL's."""
        from urllib.parse import urlsplit

        out = [h.strip().lower().strip("[]") for h in self.allowed_hosts if h.strip()]
        if self.public_url:
            host = urlsplit(self.public_url).hostname
            if host:
                out.append(host.lower())
        return out

    @field_validator("tiles_url")
    @classmethod
    def _no_tiles(cls, v: str | None) -> str | None:
        if v is None or v.strip().lower() in ("", "none", "off"):
            return None
        return v
