"""The WPT pages never show the plan of another build of the bundle."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from territorio.web import build_router
from tests.maps import synthetic as syn
from tests.web.test_router import TestClient


def test_pages_drop_the_plan_of_the_previous_build(tmp_path: Path) -> None:
    path = tmp_path / "bundle"
    syn.write_synthetic_bundle(path)
    syn.write_synthetic_plan(path.with_name("bundle-plan"))

    def page() -> str:
        app = FastAPI()
        app.include_router(build_router(path, tiles=None, offers=lambda: []))
        with TestClient(app) as c:
            r = c.get("/wpt/comuni/001192")
            assert r.status_code == 200
            return r.text

    assert "C01" in page()  # Frossasco's cluster, from the plan folder
    syn.write_synthetic_bundle(path)  # territorio build again: the plan is now stale
    assert "C01" not in page()
