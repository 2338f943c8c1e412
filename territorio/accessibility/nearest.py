"""Shortest-time searches: nearest facility, k nearest, one-to-many.

Every search runs the compiled Dijkstra of
:mod:`territorio.accessibility._dijkstra` (numba, binary heap, bounded by
``limit``, batches spread over the CPUs). Sources carry an *initial offset*
(their off-network leg): a source starts at its snapped node with that time,
exactly as if it were a virtual node ``n + s`` with one arc of weight
``offset[s]`` to its node (the formulation used with
:func:`scipy.sparse.csgraph.dijkstra` before; the results are identical and
tested against it).

*Time to the nearest facility for every node* is ONE multi-source search on
the reversed graph from all the facilities of a category at once;
``sources`` says which facility won. :func:`multi_source_groups` runs several
such searches (one per category) in parallel.

``graph`` is a square ``scipy.sparse.csr_matrix`` (seconds, explicit zeros are
edges) or a prepared :class:`~territorio.accessibility._dijkstra.CompiledGraph`
(``RoadNetwork.compiled("forward" | "reverse")``, cached on the network).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["k_nearest", "multi_source", "multi_source_groups", "one_to_many"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def _compiled(graph: Any) -> Any:
    from territorio.accessibility._dijkstra import CompiledGraph

    return graph if isinstance(graph, CompiledGraph) else CompiledGraph(graph)


def multi_source(
    graph: Any, nodes: Any, offsets: Any, *, limit: float = np.inf
) -> tuple[FloatArray, IntArray]:
    """Time from the nearest source to every node, and which source.

    Run on the *reversed* graph with facilities as sources, it gives for every
    node the time to reach its nearest facility.

    Parameters
    ----------
    graph
        CSR matrix (n x n) in seconds, or a ``CompiledGraph``.
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
    d, s = multi_source_groups(graph, [(nodes, offsets)], limit=limit, workers=1)
    return d[0], s[0]


def multi_source_groups(
    graph: Any,
    groups: Sequence[tuple[Any, Any]],
    *,
    limit: float = np.inf,
    workers: int | None = None,
) -> tuple[FloatArray, IntArray]:
    """Run :func:`multi_source` for several groups of sources at once (in parallel).

    Parameters
    ----------
    graph
        CSR matrix or ``CompiledGraph``.
    groups
        ``(nodes, offsets)`` per group, e.g. the facilities of each category.
    limit
        Search bound (s).
    workers
        Threads (default: the CPUs available).

    Returns
    -------
    dist : ndarray, shape (len(groups), n)
        Seconds from each node to the nearest source of each group.
    source : ndarray, shape (len(groups), n)
        Index (within its group) of the winning source, ``-1`` where none.
    """
    from territorio.accessibility._dijkstra import run_groups

    g = _compiled(graph)
    sizes = [len(np.atleast_1d(n)) for n, _ in groups]
    ptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    nodes = np.concatenate(
        [np.atleast_1d(np.asarray(n, dtype=np.int64)) for n, _ in groups]
        or [np.zeros(0, dtype=np.int64)]
    )
    offs = np.concatenate(
        [np.atleast_1d(np.asarray(o, dtype=np.float64)) for _, o in groups] or [np.zeros(0)]
    )
    dist, src = run_groups(g, ptr, nodes, offs, limit=limit, labels=True, workers=workers)
    return dist, src


def one_to_many(
    graph: Any,
    nodes: Any,
    offsets: Any,
    *,
    limit: float = np.inf,
    targets: Any = None,
    node_major: bool = False,
    workers: int | None = None,
) -> FloatArray:
    """Return times from each source to every node (or to ``targets``), one search each.

    Parameters
    ----------
    graph
        CSR matrix or ``CompiledGraph``.
    nodes, offsets
        Snapped node and initial offset (s) of each source.
    limit
        Search bound (s): nodes beyond it are ``inf``.
    targets
        Node indices to report (default: all nodes). Reporting only the nodes
        needed (population cells, facilities) makes bounded searches cost
        what they reach.
    node_major
        Return shape ``(n_targets, m)`` instead of ``(m, n_targets)``.
    workers
        Threads (default: the CPUs available).

    Returns
    -------
    ndarray of float
        Shape ``(m, n)`` (or ``(m, len(targets))``; transposed with
        ``node_major``). Memory is ``8 * m * n`` bytes.
    """
    from territorio.accessibility._dijkstra import run_groups

    g = _compiled(graph)
    nodes = np.atleast_1d(np.asarray(nodes, dtype=np.int64))
    offsets = np.atleast_1d(np.asarray(offsets, dtype=np.float64))
    m = len(nodes)
    ptr = np.arange(m + 1, dtype=np.int64)
    if targets is None:
        dist, _ = run_groups(
            g, ptr, nodes, offsets, limit=limit, node_major=node_major, workers=workers
        )
        return dist
    tgt = np.asarray(targets, dtype=np.int64)
    # one column per distinct target node, expanded afterwards
    uniq, inv = np.unique(tgt, return_inverse=True)
    tpos = np.full(g.n, -1, dtype=np.int64)
    tpos[uniq] = np.arange(len(uniq))
    dist, _ = run_groups(
        g, ptr, nodes, offsets, limit=limit, tpos=tpos, n_targets=len(uniq),
        node_major=node_major, workers=workers,
    )  # fmt: skip
    return dist[inv] if node_major else dist[:, inv]


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
    Dijkstra per source, in parallel), and a running top-``k`` per node
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
    graph = _compiled(graph)
    n = graph.n
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
