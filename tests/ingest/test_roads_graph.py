"""Travel times, one-way rows, urban context and connectivity on hand-built graphs."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

from territorio.ingest import roads
from territorio.ingest._osm_roads import prepare_graph


def _graph(nodes: dict[int, tuple[float, float]]) -> nx.MultiDiGraph:
    g = nx.MultiDiGraph(crs="epsg:4326")
    for n, (x, y) in nodes.items():
        g.add_node(n, x=x, y=y)
    return g


def _layers(g: nx.MultiDiGraph, *, factor: float, walk: bool) -> gpd.GeoDataFrame:
    simple, _ = prepare_graph(g, speed_factor=factor, walk=walk)
    edges, _nodes = roads._graph_to_layers(simple)
    return edges.set_index(["u", "v"]).sort_index()


@pytest.fixture
def triangle() -> nx.MultiDiGraph:
    # Sparse rural nodes about 1 km apart near Turin (no urban context).
    g = _graph(
        {
            1: (7.600, 45.000),
            2: (7.613, 45.000),
            3: (7.606, 45.008),
            4: (7.606, 45.016),
            5: (7.606, 45.024),
        }
    )
    primary50 = {"highway": "primary", "maxspeed": "50"}
    g.add_edge(1, 2, length=1000.0, **primary50)
    g.add_edge(2, 1, length=1000.0, **primary50)
    g.add_edge(2, 3, length=600.0, highway="primary", oneway="yes")  # one-way 2 -> 3
    g.add_edge(3, 1, length=400.0, highway="residential", oneway="yes")  # one-way 3 -> 1
    g.add_edge(3, 4, length=200.0, highway="residential")
    g.add_edge(4, 3, length=200.0, highway="residential")
    g.add_edge(4, 5, length=100.0, highway="footway")
    g.add_edge(5, 4, length=100.0, highway="footway")
    return g


def test_times_from_maxspeed_defaults_and_factor(triangle: nx.MultiDiGraph) -> None:
    e = _layers(triangle, factor=0.8, walk=True)
    # 1-2: maxspeed 50 x 0.8 = 40 km/h = 11.111 m/s; 1000 m / 11.111 = 90 s, both ways
    assert e.loc[(1, 2), "travel_time_s"] == pytest.approx(90.0)
    assert e.loc[(1, 2), "travel_time_reverse_s"] == pytest.approx(90.0)
    # 2->3: untagged rural primary 90 x 0.8 = 72 km/h = 20 m/s; 600 / 20 = 30 s
    assert e.loc[(2, 3), "travel_time_s"] == pytest.approx(30.0)
    # 3->1: residential 30 x 0.8 = 24 km/h = 6.667 m/s; 400 / 6.667 = 60 s
    assert e.loc[(1, 3), "travel_time_reverse_s"] == pytest.approx(60.0)
    # 3-4: residential, 200 / 6.667 = 30 s each way
    assert e.loc[(3, 4), "travel_time_s"] == pytest.approx(30.0)
    assert e.loc[(3, 4), "travel_time_reverse_s"] == pytest.approx(30.0)
    assert e.loc[(1, 2), "length_m"] == pytest.approx(1000.0)
    assert e.loc[(1, 2), "highway"] == "primary"


def test_one_way_rows_have_nan_in_the_closed_direction(triangle: nx.MultiDiGraph) -> None:
    e = _layers(triangle, factor=0.8, walk=True)
    # 2 -> 3 only: forward time, no reverse
    assert np.isnan(e.loc[(2, 3), "travel_time_reverse_s"])
    # 3 -> 1 only: stored as row (1, 3) with the forward direction closed
    assert np.isnan(e.loc[(1, 3), "travel_time_s"])
    # pedestrians may walk one-way streets both ways; the footway has no car time
    assert bool(e.loc[(2, 3), "foot"]) and bool(e.loc[(2, 3), "car"])
    assert not bool(e.loc[(4, 5), "car"]) and bool(e.loc[(4, 5), "foot"])
    assert np.isnan(e.loc[(4, 5), "travel_time_s"]) and np.isnan(
        e.loc[(4, 5), "travel_time_reverse_s"]
    )
    assert len(e) == 5  # one row per road, not per direction


def test_drive_only_has_no_foot(triangle: nx.MultiDiGraph) -> None:
    e = _layers(triangle, factor=0.8, walk=False)
    assert not e["foot"].any()
    assert (4, 5) not in e.index  # the footway is neither car nor foot: not kept


def test_dense_grid_is_urban_and_a_long_road_is_rural() -> None:
    # 6 x 6 grid, ~100 m spacing (0.0009 deg lat = 100 m; 0.00127 deg lon = 100 m at 45 N)
    nodes = {r * 10 + c: (7.6 + c * 0.00127, 45.0 + r * 0.0009) for r in range(6) for c in range(6)}
    nodes[999] = (7.6 + 0.0635, 45.0)  # 5 km east of node 0
    g = _graph(nodes)
    for r in range(6):
        for c in range(6):
            for dr, dc in ((0, 1), (1, 0)):
                if r + dr < 6 and c + dc < 6:
                    a, b = r * 10 + c, (r + dr) * 10 + c + dc
                    g.add_edge(a, b, length=100.0, highway="primary")
                    g.add_edge(b, a, length=100.0, highway="primary")
    g.add_edge(0, 999, length=5000.0, highway="primary")
    g.add_edge(999, 0, length=5000.0, highway="primary")
    e = _layers(g, factor=1.0, walk=False)
    # central edge 22-23: 32 junctions (3+ neighbours) on the grid, >= 10 within 300 m
    # -> urban primary 50 km/h = 13.889 m/s; 100 m / 13.889 = 7.2 s
    assert e.loc[(22, 23), "travel_time_s"] == pytest.approx(7.2)
    # long edge: midpoint 2.5 km from the grid -> rural primary 90 km/h = 25 m/s; 5000/25 = 200 s
    assert e.loc[(0, 999), "travel_time_s"] == pytest.approx(200.0)


def _table(rows: list[tuple[int, int, float, float, bool, bool]]) -> gpd.GeoDataFrame:
    xy = {n: (7.6 + 0.01 * n, 45.0 + 0.005 * (n % 2)) for n in range(1, 8)}
    df = pd.DataFrame(rows, columns=["u", "v", "travel_time_s", "travel_time_reverse_s", "car",
                                     "foot"])  # fmt: skip
    df["length_m"] = 1000.0
    df["highway"] = "unknown"
    geom = [shapely.LineString([xy[u], xy[v]]) for u, v in zip(df["u"], df["v"], strict=True)]
    return gpd.GeoDataFrame(df, geometry=geom, crs=4326)


def _nodes(edges: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return roads._nodes_from_edge_table(edges, where="test")


NAN = float("nan")


def test_largest_scc_drops_one_way_spur_and_island() -> None:
    edges = _table(
        [
            (1, 2, 10, 10, True, False),
            (2, 3, 10, NAN, True, False),  # 2 -> 3
            (1, 3, NAN, 10, True, False),  # 3 -> 1: cycle 1 -> 2 -> 3 -> 1
            (3, 5, 10, NAN, True, False),  # spur 3 -> 5: no way back from 5
            (6, 7, 10, 10, True, False),  # island
        ]
    )
    kept, nodes, rep = roads._keep_largest_components(edges, _nodes(edges), walk=False)
    assert sorted(nodes["node_id"]) == [1, 2, 3]
    assert len(kept) == 3
    # dropped: nodes 5, 6, 7; edges (3,5), (6,7); 2 x 1000 m = 2 km
    assert rep["dropped_components_nodes"] == 3
    assert rep["dropped_components_edges"] == 2
    assert rep["dropped_components_km"] == pytest.approx(2.0)


def test_walk_component_keeps_a_foot_spur_without_its_car_mode() -> None:
    edges = _table(
        [
            (1, 2, 10, 10, True, True),
            (2, 3, 10, NAN, True, True),
            (1, 3, NAN, 10, True, False),
            (3, 5, 10, NAN, True, True),  # car dead end, but walkable and connected
            (6, 7, NAN, NAN, False, True),  # walking island
        ]
    )
    kept, nodes, rep = roads._keep_largest_components(edges, _nodes(edges), walk=True)
    k = kept.set_index(["u", "v"])
    assert sorted(nodes["node_id"]) == [1, 2, 3, 5]
    assert not bool(k.loc[(3, 5), "car"]) and bool(k.loc[(3, 5), "foot"])
    assert np.isnan(k.loc[(3, 5), "travel_time_s"])
    assert bool(k.loc[(1, 3), "car"]) and not bool(k.loc[(1, 3), "foot"])
    assert rep["dropped_components_edges"] == 1  # only the island (6, 7)
    assert rep["car_edges_lost_components"] == 1  # (3, 5) lost its car mode
