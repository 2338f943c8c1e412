"""Points at given distances along many lines at once, in numpy (no shapely points).

At province scale the curvature model samples tens of millions of points;
creating a shapely Point per sample would cost gigabytes, so the
interpolation runs on the coordinate arrays directly.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def points_along(geoms: Any, line: IntArray, dist: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Coordinates of the points at ``dist`` metres along ``geoms[line]``.

    Parameters
    ----------
    geoms
        Array of LineStrings (planar coordinates).
    line
        Index of the line of each point, non-decreasing.
    dist
        Distance of each point from the start of its line (clipped to the line).
    """
    import shapely

    coords, idx = shapely.get_coordinates(np.asarray(geoms), return_index=True)
    n_lines = len(geoms)
    seg = np.hypot(*(coords[1:] - coords[:-1]).T)
    same = idx[1:] == idx[:-1]
    seg = np.where(same, seg, 0.0)
    cum = np.concatenate([[0.0], np.cumsum(seg)])  # global running length
    first = np.searchsorted(idx, np.arange(n_lines))  # first vertex of each line
    last = np.searchsorted(idx, np.arange(n_lines), side="right") - 1
    base = cum[first]
    length = cum[last] - base
    # one monotonic key over all lines: a gap of 1 m between consecutive lines
    offset = np.cumsum(np.concatenate([[0.0], length[:-1] + 1.0]))
    key = cum - base[idx] + offset[idx]
    d = np.clip(dist, 0.0, length[line])
    target = offset[line] + d
    pos = np.searchsorted(key, target, side="right") - 1
    pos = np.clip(pos, first[line], np.maximum(last[line] - 1, first[line]))
    nxt = np.minimum(pos + 1, last[line])
    span = key[nxt] - key[pos]
    with np.errstate(invalid="ignore", divide="ignore"):
        f = np.where(span > 0, (target - key[pos]) / span, 0.0)
    f = np.clip(f, 0.0, 1.0)
    x = coords[pos, 0] + f * (coords[nxt, 0] - coords[pos, 0])
    y = coords[pos, 1] + f * (coords[nxt, 1] - coords[pos, 1])
    return x, y
