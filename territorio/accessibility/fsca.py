"""Two-step floating catchment area (2SFCA) and its enhanced variant (E2SFCA).

Given travel times ``t[j, k]`` (seconds) from demand location ``k`` (a
population cell with ``P_k`` residents) to facility ``j`` (capacity ``S_j``)
and a catchment ``d0``:

2SFCA (Luo & Wang 2003, *Environment and Planning B* 30(6):865-884)::

    R_j = S_j / sum_k { P_k : t[j, k] <= d0 }          (supply-to-demand ratio)
    A_k = 1000 * sum_j { R_j : t[j, k] <= d0 }         (per 1,000 residents)

E2SFCA (Luo & Qi 2009, *Health & Place* 15(4):1100-1107) splits the catchment
into three equal travel-time zones with stepped Gaussian weights
``W = 1.00, 0.68, 0.22`` (their weights for 0-10, 10-20, 20-30 min)::

    R_j = S_j / sum_k P_k W(t[j, k])
    A_k = 1000 * sum_j R_j W(t[j, k])

A facility with no population in its catchment has no ratio (it contributes
nothing); a cell with no facility within ``d0`` scores 0. Capacity is the
``capacity`` column, or 1 per facility where it is NaN.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["E2SFCA_WEIGHTS", "e2sfca_weights", "two_step_fca"]

FloatArray = npt.NDArray[np.float64]

#: Luo & Qi (2009) stepped weights for the three catchment sub-zones.
E2SFCA_WEIGHTS = (1.0, 0.68, 0.22)


def e2sfca_weights(times_s: FloatArray, catchment_s: float) -> FloatArray:
    """Return the stepped E2SFCA weight of each time: 1.00 / 0.68 / 0.22 by thirds, 0 beyond.

    Zone bounds are inclusive at the top: ``t <= d0/3`` weighs 1.00,
    ``d0/3 < t <= 2 d0/3`` 0.68, ``2 d0/3 < t <= d0`` 0.22; NaN/inf weigh 0.
    """
    t = np.asarray(times_s, dtype=float)
    w = np.zeros_like(t)
    with np.errstate(invalid="ignore"):
        w[t <= catchment_s] = E2SFCA_WEIGHTS[2]
        w[t <= 2.0 * catchment_s / 3.0] = E2SFCA_WEIGHTS[1]
        w[t <= catchment_s / 3.0] = E2SFCA_WEIGHTS[0]
    return w


def two_step_fca(
    times_s: FloatArray,
    capacity: FloatArray,
    population: FloatArray,
    catchment_s: float,
    *,
    enhanced: bool = False,
) -> FloatArray:
    """Compute the accessibility score of each demand location (per 1,000 residents).

    Parameters
    ----------
    times_s
        Travel times, shape ``(n_facilities, n_locations)``, seconds; NaN or
        ``inf`` where not reachable.
    capacity
        ``S_j`` per facility (NaN counts as 1).
    population
        ``P_k`` per location (residents; NaN counts as 0).
    catchment_s
        Catchment ``d0`` in seconds.
    enhanced
        False for 2SFCA (binary catchment), True for E2SFCA (stepped weights).

    Returns
    -------
    ndarray, shape (n_locations,)
        ``A_k`` (facility capacity per 1,000 residents reachable).
    """
    t = np.asarray(times_s, dtype=float)
    cap = np.nan_to_num(np.asarray(capacity, dtype=float), nan=1.0)
    pop = np.nan_to_num(np.asarray(population, dtype=float), nan=0.0)
    if t.size == 0:
        return np.zeros(t.shape[1] if t.ndim == 2 else 0)
    if enhanced:
        w = e2sfca_weights(t, catchment_s)
    else:
        with np.errstate(invalid="ignore"):
            w = (t <= catchment_s).astype(float)
    demand = w @ pop
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(demand > 0, cap / demand, 0.0)
    return np.asarray(1000.0 * (ratio @ w), dtype=float)
