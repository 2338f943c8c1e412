"""Real OGC API - Features clients on a live server: GDAL's OAPIF driver and owslib."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from territorio.api import Settings, create_app
from tests.web.support import serve

from .conftest import ADMIN_TOKEN

COLLECTIONS = ("municipalities", "services", "offers")


def _ogr2ogr() -> str:
    exe = shutil.which("ogr2ogr")
    if exe is not None:
        return exe
    reason = "ogr2ogr is absent: apt-get install -y gdal-bin (scripts/system-deps.sh)"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def _seed_offers(base: str, n: int) -> None:
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    org = httpx.post(
        f"{base}/organisations", json={"name": "Coop", "role": "cooperative"}, headers=admin
    ).json()
    acc = httpx.post(
        f"{base}/organisations/{org['id']}/accounts",
        json={"email": "a@coop.it", "display_name": "A"},
        headers=admin,
    ).json()
    h = {"Authorization": f"Bearer {acc['token']['token']}"}
    for i in range(n):
        body = {
            "title": f"Offerta {i}",
            "category": ("childcare", "transport")[i % 2],
            "provider": "Coop",
            "lon": 7.01 + 0.02 * i,
            "lat": 45.05,
        }
        assert httpx.post(f"{base}/offers", json=body, headers=h).status_code == 201


def gdal_count(base: str, cid: str, out: Path, *options: str) -> int:
    """Read a whole collection with ogr2ogr (OAPIF driver); return the features written."""
    target = out / f"{cid}.geojson"
    subprocess.run(
        [_ogr2ogr(), "-f", "GeoJSON", str(target), f"OAPIF:{base}/ogc", cid, *options],
        check=True,
        capture_output=True,
        timeout=600,
    )
    return len(json.loads(target.read_text())["features"])


def api_count(base: str, cid: str) -> int:
    r = httpx.get(f"{base}/ogc/collections/{cid}/items", params={"limit": 1})
    r.raise_for_status()
    return int(r.json()["numberMatched"])


@pytest.fixture()
def live(make_settings: Callable[..., Settings]) -> Iterator[str]:
    """The API on the test bundle with 7 offers and a maximum page size of 3."""
    with serve(create_app(make_settings(max_page_size=3))) as base:
        _seed_offers(base, 7)
        yield base


@pytest.mark.parametrize("options", [(), ("-oo", "PAGE_SIZE=2000")], ids=["default", "2000"])
def test_gdal_reads_every_collection(live: str, tmp_path: Path, options: tuple[str, ...]) -> None:
    # PAGE_SIZE=2000 asks limit=2000 > maximum 3: clamped, GDAL follows the next links
    # (before: a 422 and 0 features); by default GDAL asks limit=10, also above 3.
    counts = {cid: gdal_count(live, cid, tmp_path, *options) for cid in COLLECTIONS}
    assert counts == {"municipalities": 3, "services": 4, "offers": 7}
    assert counts == {cid: api_count(live, cid) for cid in COLLECTIONS}


def test_owslib_reads_queryables_and_filters(live: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # owslib's imports warn on recent Pythons
        from owslib.ogcapi.features import Features

    api = Features(f"{live}/ogc")
    assert [c["id"] for c in api.collections()["collections"]] == list(COLLECTIONS)
    q = api.collection_queryables("offers")
    assert set(q["properties"]) == {"category", "pro_com_t"}
    assert "transport" in q["properties"]["category"]["enum"]
    fc = api.collection_items("offers", category="transport", limit=100)
    # offers 1, 3, 5 of the 7 are transport (odd i); limit 100 clamped to 3: one full page
    assert (fc["numberMatched"], fc["numberReturned"]) == (3, 3)
    assert {f["properties"]["category"] for f in fc["features"]} == {"transport"}
    with pytest.raises(RuntimeError, match="datetime"):
        api.collection_items("offers", datetime_="2026-01-01T00:00:00Z")


@pytest.mark.shared_data
def test_gdal_reads_the_real_collections(torino_bundle: Any, tmp_path: Path) -> None:
    settings = Settings(
        bundle_path=torino_bundle.path,
        database_url=f"sqlite:///{tmp_path / 'wpt.db'}",
        admin_token=ADMIN_TOKEN,
        warm_up=False,
        tiles_url=None,
    )
    with serve(create_app(settings)) as base:
        _seed_offers(base, 5)
        for cid in COLLECTIONS:
            expected = api_count(base, cid)
            assert gdal_count(base, cid, tmp_path, "-oo", "PAGE_SIZE=2000") == expected, cid
        # GDAL's default page (limit=10): 853 requests for the 8,522 services, same count
        assert gdal_count(base, "services", tmp_path) == api_count(base, "services")
        cols = httpx.get(f"{base}/ogc/collections").json()["collections"]
    services = torino_bundle.layer("services")
    x0, y0, x1, y1 = cols[1]["extent"]["spatial"]["bbox"][0]
    lon, lat = services.geometry.x, services.geometry.y
    assert ((lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)).all()
    assert (x0, y0, x1, y1) == (lon.min(), lat.min(), lon.max(), lat.max())
    # 144 services (in the 10 km buffer around the comuni: 69 before the tile POIs) lie
    # outside the comuni's box,
    # which was the extent advertised before
    m0, n0, m1, n1 = torino_bundle.layer("municipalities").total_bounds
    outside = ~((lon >= m0) & (lon <= m1) & (lat >= n0) & (lat <= n1))
    assert int(outside.sum()) == 144
