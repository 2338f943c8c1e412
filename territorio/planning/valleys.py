"""Which valley a flagged comune belongs to: the gateway its road to the polo leaves by.

Flagged comuni that share a boundary are not always in the same valley: in
the Alps, neighbours across a ridge are an hour apart by road, and a chain of
flagged neighbours can run along the whole arc of the mountains. A valley is
what a planner calls the comuni that reach the rest of the world through the
same mouth, so every flagged comune gets a *gateway*: follow its fastest road
to its SNAI polo destination and take the first comune the road enters that is
not flagged (the town at the valley mouth), or the polo itself when the road
stays in flagged comuni all the way. Flagged neighbours are linked into one
cluster only when they share their gateway (:func:`gateway_links`).

Valle Orco and Valle Soana meet at Pont Canavese and share their gateway, as
they share their Unione montana; the Valli di Lanzo leave by Lanzo, the alta
Valle di Susa by Susa, the Val Chisone by Pinerolo.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import dijkstra

__all__ = ["gateway_links", "gateways"]


def gateways(
    ctx: object,
    municipalities: pd.DataFrame,
    destination: pd.Series,
    flagged: npt.NDArray[np.bool_],
) -> npt.NDArray[np.object_]:
    """Return each flagged comune's gateway code (None elsewhere or without a road).

    Parameters
    ----------
    ctx
        The :class:`~territorio.accessibility.context.AccessContext` (network and
        snapped reference points).
    municipalities
        Municipalities layer (``pro_com_t``, geometry), the row order of ``flagged``.
    destination
        SNAI polo destination code per ``pro_com_t`` (index).
    flagged
        The flagged comuni.
    """
    net = ctx.network  # type: ignore[attr-defined]
    cm = ctx.municipalities.set_index(  # type: ignore[attr-defined]
        ctx.municipalities["pro_com_t"].astype(str)  # type: ignore[attr-defined]
    )
    codes = municipalities["pro_com_t"].astype(str).to_numpy()
    out = np.full(len(codes), None, dtype=object)
    dest = destination.reindex(codes).to_numpy(dtype=object)
    node = cm["node"].reindex(codes).to_numpy()
    ok = cm["covered"].reindex(codes).fillna(False).to_numpy(bool)
    # the comune of every node (nodes outside every polygon: None)
    geoms = municipalities.geometry.to_numpy()
    tree = shapely.STRtree(geoms)
    pts = shapely.points(net.lon, net.lat)
    hit_pt, hit_poly = tree.query(pts, predicate="within")
    node_comune = np.full(net.n_nodes, -1, dtype=np.int64)
    node_comune[hit_pt] = hit_poly
    todo = np.flatnonzero(flagged & ok & pd.notna(dest))
    for d in pd.unique(dest[todo]):
        di = np.flatnonzero(codes == d)
        if len(di) == 0 or not ok[di[0]]:
            continue
        # on the reverse graph, a node's predecessor is its next hop towards d
        _, nxt = dijkstra(net.reverse, indices=int(node[di[0]]), return_predecessors=True)
        for i in todo[dest[todo] == d].tolist():
            n = int(node[i])
            gate = str(d)
            while n >= 0:
                c = node_comune[n]
                if c >= 0 and not flagged[c]:
                    gate = str(codes[c])
                    break
                n = int(nxt[n])
            out[i] = gate
    return out


def gateway_links(adj: sp.csr_matrix, gateway: npt.NDArray[np.object_]) -> sp.csr_matrix:
    """Keep the adjacent pairs that share a gateway (pairs with an unknown one are kept)."""
    a = adj.tocoo()
    gi, gj = gateway[a.row], gateway[a.col]
    known = pd.notna(gi) & pd.notna(gj)
    keep = ~known | (gi == gj)
    out = sp.coo_matrix(
        (np.ones(int(keep.sum()), dtype=bool), (a.row[keep], a.col[keep])), shape=adj.shape
    )
    return out.tocsr()
