"""The numba kernel behind :mod:`territorio.accessibility._dijkstra` (imported lazily).

Importing this module imports numba and compiles (or loads from the disk
cache) the kernel: keep it out of every import-time path.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

__all__ = ["search_groups"]


@njit(cache=True, nogil=True)
def _push(hd: Any, hn: Any, size: int, d: float, v: int) -> int:
    i = size
    while i > 0:
        parent = (i - 1) >> 1
        if hd[parent] <= d:
            break
        hd[i] = hd[parent]
        hn[i] = hn[parent]
        i = parent
    hd[i] = d
    hn[i] = v
    return size + 1


@njit(cache=True, nogil=True)
def _pop(hd: Any, hn: Any, size: int) -> int:
    """Remove the root (read it before calling); return the new size."""
    size -= 1
    if size == 0:
        return 0
    d = hd[size]
    v = hn[size]
    i = 0
    while True:
        c = 2 * i + 1
        if c >= size:
            break
        if c + 1 < size and hd[c + 1] < hd[c]:
            c += 1
        if hd[c] >= d:
            break
        hd[i] = hd[c]
        hn[i] = hn[c]
        i = c
    hd[i] = d
    hn[i] = v
    return size


@njit(cache=True, nogil=True)
def search_groups(
    indptr: Any,
    indices: Any,
    data: Any,
    group_ptr: Any,
    nodes: Any,
    offsets: Any,
    limit: float,
    tpos: Any,
    out: Any,
    lab_out: Any,
    node_major: bool,
    want_labels: bool,
    lo: int,
    hi: int,
) -> None:
    """Run the searches of groups ``lo..hi-1`` (see ``_dijkstra.run_groups``)."""
    n = indptr.shape[0] - 1
    dist = np.full(n, np.inf)
    label = np.full(n, -1, dtype=np.int64)
    touched = np.empty(n, dtype=np.int64)
    cap = data.shape[0] + (group_ptr[hi] - group_ptr[lo]) + 1
    hd = np.empty(cap, dtype=np.float64)
    hn = np.empty(cap, dtype=np.int64)
    for gi in range(lo, hi):
        a = group_ptr[gi]
        b = group_ptr[gi + 1]
        nt = 0
        size = 0
        for s in range(a, b):
            v = nodes[s]
            d0 = offsets[s]
            if d0 <= limit and d0 < dist[v]:
                if dist[v] == np.inf:
                    touched[nt] = v
                    nt += 1
                dist[v] = d0
                label[v] = s - a
                size = _push(hd, hn, size, d0, v)
        while size > 0:
            d = hd[0]
            u = hn[0]
            size = _pop(hd, hn, size)
            if d > dist[u]:
                continue  # stale entry: u was settled earlier at a smaller time
            lu = label[u]
            for e in range(indptr[u], indptr[u + 1]):
                v = indices[e]
                nd = d + data[e]
                if nd < dist[v] and nd <= limit:
                    if dist[v] == np.inf:
                        touched[nt] = v
                        nt += 1
                    dist[v] = nd
                    label[v] = lu
                    size = _push(hd, hn, size, nd, v)
        # write the settled nodes that are targets, then reset the workspace
        for k in range(nt):
            v = touched[k]
            c = tpos[v]
            if c >= 0:
                if node_major:
                    out[c, gi] = dist[v]
                    if want_labels:
                        lab_out[c, gi] = label[v]
                else:
                    out[gi, c] = dist[v]
                    if want_labels:
                        lab_out[gi, c] = label[v]
            dist[v] = np.inf
            label[v] = -1
