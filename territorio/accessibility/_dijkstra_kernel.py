"""The numba kernel behind :mod:`territorio.accessibility._dijkstra` (imported lazily).

Importing this module imports numba and compiles (or loads from the disk
cache) the kernel: keep it out of every import-time path.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

__all__ = ["nearest_targets", "search_groups"]


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


@njit(cache=True, nogil=True)
def nearest_targets(
    indptr: Any,
    indices: Any,
    data: Any,
    source: int,
    offset: float,
    limit: float,
    tptr: Any,
    tidx: Any,
    toff: Any,
    k: int,
) -> Any:
    """Return the ``k`` targets nearest to one source, stopping as soon as they are known.

    Targets sit at nodes (``tidx[tptr[v]:tptr[v + 1]]`` are the targets at node
    ``v``) behind a leg of ``toff[j] >= 0`` seconds. The search settles nodes
    in time order; once ``k`` targets are found and the next node is no nearer
    than the ``k``-th of them, no unsettled node can give a nearer target
    (legs are not negative), so the search stops there. Targets beyond
    ``limit`` are ignored.

    Returns
    -------
    times, targets, settled
        Sorted times (s, ``offset`` included) and target indices, at most
        ``k`` each, and the number of nodes settled.
    """
    n = indptr.shape[0] - 1
    dist = np.full(n, np.inf)
    hd = np.empty(data.shape[0] + 1, dtype=np.float64)
    hn = np.empty(data.shape[0] + 1, dtype=np.int64)
    best_t = np.full(k, np.inf)
    best_j = np.full(k, -1, dtype=np.int64)
    found = 0
    settled = 0
    size = 0
    if offset <= limit:
        dist[source] = offset
        size = _push(hd, hn, size, offset, source)
    while size > 0:
        d = hd[0]
        u = hn[0]
        size = _pop(hd, hn, size)
        if d > dist[u]:
            continue
        if found == k and d >= best_t[k - 1]:
            break
        settled += 1
        for p in range(tptr[u], tptr[u + 1]):
            j = tidx[p]
            t = d + toff[j]
            if t <= limit and (found < k or t < best_t[k - 1]):
                # insert into the sorted top-k (k is small); ties keep the earlier one
                i = found if found < k else k - 1
                while i > 0 and best_t[i - 1] > t:
                    best_t[i] = best_t[i - 1]
                    best_j[i] = best_j[i - 1]
                    i -= 1
                best_t[i] = t
                best_j[i] = j
                if found < k:
                    found += 1
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            nd = d + data[e]
            if nd < dist[v] and nd <= limit:
                dist[v] = nd
                size = _push(hd, hn, size, nd, v)
    return best_t[:found], best_j[:found], settled
