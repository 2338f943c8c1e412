"""The value every adapter returns."""

from __future__ import annotations

from typing import NamedTuple

import geopandas as gpd

from territorio.provenance import Provenance

__all__ = ["SourceResult"]


class SourceResult(NamedTuple):
    """A validated layer (EPSG:4326) and where it came from."""

    data: gpd.GeoDataFrame
    provenance: Provenance
