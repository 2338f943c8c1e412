"""Shortest-time searches: nearest facility, k nearest, one-to-many.

All searches run :func:`scipy.sparse.csgraph.dijkstra` on a CSR graph. Sources
carry an *initial offset* (their off-network leg): scipy has no such option,
so each source becomes a virtual node ``n + s`` with a single arc of weight
``offset[s]`` to its snapped node (a zero offset stays an explicit zero, which
csgraph treats as an edge). The augmented matrix shares the graph's arrays
plus ``m`` appended rows, so building it costs one concatenation, not a copy
of the graph per source.

*Time to the nearest facility for every node* is ONE multi-source search on
the reversed graph from all the facilities of a category at once
(``min_only=True``); ``sources`` says which facility won.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["augment", "k_nearest", "multi_source", "one_to_many"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def augment(graph: Any, nodes: Any, offsets: Any) -> Any:
    """Return ``graph`` with one virtual source row per (node, offset) appended.

    Parameters
    ----------
    graph
        Square CSR matrix (n x n), weights in seconds.
    nodes
        Snapped node index of each source (``0..n-1``).
    offsets
        Initial time of each source in seconds (its off-network leg).

    Returns
    -------
    scipy.sparse.csr_matrix
        ``(n + m) x (n + m)`` matrix; row ``n + s`` has one arc to ``nodes[s]``
        of weight ``offsets[s]``.
    """
    from scipy.sparse import csr_matrix

    nodes = np.asarray(nodes, dtype=np.int64)
    offsets = np.asarray(offsets, dtype=np.float64)
    n = graph.shape[0]
    m = len(nodes)
    indptr = np.concatenate(
        [graph.indptr.astype(np.int64), graph.indptr[-1] + np.arange(1, m + 1, dtype=np.int64)]
    )
    indices = np.concatenate([graph.indices.astype(np.int32), nodes.astype(np.int32)])
    data = np.concatenate([graph.data, offsets])
    return csr_matrix((data, indices, indptr), shape=(n + m, n + m))


def multi_source(
    graph: Any, nodes: Any, offsets: Any, *, limit: float = np.inf
) -> tuple[FloatArray, IntArray]:
    """Time from the nearest source to every node, and which source.

    Run on the *reversed* graph with facilities as sources, it gives for every
    node the time to reach its nearest facility.

    Parameters
    ----------
    graph
        CSR matrix (n x n) in seconds.
    nodes, offsets
        Snapped node and initial offset (s) of each source.
    limit
        Stop the search beyond this time (s); farther nodes get ``inf``.

    Returns
    -------
    dist : ndarray of float, shape (n,)
        Seconds (``inf`` where unreachable within ``limit``).
    source : ndarray of int, shape (n,)
        Index into ``nodes`` of the winning source, ``-1`` where unreachable.
    """
    from scipy.sparse.csgraph import dijkstra

    n = graph.shape[0]
    m = len(nodes)
    if m == 0:
        return np.full(n, np.inf), np.full(n, -1, dtype=np.int64)
    aug = augment(graph, nodes, offsets)
    dist, _pred, src = dijkstra(
        aug,
        directed=True,
        indices=np.arange(n, n + m),
        min_only=True,
        return_predecessors=True,
        limit=limit,
    )
    src = np.asarray(src[:n], dtype=np.int64)
    src = np.where(src >= 0, src - n, -1)
    return np.asarray(dist[:n], dtype=np.float64), src


def one_to_many(graph: Any, nodes: Any, offsets: Any, *, limit: float = np.inf) -> FloatArray:
    """Dense times from each source to every node, shape ``(m, n)``.

    Memory is ``8 * m * n`` bytes: chunk the sources for large ``m``.
    """
    from scipy.sparse.csgraph import dijkstra

    n = graph.shape[0]
    m = len(nodes)
    if m == 0:
        return np.zeros((0, n))
    aug = augment(graph, nodes, offsets)
    dist = dijkstra(aug, directed=True, indices=np.arange(n, n + m), limit=limit)
    return np.ascontiguousarray(np.asarray(dist)[:, :n])


def k_nearest(
    graph: Any,
    nodes: Any,
    offsets: Any,
    k: int,
    *,
    limit: float = np.inf,
    chunk: int = 32,
) -> tuple[FloatArray, IntArray]:
    """Return times to the ``k`` nearest sources for every node (exact), and which ones.

    Method: the sources are searched in chunks of ``chunk`` (one bounded
    Dijkstra per source, vectorised by scipy), and a running top-``k`` per node
    is kept with :func:`numpy.argpartition` over the previous best ``k`` and
    the new chunk. The result is exact (every source is considered) and costs
    ``m`` searches, so use it for categories with few facilities or with a
    ``limit``; the nearest one alone is :func:`multi_source`.

    Returns
    -------
    dist : ndarray, shape (k, n)
        Sorted times (row 0 = nearest), ``inf`` where fewer than ``k`` sources
        are reachable.
    source : ndarray, shape (k, n)
        Index of the source in ``nodes``, ``-1`` where unreachable.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    nodes = np.asarray(nodes, dtype=np.int64)
    offsets = np.asarray(offsets, dtype=np.float64)
    n = graph.shape[0]
    best_d = np.full((k, n), np.inf)
    best_s = np.full((k, n), -1, dtype=np.int64)
    cols = np.arange(n)
    for start in range(0, len(nodes), chunk):
        stop = min(start + chunk, len(nodes))
        d = one_to_many(graph, nodes[start:stop], offsets[start:stop], limit=limit)
        s = np.broadcast_to(np.arange(start, stop)[:, None], d.shape)
        all_d = np.concatenate([best_d, d])
        all_s = np.concatenate([best_s, s])
        if all_d.shape[0] > k:
            part = np.argpartition(all_d, k - 1, axis=0)[:k]
            best_d = all_d[part, cols]
            best_s = all_s[part, cols]
        else:
            best_d, best_s = all_d, all_s
    order = np.argsort(best_d, axis=0, kind="stable")
    best_d = best_d[order, cols]
    best_s = np.where(np.isfinite(best_d), best_s[order, cols], -1)
    return best_d, best_s
