"""Shared fixtures: the location of the real data in ../shared/data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path to ../shared/data; skips the test with a reason when it is absent."""
    if not (SHARED_DATA / "README.md").is_file():
        pytest.skip(f"real data folder {SHARED_DATA} is absent (only present on dev/CI machines)")
    return SHARED_DATA


def _built(config: str, plan_config: str, out: Path) -> Any:
    from territorio.accessibility import compute_access
    from territorio.build import build_bundle
    from territorio.bundle import default_plan_dir
    from territorio.config import load_config
    from territorio.planning import run_plan
    from territorio.planning.run import access_config_of, load_plan_config

    cfg = load_config(ROOT / "configs" / config)
    cfg = cfg.model_copy(update={"output_dir": str(out), "cache_dir": str(out / "cache")})
    bundle = build_bundle(cfg, stream=None)
    bundle = compute_access(bundle, access_config_of(bundle), progress=False)
    plan = load_plan_config(ROOT / "configs" / plan_config)
    run_plan(bundle, plan, out_dir=default_plan_dir(bundle.path), progress=False)
    return bundle


@pytest.fixture(scope="session")
def torino_bundle(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The real Turin bundle on the OSRM-derived graph (configs/torino-osrm.toml), with plan.

    The road graph covers Turin and its belts only. Built once per test
    session in a temporary folder (about 20 s), so tests on the real data never
    depend on a bundle left in ./data by hand.
    """
    return _built("torino-osrm.toml", "plan-torino.toml", tmp_path_factory.mktemp("bundles"))


@pytest.fixture(scope="session")
def province_bundle(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The whole province on the vector-tile roads (configs/torino-local.toml), with plan.

    What ``make run`` builds; about a minute once per session.
    """
    return _built("torino-local.toml", "plan-torino.toml", tmp_path_factory.mktemp("province"))
