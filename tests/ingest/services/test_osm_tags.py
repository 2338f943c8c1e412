from __future__ import annotations

import pandas as pd
import pytest

from territorio.categories import CATEGORIES
from territorio.ingest.services.osm_tags import OSM_TAG_RULES, classify_osm, query_tags

# (tags, expected category, expected school_level, expected extra digital-help row)
CASES: list[tuple[dict[str, str], str | None, str | None, bool]] = [
    ({"amenity": "hospital"}, "hospital", None, False),
    ({"healthcare": "hospital"}, "hospital", None, False),
    ({"amenity": "pharmacy", "healthcare": "pharmacy"}, "pharmacy", None, False),
    ({"healthcare": "pharmacy"}, "pharmacy", None, False),
    ({"amenity": "doctors"}, "primary_care", None, False),
    ({"amenity": "clinic"}, "primary_care", None, False),
    ({"healthcare": "doctor"}, "primary_care", None, False),
    ({"healthcare": "centre"}, "primary_care", None, False),
    ({"amenity": "kindergarten"}, "childcare", None, False),
    ({"amenity": "childcare"}, "childcare", None, False),
    ({"amenity": "school", "isced:level": "1"}, "primary_school", "isced", False),
    ({"amenity": "school", "isced:level": "2;3"}, "secondary_school", "isced", False),
    ({"amenity": "school", "isced:level": "3"}, "secondary_school", "isced", False),
    # lowest listed level decides: an istituto comprensivo "1;2" is a primary school
    ({"amenity": "school", "isced:level": "1;2"}, "primary_school", "isced", False),
    ({"amenity": "school", "isced:level": "0"}, "childcare", "isced", False),
    (
        {"amenity": "school", "name": "Liceo Scientifico Galileo Ferraris"},
        "secondary_school",
        "name",
        False,
    ),
    ({"amenity": "school", "name": "Scuola Primaria Gabelli"}, "primary_school", "name", False),
    (
        {"amenity": "school", "name": "Scuola Media Statale Nievo"},
        "secondary_school",
        "name",
        False,
    ),
    ({"amenity": "school", "name": "Scuola dell'infanzia Rodari"}, "childcare", "name", False),
    (
        {"amenity": "school", "name": "Istituto Tecnico Sommeiller"},
        "secondary_school",
        "name",
        False,
    ),
    ({"amenity": "school", "name": "Scuola Don Milani"}, "primary_school", "assumed", False),
    ({"amenity": "school"}, "primary_school", "assumed", False),
    ({"amenity": "post_office"}, "post_office", None, False),
    ({"amenity": "library"}, "library", None, False),
    ({"amenity": "library", "internet_access": "wlan"}, "library", None, True),
    (
        {"amenity": "library", "internet_access": "wlan", "internet_access:fee": "customers"},
        "library",
        None,
        False,
    ),
    (
        {"amenity": "social_facility", "social_facility": "nursing_home"},
        "social_facility",
        None,
        False,
    ),
    ({"amenity": "nursing_home"}, "social_facility", None, False),
    ({"amenity": "townhall"}, "town_hall", None, False),
    ({"amenity": "townhall", "internet_access": "terminal"}, "town_hall", None, True),
    ({"amenity": "townhall", "townhall:type": "community"}, None, None, False),
    ({"amenity": "community_centre", "internet_access": "yes"}, None, None, True),
    ({"amenity": "community_centre"}, None, None, False),
    ({"amenity": "internet_cafe", "internet_access": "wlan"}, "digital_help", None, False),
    ({"amenity": "bank"}, "bank_atm", None, False),
    ({"amenity": "atm"}, "bank_atm", None, False),
    ({"railway": "station"}, "railway_station", None, False),
    ({"railway": "halt"}, "railway_station", None, False),
    ({"railway": "station", "station": "subway"}, "pt_stop", None, False),
    ({"railway": "station", "station": "funicular"}, "pt_stop", None, False),
    ({"public_transport": "station", "train": "yes"}, "railway_station", None, False),
    ({"public_transport": "station", "bus": "yes"}, None, None, False),
    ({"highway": "bus_stop"}, "pt_stop", None, False),
    ({"public_transport": "platform", "bus": "yes"}, "pt_stop", None, False),
    ({"amenity": "restaurant"}, None, None, False),
    ({"shop": "supermarket"}, None, None, False),
    # amenity wins over transport tags (rule order)
    ({"amenity": "pharmacy", "highway": "bus_stop"}, "pharmacy", None, False),
]


@pytest.mark.parametrize(("tags", "category", "level", "digital"), CASES)
def test_tag_map(
    tags: dict[str, str], category: str | None, level: str | None, digital: bool
) -> None:
    got, how, extra = classify_osm(pd.DataFrame([tags]))
    assert got.iloc[0] == category
    assert how.iloc[0] == level
    assert bool(extra.iloc[0]) is digital


def test_classify_many_rows_at_once_with_missing_columns() -> None:
    df = pd.DataFrame(
        [
            {"amenity": "pharmacy"},
            {"highway": "bus_stop"},
            {"amenity": "school", "isced:level": "2"},
        ]
    )
    got, _, _ = classify_osm(df)
    assert got.tolist() == ["pharmacy", "pt_stop", "secondary_school"]


def test_every_rule_category_is_in_the_taxonomy_and_every_category_is_reachable() -> None:
    rule_cats = {r.category for r in OSM_TAG_RULES} | {"secondary_school", "childcare"}
    assert rule_cats <= set(CATEGORIES)
    assert rule_cats == set(CATEGORIES)


def test_query_tags_cover_rules_and_public_buildings() -> None:
    tags = query_tags()
    for rule in OSM_TAG_RULES:
        assert set(rule.values) <= set(tags[rule.key])
    assert {"community_centre", "social_centre"} <= set(tags["amenity"])
