"""The WPT pages in headless Chromium against a real uvicorn server (synthetic bundle)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from territorio.web import build_router
from tests.maps import synthetic as syn
from tests.web.support import ARTIFACTS, CHROMIUM_ARGS, distinct_colours, require_chromium, serve


def _offers() -> list[dict[str, Any]]:
    frame = syn.offers_frame()
    return [
        {**rec, "lon": geom.x, "lat": geom.y}
        for rec, geom in zip(
            frame.drop(columns="geometry").to_dict("records"), frame.geometry, strict=True
        )
    ]


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    path = tmp_path_factory.mktemp("web") / "bundle"
    syn.write_synthetic_bundle(path)
    syn.write_synthetic_plan(path.with_name("bundle-plan"))
    app = FastAPI()
    app.include_router(build_router(path, tiles=None, offers=_offers))
    with serve(app) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    exe = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(exe), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("requestfailed", lambda r: errors.append(f"request failed: {r.url}"))
    pg.errors = errors
    yield pg
    context.close()


def _shot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    target = ARTIFACTS / name
    png = page.screenshot(path=str(target), full_page=True)
    # Not blank: a map, a legend and a table give hundreds of colours; a blank
    # or all-white page gives 1.
    assert distinct_colours(page, png) > 50
    return target


def test_search_pinerolo_reaches_its_page(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/wpt/")
    assert page.locator("h1").first.inner_text() == "Welfare Point Territoriale"
    assert page.locator("html").get_attribute("lang") == "it"
    page.fill("#q", "pinerolo")  # case-insensitive
    page.click("form.search button")
    page.wait_for_url("**/wpt/comuni/001191")
    assert "Pinerolo" in page.locator("#municipality-name").inner_text()

    frame = page.frame_locator("iframe#map")
    frame.locator(".leaflet-container").wait_for()
    # Pinerolo: one boundary polygon + 10/20/30-minute isochrones along the
    # synthetic street = 4 paths; 4 services (hospital, 2 pharmacies, post
    # office) + reference point = 5 markers.
    frame.locator(".leaflet-marker-icon").nth(4).wait_for()
    assert frame.locator("path.leaflet-interactive").count() == 4
    assert frame.locator(".leaflet-marker-icon").count() == 5
    # the page's map is small: its legend starts folded into its title, and opens on a click
    legend = frame.locator(".territorio-legend")
    assert legend.inner_text().strip() == "Legenda"
    legend.locator("summary").click()
    assert "Farmacia (2)" in legend.inner_text()

    # Indicators: hospital, pharmacy, post office rows; pharmacy mean 3.0 min.
    rows = page.locator("#indicators tbody tr")
    assert rows.count() == 3
    assert "3,0 min" in rows.nth(1).inner_text()
    # Offers within 10 km of the reference point (7.25, 44.85): the two in
    # Pinerolo (~0.2 km); the Piscina one at 44.951 is 11.2 km away.
    assert page.locator("#offers tbody tr").count() == 2
    # Planning outputs of bundle-plan/: class A, score 10.0 rank 3 of 3, no cluster.
    planning = page.locator("#planning").inner_text()
    assert "A Polo" in planning and "10,0 (3° su 3 comuni con indice)" in planning

    _shot(page, "municipality_001191_it.png")
    assert page.errors == []


def test_english_outside_coverage_page(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/wpt/comuni/001194?lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    frame = page.frame_locator("iframe#map")
    frame.locator(".leaflet-container").wait_for()
    # Pragelato is outside coverage: its boundary is hatched.
    frame.locator("path.leaflet-interactive").first.wait_for()
    fill = frame.locator("path.leaflet-interactive").first.get_attribute("fill")
    assert fill == "url(#territorio-hatch)"
    assert "outside road-network coverage" in frame.locator(".territorio-legend").inner_text()
    # Its indicators say outside coverage, never a time.
    table = page.locator("#indicators").inner_text()
    assert "outside coverage" in table and "min" not in table.split("\n", 1)[1]
    _shot(page, "municipality_001194_en.png")
    assert page.errors == []


def test_travel_time_map_switches_category(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/wpt/mappe/travel_times.html")
    page.locator(".leaflet-container").wait_for()
    page.locator("path.leaflet-interactive").nth(3).wait_for()
    assert page.locator("path.leaflet-interactive").count() == 4
    legend = page.locator(".territorio-legend")
    assert "Ospedale" in legend.inner_text() and "nessun dato" in legend.inner_text()
    page.get_by_label("Ufficio postale").check()
    assert "Ufficio postale" in legend.inner_text()
    assert "Ospedale" not in legend.inner_text()
    _shot(page, "travel_times_it.png")
    assert page.errors == []


def test_real_bundle_pinerolo_page(page: Any, torino_bundle: Any) -> None:
    from territorio.maps._data import municipality_isochrones
    from territorio.maps.municipality import (
        CLUSTER_ABOVE,
        HIDDEN_CATEGORIES,
        municipality_services,
    )

    bundle = torino_bundle
    munis = bundle.layer("municipalities")
    sel = munis[munis["pro_com_t"] == "001191"]
    svc = municipality_services(bundle.layer("services"), sel, "001191")
    # Markers drawn at first: every service of the categories shown (public
    # transport stops start switched off) + the reference point; Pinerolo has
    # no category dense enough to be clustered.
    shown = svc[~svc["category"].isin(HIDDEN_CATEGORIES)]
    assert shown["category"].value_counts().max() <= CLUSTER_ABOVE
    expected_markers = len(shown) + 1
    iso, outside = municipality_isochrones(bundle, sel.iloc[0])
    expected_paths = 1 + (len(iso) if iso is not None else 0)
    app = FastAPI()
    app.include_router(build_router(bundle, tiles=None, offers=list))
    with serve(app) as url:
        page.goto(f"{url}/wpt/")
        page.fill("#q", "Pinerolo")
        page.click("form.search button")
        page.wait_for_url("**/wpt/comuni/001191")
        frame = page.frame_locator("iframe#map")
        frame.locator(".leaflet-container").wait_for()
        frame.locator("path.leaflet-interactive").first.wait_for()
        assert frame.locator("path.leaflet-interactive").count() == expected_paths
        assert frame.locator(".leaflet-marker-icon").count() == expected_markers
        if outside:  # Pinerolo lies beyond the Turin road graph: said on the map
            assert "fuori copertura" in frame.locator(".territorio-legend").inner_text()
        _shot(page, "real_municipality_001191_it.png")
    assert page.errors == []
