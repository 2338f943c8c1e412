"""Road curvature from true edge geometries, and the car speed it allows.

Geometry measures (per edge, in a metric CRS)
---------------------------------------------
Each line is resampled at equal steps of about ``step_m`` (5 m) along its
length, which makes the measures independent of how densely the source drew
its vertices. ``theta_j`` is the heading of chord ``j`` (unwrapped along the
edge).

* **Local radius** at chord ``j``: ``R_j = arc / |theta_{j+k} - theta_{j-k}|``
  with ``arc`` the length between the two chords (``2 k`` steps, about
  ``window_m`` = 30 m, shorter at the ends of the edge): the radius of the
  circle that turns by the same angle over the same length. A window of
  30 m is long enough that vertex rounding of the vector tiles (about 0.4 m
  at zoom 14) moves a straight road's radius beyond a kilometre, and short
  enough to resolve a 10 m hairpin (which turns 180 degrees in 31 m). Windows
  shorter than half of ``window_m`` (edges under about 15 m) give no radius.
* **Tightest radius** ``curve_min_radius_m``: the smallest ``R_j`` of the edge.
* **Hairpins** ``curve_hairpins``: runs of chords where the heading turns by
  at least ``hairpin_turn_deg`` (150 degrees) within ``hairpin_arc_m`` (80 m):
  a tornante. Each run counts once. A hairpin cut in two by a junction at its
  apex is not counted on either edge (route-level counts, which join the
  edges of a path first, see :func:`line_hairpins`, do count it).
* **Sinuosity** ``curve_sinuosity``: length over the straight distance
  between the ends (NaN for closed loops).

Speed on a curve (D.M. 5/11/2001)
---------------------------------
The Italian road design norm (D.M. Infrastrutture e Trasporti 5 novembre
2001, *Norme funzionali e geometriche per la costruzione delle strade*,
§5.2.4) relates the speed on a circular curve to its radius by the lateral
equilibrium of the vehicle::

    R = V**2 / (127 * (q + f_t(V)))    i.e.    V = sqrt(127 * R * (q + f_t(V)))

with ``V`` in km/h, ``R`` in metres, ``q`` the superelevation (cross slope;
7 % is the norm's maximum on rural roads) and ``f_t(V)`` the side friction
that may be mobilised at speed ``V`` (the norm's table for rural roads:
0.21 at 40 km/h, 0.17 at 60, 0.13 at 80, 0.11 at 100, 0.10 at 120, 0.09 at
140; 0.22 at 25 km/h from its urban row, kept for slower curves). The
equation is solved for ``V`` by fixed-point iteration (``f_t`` varies slowly,
it converges in a few steps). For a 10 m hairpin: ``V = sqrt(127 * 10 *
(0.07 + 0.22)) = 19.2 km/h``.

Per-edge speed cap (car only)
-----------------------------
Along the edge the car drives at ``min(v_edge, V(R_j))`` on each chord,
``v_edge`` being the edge's own speed (length / time, per direction). The
edge time becomes ``t * mean_j max(1, v_edge / V(R_j))``: only the bending
parts are slowed, by exactly what the norm allows there; braking and
accelerating into and out of the curve are not modelled (an underestimate
of a few seconds per hairpin). Walking times are untouched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from territorio.ingest._resample import points_along

__all__ = [
    "CURVE_FRICTION",
    "CurvatureResult",
    "curvature",
    "curve_speed_kmh",
    "curve_time_factor",
    "line_hairpins",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Side friction f_t by speed (km/h) of D.M. 5/11/2001 (rural roads; 25 km/h
#: from the urban row).
CURVE_FRICTION: tuple[tuple[float, float], ...] = (
    (25.0, 0.22),
    (40.0, 0.21),
    (60.0, 0.17),
    (80.0, 0.13),
    (100.0, 0.11),
    (120.0, 0.10),
    (140.0, 0.09),
)


def curve_speed_kmh(radius_m: Any, *, superelevation: float = 0.07) -> FloatArray:
    """Speed (km/h) allowed on a curve of radius ``radius_m`` by D.M. 5/11/2001.

    Solves ``V = sqrt(127 R (q + f_t(V)))`` (see the module notes); ``inf``
    for an infinite radius (a straight).
    """
    r = np.asarray(radius_m, dtype=float)
    vs = np.array([p[0] for p in CURVE_FRICTION])
    fs = np.array([p[1] for p in CURVE_FRICTION])
    out = np.full(r.shape, np.inf)
    finite = np.isfinite(r)
    rr = np.maximum(r[finite], 0.0)
    v = np.sqrt(127.0 * rr * (superelevation + fs[0]))
    # |dV/dV_prev| <= 0.5 * V * 0.002 / (q + f) < 0.3 below 140 km/h: 20 steps
    # bring the error far below a thousandth of a km/h
    for _ in range(20):
        v = np.sqrt(127.0 * rr * (superelevation + np.interp(v, vs, fs)))
    out[finite] = v
    return out


@dataclass(frozen=True)
class CurvatureResult:
    """Curvature of a set of lines.

    Attributes
    ----------
    min_radius_m, hairpins, sinuosity, length_m
        Per line (see the module notes); ``min_radius_m`` is ``inf`` on
        straight lines and lines too short to measure.
    chord_line, chord_radius_m
        Per resampled chord: the line it belongs to and its local radius.
    """

    min_radius_m: FloatArray
    hairpins: IntArray
    sinuosity: FloatArray
    length_m: FloatArray
    chord_line: IntArray
    chord_radius_m: FloatArray


def _resample(geoms: Any, step_m: float) -> tuple[IntArray, IntArray, FloatArray, FloatArray]:
    """Points at equal steps along each line: line index, chords per line, x, y."""
    import shapely

    g = np.asarray(geoms)
    length = shapely.length(g).astype(float)
    n = np.maximum(1, np.floor(length / step_m)).astype(np.int64)
    rep = np.repeat(np.arange(len(g), dtype=np.int64), n + 1)
    start = np.cumsum(n + 1) - (n + 1)
    k = np.arange(rep.size, dtype=np.int64) - start[rep]
    s = length[rep] * k / n[rep]
    x, y = points_along(g, rep, s)
    return rep, n, x, y


def _headings(
    rep: IntArray, n: IntArray, x: FloatArray, y: FloatArray
) -> tuple[IntArray, IntArray, FloatArray]:
    """Chords: line index, position in the line, cumulative unwrapped heading."""
    same = rep[1:] == rep[:-1]
    dx, dy = (x[1:] - x[:-1])[same], (y[1:] - y[:-1])[same]
    chord_line = rep[1:][same]
    theta = np.arctan2(dy, dx)
    turn = np.zeros(len(theta))
    inner = chord_line[1:] == chord_line[:-1]
    d = theta[1:] - theta[:-1]
    turn[1:] = np.where(inner, (d + np.pi) % (2 * np.pi) - np.pi, 0.0)
    cum = np.cumsum(turn)
    first = np.cumsum(n) - n
    pos = np.arange(len(chord_line), dtype=np.int64) - first[chord_line]
    return chord_line, pos, cum


def _window_turn(
    chord_line: IntArray, pos: IntArray, cum: FloatArray, n: IntArray, k: int
) -> tuple[FloatArray, IntArray]:
    """Heading change over ``k`` chords either side (clipped to the line), and its span."""
    first = np.cumsum(n) - n
    lo = np.maximum(pos - k, 0)
    hi = np.minimum(pos + k, n[chord_line] - 1)
    g0 = first[chord_line]
    return cum[g0 + hi] - cum[g0 + lo], hi - lo


def curvature(
    geoms_metric: Any,
    *,
    step_m: float = 5.0,
    window_m: float = 30.0,
    hairpin_turn_deg: float = 150.0,
    hairpin_arc_m: float = 80.0,
) -> CurvatureResult:
    """Measure the curvature of lines in a metric CRS (see the module notes).

    Parameters
    ----------
    geoms_metric
        Array of LineStrings in metres (e.g. UTM).
    step_m
        Resampling step.
    window_m
        Arc length over which a local radius is measured.
    hairpin_turn_deg, hairpin_arc_m
        A hairpin turns by at least this many degrees within this arc length.
    """
    import shapely

    g = np.asarray(geoms_metric)
    rep, n, x, y = _resample(g, step_m)
    length = shapely.length(g).astype(float)
    h = length / n  # actual step of each line
    chord_line, pos, cum = _headings(rep, n, x, y)
    k = max(1, round(window_m / (2 * step_m)))
    turn, span = _window_turn(chord_line, pos, cum, n, k)
    arc = span * h[chord_line]
    with np.errstate(divide="ignore", invalid="ignore"):
        radius = np.where((arc >= window_m / 2) & (np.abs(turn) > 1e-9), arc / np.abs(turn), np.inf)
    min_r = np.full(len(g), np.inf)
    np.minimum.at(min_r, chord_line, radius)
    kh = max(1, round(hairpin_arc_m / (2 * step_m)))
    hturn, _ = _window_turn(chord_line, pos, cum, n, kh)
    flag = np.abs(hturn) >= np.deg2rad(hairpin_turn_deg)
    starts = flag.copy()
    starts[1:] &= ~(flag[:-1] & (chord_line[1:] == chord_line[:-1]))
    hairpins = np.bincount(chord_line[starts], minlength=len(g)).astype(np.int64)
    a = shapely.get_point(g, 0)
    b = shapely.get_point(g, -1)
    straight = shapely.distance(a, b).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        sinuosity = np.where(straight >= 1.0, length / straight, np.nan)
    return CurvatureResult(min_r, hairpins, sinuosity, length, chord_line, radius)


def curve_time_factor(
    result: CurvatureResult,
    speed_kmh: Any,
    *,
    superelevation: float = 0.07,
    chord_speed_kmh: FloatArray | None = None,
) -> FloatArray:
    """Factor (>= 1) multiplying each line's time when the curves cap its speed.

    Parameters
    ----------
    result
        :func:`curvature` of the lines.
    speed_kmh
        The speed each line is driven at without curves (one per line; NaN
        where the direction is closed gives a factor of 1).
    superelevation
        ``q`` of the curve-speed equation.
    chord_speed_kmh
        :func:`curve_speed_kmh` of ``result.chord_radius_m`` when already
        computed (e.g. for the other direction).
    """
    v = np.asarray(speed_kmh, dtype=float)
    vc = (
        chord_speed_kmh
        if chord_speed_kmh is not None
        else curve_speed_kmh(result.chord_radius_m, superelevation=superelevation)
    )
    vb = v[result.chord_line]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(np.isfinite(vb) & (vb > 0), np.maximum(1.0, vb / vc), 1.0)
    nl = len(v)
    total = np.bincount(result.chord_line, weights=ratio, minlength=nl)
    count = np.bincount(result.chord_line, minlength=nl)
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(count > 0, total / count, 1.0)
    return np.asarray(f, dtype=float)


def line_hairpins(geom_metric: Any, **kwargs: float) -> int:
    """Hairpins of one line (e.g. the edges of a route merged into one line)."""
    return int(curvature(np.asarray([geom_metric]), **kwargs).hairpins[0])
