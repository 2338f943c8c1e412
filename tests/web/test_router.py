"""The WPT router without a browser (FastAPI TestClient on the synthetic bundle)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from starlette.exceptions import StarletteDeprecationWarning

from territorio.web import build_router
from tests.maps import synthetic as syn

with warnings.catch_warnings():
    # Starlette asks for the httpx2 package instead of httpx in its TestClient
    # (a deprecation of the test client's backend, not of our code).
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    path: Path = tmp_path_factory.mktemp("router") / "bundle"
    syn.write_synthetic_bundle(path)
    syn.write_synthetic_plan(path.with_name("bundle-plan"))
    app = FastAPI()
    app.include_router(build_router(path, tiles=None, offers=lambda: []))
    with TestClient(app) as c:
        yield c


def test_landing_italian_and_english(client: TestClient) -> None:
    it = client.get("/wpt/")
    assert it.status_code == 200 and '<html lang="it">' in it.text
    assert "Cerca un comune" in it.text and '<option value="Pinerolo">' in it.text
    en = client.get("/wpt/?lang=en")
    assert '<html lang="en">' in en.text and "Find a municipality" in en.text


def test_search_redirects_on_one_match(client: TestClient) -> None:
    r = client.get("/wpt/cerca", params={"q": "PINEROLO"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/wpt/comuni/001191"
    r = client.get("/wpt/cerca", params={"q": "001194", "lang": "en"}, follow_redirects=False)
    assert r.headers["location"] == "/wpt/comuni/001194?lang=en"
    # "p" is in Pinerolo, Piscina and Pragelato, not in Frossasco: three
    # results listed, no redirect.
    r = client.get("/wpt/cerca", params={"q": "p"})
    assert r.status_code == 200 and r.text.count('href="/wpt/comuni/') == 3
    r = client.get("/wpt/cerca", params={"q": "Atlantide"})
    assert r.status_code == 404 and "Nessun comune trovato" in r.text


def test_municipality_page_and_unknown_code(client: TestClient) -> None:
    r = client.get("/wpt/comuni/001192")
    # Frossasco: hospital has no data -> "nessun dato", pharmacy partial coverage.
    assert r.status_code == 200 and "nessun dato" in r.text and "copertura parziale" in r.text
    assert "Nessuna offerta pubblicata entro 10 km." in r.text
    assert client.get("/wpt/comuni/001999").status_code == 404


def test_maps_use_local_assets(client: TestClient) -> None:
    r = client.get("/wpt/mappe/comune/001191.html")
    assert r.status_code == 200
    assert '<script src="/wpt/static/vendor/leaflet.js"></script>' in r.text
    assert "cdn" not in r.text.lower().split("<body>")[0]
    js = client.get("/wpt/static/vendor/leaflet.js")
    assert js.status_code == 200 and js.text.startswith("/* @preserve")
    assert client.get("/wpt/static/../router.py").status_code == 404
    assert client.get("/wpt/mappe/nowhere.html").status_code == 404
    assert client.get("/wpt/mappe/offers.html").status_code == 200


def test_municipality_page_planning_facts(client: TestClient) -> None:
    # Piscina in bundle-plan/: class D, 18 min from Pinerolo, score 62.5
    # (rank 1 of the 3 scored), member of cluster C01.
    r = client.get("/wpt/comuni/001193", params={"lang": "en"})
    assert "D Intermediate" in r.text and "18.0 min (Pinerolo)" in r.text
    assert "62.5 (rank 1 of 3 municipalities with an index)" in r.text
    assert "C01 Frossasco, Piscina" in r.text
    # Pragelato: outside coverage, no score.
    r = client.get("/wpt/comuni/001194")
    assert "fuori copertura" in r.text.split('id="planning"')[1].split("</table>")[0]
    r = client.get("/wpt/mappe/marginality.html")
    assert "cluster-C01" in r.text


def test_pages_without_plan_say_run_plan(tmp_path: Path) -> None:
    path = tmp_path / "bundle"
    syn.write_synthetic_bundle(path)
    app = FastAPI()
    app.include_router(build_router(path, tiles=None, offers=lambda: []))
    with TestClient(app) as c:
        r = c.get("/wpt/comuni/001191")
        assert "eseguire prima «territorio plan»" in r.text
        r = c.get("/wpt/mappe/marginality.html", params={"lang": "en"})
        assert r"run \u00abterritorio plan\u00bb first" in r.text  # JSON-escaped legend
