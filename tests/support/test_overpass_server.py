"""The local Overpass server: protocol, QL subset and honest answers on real OSM data."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
import shapely

from tests.support.overpass_server import (
    LocalOverpass,
    OverpassQueryError,
    load_pbf,
    overpass_server,
    run_query,
)

# osmnx 2.1 sends polygons as 'lat lon' pairs in single quotes (repr of a str).
BOX = "60.166 24.938 60.166 24.950 60.176 24.950 60.176 24.938 60.166 24.938"
POLY = shapely.box(24.938, 60.166, 24.950, 60.176)


@pytest.fixture(scope="module")
def overpass_url() -> Iterator[str]:
    with overpass_server() as url:
        yield url


def test_status_text_has_slots_on_line_5(overpass_url: str) -> None:
    text = requests.get(f"{overpass_url}/status", timeout=10).text
    # osmnx reads line index 4 and int()s its first word
    assert int(text.split("\n")[4].split(" ")[0]) == 2


def test_pharmacies_in_polygon_match_a_brute_force_scan(overpass_url: str) -> None:
    q = (
        f"[out:json][timeout:180];((node['amenity'='pharmacy'](poly:'{BOX}');(._;>;););"
        f"(way['amenity'='pharmacy'](poly:'{BOX}');(._;>;);););out;"
    )
    resp = requests.post(f"{overpass_url}/interpreter", data={"data": q}, timeout=30)
    assert resp.status_code == 200
    doc = resp.json()
    assert doc["version"] == 0.6
    assert doc["osm3s"]["timestamp_osm_base"] == "2019-04-21T09:50:14Z"
    got = {e["id"] for e in doc["elements"] if e["type"] == "node"}
    # brute force over the decoded file: tagged pharmacy nodes inside the box
    d = load_pbf()
    expected = {
        int(d.node_ids[i])
        for i in range(len(d.node_ids))
        if d.node_tags[i].get("amenity") == "pharmacy"
        and shapely.intersects_xy(POLY, d.node_lon[i], d.node_lat[i])
    }
    assert got == expected
    assert len(expected) == 5  # Apteekki Eliel, Yliopiston (x2), Kluuvin, Erottajan


def test_network_query_returns_only_matching_ways_with_their_nodes() -> None:
    d = load_pbf()
    q = (
        '[out:json][timeout:180];(way["highway"]["highway"!~"footway|path|steps"]'
        f'["access"!~"private"](poly:\'{BOX}\');>;);out;'
    )
    doc = run_query(d, q)
    ways = [e for e in doc["elements"] if e["type"] == "way"]
    nodes = {e["id"] for e in doc["elements"] if e["type"] == "node"}
    assert ways
    for w in ways:
        tags = w["tags"]
        assert "highway" in tags
        assert tags["highway"] not in {"footway", "path", "steps"}
        assert tags.get("access") != "private"
        assert set(w["nodes"]) <= nodes  # the '>' recursion brought every node
        line = d.way_geoms[d.way_index[w["id"]]]
        assert shapely.intersects(POLY, line)


def test_bbox_and_negated_key_filters() -> None:
    d = load_pbf()
    q = '[out:json];node["amenity"="cafe"][!"name"](60.166,24.938,60.176,24.950);out;'
    doc = run_query(d, q)
    for e in doc["elements"]:
        assert e["tags"]["amenity"] == "cafe" and "name" not in e["tags"]
        assert 60.166 <= e["lat"] <= 60.176 and 24.938 <= e["lon"] <= 24.950


@pytest.mark.parametrize(
    "query",
    [
        "[out:xml];node(1,2,3,4);out;",  # XML output not implemented
        "[out:json];node(around:100,60.1,24.9);out;",  # around filter
        '[out:json];area["name"="Helsinki"];out;',  # area queries
    ],
)
def test_unsupported_syntax_is_refused(query: str) -> None:
    with pytest.raises(OverpassQueryError):
        run_query(load_pbf(), query)


def test_server_records_queries_and_answers_400_on_bad_query() -> None:
    with LocalOverpass() as srv:
        r = requests.post(f"{srv.url}/interpreter", data={"data": "[out:json];foo;"}, timeout=10)
        assert r.status_code == 400
        assert srv.queries == ["[out:json];foo;"]
