"""Speeds and permissions of OSM ways: ``maxspeed`` parsing, Italian defaults, car/foot rules.

Car speed of a way (km/h)
-------------------------
1. ``maxspeed`` when tagged and parseable (:func:`parse_maxspeed`): plain
   numbers are km/h; ``"30 mph"`` and ``"10 knots"`` are converted; a
   ``;``-separated list (``"50;70"``, lanes or merged ways) gives the mean of
   its values, as osmnx does; implicit zone values (``"IT:urban"``,
   ``"IT:rural"``, ``"IT:trunk"``, ``"IT:motorway"``, ``"IT:zone30"``, and the
   same for a few neighbouring countries) are the legal limits below;
   ``"walk"`` is 6 km/h (walking pace); ``"none"``, ``"signals"``,
   ``"variable"`` and anything unparseable fall back to the class default.
2. Otherwise the default of the ``highway`` class and the context (urban or
   rural) from :data:`DEFAULT_SPEEDS_KMH`, built on the Codice della Strada
   (art. 142: 50 km/h in built-up areas, 90 on rural roads, 110 on main
   extra-urban roads (OSM ``trunk``), 130 on motorways) with lower values
   where the law's limit is not what is driven (links, residential streets
   30 — the zone-30 streets that Italian towns now sign —, living streets 10,
   service roads 20, narrow ``unclassified`` rural roads 70).
3. The driven speed is the limit times the realism factor
   (``RoadsConfig.speed_factor``, e.g. 0.8).

Urban or rural context
----------------------
OSM ways rarely say whether they lie inside a *centro abitato*. The rule used
here is measured from the network itself and needs no extra data: an edge is
**urban** when at least :data:`URBAN_MIN_JUNCTIONS` car junctions (nodes where
three or more car segments meet) lie within :data:`URBAN_RADIUS_M` of its
midpoint — a junction density of about 35 per km², which built-up areas
exceed and open country does not. ``residential`` and ``living_street`` have
the same default in both contexts.

Car and foot permissions
------------------------
:func:`car_allowed` mirrors osmnx's ``"drive"`` filter (no service roads,
tracks, paths, footways, ...; no ``access=private``; no ``motor_vehicle=no``
/ ``motorcar=no``; no ``area=yes``) as a whitelist of road classes, and,
unlike osmnx, also honours ``access=no`` unless a motor-vehicle tag re-allows
it. :func:`foot_allowed`
forbids motorways and ``trunk`` roads (Codice della Strada art. 175 bars
pedestrians from *strade extraurbane principali*) and cycleways unless
``foot`` allows them, and honours ``foot=no`` and ``access=no|private``.
Walking speed is :data:`WALK_KMH` on every foot-allowed edge.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

__all__ = [
    "DEFAULT_SPEEDS_KMH",
    "URBAN_MIN_JUNCTIONS",
    "URBAN_RADIUS_M",
    "WALK_KMH",
    "car_allowed",
    "default_speed_kmh",
    "foot_allowed",
    "highway_class",
    "parse_maxspeed",
]

#: Walking speed on foot-allowed edges (km/h).
WALK_KMH = 4.5

#: Radius (m) and minimum number of car junctions around an edge's midpoint
#: for the edge to count as urban.
URBAN_RADIUS_M = 300.0
URBAN_MIN_JUNCTIONS = 10

_MPH = 1.609344
_KNOT = 1.852

#: Default car speed (km/h) by OSM ``highway`` class: (urban, rural).
DEFAULT_SPEEDS_KMH: dict[str, tuple[float, float]] = {
    "motorway": (130.0, 130.0),
    "motorway_link": (60.0, 60.0),
    "trunk": (70.0, 110.0),  # urban: strade urbane di scorrimento (up to 70)
    "trunk_link": (50.0, 60.0),
    "primary": (50.0, 90.0),
    "primary_link": (40.0, 50.0),
    "secondary": (50.0, 90.0),
    "secondary_link": (40.0, 50.0),
    "tertiary": (50.0, 90.0),
    "tertiary_link": (40.0, 50.0),
    "unclassified": (50.0, 70.0),  # narrow local roads; legal 90 is rarely drivable
    "road": (40.0, 50.0),  # class not yet surveyed
    # vector tiles' merged class (residential | unclassified | living_street |
    # road) where the OSM value is lost: residential in towns, narrow local
    # roads in the country
    "minor": (30.0, 50.0),
    "residential": (30.0, 30.0),
    "living_street": (10.0, 10.0),
    "service": (20.0, 20.0),
    "track": (20.0, 20.0),
}
_OTHER_SPEED = (30.0, 30.0)

#: Implicit ``maxspeed`` zone values (km/h). Italy first, neighbours for
#: extracts that cross the border, Finland for the Helsinki test data.
_ZONE_KMH: dict[str, float] = {
    "urban": 50.0,
    "rural": 90.0,
    "trunk": 110.0,
    "motorway": 130.0,
    "living_street": 10.0,
    "bicycle_road": 30.0,
}
_COUNTRY_ZONE_KMH: dict[str, dict[str, float]] = {
    "IT": {},
    "FR": {"rural": 80.0},
    "CH": {"rural": 80.0, "trunk": 100.0, "motorway": 120.0},
    "AT": {"rural": 100.0},
    "DE": {"rural": 100.0, "motorway": 130.0},
    "FI": {"rural": 80.0, "motorway": 120.0},
}
_NUMBER = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*(km/h|kmh|kph|mph|knots)?\s*$", re.IGNORECASE)
_ZONE = re.compile(r"^\s*([A-Z]{2}):([a-z_]+?)(\d+)?\s*$")


def _parse_one(value: str) -> float | None:
    v = value.strip()
    if not v:
        return None
    if v.lower() == "walk":
        return 6.0
    m = _NUMBER.match(v)
    if m:
        speed = float(m.group(1).replace(",", "."))
        unit = (m.group(2) or "").lower()
        if unit == "mph":
            speed *= _MPH
        elif unit == "knots":
            speed *= _KNOT
        return speed if speed > 0 else None
    z = _ZONE.match(v)
    if z:
        country, zone, digits = z.group(1), z.group(2), z.group(3)
        if zone == "zone" and digits:  # "IT:zone30", "DE:zone20"
            return float(digits)
        if country in _COUNTRY_ZONE_KMH and digits is None:
            table = {**_ZONE_KMH, **_COUNTRY_ZONE_KMH[country]}
            return table.get(zone)
    return None


def parse_maxspeed(value: object) -> float | None:
    """Return the speed limit (km/h) of an OSM ``maxspeed`` value, or None.

    Parameters
    ----------
    value
        The tag value (``"50"``, ``"30 mph"``, ``"IT:urban"``, ``"50;70"``), a
        list of such values (osmnx merges tags of simplified edges into
        lists), or None / NaN when untagged.

    Returns
    -------
    float or None
        km/h; None when untagged or not a speed (``"none"``, ``"signals"``,
        unknown zones): the caller then uses the class default.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    parts: list[str]
    if isinstance(value, list | tuple):
        parts = [p for v in value for p in str(v).split(";")]
    else:
        parts = str(value).split(";")
    speeds = [s for s in (_parse_one(p) for p in parts) if s is not None]
    if not speeds:
        return None
    return sum(speeds) / len(speeds)


_RANK = list(DEFAULT_SPEEDS_KMH)


def highway_class(value: object) -> str:
    """Return one OSM ``highway`` class: the most important one of a list.

    osmnx merges the tags of simplified edges into lists; the edge is filed
    under its highest class (``["residential", "primary"]`` is ``"primary"``).
    Missing values give ``"unknown"``.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "unknown"
    if isinstance(value, list | tuple):
        vals = [str(v) for v in value]
        if not vals:
            return "unknown"
        return min(vals, key=lambda v: (_RANK.index(v) if v in _RANK else len(_RANK), v))
    return str(value)


def default_speed_kmh(highway: str, *, urban: bool) -> float:
    """Return the default car speed limit (km/h) of a ``highway`` class in a context."""
    pair = DEFAULT_SPEEDS_KMH.get(highway, _OTHER_SPEED)
    return pair[0] if urban else pair[1]


#: Classes cars may use (a whitelist: new or odd classes such as ``trail`` are not roads).
_DRIVABLE = {
    "motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link",
    "secondary", "secondary_link", "tertiary", "tertiary_link", "unclassified", "road",
    "residential", "living_street",
}  # fmt: skip
_BAD_SERVICE = {"alley", "driveway", "emergency_access", "parking", "parking_aisle", "private"}
_NOT_IN_USE = {
    "abandoned", "construction", "no", "planned", "platform", "proposed", "raceway",
    "razed", "rest_area", "services", "disused", "unknown",
}  # fmt: skip
_NO_FOOT_CLASSES = {"motorway", "motorway_link", "trunk", "trunk_link", "cycleway", "bus_guideway",
                    "busway"}  # fmt: skip
_YES = {"yes", "designated", "permissive", "destination", "official"}


def _tag(tags: Mapping[str, object], key: str) -> str:
    v = tags.get(key)
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, list | tuple):
        return ";".join(str(x) for x in v)
    return str(v)


def car_allowed(tags: Mapping[str, object]) -> bool:
    """Return True if cars may use a way with these OSM tags (see module notes)."""
    hw = highway_class(tags.get("highway"))
    if hw not in _DRIVABLE or _tag(tags, "area") == "yes":
        return False
    if _tag(tags, "service") in _BAD_SERVICE:
        return False
    motor = {_tag(tags, "motor_vehicle"), _tag(tags, "motorcar"), _tag(tags, "vehicle")}
    if "no" in motor or "private" in motor:
        return False
    access = _tag(tags, "access")
    if access == "private":
        return False
    return not (access == "no" and not (motor & _YES))


def foot_allowed(tags: Mapping[str, object]) -> bool:
    """Return True if pedestrians may use a way with these OSM tags (see module notes)."""
    hw = highway_class(tags.get("highway"))
    if hw in _NOT_IN_USE or _tag(tags, "area") == "yes":
        return False
    foot = _tag(tags, "foot")
    if foot in _YES:
        return True
    if foot in {"no", "private", "use_sidepath"}:
        return False
    if hw in _NO_FOOT_CLASSES:
        return False
    return _tag(tags, "access") not in {"no", "private"}
