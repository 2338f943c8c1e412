"""Road gradients from a DEM, and a modest, direction-aware car speed penalty.

Profile
-------
Each edge (in a metric CRS) is cut into equal pieces of about ``piece_m``
(200 m; one piece for shorter edges) and the DEM is sampled at the ends of
every piece (:meth:`~territorio.ingest.elevation.DemMosaic.sample`). The
grade of a piece is its rise over its length, in percent, in the u to v
direction; driving v to u sees the opposite sign. 200 m pieces keep the
noise of a 90 m DEM (about +-10 m where a road is cut into a slope) below
+-5 % while resolving the ramps between hairpins. A piece with an end
without elevation has no grade: it is not penalised and the edge's
``elevation_share`` (share of its length with a grade) says so; nothing is
assumed flat.

Per edge: ``climb_m`` / ``descent_m`` (sums of the rises / drops u to v),
``grade_max_up_pct`` / ``grade_max_down_pct`` (steepest piece up / down u to
v, both >= 0), ``alt_min_m`` / ``alt_max_m`` (over the sampled points).

Penalty (car only; a stated assumption, deliberately modest)
------------------------------------------------------------
Passenger cars hold their speed on moderate grades; on steep ramps they
slow down, and on steep descents they brake. On each piece, in the driving
direction, the speed is multiplied by::

    uphill  g >  up_threshold_pct   (5 %): max(up_min_factor,   1 - up_loss_per_pct   * (g - 5))
    downhill g < -down_threshold_pct (7 %): max(down_min_factor, 1 - down_loss_per_pct * (|g| - 7))

with the defaults ``up_loss_per_pct = 0.02`` (10 % grade: -10 %, 15 %:
-20 %), ``up_min_factor = 0.75``, ``down_loss_per_pct = 0.01``,
``down_min_factor = 0.85``. The edge time in each direction is its time
times the length-weighted mean of ``1 / factor`` over its pieces: every
direction of an edge has its own time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from territorio.ingest._resample import points_along
from territorio.ingest.elevation import DemMosaic

__all__ = ["GradientParams", "GradientResult", "edge_gradients", "grade_speed_factor"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class GradientParams:
    """Parameters of the grade penalty (see the module notes)."""

    piece_m: float = 200.0
    up_threshold_pct: float = 5.0
    up_loss_per_pct: float = 0.02
    up_min_factor: float = 0.75
    down_threshold_pct: float = 7.0
    down_loss_per_pct: float = 0.01
    down_min_factor: float = 0.85


@dataclass(frozen=True)
class GradientResult:
    """Per-edge gradient measures and time factors (u to v and v to u)."""

    climb_m: FloatArray
    descent_m: FloatArray
    grade_max_up_pct: FloatArray
    grade_max_down_pct: FloatArray
    alt_min_m: FloatArray
    alt_max_m: FloatArray
    elevation_share: FloatArray
    factor_forward: FloatArray
    factor_reverse: FloatArray


def grade_speed_factor(grade_pct: Any, params: GradientParams | None = None) -> FloatArray:
    """Speed multiplier (<= 1) on a piece of grade ``grade_pct`` in the driving direction.

    NaN grades (no elevation) give 1: no penalty, never an assumed slope.
    """
    p = params or GradientParams()
    g = np.asarray(grade_pct, dtype=float)
    up = np.maximum(p.up_min_factor, 1.0 - p.up_loss_per_pct * (g - p.up_threshold_pct))
    down = np.maximum(p.down_min_factor, 1.0 - p.down_loss_per_pct * (-g - p.down_threshold_pct))
    f = np.where(g > p.up_threshold_pct, up, np.where(g < -p.down_threshold_pct, down, 1.0))
    return np.asarray(np.where(np.isfinite(g), f, 1.0), dtype=float)


def edge_gradients(
    geoms_metric: Any,
    dem: DemMosaic,
    *,
    to_lonlat: Any,
    params: GradientParams | None = None,
) -> GradientResult:
    """Sample each edge's profile and derive its gradients and time factors.

    Parameters
    ----------
    geoms_metric
        Edge LineStrings in a metric CRS, drawn from u to v.
    dem
        The DEM mosaic.
    to_lonlat
        ``(x, y) -> (lon, lat)`` transform from the metric CRS to EPSG:4326
        (e.g. ``pyproj.Transformer(...).transform``).
    params
        Penalty parameters.
    """
    import shapely

    p = params or GradientParams()
    g = np.asarray(geoms_metric)
    ne = len(g)
    length = shapely.length(g).astype(float)
    n = np.maximum(1, np.round(length / p.piece_m)).astype(np.int64)
    rep = np.repeat(np.arange(ne, dtype=np.int64), n + 1)
    start = np.cumsum(n + 1) - (n + 1)
    k = np.arange(rep.size, dtype=np.int64) - start[rep]
    x, y = points_along(g, rep, length[rep] * k / n[rep])
    lon, lat = to_lonlat(x, y)
    z = dem.sample(lon, lat).altitude_m
    same = rep[1:] == rep[:-1]
    dz = (z[1:] - z[:-1])[same]
    piece_edge = rep[1:][same]
    piece_len = (length / n)[piece_edge]
    with np.errstate(divide="ignore", invalid="ignore"):
        grade = np.where(piece_len > 0, 100.0 * dz / piece_len, np.nan)
    known = np.isfinite(grade)

    def bsum(w: Any) -> FloatArray:
        return np.bincount(piece_edge, weights=w, minlength=ne).astype(float)

    known_len = bsum(np.where(known, piece_len, 0.0))
    has = known_len > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(length > 0, known_len / length, np.where(has, 1.0, 0.0))
    climb = np.where(has, bsum(np.where(known, np.maximum(dz, 0.0), 0.0)), np.nan)
    descent = np.where(has, bsum(np.where(known, np.maximum(-dz, 0.0), 0.0)), np.nan)
    up = np.full(ne, -np.inf)
    np.maximum.at(up, piece_edge, np.where(known, grade, -np.inf))
    down = np.full(ne, -np.inf)
    np.maximum.at(down, piece_edge, np.where(known, -grade, -np.inf))
    up = np.where(has, np.maximum(up, 0.0), np.nan)
    down = np.where(has, np.maximum(down, 0.0), np.nan)
    zmin = np.full(ne, np.inf)
    zmax = np.full(ne, -np.inf)
    np.minimum.at(zmin, rep, np.where(np.isfinite(z), z, np.inf))
    np.maximum.at(zmax, rep, np.where(np.isfinite(z), z, -np.inf))
    zmin = np.where(np.isfinite(zmin), zmin, np.nan)
    zmax = np.where(np.isfinite(zmax), zmax, np.nan)
    w = np.where(length[piece_edge] > 0, piece_len / length[piece_edge], 1.0 / n[piece_edge])
    fwd = bsum(w / grade_speed_factor(grade, p))
    rev = bsum(w / grade_speed_factor(-grade, p))
    return GradientResult(
        climb_m=climb,
        descent_m=descent,
        grade_max_up_pct=up,
        grade_max_down_pct=down,
        alt_min_m=zmin,
        alt_max_m=zmax,
        elevation_share=np.clip(share, 0.0, 1.0),
        factor_forward=np.where(np.isfinite(fwd) & (fwd > 0), fwd, 1.0),
        factor_reverse=np.where(np.isfinite(rev) & (rev > 0), rev, 1.0),
    )
