"""The numba kernel of the grid isochrones (imported lazily, like ``_dijkstra_kernel``)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

__all__ = ["arrival_field"]


@njit(cache=True, nogil=True)
def arrival_field(
    d: Any,
    s_u: Any,
    s_v: Any,
    s_p: Any,
    s_tf: Any,
    s_tr: Any,
    s_pix: Any,
    limit: float,
    n_pix: int,
    width: int,
    disc: Any,
    pad: int,
) -> Any:
    """Return the buffered arrival-time field (float32, flat) and its bounding box.

    Parameters
    ----------
    d
        Node times (s) from the origins, ``inf`` where not reached.
    s_u, s_v, s_p, s_tf, s_tr, s_pix
        Per edge sample: end nodes, fraction along ``u -> v``, times of the
        two directions (``inf`` if closed) and flat pixel index (padded grid).
    limit
        Largest contour (s): later samples are ignored.
    n_pix, width
        Size and row length of the padded grid.
    disc
        Flat offsets of the pixels within the buffer radius (a disc).
    pad
        Padding (pixels) of the grid, at least the disc radius.

    Returns
    -------
    field, rmin, rmax, cmin, cmax
        ``field[q]`` is the smallest arrival time of a sample within the
        buffer of pixel ``q`` (``inf`` if none); the box (inclusive rows and
        columns of the padded grid) bounds the finite values.
    """
    pixmin = np.full(n_pix, np.inf, dtype=np.float32)
    reached = np.empty(s_pix.shape[0], dtype=np.int64)
    nr = 0
    for i in range(s_pix.shape[0]):
        a = np.inf
        tf = s_tf[i]
        if tf < np.inf:
            du = d[s_u[i]]
            if du < np.inf:
                a = du + s_p[i] * tf
        tr = s_tr[i]
        if tr < np.inf:
            dv = d[s_v[i]]
            if dv < np.inf:
                b = dv + (1.0 - s_p[i]) * tr
                if b < a:
                    a = b
        if a <= limit:
            q = s_pix[i]
            if pixmin[q] == np.inf:
                reached[nr] = q
                nr += 1
            if a < pixmin[q]:
                pixmin[q] = a
    field = np.full(n_pix, np.inf, dtype=np.float32)
    rmin = n_pix
    rmax = -1
    cmin = n_pix
    cmax = -1
    for k in range(nr):
        q = reached[k]
        val = pixmin[q]
        for j in range(disc.shape[0]):
            o = q + disc[j]
            if val < field[o]:
                field[o] = val
        r = q // width
        c = q - r * width
        rmin = min(rmin, r)
        rmax = max(rmax, r)
        cmin = min(cmin, c)
        cmax = max(cmax, c)
    if nr == 0:
        return field, 0, -1, 0, -1
    return field, rmin - pad, rmax + pad, cmin - pad, cmax + pad
