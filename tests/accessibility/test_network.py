from __future__ import annotations

import numpy as np
import pytest
import shapely
from scipy.sparse.csgraph import dijkstra

from territorio.accessibility.nearest import k_nearest, multi_source, one_to_many
from territorio.accessibility.network import build_network, metric_crs_for
from territorio.errors import UnsupportedModeError
from tests.accessibility.toy import XY, lonlat, toy_layers


@pytest.fixture(scope="module")
def net():
    nodes, edges = toy_layers()
    return build_network(nodes, edges)


def idx(net, node_id: int) -> int:
    return int(np.flatnonzero(net.node_ids == node_id)[0])


def test_metric_crs_is_utm_of_centroid(net) -> None:
    # Turin lon 7.68 -> zone floor((7.68 + 180) / 6) + 1 = 32, north -> EPSG:32632
    assert metric_crs_for(7.6854, 45.0712) == "EPSG:32632"
    assert net.metric_crs == "EPSG:32632"


def test_parallel_edges_keep_minimum_and_self_loops_dropped(net) -> None:
    # 1->2 has 60 s and 50 s: keep 50; 2->1 only 60 (the parallel one is one-way)
    assert net.graph[idx(net, 1), idx(net, 2)] == 50.0
    assert net.graph[idx(net, 2), idx(net, 1)] == 60.0
    assert net.graph[idx(net, 3), idx(net, 3)] == 0.0  # absent (self-loop dropped)
    i3 = idx(net, 3)
    assert i3 not in net.graph.indices[net.graph.indptr[i3] : net.graph.indptr[i3 + 1]]


def test_zero_length_edge_is_an_edge(net) -> None:
    i4, i7 = idx(net, 4), idx(net, 7)
    row = net.graph.indices[net.graph.indptr[i4] : net.graph.indptr[i4 + 1]]
    assert i7 in row  # stored explicitly although its weight is 0
    # the reverse graph (transpose) keeps it too: 7 -> 4 reversed is 4 -> 7
    rrow = net.reverse.indices[net.reverse.indptr[i7] : net.reverse.indptr[i7 + 1]]
    assert i4 in rrow
    assert (net.reverse != net.graph.T).nnz == 0 and net.reverse.nnz == net.graph.nnz
    d = dijkstra(net.graph, indices=[idx(net, 1)])[0]
    # 1 -> 2 (50) -> 4 (45, reverse of 4-2) -> 7 (0) = 95
    assert d[i7] == 95.0
    assert d[idx(net, 4)] == 95.0


def test_one_way_and_unreachable(net) -> None:
    d = dijkstra(net.graph, indices=[idx(net, 1), idx(net, 3)])
    # 1 -> 3: direct 50 + 120 = 170, but 1->2->4->3 = 50 + 45 + 30 = 125
    assert d[0, idx(net, 3)] == 125.0
    # 3 -> 1: 3->2 is closed (one-way 2->3), so 3->4->2->1 = 30 + 45 + 60 = 135
    assert d[1, idx(net, 1)] == 135.0
    # the island 5-6 is not reachable
    assert np.isinf(d[0, idx(net, 5)])
    # reverse graph = transpose: time from 1 to 3 read as reverse search from 3
    dr = dijkstra(net.reverse, indices=[idx(net, 3)])[0]
    assert dr[idx(net, 1)] == 125.0


def test_snapping_arithmetic(net) -> None:
    # (1000, 300): node 2 is 300 m away (node 4 is 700 m): leg = 300 / (5 / 3.6) = 216 s
    # (3500, 0): nearest snappable node 3 is 1500 m away > 1000 m -> outside coverage
    # (5000, 5100): the island node 5 is 100 m away but not in the largest strongly
    # connected component, node 7 is sqrt(4000^2 + 4099^2) ~ 5727 m away -> outside
    lon, lat = lonlat([1000, 3500, 5000], [300, 0, 5100])
    s = net.snap(lon, lat, max_snap_m=1000, off_network_kmh=5)
    assert s.node[0] == idx(net, 2)
    assert s.dist_m[0] == pytest.approx(300.0, abs=1e-3)
    assert s.offset_s[0] == pytest.approx(216.0, abs=1e-2)
    assert s.covered.tolist() == [True, False, False]
    assert s.node[1] == -1 and np.isnan(s.offset_s[1])
    # with a 2 km limit the second point snaps to node 3: 1500 / (5 / 3.6) = 1080 s
    s2 = net.snap(lon[1:2], lat[1:2], max_snap_m=2000, off_network_kmh=5)
    assert s2.node[0] == idx(net, 3) and s2.offset_s[0] == pytest.approx(1080.0, abs=1e-2)


def test_coverage_polygon_flags_points_outside() -> None:
    nodes, edges = toy_layers()
    lon, lat = lonlat([-100, 1100], [-100, 1100])
    box = shapely.box(lon[0], lat[0], lon[1], lat[1])  # covers x, y in [-100, 1100]
    net = build_network(nodes, edges, coverage=shapely.geometry.mapping(box))
    plon, plat = lonlat([1000, 2000], [300, 100])  # second point: 100 m from node 3, but outside
    s = net.snap(plon, plat)
    assert s.covered.tolist() == [True, False]
    assert np.isnan(s.offset_s[1])


def test_walk_mode() -> None:
    nodes, edges = toy_layers()
    with pytest.raises(UnsupportedModeError, match="built for car only"):
        build_network(nodes, edges, mode="walk", modes=["car"])
    nodes, edges = toy_layers(foot=True)
    net = build_network(nodes, edges, mode="walk", modes=["car", "walk"])
    d = dijkstra(net.graph, indices=[idx(net, 3)])[0]
    # walking ignores one-way: 3 -> 2 is 1000 m at 4.5 km/h = 1000 / 1.25 = 800 s
    assert d[idx(net, 2)] == pytest.approx(800.0)
    # 3 -> 1: 2000 m = 1600 s
    assert d[idx(net, 1)] == pytest.approx(1600.0)


def test_multi_source_with_offsets(net) -> None:
    # facilities: A at node 3 with a 100 s leg, B at node 1 with no leg (explicit zero)
    nodes = np.array([idx(net, 3), idx(net, 1)])
    d, src = multi_source(net.reverse, nodes, np.array([100.0, 0.0]))
    i = {k: idx(net, k) for k in XY}
    # node 4: to A 30 + 100 = 130, to B 45 + 60 = 105 -> B, 105
    assert d[i[4]] == 105.0 and src[i[4]] == 1
    # node 3: to A 0 + 100 = 100, to B 135 -> A, 100
    assert d[i[3]] == 100.0 and src[i[3]] == 0
    # node 1: B itself, 0 s
    assert d[i[1]] == 0.0 and src[i[1]] == 1
    # node 2: to B 60 (2->1), to A 2->4->3 75 + 100 = 175 -> B, 60
    assert d[i[2]] == 60.0 and src[i[2]] == 1
    # island: unreachable
    assert np.isinf(d[i[5]]) and src[i[5]] == -1
    # limit: 100 s -> node 4 (105) is beyond
    d2, s2 = multi_source(net.reverse, nodes, np.array([100.0, 0.0]), limit=100)
    assert np.isinf(d2[i[4]]) and s2[i[4]] == -1 and d2[i[3]] == 100.0


def test_one_to_many_and_k_nearest(net) -> None:
    i = {k: idx(net, k) for k in XY}
    nodes = np.array([i[3], i[1], i[7]])
    off = np.array([100.0, 0.0, 10.0])
    dense = one_to_many(net.reverse, nodes, off)
    # node 2 to: A(3) min(2->3 120, 2->4->3 45 + 30) + 100 = 175; B(1) 60;
    # C(7) 2->4 45 + 4->7 0 + 10 = 55
    assert dense[:, i[2]].tolist() == [175.0, 60.0, 55.0]
    kd, ks = k_nearest(net.reverse, nodes, off, 3, chunk=2)
    assert kd[:, i[2]].tolist() == [55.0, 60.0, 175.0]
    assert ks[:, i[2]].tolist() == [2, 1, 0]
    # node 1: B 0; C 1->2 50 + 45 + 0 + 10 = 105; A 1->2->4->3 125 + 100 = 225
    assert kd[:, i[1]].tolist() == [0.0, 105.0, 225.0]
    # k larger than the sources: padded with inf / -1
    kd4, ks4 = k_nearest(net.reverse, nodes, off, 4)
    assert np.isinf(kd4[3, i[1]]) and ks4[3, i[1]] == -1
    # k = 1 agrees with the multi-source search everywhere
    d, src = multi_source(net.reverse, nodes, off)
    k1, s1 = k_nearest(net.reverse, nodes, off, 1)
    np.testing.assert_array_equal(k1[0], d)
    np.testing.assert_array_equal(s1[0], src)


def test_nodes_are_indexed_along_a_hilbert_curve() -> None:
    from territorio.accessibility.network import _hilbert_order

    # a 4 x 4 grid: the order-2 Hilbert curve visits every point once, in unit
    # steps, from (0, 0) to (3, 0) (xy2d: (1, 0) is d = 1, (3, 0) is d = 15)
    xs, ys = np.meshgrid(np.arange(4.0), np.arange(4.0))
    x, y = xs.ravel(), ys.ravel()
    order = _hilbert_order(x, y, bits=2)
    path = np.column_stack([x[order], y[order]])
    assert sorted(order.tolist()) == list(range(16))
    assert np.all(np.abs(np.diff(path, axis=0)).sum(axis=1) == 1)
    assert path[0].tolist() == [0.0, 0.0] and path[1].tolist() == [1.0, 0.0]
    assert path[-1].tolist() == [3.0, 0.0]
    # a point without coordinates goes last
    assert _hilbert_order(np.array([np.nan, 1.0, 0.0]), np.array([0.0, 1.0, 0.0]))[-1] == 0


def test_node_order_of_the_input_does_not_matter(net) -> None:
    nodes, edges = toy_layers()
    shuffled = build_network(nodes.iloc[::-1].reset_index(drop=True), edges)
    assert sorted(shuffled.node_ids.tolist()) == sorted(net.node_ids.tolist())
    ids = net.node_ids
    a = dijkstra(net.graph)
    b = dijkstra(shuffled.graph)
    pos = {int(n): i for i, n in enumerate(shuffled.node_ids)}
    perm = np.array([pos[int(n)] for n in ids])
    np.testing.assert_array_equal(a, b[np.ix_(perm, perm)])  # same times between the same ids
    np.testing.assert_array_equal(net.x, shuffled.x[perm])
