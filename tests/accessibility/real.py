"""Session-cached loaders of the real Turin network (from ../shared/data)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from territorio.accessibility._edges_table import read_edges_table
from territorio.accessibility.network import RoadNetwork, build_network

EDGES = Path("roads") / "turin_core_car_edges.parquet"


@cache
def turin_layers(shared_data: Path):
    return read_edges_table(shared_data / EDGES)


@cache
def turin_network(shared_data: Path) -> RoadNetwork:
    nodes, edges = turin_layers(shared_data)
    return build_network(nodes, edges)
