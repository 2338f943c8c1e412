"""The numba kernels of the grid isochrones (imported lazily, like ``_dijkstra_kernel``)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

__all__ = ["arrival_field", "reached_box"]


@njit(cache=True, nogil=True)
def reached_box(d: Any, x: Any, y: Any, limit: float) -> Any:
    """Return ``(xmin, xmax, ymin, ymax, count)`` of the nodes with ``d <= limit``.

    One pass over the nodes (no boolean mask and fancy indexing); the box is
    ``(inf, -inf, inf, -inf, 0)`` when no node is reached.
    """
    xmin = np.inf
    xmax = -np.inf
    ymin = np.inf
    ymax = -np.inf
    count = 0
    for i in range(d.shape[0]):
        if d[i] <= limit:
            count += 1
            xi = x[i]
            yi = y[i]
            if xi < xmin:
                xmin = xi
            if xi > xmax:
                xmax = xi
            if yi < ymin:
                ymin = yi
            if yi > ymax:
                ymax = yi
    return xmin, xmax, ymin, ymax, count


@njit(cache=True, nogil=True)
def arrival_field(
    d: Any,
    nptr: Any,
    nedge: Any,
    e_u: Any,
    e_tf: Any,
    e_v: Any,
    e_tr: Any,
    sptr: Any,
    s_p: Any,
    s_ix: Any,
    s_iy: Any,
    limit: float,
    disc_r: Any,
    disc_c: Any,
    pad: int,
) -> Any:
    """Return the buffered arrival-time field (float32, 2-D) cropped to the reached box.

    Parameters
    ----------
    d
        Node times (s) from the origins, ``inf`` where not reached.
    nptr, nedge
        Node -> sampled edge incidence (CSR): the sampled edges with node
        ``i`` as an end are ``nedge[nptr[i]:nptr[i + 1]]``.
    e_u, e_tf, e_v, e_tr
        Per sampled edge: end nodes and times of the two directions
        (``inf`` if closed).
    sptr
        The samples of edge ``k`` are ``sptr[k]:sptr[k + 1]``.
    s_p, s_ix, s_iy
        Per sample: fraction along ``u -> v``, column and row on the grid.
    limit
        Largest contour (s): later samples are ignored.
    disc_r, disc_c
        Row and column offsets of the pixels within the buffer radius (a disc).
    pad
        Margin (pixels) of the returned box, more than the disc radius.

    Returns
    -------
    field, r0, r1, c0, c1
        ``field[i, j]`` is the smallest arrival time of a sample within the
        buffer of pixel ``(r0 + i, c0 + j)`` of the grid padded by ``pad``
        (``inf`` if none); the box (inclusive rows and columns) is the box of
        the reached samples grown by ``pad``, so its border pixels are
        ``inf``. An empty ``(0, 0)`` field and ``r1 < r0`` when nothing is
        reached.

    Notes
    -----
    Only the edges incident to reached nodes are visited (an edge whose open
    directions start at unreached nodes has no reached sample), each once:
    from ``u`` if ``u`` is reached, else from ``v``. The grids are allocated
    on the reached box only, not on the whole network's grid.
    """
    n_s = s_p.shape[0]
    c_buf = np.empty(n_s, dtype=np.int64)
    r_buf = np.empty(n_s, dtype=np.int64)
    a_buf = np.empty(n_s, dtype=np.float32)
    nr = 0
    rmin = 1 << 62
    rmax = -1
    cmin = 1 << 62
    cmax = -1
    for i in range(d.shape[0]):
        if d[i] > limit:
            continue
        for j in range(nptr[i], nptr[i + 1]):
            k = nedge[j]
            u = e_u[k]
            if u != i and d[u] <= limit:
                continue  # visited from u
            du = np.inf
            tf = e_tf[k]
            if tf < np.inf:
                du = d[u]
            dv = np.inf
            tr = e_tr[k]
            if tr < np.inf:
                dv = d[e_v[k]]
            for m in range(sptr[k], sptr[k + 1]):
                p = s_p[m]
                a = np.inf  # (never inf * 0: a closed or unreached direction is skipped)
                if du <= limit:
                    a = du + p * tf
                if dv <= limit:
                    b = dv + (1.0 - p) * tr
                    if b < a:
                        a = b
                if a <= limit:
                    r = s_iy[m]
                    c = s_ix[m]
                    r_buf[nr] = r
                    c_buf[nr] = c
                    a_buf[nr] = a
                    nr += 1
                    if r < rmin:
                        rmin = r
                    if r > rmax:
                        rmax = r
                    if c < cmin:
                        cmin = c
                    if c > cmax:
                        cmax = c
    if nr == 0:
        return np.empty((0, 0), dtype=np.float32), 0, -1, 0, -1
    # local box: rows rmin - pad .. rmax + pad of the unpadded grid, i.e.
    # rmin .. rmax + 2 pad of the grid padded by pad
    h = rmax - rmin + 2 * pad + 1
    w = cmax - cmin + 2 * pad + 1
    pixmin = np.full(h * w, np.inf, dtype=np.float32)
    first = np.empty(nr, dtype=np.int64)
    nf = 0
    for k in range(nr):
        loc = (r_buf[k] - rmin + pad) * w + (c_buf[k] - cmin + pad)
        if pixmin[loc] == np.inf:
            first[nf] = loc
            nf += 1
        if a_buf[k] < pixmin[loc]:
            pixmin[loc] = a_buf[k]
    disc = disc_r * w + disc_c
    field = np.full(h * w, np.inf, dtype=np.float32)
    for k in range(nf):
        loc = first[k]
        val = pixmin[loc]
        for j in range(disc.shape[0]):
            o = loc + disc[j]
            if val < field[o]:
                field[o] = val
    return field.reshape(h, w), rmin, rmin + h - 1, cmin, cmin + w - 1
