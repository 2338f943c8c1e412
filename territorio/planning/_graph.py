"""Adjacency of municipalities (shared boundaries) and connected groups."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components
from shapely import STRtree

__all__ = ["adjacency", "components_of", "road_linked"]


def _metric(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if gdf.crs is None or gdf.crs.is_projected:
        return gdf
    return gdf.to_crs(gdf.estimate_utm_crs())


def adjacency(gdf: gpd.GeoDataFrame, *, tolerance_m: float = 1.0) -> sp.csr_matrix:
    """Return the symmetric boolean adjacency matrix of polygons sharing a boundary.

    Two municipalities are adjacent when their polygons intersect (touch or
    overlap) after growing by ``tolerance_m`` metres, which absorbs the
    slivers of generalised boundaries. One bulk STRtree query, no Python loop
    over pairs; the diagonal is empty.
    """
    n = len(gdf)
    if n == 0:
        return sp.csr_matrix((0, 0), dtype=bool)
    geoms = _metric(gdf).geometry.to_numpy()
    if tolerance_m > 0:
        geoms = shapely.buffer(geoms, tolerance_m / 2.0)
    tree = STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    keep = left != right
    left, right = left[keep], right[keep]
    data = np.ones(len(left), dtype=bool)
    a = sp.coo_matrix((data, (left, right)), shape=(n, n)).tocsr()
    return (a + a.T).astype(bool).tocsr()


def components_of(adj: sp.csr_matrix, members: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
    """Label connected groups of the ``members`` over ``adj``; -1 for non-members.

    Labels are 0..n_groups-1 in the order of each group's first member.
    """
    idx = np.flatnonzero(members)
    labels = np.full(len(members), -1, dtype=np.int64)
    if len(idx) == 0:
        return labels
    sub = adj[idx][:, idx]
    _, lab = connected_components(sub, directed=False)
    # Renumber by first appearance so labels are stable and deterministic.
    _, first = np.unique(lab, return_index=True)
    order = np.argsort(np.argsort(first))
    labels[idx] = order[lab]
    return labels


def road_linked(
    adj: sp.csr_matrix,
    ref_times: npt.NDArray[np.float64],
    covered: npt.NDArray[np.bool_],
    *,
    max_s: float,
) -> sp.csr_matrix:
    """Keep the adjacent pairs whose reference points are within ``max_s`` by road, both ways.

    Parameters
    ----------
    adj
        Boundary adjacency (:func:`adjacency`).
    ref_times
        ``ref_times[i, j]``: seconds from municipality ``i``'s reference point
        to ``j``'s (``inf`` beyond the search limit).
    covered
        Municipalities whose reference point is on the network; a pair with an
        uncovered member keeps its boundary link (no road evidence either way).
    """
    a = adj.tocoo()
    i, j = a.row, a.col
    t = np.maximum(ref_times[i, j], ref_times[j, i])
    keep = (t <= max_s) | ~(covered[i] & covered[j])
    out = sp.coo_matrix((np.ones(int(keep.sum()), dtype=bool), (i[keep], j[keep])), shape=adj.shape)
    return out.tocsr()
