"""Content-Security-Policy of the WPT pages and maps: what they really load, nothing else.

The pages (landing, search, municipality) run no script at all. A map page
runs Leaflet from ``/wpt/static/vendor`` and folium's inline scripts, which
are allowed by their sha256 hashes (so an injected ``<script>`` or an
``onerror=`` attribute never runs); it shows base tiles from the configured
tile server only. Styles may be inline (Leaflet and folium set ``style``
attributes); style cannot run code.
"""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import urlsplit

__all__ = ["map_csp", "page_csp", "tile_source"]

_INLINE_SCRIPT = re.compile(
    r"<script(?![^>]*\bsrc\s*=)[^>]*>(.*?)</script\s*>", re.DOTALL | re.IGNORECASE
)

_COMMON = (
    "default-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'self'",
    "font-src 'self' data:",
)


def page_csp() -> str:
    """Return the policy of the HTML pages: no script, same-origin maps in an iframe."""
    return "; ".join(
        (
            *_COMMON,
            "script-src 'none'",
            "style-src 'self'",
            "img-src 'self' data:",
            "frame-src 'self'",
        )
    )


def tile_source(tiles: str | None) -> str | None:
    """Return the CSP source of a tile URL template (``{s}`` subdomains as ``*``), or None."""
    if not tiles:
        return None
    parts = urlsplit(tiles.replace("{s}", "tiles-subdomain"))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    host = parts.netloc.replace("tiles-subdomain", "*")
    return f"{parts.scheme}://{host}"


def _sha256(script: str) -> str:
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode() + "'"


def map_csp(html: str, *, tiles: str | None) -> str:
    """Return the policy of a rendered map page.

    Parameters
    ----------
    html
        The page, as sent: each inline ``<script>`` of it is allowed by hash.
    tiles
        The tile URL template the map loads base tiles from (None: none).
    """
    hashes = sorted({_sha256(m.group(1)) for m in _INLINE_SCRIPT.finditer(html)})
    img = ["'self'", "data:"]
    tile = tile_source(tiles)
    if tile is not None:
        img.append(tile)
    return "; ".join(
        (
            *_COMMON,
            "script-src 'self' " + " ".join(hashes),
            "style-src 'self' 'unsafe-inline'",
            "img-src " + " ".join(img),
            "connect-src 'self'",
        )
    )
