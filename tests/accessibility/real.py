"""Session-cached loaders of the real Turin network (from ../shared/data)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import shapely

from territorio.accessibility.network import RoadNetwork, build_network
from territorio.config import RoadsConfig
from territorio.ingest.roads import load_roads

EDGES = Path("roads") / "turin_core_car_edges.parquet"


@cache
def turin_layers(shared_data: Path):
    """(road_nodes, road_edges) of the real Turin edge table, read by the ingest path."""
    area = shapely.box(7.3, 44.8, 8.1, 45.3)  # holds the whole table (lon 7.43-7.93)
    res = load_roads(
        RoadsConfig(source="edges"),
        area=area,
        cache_dir=Path("/nonexistent-cache"),  # local file: the cache is never used
        location=str(shared_data / EDGES),
    )
    return res.nodes, res.edges


@cache
def turin_network(shared_data: Path) -> RoadNetwork:
    nodes, edges = turin_layers(shared_data)
    return build_network(nodes, edges)
