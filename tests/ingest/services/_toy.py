"""A tiny hand-made geography around Turin for the service adapter tests.

Two rectangular "municipalities" side by side and a study area that
extends past them (the buffer), so every adapter can be checked for the
three cases: inside a municipality, in the buffer (pro_com_t None), outside
the area (dropped).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
from shapely.geometry import box

from territorio.config import ServiceSourceConfig

#: "Torino" 7.58-7.70 E, "Moncalieri" 7.70-7.74 E, both 45.00-45.14 N.
TORINO = box(7.58, 45.00, 7.70, 45.14)
MONCALIERI = box(7.70, 45.00, 7.74, 45.14)
#: The study area: the two boxes plus a margin (the buffer) up to 7.80 E / 45.20 N.
AREA = box(7.50, 44.95, 7.80, 45.20)


def toy_municipalities() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"pro_com_t": ["001272", "001156"], "name": ["Torino", "Moncalieri"]},
        geometry=[TORINO, MONCALIERI],
        crs="EPSG:4326",
    )


def write(tmp: Path, name: str, text: str, *, encoding: str = "utf-8") -> Path:
    path = tmp / name
    path.write_text(text, encoding=encoding)
    return path


def cfg(adapter: str, **kw: object) -> ServiceSourceConfig:
    return ServiceSourceConfig(adapter=adapter, **kw)  # type: ignore[arg-type]
