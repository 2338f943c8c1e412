"""Config files: clear, located errors; relative paths from the config's folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from territorio.config import load_config
from territorio.errors import ConfigError, SourceNotFoundError

ROOT = Path(__file__).resolve().parents[1]

MINIMAL = """
[area]
slug = "t"
name = "Test"
province_code = "001"
"""


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "c.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_shipped_configs_are_valid() -> None:
    local = load_config(ROOT / "configs" / "torino-local.toml")
    assert local.area.province_code == "001"
    assert local.roads.source == "vector_tiles"
    assert local.roads.data_date == "2021-08-05"
    # relative paths are resolved from the config file's folder
    tiles = (ROOT.parent / "shared/data/osm_tiles").resolve()
    assert local.resolve(local.roads.location) == str(tiles)
    osrm = load_config(ROOT / "configs" / "torino-osrm.toml")
    assert osrm.roads.source == "edges"
    assert osrm.area.slug == "torino-osrm"
    assert osrm.resolve(osrm.roads.location) == str(
        (ROOT.parent / "shared/data/roads/turin_core_car_edges.parquet").resolve()
    )
    online = load_config(ROOT / "configs" / "torino.toml")
    assert online.roads.source == "overpass"
    assert online.resolve(online.population.location or "").startswith("https://")


def test_defaults(tmp_path: Path) -> None:
    cfg = load_config(_write(tmp_path, MINIMAL))
    assert cfg.area.buffer_km == 10.0
    assert cfg.roads.source == "overpass"
    assert cfg.services.sources == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (MINIMAL + "[roads]\nsource = 'teleport'\n", "roads.source"),
        (MINIMAL + "[roads]\nspeed = 3\n", "roads.speed"),
        (MINIMAL.replace('"001"', '"1"'), "area.province_code"),
        (MINIMAL + "[[services.sources]]\nadapter = 'nope'\n", r"services.sources\[0\].adapter"),
        (MINIMAL.replace('province_code = "001"', ""), "exactly one of province_code"),
        (MINIMAL + "[output]\ndri = 'x'\n", "output: unknown key"),
        ("[area\n", "not valid TOML"),
    ],
)
def test_bad_configs_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(_write(tmp_path, text))


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(SourceNotFoundError, match="config file not found"):
        load_config(tmp_path / "absent.toml")
