"""The server never serves a plan folder of another build beside the bundle."""

from __future__ import annotations

from pathlib import Path

from territorio.api import Settings, create_app
from territorio.api.models import MetaInfo

from .conftest import TestClient, make_bundle, make_plan
from .support import body, problem


def test_plan_of_the_previous_build_is_not_served(tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path / "terra")
    make_plan(tmp_path / "terra-plan", bundle)  # territorio plan, default folder
    s = Settings(bundle_path=bundle, database_url=f"sqlite:///{tmp_path / 'db.sqlite'}")
    with TestClient(create_app(s)) as c:
        assert body(c.get("/meta"), MetaInfo).features["planning"] is True
        assert c.get("/planning/clusters/C01").status_code == 200
    make_bundle(tmp_path / "terra", with_access=False)  # territorio build again
    with TestClient(create_app(s)) as c:
        assert body(c.get("/meta"), MetaInfo).features["planning"] is False
        p = problem(c.get("/planning/clusters"), 503)
        assert p.detail is not None
        assert "earlier build" in p.detail and f"territorio plan {bundle}" in p.detail
