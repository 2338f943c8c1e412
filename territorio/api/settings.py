"""Server settings (pydantic-settings, ``TERRITORIO_`` prefix), passed into ``create_app``."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

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
    #: Output folder of ``territorio plan`` (SNAI classes, marginality, clusters).
    plan_path: Path | None = None
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
    #: Write requests (POST, PUT, PATCH, DELETE) allowed per window per token or IP.
    write_rate_limit: int = Field(default=60, ge=1)
    #: Length of the rate-limit window, in seconds.
    write_rate_window_s: float = Field(default=60.0, gt=0)
    #: Most clients tracked by the rate limiter (oldest forgotten beyond).
    rate_limit_max_clients: int = Field(default=10_000, ge=1)
    #: Largest page size for list endpoints.
    max_page_size: int = Field(default=1000, ge=1)
    #: Public base URL used in OGC links (default: taken from the request).
    public_url: str | None = None
