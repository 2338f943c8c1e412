"""The OpenStreetMap tag to service-category map, used by every OSM path.

The three OSM adapters (Overpass via osmnx, ``.osm.pbf`` via pyrosm and
GeoJSON exports with raw tags) all classify features with
:func:`classify_osm`, so the same feature gets the same category whatever
way it was downloaded. :data:`OSM_TAG_RULES` is the single table; rules are
tried in order and the first match wins.

=================  ==========================================================
category           OSM tags
=================  ==========================================================
hospital           ``amenity=hospital``, ``healthcare=hospital``
pharmacy           ``amenity=pharmacy``, ``healthcare=pharmacy``
primary_care       ``amenity=doctors|clinic``, ``healthcare=doctor|clinic|centre``
childcare          ``amenity=kindergarten|childcare``
primary_school /   ``amenity=school``, split by ``isced:level`` (see below)
secondary_school
post_office        ``amenity=post_office``
library            ``amenity=library``
social_facility    ``amenity=social_facility`` (any ``social_facility=*``:
                   nursing_home, assisted_living, group_home, ...) and the
                   legacy ``amenity=nursing_home``
town_hall          ``amenity=townhall`` except ``townhall:type=community``
                   (a community meeting hall, not the seat of a comune)
railway_station    ``railway=station|halt`` except metro/light-rail/funicular
                   stations (``station=subway|light_rail|monorail|funicular|
                   tram|miniature``, which are ``pt_stop``), and
                   ``public_transport=station`` with ``train=yes``
pt_stop            ``highway=bus_stop``, ``public_transport=platform``,
                   metro / light-rail / funicular stations (above)
digital_help       ``amenity=internet_cafe``; and, as an *extra* row next to
                   the feature's own category, public buildings
                   (``amenity=library|townhall|community_centre|social_centre``)
                   with ``internet_access=yes|wlan|wifi|terminal|wired`` and no
                   ``internet_access:fee=yes|customers``
bank_atm           ``amenity=bank|atm``
=================  ==========================================================

Schools (``amenity=school``): ``isced:level`` is read as a list
(``"1;2"``, ``"1-2"``); the *lowest* level decides, because one row carries
one category and the lower level is the one in the essential basket:
``0`` → childcare, ``1`` → primary_school, ``2``/``3`` → secondary_school.
Without a usable level the name decides (Italian words: "infanzia",
"materna", "nido" → childcare; "primaria", "elementare" → primary_school;
"media", "secondaria", "liceo", "istituto tecnico/professionale", "itis",
"ipsia", ... → secondary_school; the English "kindergarten", "primary",
"elementary", "secondary", "high school" likewise); if neither tells, the school is taken as
a **primary school** (the most common kind of ``amenity=school`` in Italian
villages) and ``"school_level": "assumed"`` is stored in its attributes so
it can be reviewed. The ISCED levels found are stored as ``isced_level``.

Ways and relations are reduced to a representative point (inside the shape)
by the adapters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "ATTRIBUTE_TAGS",
    "OSM_TAG_RULES",
    "OsmRule",
    "classify_osm",
    "query_tags",
]


@dataclass(frozen=True)
class OsmRule:
    """One row of the tag map: ``key`` in ``values`` gives ``category``."""

    category: str
    key: str
    values: tuple[str, ...]


#: The tag map, in order of precedence (first match wins). Schools, stations
#: and town halls get the refinements described in the module docstring.
OSM_TAG_RULES: tuple[OsmRule, ...] = (
    OsmRule("hospital", "amenity", ("hospital",)),
    OsmRule("hospital", "healthcare", ("hospital",)),
    OsmRule("pharmacy", "amenity", ("pharmacy",)),
    OsmRule("pharmacy", "healthcare", ("pharmacy",)),
    OsmRule("primary_care", "amenity", ("doctors", "clinic")),
    OsmRule("primary_care", "healthcare", ("doctor", "clinic", "centre")),
    OsmRule("childcare", "amenity", ("kindergarten", "childcare")),
    OsmRule("primary_school", "amenity", ("school",)),  # refined by isced:level / name
    OsmRule("post_office", "amenity", ("post_office",)),
    OsmRule("library", "amenity", ("library",)),
    OsmRule("social_facility", "amenity", ("social_facility", "nursing_home")),
    OsmRule("town_hall", "amenity", ("townhall",)),
    OsmRule("digital_help", "amenity", ("internet_cafe",)),
    OsmRule("bank_atm", "amenity", ("bank", "atm")),
    OsmRule("railway_station", "railway", ("station", "halt")),
    OsmRule("railway_station", "public_transport", ("station",)),  # only with train=yes
    OsmRule("pt_stop", "highway", ("bus_stop",)),
    OsmRule("pt_stop", "public_transport", ("platform",)),
)

#: Station types that are urban public transport, not railway stations.
URBAN_STATION_TYPES = ("subway", "light_rail", "monorail", "funicular", "tram", "miniature")
#: Public buildings whose public internet access makes them a digital-help point.
DIGITAL_HELP_AMENITIES = ("library", "townhall", "community_centre", "social_centre")
DIGITAL_HELP_ACCESS = ("yes", "wlan", "wifi", "terminal", "wired")
DIGITAL_HELP_FEE = ("yes", "customers")

#: Tags copied into ``attributes`` when present.
ATTRIBUTE_TAGS: tuple[str, ...] = (
    "amenity",
    "healthcare",
    "healthcare:speciality",
    "emergency",
    "dispensing",
    "isced:level",
    "school:IT",
    "operator",
    "operator:type",
    "social_facility",
    "social_facility:for",
    "townhall:type",
    "railway",
    "station",
    "public_transport",
    "train",
    "highway",
    "internet_access",
    "internet_access:fee",
    "opening_hours",
    "wheelchair",
    "ref",
    "addr:city",
    "addr:street",
    "addr:housenumber",
)

_CHILDCARE_NAME = re.compile(
    r"\b(?:infanzia|materna|nido|asilo|kindergarten|nursery)\b", re.IGNORECASE
)
_PRIMARY_NAME = re.compile(r"\b(?:primaria|elementar[ei]|primary|elementary)\b", re.IGNORECASE)
_SECONDARY_NAME = re.compile(
    r"\b(?:medi[ae]|secondaria|liceo|istituto\s+(?:tecnico|professionale|d'arte|magistrale|"
    r"superiore|di\s+istruzione\s+superiore)|iis|itis|itc|itg|ipsia|ipsar|iti|ipc|"
    r"convitto|primo\s+grado|secondo\s+grado|secondary|high\s+school)\b",
    re.IGNORECASE,
)
_LEVEL_DIGIT = re.compile(r"[0-8]")


def query_tags() -> dict[str, list[str]]:
    """Return the OSM tags to download (osmnx ``tags`` / pyrosm ``custom_filter``).

    Includes the public buildings that may be digital-help points.
    """
    tags: dict[str, list[str]] = {}
    for rule in OSM_TAG_RULES:
        vals = tags.setdefault(rule.key, [])
        vals.extend(v for v in rule.values if v not in vals)
    tags["amenity"].extend(a for a in DIGITAL_HELP_AMENITIES if a not in tags["amenity"])
    return tags


def _col(tags: pd.DataFrame, key: str) -> pd.Series:
    if key in tags.columns:
        return tags[key].astype("string").str.strip().str.lower()
    return pd.Series(pd.NA, index=tags.index, dtype="string")


def _school_levels(isced: pd.Series) -> pd.Series:
    """Return the lowest ISCED level listed in each value (NaN when none)."""
    first = isced.fillna("").str.findall(_LEVEL_DIGIT)
    return first.map(lambda ds: min(int(d) for d in ds) if ds else np.nan).astype("float64")


def classify_osm(tags: pd.DataFrame) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Map OSM features to service categories.

    Parameters
    ----------
    tags
        One row per feature, one column per OSM key (missing keys allowed);
        ``name`` is used for schools without ``isced:level``.

    Returns
    -------
    tuple of Series
        ``category`` (code or None), ``school_level`` (``"isced"``, ``"name"``,
        ``"assumed"`` for schools, else None) and ``digital_help`` (bool: the
        feature is also a digital-help point, as an extra row).
    """
    idx = tags.index
    category = pd.Series(None, index=idx, dtype=object)
    for rule in OSM_TAG_RULES:
        hit = _col(tags, rule.key).isin(rule.values).fillna(False).to_numpy(dtype=bool)
        if rule.key == "public_transport" and rule.values == ("station",):
            hit = hit & (_col(tags, "train") == "yes").fillna(False).to_numpy(dtype=bool)
        category = category.where(~(hit & category.isna().to_numpy()), rule.category)

    station = _col(tags, "station")
    urban = station.isin(URBAN_STATION_TYPES).fillna(False).to_numpy(dtype=bool)
    category = category.where(~((category == "railway_station").to_numpy() & urban), "pt_stop")
    community = (_col(tags, "townhall:type") == "community").fillna(False).to_numpy(dtype=bool)
    category = category.where(~((category == "town_hall").to_numpy() & community), None)

    school_level = np.full(len(idx), None, dtype=object)
    is_school = (category == "primary_school").to_numpy()
    if is_school.any():
        level = _school_levels(_col(tags, "isced:level"))
        name = _col(tags, "name").fillna("")
        by_level = np.select(
            [level == 0, level == 1, level >= 2],
            ["childcare", "primary_school", "secondary_school"],
            default="",
        )
        by_name = np.select(
            [
                name.str.contains(_CHILDCARE_NAME).to_numpy(dtype=bool),
                name.str.contains(_PRIMARY_NAME).to_numpy(dtype=bool),
                name.str.contains(_SECONDARY_NAME).to_numpy(dtype=bool),
            ],
            ["childcare", "primary_school", "secondary_school"],
            default="",
        )
        chosen = np.where(
            by_level != "", by_level, np.where(by_name != "", by_name, "primary_school")
        )
        how = np.where(by_level != "", "isced", np.where(by_name != "", "name", "assumed"))
        category = category.where(~is_school, pd.Series(chosen, index=idx))
        school_level[is_school] = how[is_school]

    access = _col(tags, "internet_access").isin(DIGITAL_HELP_ACCESS).fillna(False)
    fee = _col(tags, "internet_access:fee").isin(DIGITAL_HELP_FEE).fillna(False)
    public = _col(tags, "amenity").isin(DIGITAL_HELP_AMENITIES).fillna(False)
    digital = (access & ~fee & public).to_numpy(dtype=bool)
    digital = digital & (category != "digital_help").to_numpy()
    cat = category.to_numpy(dtype=object).copy()
    cat[pd.isna(cat)] = None
    return (
        pd.Series(cat, index=idx, dtype=object),
        pd.Series(school_level, index=idx, dtype=object),
        pd.Series(digital, index=idx),
    )
