from __future__ import annotations

import numpy as np
import pytest

from territorio.accessibility.fsca import e2sfca_weights, two_step_fca

# two facilities (10 and 20 beds), three cells (1000, 2000, 3000 residents),
# catchment 30 min = 1800 s; times in seconds (rows = facilities, cols = cells)
T = np.array([[600.0, 1500.0, 2400.0], [2000.0, 1200.0, 300.0]])
CAP = np.array([10.0, 20.0])
POP = np.array([1000.0, 2000.0, 3000.0])


def test_two_step_fca_hand_example() -> None:
    # F1 reaches cells 1, 2: demand 3000 -> R1 = 10 / 3000
    # F2 reaches cells 2, 3: demand 5000 -> R2 = 20 / 5000 = 0.004
    # A = 1000 * [R1, R1 + R2, R2] = [3.3333, 7.3333, 4.0]
    a = two_step_fca(T, CAP, POP, 1800.0)
    assert a == pytest.approx([10 / 3, 10 / 3 + 4.0, 4.0])


def test_e2sfca_hand_example() -> None:
    # weights by thirds of 1800 s: <= 600 -> 1.00, <= 1200 -> 0.68, <= 1800 -> 0.22
    # F1: 600 -> 1.00, 1500 -> 0.22, 2400 -> 0 ; demand 1000 + 0.22 * 2000 = 1440
    # F2: 2000 -> 0, 1200 -> 0.68, 300 -> 1.00 ; demand 0.68 * 2000 + 3000 = 4360
    # A1 = 1000 * 10/1440 = 6.9444 ; A2 = 1000 * (0.22 * 10/1440 + 0.68 * 20/4360) = 4.6470
    # A3 = 1000 * 20/4360 = 4.5872
    w = e2sfca_weights(T, 1800.0)
    assert w.tolist() == [[1.0, 0.22, 0.0], [0.0, 0.68, 1.0]]
    e = two_step_fca(T, CAP, POP, 1800.0, enhanced=True)
    r1, r2 = 10 / 1440, 20 / 4360
    assert e == pytest.approx([1000 * r1, 1000 * (0.22 * r1 + 0.68 * r2), 1000 * r2])


def test_nan_capacity_counts_one_and_unreachable() -> None:
    # capacity NaN -> 1; a facility with nobody in its catchment contributes nothing
    t = np.array([[100.0, np.nan], [np.inf, np.inf]])
    a = two_step_fca(t, np.array([np.nan, 5.0]), np.array([500.0, 100.0]), 1800.0)
    # R1 = 1 / 500 -> cell 1 gets 1000 * 0.002 = 2 ; cell 2 reaches nothing -> 0
    assert a.tolist() == pytest.approx([2.0, 0.0])
