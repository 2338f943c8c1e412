"""maxspeed parsing, default speeds and car/foot permission rules."""

from __future__ import annotations

import math

import pytest

from territorio.ingest._speeds import (
    car_allowed,
    default_speed_kmh,
    foot_allowed,
    highway_class,
    parse_maxspeed,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("50", 50.0),
        (" 70 ", 70.0),
        ("30 km/h", 30.0),
        ("50 mph", 80.4672),  # 50 * 1.609344
        ("10 knots", 18.52),  # 10 * 1.852
        ("IT:urban", 50.0),  # Codice della Strada art. 142, centri abitati
        ("IT:rural", 90.0),  # strade extraurbane secondarie e locali
        ("IT:trunk", 110.0),  # strade extraurbane principali
        ("IT:motorway", 130.0),  # autostrade
        ("IT:zone30", 30.0),
        ("DE:rural", 100.0),
        ("FI:urban", 50.0),
        ("50;70", 60.0),  # mean of the list: (50 + 70) / 2
        (["30", "50"], 40.0),  # osmnx list after simplification: (30 + 50) / 2
        ("walk", 6.0),
        ("none", None),  # no limit: class default applies
        ("signals", None),
        ("XX:urban", None),  # unknown country
        ("", None),
        (None, None),
        (math.nan, None),
        ("0", None),
    ],
)
def test_parse_maxspeed(value: object, expected: float | None) -> None:
    got = parse_maxspeed(value)
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected)


def test_default_speeds_follow_the_documented_table() -> None:
    assert default_speed_kmh("motorway", urban=False) == 130.0
    assert default_speed_kmh("trunk", urban=False) == 110.0
    assert default_speed_kmh("primary", urban=True) == 50.0
    assert default_speed_kmh("primary", urban=False) == 90.0
    assert default_speed_kmh("residential", urban=False) == 30.0
    assert default_speed_kmh("living_street", urban=True) == 10.0
    assert default_speed_kmh("service", urban=True) == 20.0
    assert default_speed_kmh("something_new", urban=True) == 30.0


def test_highway_class_picks_the_most_important_of_a_list() -> None:
    assert highway_class(["residential", "primary"]) == "primary"
    assert highway_class("footway") == "footway"
    assert highway_class(None) == "unknown"


@pytest.mark.parametrize(
    ("tags", "car", "foot"),
    [
        ({"highway": "primary"}, True, True),
        ({"highway": "residential", "oneway": "yes"}, True, True),
        ({"highway": "motorway"}, True, False),
        ({"highway": "trunk"}, True, False),  # CdS art. 175: no pedestrians
        ({"highway": "trunk", "foot": "yes"}, True, True),
        ({"highway": "footway"}, False, True),
        ({"highway": "cycleway"}, False, False),
        ({"highway": "cycleway", "foot": "designated"}, False, True),
        ({"highway": "service"}, False, True),  # as osmnx "drive": no service roads
        ({"highway": "track"}, False, True),
        ({"highway": "trail"}, False, True),
        ({"highway": "residential", "access": "private"}, False, False),
        ({"highway": "residential", "access": "no"}, False, False),
        ({"highway": "residential", "access": "no", "foot": "yes"}, False, True),
        ({"highway": "residential", "access": "no", "motor_vehicle": "destination"}, True, False),
        ({"highway": "tertiary", "motor_vehicle": "no"}, False, True),
        ({"highway": "tertiary", "foot": "no"}, True, False),
        ({"highway": "pedestrian", "area": "yes"}, False, False),
        ({"highway": "construction"}, False, False),
        ({}, False, False),
    ],
)
def test_car_and_foot_permissions(tags: dict[str, str], car: bool, foot: bool) -> None:
    assert car_allowed(tags) is car
    assert foot_allowed(tags) is foot
