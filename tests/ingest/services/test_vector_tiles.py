"""The ``osm_tiles`` service source on the real OpenMapTiles tiles of ../shared/data/osm_tiles.

Small tile sets are made in ``tmp_path`` by linking a few real tiles (and the real
``metadata.json``), or by writing them into an ``.mbtiles`` file; nothing is copied
into the project. The expected counts were read off the raw ``poi`` layer of each tile
(``read_layer(open_tileset(...), "poi")`` grouped by class and subclass) and are
written next to each assertion.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry.base import BaseGeometry

from territorio.config import ServiceSourceConfig, load_config
from territorio.errors import ConfigError
from territorio.ingest._vector_tiles import open_tileset, read_layer
from territorio.ingest.services import load_service_source, merge_services
from territorio.ingest.services.vector_tiles import _dedupe

pytestmark = pytest.mark.shared_data

Province = tuple[gpd.GeoDataFrame, BaseGeometry]
#: The z14 tile over the centre of Ivrea (lon 7.866-7.888, lat 45.460-45.475).
IVREA = (8550, 5863)
#: Ivrea and the three tiles east and south of it.
IVREA_2X2 = [(8550, 5863), (8551, 5863), (8550, 5864), (8551, 5864)]


#: Provenance counts of the whole province + 10 km (tiles touching its bounding box).
PROVINCE_COUNTS = {
    "poi_features": 55288,
    "dropped_station_not_on_railway": 8,
    "unmapped_subclass_books": 99,
    "unmapped_subclass_community_centre": 89,
    "unmapped_subclass_courthouse": 4,
    "unmapped_subclass_post_box": 245,
    "unmapped_subclass_public_building": 23,
    "unmapped_other_subclasses": 50895,
    "dropped_duplicate_point": 3,  # same subclass and name twice at one spot in OSM
    "school_level_unknown": 313,
    "school_level_unknown_unnamed": 237,  # 76 named ones say no level
    "school_extra_level_rows": 25,
    "read": 55288,
    "dropped_unmapped_category": 51676,
    "dropped_outside_area": 307,
    "kept": 3327,
    "kept_bank_atm": 442,
    "kept_childcare": 359,
    "kept_hospital": 78,
    "kept_library": 141,
    "kept_pharmacy": 896,
    "kept_post_office": 377,
    "kept_primary_care": 125,
    "kept_primary_school": 252,
    "kept_railway_station": 7,
    "kept_secondary_school": 223,
    "kept_social_facility": 42,
    "kept_town_hall": 385,
}


def tile_folder(shared: Path, dest: Path, tiles: list[tuple[int, int]]) -> Path:
    """A tile set folder in ``dest`` linking the given real z14 tiles."""
    for x, y in tiles:
        (dest / "14" / str(x)).mkdir(parents=True, exist_ok=True)
        (dest / "14" / str(x) / f"{y}.pbf").symlink_to(shared / f"osm_tiles/14/{x}/{y}.pbf")
    (dest / "metadata.json").symlink_to(shared / "osm_tiles/metadata.json")
    return dest


def write_mbtiles(shared: Path, path: Path, tiles: list[tuple[int, int]]) -> Path:
    """An .mbtiles file with the given real z14 tiles (TMS rows) and the set's metadata."""
    meta = json.loads((shared / "osm_tiles/metadata.json").read_text(encoding="utf-8"))
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE metadata (name text, value text)")
    con.execute(
        "CREATE TABLE tiles (zoom_level integer, tile_column integer, tile_row integer, "
        "tile_data blob)"
    )
    rows = {
        "name": meta["name"],
        "format": "pbf",
        "minzoom": "14",
        "maxzoom": "14",
        "bounds": ",".join(map(str, meta["bounds"])),
        "json": json.dumps({"vector_layers": meta["vector_layers"]}),
    }
    con.executemany("INSERT INTO metadata VALUES (?, ?)", list(rows.items()))
    for x, y in tiles:
        data = (shared / f"osm_tiles/14/{x}/{y}.pbf").read_bytes()
        # MBTiles rows count from the south (TMS): row = 2**z - 1 - y
        con.execute("INSERT INTO tiles VALUES (14, ?, ?, ?)", (x, 2**14 - 1 - y, data))
    con.commit()
    con.close()
    return path


def load(location: Path | str, province: Province, tmp_path: Path, **cfg: Any) -> Any:
    munis, area = province
    return load_service_source(
        ServiceSourceConfig(adapter="osm_tiles", **cfg),
        location=str(location),
        area=area,
        municipalities=munis,
        cache_dir=tmp_path / "cache",
    )


def kept(res: Any) -> dict[str, int]:
    return {
        k.removeprefix("kept_"): v
        for k, v in res.provenance.counts.items()
        if k.startswith("kept_") and v
    }


def test_one_tile_mapping_per_subclass(
    shared_data: Path, province: Province, tmp_path: Path
) -> None:
    ts = tile_folder(shared_data, tmp_path / "ivrea", [IVREA])
    res = load(ts, province, tmp_path, data_date="2021-08-05")
    c = res.provenance.counts
    # the Ivrea tile holds 705 POIs; by class / subclass (raw layer):
    # bank/bank 10; doctors/doctors 3 + hospital/clinic 2 (primary care);
    # hospital/hospital 2 (Ospedale Civile, Clinica Eporediese); library/library 1
    # (library/books 3 are bookshops); pharmacy 5; post/post_office 1 (post_box 8);
    # school/kindergarten 3; town_hall/townhall 1 ("Palazzo di Città") and 10 other
    # town_hall values (community_centre 6, courthouse 1, public_building 3);
    # school/school 9 = 3 "Scuola Primaria ...", 5 secondary (2 licei, 1 istituto
    # tecnico, 2 "Secondaria di Primo Grado") and "La Castiglia" (no level).
    assert c["poi_features"] == 705
    assert kept(res) == {
        "bank_atm": 10,
        "childcare": 3,
        "hospital": 2,
        "library": 1,
        "pharmacy": 5,
        "post_office": 1,
        "primary_care": 5,
        "primary_school": 3,
        "secondary_school": 5,
        "town_hall": 1,
    }
    assert c["kept"] == 36
    assert c["school_level_unknown"] == 1
    assert (c["unmapped_subclass_books"], c["unmapped_subclass_post_box"]) == (3, 8)
    assert c["dropped_duplicate_point"] == 0
    # 705 = 36 kept + 669 unmapped (incl. the school of unknown level), nothing else
    assert c["dropped_unmapped_category"] == 669
    assert set(res.data["pro_com_t"]) == {"001125"}  # Ivrea


def test_townhall_rule(shared_data: Path, province: Province, tmp_path: Path) -> None:
    ts = tile_folder(shared_data, tmp_path / "ivrea", [IVREA])
    res = load(ts, province, tmp_path)
    c = res.provenance.counts
    halls = res.data[res.data["category"] == "town_hall"]
    assert halls["name"].tolist() == ["Palazzo di Città"]
    assert json.loads(halls["attributes"].iloc[0])["subclass"] == "townhall"
    # the tile class town_hall also groups these OSM values; none is a town hall
    assert (
        c["unmapped_subclass_community_centre"],
        c["unmapped_subclass_courthouse"],
        c["unmapped_subclass_public_building"],
    ) == (6, 1, 3)
    assert not res.data["name"].isin(["Tribunale - Procura di Ivrea", "INPS"]).any()


def test_school_rows_and_attributes(shared_data: Path, province: Province, tmp_path: Path) -> None:
    ts = tile_folder(shared_data, tmp_path / "ivrea", [IVREA])
    res = load(ts, province, tmp_path)
    sch = res.data[res.data["category"].isin(["primary_school", "secondary_school"])]
    attrs = {n: json.loads(a) for n, a in zip(sch["name"], sch["attributes"], strict=True)}
    liceo = attrs["Liceo Classico Statale Carlo Botta"]
    assert (liceo["school_level"], liceo["isced_level"], liceo["school_type"]) == (
        "upper_secondary",
        "3",
        "liceo",
    )
    media = attrs["Scuola Secondaria di Primo Grado la Castiglia"]
    assert (media["school_level"], media["isced_level"]) == ("lower_secondary", "2")
    assert "school_type" not in media  # SNAI reads liceo/tecnico from it: lower has none
    assert attrs["Scuola Primaria Statale Costantino Nigra"]["school_level_from"] == "name"
    assert "La Castiglia" not in attrs  # unknown level: in no school category


def test_istituto_comprensivo_gives_two_rows(
    shared_data: Path, province: Province, tmp_path: Path
) -> None:
    # "Istituto Comprensivo Francesco Gonin" (Giaveno) is one POI: a primary and a
    # lower-secondary row at the same point, ids <subclass>@14/gx/gy and ...#secondary_school
    munis, _ = province
    tiles = open_tileset(shared_data / "osm_tiles")
    poi = read_layer(tiles, "poi", bbox=(7.30, 45.00, 7.40, 45.06))
    pt = poi[poi["name:latin"] == "Istituto Comprensivo Francesco Gonin"].to_crs(4326)
    assert len(pt) == 1
    x, y = pt.geometry.x.iloc[0], pt.geometry.y.iloc[0]
    area = shapely.box(x - 0.001, y - 0.001, x + 0.001, y + 0.001)
    res = load_service_source(
        ServiceSourceConfig(adapter="osm_tiles"),
        location=str(shared_data / "osm_tiles"),
        area=area,
        municipalities=munis,
        cache_dir=tmp_path,
    )
    ic = res.data[res.data["name"] == "Istituto Comprensivo Francesco Gonin"]
    assert sorted(ic["category"]) == ["primary_school", "secondary_school"]
    ids = sorted(ic["source_id"])
    assert ids[0].startswith("school@14/") and ids[1] == ids[0] + "#secondary_school"
    assert res.provenance.counts["school_extra_level_rows"] == 1


def test_stations_only_on_the_railway(
    shared_data: Path, province: Province, tmp_path: Path
) -> None:
    # class "station" mixes railway=station and aerialway=station in this tile profile.
    # "Stazione di Pinerolo" lies 27 m from a rail line; "Alpe Bianca" (a ski-lift
    # station above Viù) has no rail line within kilometres.
    munis, _ = province
    out = {}
    for name, (x, y) in {
        "Stazione di Pinerolo": (7.337086, 44.887522),
        "Alpe Bianca": (7.328621, 45.252342),
    }.items():
        res = load_service_source(
            ServiceSourceConfig(adapter="osm_tiles"),
            location=str(shared_data / "osm_tiles"),
            area=shapely.box(x - 0.002, y - 0.002, x + 0.002, y + 0.002),
            municipalities=munis,
            cache_dir=tmp_path,
        )
        out[name] = (
            res.data.loc[res.data["category"] == "railway_station", "name"].tolist(),
            res.provenance.counts["dropped_station_not_on_railway"],
        )
    assert out == {"Stazione di Pinerolo": (["Stazione di Pinerolo"], 0), "Alpe Bianca": ([], 1)}


def test_mbtiles_and_folder_give_the_same_services(
    shared_data: Path, province: Province, tmp_path: Path
) -> None:
    folder = tile_folder(shared_data, tmp_path / "set", IVREA_2X2)
    mb = write_mbtiles(shared_data, tmp_path / "ivrea.mbtiles", IVREA_2X2)
    a = load(folder, province, tmp_path, data_date="2021-08-05")
    b = load(mb, province, tmp_path, data_date="2021-08-05")
    assert a.provenance.counts["poi_features"] == 1471  # the 4 tiles' POIs, either way
    cols = ["service_id", "category", "name", "pro_com_t", "attributes"]
    ka = a.data.sort_values("service_id").reset_index(drop=True)
    kb = b.data.sort_values("service_id").reset_index(drop=True)
    assert len(ka) > 36  # more than the Ivrea tile alone
    assert ka[cols].equals(kb[cols])
    assert shapely.equals_exact(ka.geometry.values, kb.geometry.values, tolerance=1e-9).all()
    assert a.provenance.counts == b.provenance.counts
    assert "MBTiles" in b.provenance.notes[0] and "metadata.json" in a.provenance.notes[0]


def test_provenance(shared_data: Path, province: Province, tmp_path: Path) -> None:
    ts = tile_folder(shared_data, tmp_path / "ivrea", [IVREA])
    res = load(ts, province, tmp_path, data_date="2021-08-05", extract="Geofabrik italy/nord-ovest")
    p = res.provenance
    digest = hashlib.sha256((shared_data / "osm_tiles/metadata.json").read_bytes()).hexdigest()
    assert (p.source, p.sha256, p.data_date) == ("osm-tiles", digest, "2021-08-05")
    assert p.licence == "© OpenStreetMap contributors, ODbL 1.0"
    assert any("no OSM ids" in n for n in p.notes)
    assert any("Geofabrik italy/nord-ovest" in n for n in p.notes)
    assert "Tilemaker to OpenMapTiles schema" in p.notes[0]
    undated = load(ts, province, tmp_path)
    assert undated.provenance.data_date is None
    assert any("data date unknown" in n for n in undated.provenance.notes)


def test_service_ids_are_stable(shared_data: Path, province: Province, tmp_path: Path) -> None:
    a = load(tile_folder(shared_data, tmp_path / "a", [IVREA]), province, tmp_path)
    b = load(tile_folder(shared_data, tmp_path / "b", IVREA_2X2), province, tmp_path)
    # the same POI gets the same id whether read alone or with its neighbours
    assert set(a.data["service_id"]) <= set(b.data["service_id"])
    assert a.data["service_id"].is_unique
    assert a.data["service_id"].str.match(r"^osm:[a-z_]+@14/\d+/\d+(#\w+)?$").all()


def test_merge_with_the_turin_pharmacy_registry(
    shared_data: Path, province: Province, tmp_path: Path
) -> None:
    munis, _ = province
    turin = munis[munis["pro_com_t"] == "001272"]
    area = turin.geometry.iloc[0]
    kw: dict[str, Any] = {"area": area, "municipalities": munis, "cache_dir": tmp_path}
    tiles = load_service_source(
        ServiceSourceConfig(adapter="osm_tiles", categories=["pharmacy"]),
        location=str(shared_data / "osm_tiles"),
        **kw,
    )
    moh = load_service_source(
        ServiceSourceConfig(adapter="moh_pharmacies"),
        location=str(shared_data / "services/torino_city_pharmacies_2018.csv"),
        **kw,
    )
    n_tiles, n_moh = len(tiles.data), len(moh.data)
    merged, report = merge_services([tiles.data, moh.data], dedup_m=50)
    # the registry (rank 0) wins; tile pharmacies within 50 m of one merge into it
    absorbed = report["merged_by_source"].get("osm", 0)
    assert report["merged_by_source"].keys() <= {"osm"}
    assert len(merged) == n_tiles + n_moh - absorbed
    # most of Turin's 2021 OSM pharmacies are the 2018 registry's (same shop, same place)
    assert n_tiles > 200 and absorbed > 0.6 * n_tiles
    regs = merged[merged["source"] == "moh"]
    assert any(m.startswith("osm:pharmacy@14/") for a in regs["attributes"]
               for m in json.loads(a).get("merged", []))  # fmt: skip


def test_dedupe_same_subclass_and_name_within_a_metre() -> None:
    # at 45 N one EPSG:3857 metre is cos(45) = 0.7071 m on the ground: points 1.3 and
    # 1.5 projected metres apart are 0.919 m and 1.061 m apart. Only the first pair,
    # same subclass and name within 1 m, is a duplicate; a bank at the same spot is not.
    xy = np.array([[0.0, 0.0], [1.3, 0.0], [0.0, 1.5], [0.0, 0.0]])
    key = np.array(["pharmacy|A", "pharmacy|A", "pharmacy|A", "bank|A"])
    lat = np.full(4, 45.0)
    assert _dedupe(xy, key, lat, 1.0).tolist() == [False, True, False, False]


def test_config_keys() -> None:
    ServiceSourceConfig(adapter="osm_tiles", data_date="2021-08-05")
    with pytest.raises(ValueError, match="data_date"):
        ServiceSourceConfig(adapter="osm_tiles", data_date="5 Aug 2021")


def test_config_file_with_tiles(tmp_path: Path) -> None:
    toml = tmp_path / "c.toml"
    toml.write_text(
        '[area]\nslug = "t"\nname = "T"\nprovince_code = "001"\n'
        '[[services.sources]]\nadapter = "osm_tiles"\nlocation = "tiles"\n'
        'data_date = "2021-08"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"services\.sources\[0\]\.data_date"):
        load_config(toml)


def test_whole_province(shared_data: Path, province: Province, tmp_path: Path) -> None:
    # The province + 10 km, from the full 2021 tile set. Raw poi layer (all 3,769
    # tiles, 55,737 features) by class / subclass: pharmacy 967, hospital/hospital 87,
    # hospital/clinic 47, doctors 85, hospital/nursing_home 45, school/kindergarten 339,
    # school/school 854, post/post_office 426, library/library 160, town_hall/townhall
    # 442, bank 492, station/station 16 (8 of them by a rail line). The counts below
    # are those of the tiles touching the area's bounding box, then of the area.
    res = load(shared_data / "osm_tiles", province, tmp_path, data_date="2021-08-05")
    c = res.provenance.counts
    assert {k: v for k, v in c.items() if v} == PROVINCE_COUNTS
    # every feature read is accounted for: kept (less the extra school-level rows),
    # a duplicate point, outside the area, or not a mapped service
    assert c["read"] == (
        c["kept"]
        - c["school_extra_level_rows"]
        + c["dropped_duplicate_point"]
        + c["dropped_outside_area"]
        + c["dropped_unmapped_category"]
    )
    d = res.data
    assert d["service_id"].is_unique
    assert "digital_help" not in set(d["category"])  # no source in the tiles
    stations = d.loc[d["category"] == "railway_station", "name"]
    assert {"Torino Porta Susa", "Stazione di Pinerolo", "Pessione"} <= set(stations)
    assert not stations.str.startswith("ex ").any()
