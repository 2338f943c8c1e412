"""The compiled Dijkstra equals scipy's with virtual source nodes."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from territorio.accessibility._dijkstra import CompiledGraph, run_groups, warm_up
from territorio.accessibility.nearest import multi_source_groups, one_to_many
from tests.accessibility.real import turin_network


def _virtual(graph, nodes, offsets):
    """Scipy reference: one virtual node per source with an arc of its offset."""
    n, m = graph.shape[0], len(nodes)
    coo = graph.tocoo()
    rows = np.concatenate([coo.row, n + np.arange(m)])
    cols = np.concatenate([coo.col, nodes])
    data = np.concatenate([coo.data, offsets])
    aug = csr_matrix((data, (rows, cols)), shape=(n + m, n + m))
    return dijkstra(aug, indices=np.arange(n, n + m))[:, :n]


def test_warm_up_and_tiny_graph() -> None:
    assert warm_up() >= 0
    # 0 -> 1 (2 s) -> 2 (3 s), 0 -> 2 (10 s); 2 -> 0 (0 s, an explicit zero arc)
    g = csr_matrix((np.array([2.0, 10.0, 3.0, 0.0]), ([0, 0, 1, 2], [1, 2, 2, 0])), shape=(3, 3))
    d, lab = run_groups(CompiledGraph(g), [0, 1, 3], [0, 2, 1], [1.0, 0.0, 0.5], labels=True)
    # group 0: from node 0 with a 1 s leg: [1, 3, 6]
    # group 1: from node 2 (leg 0) or node 1 (leg 0.5): node 2 = 0 (start 0),
    # node 0 = 0 via 2 -> 0 (start 0), node 1 = 0.5 (start 1, its own leg)
    np.testing.assert_array_equal(d, [[1.0, 3.0, 6.0], [0.0, 0.5, 0.0]])
    np.testing.assert_array_equal(lab, [[0, 0, 0], [0, 1, 0]])
    # limit 2.5: node 2 (6 s) is cut in group 0
    d2, _ = run_groups(CompiledGraph(g), [0, 1], [0], [1.0], limit=2.5)
    np.testing.assert_array_equal(d2, [[1.0, np.inf, np.inf]])


@pytest.mark.shared_data
def test_equals_scipy_on_turin(shared_data) -> None:
    net = turin_network(shared_data)
    rng = np.random.default_rng(3)
    nodes = rng.choice(np.flatnonzero(net.snappable), 12, replace=False)
    legs = rng.uniform(0, 300, 12)
    ref = _virtual(net.graph, nodes, legs)
    ours = one_to_many(net.compiled("forward"), nodes, legs)
    np.testing.assert_array_equal(ours, ref)  # same sums in the same order: bit-identical
    # bounded and reported at targets only, node-major
    targets = rng.choice(net.n_nodes, 500)
    lim = one_to_many(net.graph, nodes, legs, limit=900.0, targets=targets, node_major=True)
    np.testing.assert_array_equal(lim, np.where(ref <= 900.0, ref, np.inf)[:, targets].T)
    # groups of sources = min over their members
    d, src = multi_source_groups(net.reverse, [(nodes[:5], legs[:5]), (nodes[5:], legs[5:])])
    rev = _virtual(net.reverse, nodes, legs)
    np.testing.assert_array_equal(d[0], rev[:5].min(axis=0))
    np.testing.assert_array_equal(d[1], rev[5:].min(axis=0))
    ok = np.isfinite(d[1])
    np.testing.assert_array_equal(rev[5 + src[1][ok], np.flatnonzero(ok)], d[1][ok])


def test_nearest_targets_by_hand() -> None:
    from territorio.accessibility._dijkstra import Targets, nearest_targets

    # path 0 -(2)-> 1 -(3)-> 2 -(4)-> 3; targets: a at node 1 (leg 10), b at node 2
    # (leg 0), c at node 3 (leg 0), d outside coverage (node -1)
    g = CompiledGraph(csr_matrix(([2.0, 3.0, 4.0], ([0, 1, 2], [1, 2, 3])), shape=(4, 4)))
    tg = Targets(4, [1, 2, 3, -1], [10.0, 0.0, 0.0, 0.0])
    # from node 0 with a 1 s leg: a = 1 + 2 + 10 = 13, b = 1 + 5 = 6, c = 1 + 9 = 10
    t, j = nearest_targets(g, 0, 1.0, tg, 2, limit=np.inf)
    np.testing.assert_array_equal(t, [6.0, 10.0])
    np.testing.assert_array_equal(j, [1, 2])  # a, nearer as a node, is farther with its leg
    t, j = nearest_targets(g, 0, 1.0, tg, 4, limit=np.inf)  # only 3 are reachable
    np.testing.assert_array_equal(t, [6.0, 10.0, 13.0])
    t, j = nearest_targets(g, 0, 1.0, tg, 4, limit=12.0)  # a (13 s) is past the limit
    np.testing.assert_array_equal(j, [1, 2])
    assert len(nearest_targets(g, 3, 0.0, tg, 1, limit=np.inf)[0]) == 1  # c, at its node
    assert len(nearest_targets(g, 0, 20.0, tg, 1, limit=12.0)[0]) == 0  # own leg too long
    with pytest.raises(ValueError, match="legs"):
        Targets(4, [1], [-1.0])


@pytest.mark.shared_data
def test_nearest_targets_equal_a_full_search_on_turin(shared_data) -> None:
    from territorio.accessibility._dijkstra import Targets, nearest_targets

    net = turin_network(shared_data)
    g = net.compiled("forward")
    rng = np.random.default_rng(8)
    # 400 random targets 0-120 s off their nodes, 40 random origins with legs
    tnode = rng.choice(np.flatnonzero(net.snappable), 400)
    tleg = rng.uniform(0, 120, 400)
    tg = Targets(net.n_nodes, tnode, tleg)
    for src in rng.choice(np.flatnonzero(net.snappable), 40, replace=False):
        leg = float(rng.uniform(0, 60))
        full = run_groups(g, [0, 1], [src], [leg], workers=1)[0][0][tnode] + tleg
        for k, limit in ((1, np.inf), (5, 900.0), (20, 600.0)):
            t, j = nearest_targets(g, int(src), leg, tg, k, limit=limit)
            want = np.sort(full[full <= limit])[:k]
            np.testing.assert_array_equal(t, want)  # the same sums: bit-identical
            np.testing.assert_array_equal(full[j], t)
