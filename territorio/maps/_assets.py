"""Local JavaScript/CSS assets for folium maps: no CDN at run time.

folium asks browsers to fetch Leaflet, jQuery, Bootstrap and Font Awesome from
CDNs. territorio's maps only need Leaflet (and Leaflet.markercluster for the
offers map), vendored from the npm registry into
``territorio/web/static/vendor`` (licences next to them). Map elements point
at sentinel URLs ``territorio-vendor:<file>``; :func:`render_html` then either
inlines the files (self-contained HTML written by ``territorio maps``) or
rewrites the sentinels to a base URL (pages served by the web router).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

from territorio.errors import DataValidationError

VENDOR_DIR = Path(__file__).resolve().parents[1] / "web" / "static" / "vendor"
SENTINEL = "territorio-vendor:"

LEAFLET_JS = [("leaflet", f"{SENTINEL}leaflet.js")]
LEAFLET_CSS = [("leaflet_css", f"{SENTINEL}leaflet.css")]
CLUSTER_JS = [("markerclusterjs", f"{SENTINEL}leaflet.markercluster.js")]
CLUSTER_CSS = [
    ("markerclustercss", f"{SENTINEL}MarkerCluster.css"),
    ("markerclusterdefaultcss", f"{SENTINEL}MarkerCluster.Default.css"),
]

_SCRIPT = re.compile(r'<script src="territorio-vendor:([\w.\-]+)"></script>')
_LINK = re.compile(r'<link rel="stylesheet" href="territorio-vendor:([\w.\-]+)"\s*/?>')
_REMOTE = re.compile(r'<(?:script|link)[^>]+(?:src|href)="(https?:)?//[^"]+"', re.IGNORECASE)


@cache
def vendor_text(name: str) -> str:
    """Return the text of a vendored asset (cached)."""
    path = VENDOR_DIR / name
    if path.parent != VENDOR_DIR or not path.is_file():
        raise DataValidationError(
            f"vendored asset {name!r} not found in {VENDOR_DIR}; reinstall territorio"
        )
    return path.read_text(encoding="utf-8")


def use_local_assets(element: Any, *, js: list[tuple[str, str]], css: list[tuple[str, str]]) -> Any:
    """Point a folium element's default JS/CSS at the vendored files; return it."""
    element.default_js = list(js)
    element.default_css = list(css)
    return element


def render_html(fmap: Any, *, assets: str = "inline") -> str:
    """Render a folium map to a complete HTML page without CDN references.

    Parameters
    ----------
    fmap
        A folium map whose elements use the ``territorio-vendor:`` sentinels
        (see :func:`use_local_assets`).
    assets
        ``"inline"`` to embed the vendored files (self-contained HTML), or a
        base URL (e.g. ``"/wpt/static/vendor"``) the browser loads them from.

    Returns
    -------
    str
        The HTML page.
    """
    html: str = fmap.get_root().render()
    if assets == "inline":

        def script(m: re.Match[str]) -> str:
            body = vendor_text(m.group(1)).replace("</script", "<\\/script")
            return f"<script>{body}</script>"

        def link(m: re.Match[str]) -> str:
            return f"<style>{vendor_text(m.group(1))}</style>"

    else:
        base = assets.rstrip("/")

        def script(m: re.Match[str]) -> str:
            return f'<script src="{base}/{m.group(1)}"></script>'

        def link(m: re.Match[str]) -> str:
            return f'<link rel="stylesheet" href="{base}/{m.group(1)}"/>'

    html = _SCRIPT.sub(script, html)
    html = _LINK.sub(link, html)
    remote = _REMOTE.search(html)
    if remote is not None or SENTINEL in html:
        found = remote.group(0) if remote is not None else SENTINEL
        raise DataValidationError(
            f"map HTML still references an external or unresolved asset ({found[:120]}); "
            "every folium element must use territorio.maps._assets.use_local_assets"
        )
    return html
