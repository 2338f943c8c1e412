from __future__ import annotations

import numpy as np
import pandas as pd

from territorio.ingest.services._coords import check_coordinates, parse_numbers
from tests.ingest.services._toy import AREA


def test_parse_numbers_decimal_comma_blank_and_text() -> None:
    got = parse_numbers(pd.Series(["45,0712", " 7.65 ", "", None, "abc", "1e400"]))
    # "45,0712" -> 45.0712; " 7.65 " -> 7.65; blank/None/text -> NaN; 1e400 overflows to inf -> NaN
    assert got[0] == 45.0712
    assert got[1] == 7.65
    assert np.isnan(got[2:]).all()


def test_parse_numbers_numeric_column_passes_through() -> None:
    got = parse_numbers(pd.Series([7.5, np.nan]))
    assert got[0] == 7.5 and np.isnan(got[1])


def test_check_coordinates_every_case() -> None:
    lon = pd.Series(["7,65", "45.05", "0", "7.65", "9.19", "200", None])
    lat = pd.Series(["45,05", "7.65", "0", "0", "45.46", "45", "45.05"])
    chk = check_coordinates(lon, lat, AREA)
    # row 0: decimal commas, (7.65, 45.05) inside the area          -> ok
    # row 1: (45.05, 7.65) is outside, swapped (7.65, 45.05) inside  -> ok, swapped
    # row 2: (0, 0) null island                                      -> bad
    # row 3: lat exactly 0 (placeholder)                             -> bad
    # row 4: Milan (9.19, 45.46) valid but outside                   -> outside
    # row 5: lon 200 out of range                                    -> bad
    # row 6: missing lon                                             -> bad
    assert chk.ok.tolist() == [True, True, False, False, False, False, False]
    assert chk.swapped.tolist() == [False, True, False, False, False, False, False]
    assert chk.bad.tolist() == [False, False, True, True, False, True, True]
    assert chk.outside.tolist() == [False, False, False, False, True, False, False]
    assert chk.lon[1] == 7.65 and chk.lat[1] == 45.05
