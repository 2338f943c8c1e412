"""Resolve a source location (local path or URL) to a local file.

URLs are downloaded once into the cache directory, keyed by the sha256 of
the URL; only complete, successful downloads are cached (written to a
temporary name and renamed), so an interrupted download is never mistaken
for data.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from urllib.parse import urlparse

import requests
from tqdm import tqdm

from territorio.errors import SourceNotFoundError

__all__ = ["is_url", "resolve_location"]

_TIMEOUT_S = 60


def is_url(location: str) -> bool:
    """Return True for http(s) locations."""
    return urlparse(str(location)).scheme in {"http", "https"}


def resolve_location(location: str | Path, *, cache_dir: Path, what: str) -> Path:
    """Return a local path for ``location``, downloading URLs into ``cache_dir``.

    Parameters
    ----------
    location
        A local path or an http(s) URL.
    cache_dir
        Where downloads are cached.
    what
        What the file is, for error messages (e.g. ``"population grid"``).

    Raises
    ------
    SourceNotFoundError
        If the path does not exist or the URL cannot be downloaded.
    """
    loc = str(location)
    if not is_url(loc):
        path = Path(loc).expanduser()
        if not path.is_file():
            raise SourceNotFoundError(
                f"{what}: file not found: {path} (check the path in the config; "
                "relative paths are resolved from the config file's folder)"
            )
        return path
    name = Path(urlparse(loc).path).name or "download"
    key = hashlib.sha256(loc.encode()).hexdigest()[:16]
    target = cache_dir / "downloads" / f"{key}-{name}"
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with requests.get(loc, stream=True, timeout=_TIMEOUT_S) as resp:
            resp.raise_for_status()
            total = int(resp.headers.get("content-length", 0)) or None
            fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".part")
            with (
                os.fdopen(fd, "wb") as fh,
                tqdm(
                    total=total, unit="B", unit_scale=True, desc=f"download {name}", leave=False
                ) as bar,
            ):
                for chunk in resp.iter_content(1 << 16):
                    fh.write(chunk)
                    bar.update(len(chunk))
    except requests.RequestException as exc:
        raise SourceNotFoundError(
            f"{what}: cannot download {loc}: {exc.__class__.__name__}: {exc} "
            "(check the URL and your connection, or point the config at a local copy)"
        ) from exc
    os.replace(tmp, target)
    return target
