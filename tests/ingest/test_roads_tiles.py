"""The vector-tile road source on the real OpenMapTiles tiles of the province (../shared/data)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from territorio.config import RoadsConfig
from territorio.errors import ConfigError, DataValidationError, SourceNotFoundError
from territorio.ingest import _vector_tiles
from territorio.ingest._speeds import default_speed_kmh
from territorio.ingest._tile_roads import SERVICE_MINOR_KMH
from territorio.ingest.roads import RoadsResult, load_roads

# Lower Valle di Susa (Avigliana - Bussoleno): the A32 on viaducts over the SS25,
# the SS24 and the river, villages, with the interchanges that join both carriageways; 21 km x 9 km.
AREA = shapely.box(7.15, 45.08, 7.42, 45.16)
FACTOR = 0.68


@pytest.fixture(scope="module")
def tiles_dir(shared_data: Path) -> Path:
    return shared_data / "osm_tiles"


@pytest.fixture(scope="module")
def valley(tiles_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> RoadsResult:
    cfg = RoadsConfig(
        source="vector_tiles", network_type="drive", speed_factor=FACTOR, data_date="2021-08-05"
    )
    return load_roads(
        cfg, area=AREA, cache_dir=tmp_path_factory.mktemp("c"), location=str(tiles_dir)
    )


def test_reader_keeps_undeclared_attributes(tiles_dir: Path) -> None:
    tiles = _vector_tiles.open_tileset(tiles_dir)
    assert tiles.zoom == 14 and tiles.kind == "directory"
    # metadata.json does not declare `ramp` for transportation; the tiles carry it
    assert "ramp" not in tiles.declared_fields["transportation"]
    layer = _vector_tiles.read_layer(tiles, "transportation", bbox=AREA.bounds)
    assert {"class", "oneway", "brunnel", "service", "ramp"} <= set(layer.columns)
    assert (pd.to_numeric(layer["ramp"], errors="coerce") == 1).sum() > 0
    assert layer.crs.to_epsg() == 3857


def test_mbtiles_reads_the_same_pieces(tiles_dir: Path, tmp_path: Path) -> None:
    xy = [(8534, 5880), (8535, 5880), (8534, 5881), (8535, 5881)]
    db = tmp_path / "four.mbtiles"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
    con.execute(
        "CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, "
        "tile_data BLOB)"
    )
    meta = (tiles_dir / "metadata.json").read_text()
    con.executemany(
        "INSERT INTO metadata VALUES (?, ?)",
        [("name", "four tiles"), ("format", "pbf"), ("minzoom", "14"), ("maxzoom", "14"),
         ("json", meta)],
    )  # fmt: skip
    for x, y in xy:
        data = (tiles_dir / "14" / str(x) / f"{y}.pbf").read_bytes()
        con.execute("INSERT INTO tiles VALUES (14, ?, ?, ?)", (x, (1 << 14) - 1 - y, data))
    con.commit()
    con.close()
    mbt = _vector_tiles.open_tileset(db)
    assert (mbt.kind, mbt.zoom, mbt.name) == ("mbtiles", 14, "four tiles")
    from_mbt = _vector_tiles.read_layer(mbt, "transportation")
    one_by_one = pd.concat(
        [
            pyogrio.read_dataframe(
                str(tiles_dir / "14" / str(x) / f"{y}.pbf"),
                layer="transportation",
                CLIP="YES",
                METADATA_FILE="",
                JSON_FIELD="YES",
            )
            for x, y in xy
        ]
    )
    assert len(from_mbt) == len(one_by_one) > 100
    assert sorted(shapely.to_wkb(from_mbt.geometry.to_numpy())) == sorted(
        shapely.to_wkb(one_by_one.geometry.to_numpy())
    )
    # the footprint is the four tiles' squares: 2 x 2 tiles of 2,446 m (EPSG:3857)
    foot = _vector_tiles.footprint(mbt)
    assert foot.bounds[0] == pytest.approx(8534 / 2**14 * 360 - 180, abs=1e-9)


def test_counts_and_provenance(valley: RoadsResult) -> None:
    r = valley.report
    print("tiles:", r)
    assert r["source"] == "vector_tiles"
    # measured on the 2021 tiles: 6,002 pieces, 3,222 drivable (paths 1,519, tracks
    # 1,062, rail 72, emergency bays 61, pedestrian 42, ... are not)
    assert (r["pieces_read"], r["pieces_drivable"]) == (6002, 3222)
    assert r["pieces_not_drivable_by_class"]["track"] == 1062
    # every drivable piece found its twin in transportation_name (name, ref, subclass)
    assert r["pieces_named"] == r["pieces_drivable"]
    prov = valley.provenance
    assert prov.source == "vector_tiles" and prov.data_date == "2021-08-05"
    assert prov.sha256 and len(prov.sha256) == 64
    notes = " ".join(prov.notes)
    for loss in ("maxspeed", "oneway=-1", "access=private", "minor"):
        assert loss in notes
    assert valley.modes == ["car"]
    # the largest strongly connected component keeps most roads; what is dropped is
    # cut off by the box (one-way stubs, roads leaving it): 13.8 of 589 km
    assert r["dropped_components_km"] < 0.05 * r["km_kept"]


def test_tile_borders_are_rejoined(valley: RoadsResult, tiles_dir: Path) -> None:
    tiles = _vector_tiles.open_tileset(tiles_dir)
    r = valley.report
    # border points come in pairs, one from each side: nearly all were snapped
    assert r["tile_border_joins"] >= 0.45 * r["tile_border_points"]
    # no dead end on a tile border line inside the area (a cut road left unjoined)
    e, n = valley.edges, valley.nodes
    deg = pd.concat([e["u"], e["v"]]).value_counts()
    xy = shapely.get_coordinates(n.to_crs(3857).geometry.to_numpy())
    gx, gy = _vector_tiles.tile_units(xy[:, 0], xy[:, 1], tiles=tiles)
    on_line = (np.abs(gx / 4096 - np.rint(gx / 4096)) < 1e-3) | (
        np.abs(gy / 4096 - np.rint(gy / 4096)) < 1e-3
    )
    inner = shapely.contains_xy(AREA.buffer(-0.005), *shapely.get_coordinates(n.geometry).T)
    border_nodes = n["node_id"].to_numpy()[on_line & inner]
    dead = (deg.reindex(border_nodes).fillna(0) <= 1).sum()
    print("border nodes", len(border_nodes), "dead ends", dead)
    assert dead <= 0.01 * max(len(n), 1)
    # chains across tile borders are merged: edges whose shape crosses a border line
    geo = e.to_crs(3857).geometry.to_numpy()
    c, idx = shapely.get_coordinates(geo, return_index=True)
    ux, uy = _vector_tiles.tile_units(c[:, 0], c[:, 1], tiles=tiles)
    tile = np.floor(ux / 4096) * 1e6 + np.floor(uy / 4096)
    spans = pd.Series(tile).groupby(idx).nunique()
    print("edges spanning several tiles", (spans > 1).sum())
    assert (spans > 1).sum() > 100


def test_classes_links_and_speeds(valley: RoadsResult) -> None:
    e = valley.edges
    classes = set(e["highway"])
    assert {"motorway", "primary", "residential", "unclassified", "service"} <= classes
    assert any(c.endswith("_link") for c in classes)
    assert (e["ref"] == "A32").sum() > 0 and (e["ref"] == "SS25").sum() > 0
    # hand check: a rural tertiary road is driven at 90 km/h x 0.68 = 61.2 km/h
    # (17.0 m/s), so 1 km takes 58.8 s; urban 50 x 0.68 = 34 km/h; an edge merged from
    # urban and rural stretches lies in between
    tert = e[e["highway"] == "tertiary"]
    kmh = (tert["length_m"] / tert["travel_time_s"] * 3.6).to_numpy()
    assert ((kmh > 34 - 1e-6) & (kmh < 61.2 + 1e-6)).all()
    assert np.isclose(kmh, 61.2).sum() > 10 and np.isclose(kmh, 34.0).sum() > 10
    one = tert[np.isclose(kmh, 61.2)].iloc[0]
    assert one["travel_time_s"] == pytest.approx(one["length_m"] / 17.0)
    assert default_speed_kmh("tertiary", urban=False) == 90
    # driveways and parking aisles: 10 km/h x 0.68
    slow = e[e["service"].isin(["driveway", "parking_aisle"])]
    assert len(slow) > 0
    np.testing.assert_allclose(
        slow["length_m"] / slow["travel_time_s"] * 3.6, SERVICE_MINOR_KMH * FACTOR
    )
    # one-way roads (motorway carriageways) have no reverse time
    mw = e[e["highway"] == "motorway"]
    assert mw["travel_time_reverse_s"].isna().all()
    assert e.loc[~e["oneway"], "travel_time_reverse_s"].notna().all()


def test_bad_locations(tmp_path: Path) -> None:
    cfg = RoadsConfig(source="vector_tiles", network_type="drive")
    with pytest.raises(SourceNotFoundError, match="not found"):
        load_roads(cfg, area=AREA, cache_dir=tmp_path, location=str(tmp_path / "nope"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataValidationError, match="no zoom folder"):
        load_roads(cfg, area=AREA, cache_dir=tmp_path, location=str(tmp_path / "empty"))
    with pytest.raises(ConfigError, match=r"needs roads\.location"):
        load_roads(cfg, area=AREA, cache_dir=tmp_path, location=None)
    walk = RoadsConfig(source="vector_tiles", network_type="all")
    with pytest.raises(ConfigError, match="car network only"):
        load_roads(walk, area=AREA, cache_dir=tmp_path, location=str(tmp_path))
