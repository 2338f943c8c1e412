"""No reflected XSS on the WPT pages; a Content-Security-Policy that still lets the maps work."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi import FastAPI

from territorio.web import build_router
from territorio.web._csp import _INLINE_SCRIPT, _sha256, map_csp, tile_source
from tests.maps import synthetic as syn
from tests.web.support import CHROMIUM_ARGS, require_chromium, serve
from tests.web.test_router import TestClient

PAYLOAD = "<img src=x onerror=\"document.title='pwned';alert(1)\">"
# an offer published with the payload in its text fields (stored XSS)
STORED = {"title": PAYLOAD, "provider": PAYLOAD, "category": "childcare", "lon": 7.25, "lat": 44.85}
PATHS = [f"/wpt/mappe/{quote(PAYLOAD)}.html", f"/wpt/mappe/comune/{quote(PAYLOAD)}.html"]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    path: Path = tmp_path_factory.mktemp("xss") / "bundle"
    syn.write_synthetic_bundle(path)
    app = FastAPI()
    app.include_router(
        build_router(
            path, tiles="https://{s}.tile.example.org/{z}/{x}/{y}.png", offers=lambda: [STORED]
        )
    )
    return app


@pytest.mark.parametrize("path", PATHS)
def test_unknown_map_names_are_escaped(app: FastAPI, path: str) -> None:
    with TestClient(app) as c:
        r = c.get(path)
    assert r.status_code == 404
    assert "<img" not in r.text  # before: "unknown map <img src=x onerror=...>" verbatim
    assert "&lt;img src=x onerror=" in r.text
    assert r.headers["content-type"].startswith("text/html")
    assert "script-src 'none'" in r.headers["content-security-policy"]


def test_map_pages_allow_exactly_their_inline_scripts(app: FastAPI) -> None:
    with TestClient(app) as c:
        r = c.get("/wpt/mappe/comune/001191.html")
    assert r.status_code == 200
    csp = r.headers["content-security-policy"]
    script_src = next(d for d in csp.split("; ") if d.startswith("script-src"))
    inline = [m.group(1) for m in _INLINE_SCRIPT.finditer(r.text)]
    assert inline, "folium maps have inline scripts"
    for body in inline:
        assert _sha256(body) in script_src
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert "img-src 'self' data: https://*.tile.example.org" in csp
    assert "default-src 'none'" in csp


def test_csp_hashes_match_a_hand_computed_one() -> None:
    # sha256("alert(1)") in base64, by hand:
    # printf 'alert(1)' | openssl sha256 -binary | base64
    csp = map_csp("<script>alert(1)</script><script src='/x.js'></script>", tiles=None)
    assert "'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='" in csp
    assert len(re.findall(r"'sha256-", csp)) == 1  # the external script is not hashed
    assert tile_source("https://tile.openstreetmap.org/{z}/{x}/{y}.png") == (
        "https://tile.openstreetmap.org"
    )
    assert tile_source(None) is None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    exe = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(exe), args=CHROMIUM_ARGS)
        yield b
        b.close()


def test_payload_does_not_run_in_chromium_and_maps_still_work(app: FastAPI, browser: Any) -> None:
    with serve(app) as url:
        context = browser.new_context()
        page = context.new_page()
        dialogs: list[str] = []
        violations: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.on(
            "console",
            lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
        )
        for path in PATHS:
            resp = page.goto(url + path)
            assert resp is not None and resp.status == 404
            page.wait_for_timeout(300)
            assert page.title() != "pwned"
            assert page.locator("img").count() == 0  # shown as text, not as an element
        assert dialogs == []
        # the map page with its inline folium scripts and vendored Leaflet runs under the CSP
        page.goto(url + "/wpt/mappe/comune/001191.html")
        page.locator(".leaflet-container").wait_for()
        page.locator(".leaflet-marker-icon").first.wait_for()
        assert page.evaluate("typeof L") == "object"
        # and a script injected into the page later is refused by the policy
        page.evaluate(
            """() => { const s = document.createElement('script');
                       s.textContent = "document.title = 'pwned'";
                       document.body.appendChild(s); }"""
        )
        page.wait_for_timeout(200)
        assert page.title() != "pwned"
        assert any("script" in v.lower() for v in violations), violations
        # the offers map shows the stored payload as text in the marker's tooltip
        page.goto(url + "/wpt/mappe/offers.html")
        marker = page.locator(".leaflet-marker-icon").first
        marker.wait_for()
        marker.hover()
        tooltip = page.locator(".leaflet-tooltip").first
        tooltip.wait_for()
        assert "<img src=x onerror=" in tooltip.inner_text()
        page.wait_for_timeout(300)
        assert page.title() != "pwned" and dialogs == []
        context.close()
