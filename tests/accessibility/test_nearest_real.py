"""Multi-source and k-nearest searches against brute force on the real Turin graph."""

from __future__ import annotations

import numpy as np
import pytest

from territorio.accessibility.nearest import k_nearest, multi_source, one_to_many
from tests.accessibility.real import turin_network

pytestmark = pytest.mark.shared_data


def test_multi_source_with_legs_equals_min_of_single_searches(shared_data) -> None:
    net = turin_network(shared_data)
    rng = np.random.default_rng(7)
    # 25 "facilities" at random points of the graph's bounding box, snapped with legs
    lon = rng.uniform(7.55, 7.80, 25)
    lat = rng.uniform(45.00, 45.15, 25)
    snap = net.snap(lon, lat, max_snap_m=1000, off_network_kmh=5)
    nodes, legs = snap.node[snap.covered], snap.offset_s[snap.covered]
    assert len(nodes) >= 20 and (legs > 0).any()
    d, src = multi_source(net.reverse, nodes, legs)
    dense = one_to_many(net.reverse, nodes, legs)  # one search per facility
    np.testing.assert_array_equal(d, dense.min(axis=0))  # exact: same sums, same order
    ok = np.isfinite(d)
    # the reported facility is one achieving the minimum
    np.testing.assert_array_equal(dense[src[ok], np.flatnonzero(ok)], d[ok])
    # k = 3 nearest = the three smallest of the brute-force columns
    kd, ks = k_nearest(net.reverse, nodes, legs, 3, chunk=8)
    np.testing.assert_array_equal(kd, np.sort(dense, axis=0)[:3])
    cols = np.arange(net.n_nodes)
    fin = np.isfinite(kd)
    np.testing.assert_array_equal(dense[ks[fin], np.broadcast_to(cols, kd.shape)[fin]], kd[fin])
