"""Adjacency of municipalities (shared boundaries) and connected groups."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components
from shapely import STRtree

__all__ = ["adjacency", "components_of"]


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
