"""Coordinate parsing and validation shared by every service adapter.

Rules (applied to whole columns at once):

* values may be numbers or strings; a decimal comma (``"45,0712"``) is read
  as a decimal point; surrounding spaces are ignored;
* text that is not a number (``"abc"``) is an error naming the file, line and
  column (:func:`unparseable`): it is a data-entry mistake to fix, not a gap;
* missing or non-finite values, longitudes outside [-180, 180],
  latitudes outside [-90, 90], and an exact ``0`` in either coordinate (the
  "null island" placeholder some registries use for "not geocoded") are *bad
  coordinates*;
* a point outside the area whose swapped point (lat, lon) falls inside it is
  taken as a swapped pair, corrected and counted (``swapped_coordinates``);
  this is unambiguous because the two readings cannot both be in the area;
* any other point outside the area is dropped (``dropped_outside_area``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

__all__ = ["CoordCheck", "check_coordinates", "parse_numbers", "unparseable"]


def parse_numbers(values: pd.Series) -> np.ndarray:
    """Parse a column of numbers that may use decimal commas; NaN where invalid.

    Parameters
    ----------
    values
        Numbers or strings such as ``"45.07"``, ``"45,07"``, ``" 7.6 "``.
    """
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        out = values.to_numpy(dtype="float64", na_value=np.nan)
    else:
        text = values.astype("string").str.strip().str.replace(",", ".", regex=False)
        out = pd.to_numeric(text, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    return np.where(np.isfinite(out), out, np.nan)


def unparseable(values: pd.Series) -> np.ndarray:
    """Return where a value is present (not empty) but is not a number.

    Empty cells and placeholders (``0``) are how registries say "not geocoded"
    and are skipped with a count; text such as ``"abc"`` or ``"45°04'N"`` in a
    coordinate column is a data-entry error the user must fix.
    """
    if pd.api.types.is_numeric_dtype(values.dtype):
        return np.zeros(len(values), dtype=bool)
    text = values.astype("string").str.strip()
    present = text.notna() & (text != "")
    return (present & np.isnan(parse_numbers(values))).to_numpy(dtype=bool, na_value=False)


@dataclass(frozen=True)
class CoordCheck:
    """Result of :func:`check_coordinates` (arrays aligned with the input rows).

    Attributes
    ----------
    lon, lat
        Parsed coordinates, corrected where a swap was detected.
    bad
        Missing, non-numeric, out of range or placeholder coordinates.
    outside
        Valid coordinates outside the area (even after the swap test).
    swapped
        Rows whose lon/lat were swapped in the source and have been corrected.
    """

    lon: np.ndarray
    lat: np.ndarray
    bad: np.ndarray
    outside: np.ndarray
    swapped: np.ndarray

    @property
    def ok(self) -> np.ndarray:
        """Rows with good coordinates inside the area."""
        return ~(self.bad | self.outside)


def check_coordinates(lon_raw: pd.Series, lat_raw: pd.Series, area: BaseGeometry) -> CoordCheck:
    """Parse and validate coordinate columns against an area (EPSG:4326).

    Parameters
    ----------
    lon_raw, lat_raw
        Longitude and latitude columns (numbers or strings).
    area
        The study area in EPSG:4326.
    """
    lon = parse_numbers(lon_raw)
    lat = parse_numbers(lat_raw)
    bad = (
        np.isnan(lon)
        | np.isnan(lat)
        | (np.abs(lon) > 180)
        | (np.abs(lat) > 90)
        | (lon == 0)
        | (lat == 0)
    )
    shapely.prepare(area)
    x = np.where(bad, 0.0, lon)
    y = np.where(bad, 0.0, lat)
    inside = ~bad & shapely.contains_xy(area, x, y)
    # Swapped only when the swapped reading is a valid lon/lat inside the area.
    maybe = ~bad & ~inside & (np.abs(lat) <= 180) & (np.abs(lon) <= 90)
    swapped = maybe & shapely.contains_xy(area, y, x)
    lon_fixed = np.where(swapped, lat, lon)
    lat_fixed = np.where(swapped, lon, lat)
    outside = ~bad & ~inside & ~swapped
    return CoordCheck(lon=lon_fixed, lat=lat_fixed, bad=bad, outside=outside, swapped=swapped)
