"""Reference points where people live: ISTAT 2011 centres, OSM places, population cells."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import box

from territorio.errors import DataValidationError, SourceNotFoundError
from territorio.ingest.municipalities import load_municipalities
from territorio.ingest.reference_points import (
    fill_from_population_cells,
    match_istat_centres,
    match_places,
    normalise_name,
    population_cell_points,
    read_istat_centres,
)

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
CENTRES = DATA / "istat" / "Localita_11_WGS84_topo_points.geojson"
TILES = DATA / "osm_tiles"
UTM = "EPSG:32632"


def test_normalise_name_accents_apostrophes_hyphens_and_san() -> None:
    assert normalise_name("Sant'Ambrogio di Torino") == "san ambrogio di torino"
    assert normalise_name("S. Ambrogio di Torino") == normalise_name("Sant'Ambrogio di Torino")
    assert normalise_name("San Giorio di Susa") == normalise_name("S.Giorio di Susa")
    assert normalise_name("Mazzè") == "mazze"
    assert normalise_name("Pont-Canavese") == normalise_name("Pont Canavese")
    assert normalise_name("Sauze d’Oulx") == normalise_name("Sauze d'Oulx") == "sauze d oulx"
    # names are data: the comune called None is not a null
    assert normalise_name("None") == "none"


# -- hand-built area: three 10 km squares in UTM 32N -----------------------------------
#
#   +---------+---------+---------+
#   | 001901  | 001902  | 001903  |   y 4,990-5,000 km
#   | Alfa    | Valbella| Nuovo   |
#   +---------+---------+---------+
#   x 380     390       400       410 km


def _munis() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"pro_com_t": ["001901", "001902", "001903"], "name": ["Alfa", "Valbella", "Nuovo"]},
        geometry=[
            box(380_000 + i * 10_000, 4_990_000, 390_000 + i * 10_000, 5_000_000) for i in range(3)
        ],
        crs=UTM,
    )


def _write_centres(path: Path, rows: list[tuple[str, str, int, float, float]]) -> Path:
    """Write points in the real file's layout (FeatureCollection, ISTAT 2011 properties)."""
    xy = gpd.GeoSeries(gpd.points_from_xy([r[3] for r in rows], [r[4] for r in rows]), crs=UTM)
    ll = xy.to_crs(4326)
    feats = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [p.x, p.y]},
            "properties": {
                "OBJECTID": i,
                "COD_PRO": 1,
                "PRO_COM": int(code),
                "DENOMINAZI": name,
                "ALTITUDINE": "500",
                "CENTRO_CL": 1,
                "POPRES": pop,
                "PRO_COM_T": code,
            },
        }
        for i, ((code, name, pop, _, _), p) in enumerate(zip(rows, ll, strict=True))
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    return path


def test_code_changes_since_2011(tmp_path: Path) -> None:
    rows = [
        # Alfa keeps its code; its point is inside it
        ("001901", "Alfa", 900, 385_000.0, 4_995_000.0),
        # Valbella (created by a merger, new code 001902 did not exist in 2011) holds
        # two dissolved 2011 comuni: the more populous one is Borgo (700 residents)
        ("001801", "Borgo", 700, 392_000.0, 4_992_000.0),
        ("001802", "Villa", 300, 398_000.0, 4_998_000.0),
        # Nuovo's own 2011 point lies 2 km outside its 2023 polygon (in Valbella): rejected
        ("001903", "Nuovo", 400, 398_000.0, 4_995_000.0),
        # a code of another province still existing in 2023: ignored
        ("002001", "Altrove", 50, 500_000.0, 4_995_000.0),
    ]
    centres = read_istat_centres(_write_centres(tmp_path / "loc.geojson", rows))
    assert centres["code_2011"].tolist() == ["001901", "001801", "001802", "001903", "002001"]
    current = {"001901", "001902", "001903", "002001"}
    m = match_istat_centres(centres, _munis(), current_codes=current, year=2023)
    assert sorted(m.lon.index) == ["001901", "001902"]
    got = gpd.GeoSeries(gpd.points_from_xy(m.lon, m.lat), crs=4326, index=m.lon.index).to_crs(UTM)
    assert got["001901"].distance(shapely.Point(385_000, 4_995_000)) < 0.01
    # Valbella gets Borgo's centre (700 > 300 residents in 2011), not Nuovo's stray point
    assert got["001902"].distance(shapely.Point(392_000, 4_992_000)) < 0.01
    assert "Borgo (001801)" in m.detail["001902"]
    assert m.counts["istat_centres_matched_by_code"] == 1
    assert m.counts["istat_centres_inherited"] == 1
    assert m.counts["istat_centres_rejected_outside"] == 1
    text = " | ".join(m.notes)
    assert "001903 Nuovo (Nuovo) lies 2,000 m outside its 2023 boundary: not used" in text
    assert "most populous predecessor" in text


def test_a_predecessor_named_like_the_merged_comune_wins(tmp_path: Path) -> None:
    rows = [
        ("001801", "Borgo", 700, 392_000.0, 4_992_000.0),
        ("001802", "Valbella", 300, 398_000.0, 4_998_000.0),
    ]
    centres = read_istat_centres(_write_centres(tmp_path / "loc.geojson", rows))
    m = match_istat_centres(
        centres, _munis(), current_codes={"001901", "001902", "001903"}, year=2023
    )
    assert list(m.lon.index) == ["001902"]
    assert "Valbella (001802)" in m.detail["001902"]
    assert any("named like the comune" in n for n in m.notes)
    assert any(n.startswith("001903 Nuovo: no ISTAT 2011 centre") for n in m.notes)


def test_bad_centres_files_say_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(SourceNotFoundError, match=r"centres"):
        read_istat_centres(tmp_path / "missing.geojson")
    bad = tmp_path / "bad.geojson"
    bad.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "geometry": {"type": "Point", "coordinates": [7.0, 45.0]},
                        "properties": {"CODICE": "001001"},
                    }
                ],
            }
        )
    )
    with pytest.raises(DataValidationError, match=r"bad.geojson: missing column\(s\) PRO_COM_T"):
        read_istat_centres(bad)


def test_places_named_like_the_comune_and_inside_it() -> None:
    munis = _munis()
    pts = gpd.GeoSeries(
        gpd.points_from_xy(
            [386_000, 384_000, 395_000, 405_000, 391_000],
            [4_996_000, 4_994_000, 4_995_000, 4_995_000, 4_991_000],
        ),
        crs=UTM,
    ).to_crs(4326)
    places = gpd.GeoDataFrame(
        {
            # a hamlet and a village both named Alfa: the village wins;
            # "Valbella" lies in Nuovo's square: not Valbella's point;
            # "VALBÈLLA" (another spelling) lies inside Valbella: it is
            "class": ["hamlet", "village", "village", "village", "hamlet"],
            "name": ["Alfa", "Alfa", "Valbella2", "Valbella", "VALBÈLLA"],
        },
        geometry=pts.to_numpy(),
        crs=4326,
    )
    m = match_places(places, munis)
    assert sorted(m.lon.index) == ["001901", "001902"]
    got = gpd.GeoSeries(gpd.points_from_xy(m.lon, m.lat), crs=4326, index=m.lon.index).to_crs(UTM)
    assert got["001901"].distance(shapely.Point(384_000, 4_994_000)) < 0.01
    assert got["001902"].distance(shapely.Point(391_000, 4_991_000)) < 0.01
    assert m.detail["001901"] == "OSM place Alfa (village)"


def test_most_populated_cell_piece() -> None:
    cells = gpd.GeoDataFrame(
        {
            "cell_id": ["a", "b", "c", "d"],
            "pro_com_t": ["001901", "001901", "001902", "001903"],
            "pop_total": [120.0, 480.0, 35.0, 0.0],
        },
        geometry=[
            box(380_000, 4_990_000, 381_000, 4_991_000),
            box(388_000, 4_998_000, 389_000, 4_999_000),
            box(390_000, 4_990_000, 391_000, 4_991_000),
            box(400_000, 4_990_000, 401_000, 4_991_000),
        ],
        crs=UTM,
    ).to_crs(4326)
    m = population_cell_points(cells)
    # 480 > 120 residents: cell b; an empty cell never counts (Nuovo gets none)
    assert sorted(m.lon.index) == ["001901", "001902"]
    got = gpd.GeoSeries(gpd.points_from_xy(m.lon, m.lat), crs=4326, index=m.lon.index).to_crs(UTM)
    assert box(388_000, 4_998_000, 389_000, 4_999_000).contains(got["001901"])
    munis = _munis().to_crs(4326)
    rp = munis.to_crs(UTM).representative_point().to_crs(4326)
    munis["ref_lon"], munis["ref_lat"] = rp.x, rp.y
    munis["ref_source"] = ["istat_2011_centre", "representative_point", "representative_point"]
    munis["ref_detail"] = ""
    out, moved = fill_from_population_cells(munis, cells)
    # Alfa already has a better point; Valbella moves; Nuovo has no populated cell
    assert moved == 1
    assert out["ref_source"].tolist() == [
        "istat_2011_centre",
        "population_cell",
        "representative_point",
    ]
    assert out.loc[0, "ref_lon"] == munis.loc[0, "ref_lon"]
    assert out.loc[1, "ref_detail"] == "grid cell c (35 residents)"


# -- the real files ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real() -> gpd.GeoDataFrame:
    if not CENTRES.is_file() or not TILES.is_dir():
        pytest.skip(f"real data not found at {DATA} (ISTAT 2011 centres and OSM tiles)")
    return load_municipalities(centres=CENTRES, places=TILES).data.set_index("pro_com_t")


def test_real_sources_of_the_312_comuni(real: gpd.GeoDataFrame) -> None:
    # 309 of the 315 Torino-province codes of 2011 still exist; the 6 others merged
    # into Val di Chy (001317) and Valchiusa (001318) in 2019; Mappano (001316, 2017)
    # has no 2011 centre and takes its OSM place node.
    assert real["ref_source"].value_counts().to_dict() == {"istat_2011_centre": 311, "osm_place": 1}
    assert real.loc["001316", "ref_source"] == "osm_place"
    assert real.loc["001316", "ref_detail"] == "OSM place Mappano (village)"
    # Val di Chy = Alice Superiore (352 residents in 2011) + Lugnacco (265) + Pecco (192)
    assert real.loc["001317", "ref_detail"] == "ISTAT 2011 centre Alice Superiore (001005)"
    # Valchiusa = Vico Canavese (430) + Trausella (70) + Meugliano (55)
    assert real.loc["001318", "ref_detail"] == "ISTAT 2011 centre Vico Canavese (001297)"
    # the comune named None is a name, not a null
    assert real.loc["001168", "name"] == "None"
    assert real.loc["001168", "ref_source"] == "istat_2011_centre"
    pts = gpd.points_from_xy(real["ref_lon"], real["ref_lat"])
    assert shapely.contains(real.geometry.to_numpy(), np.asarray(pts)).all()


@pytest.mark.parametrize(
    ("code", "lon", "lat", "max_m"),
    [
        # Checked against an independent source, the OSM place node of the village
        # (tiles' place layer): the ISTAT centre must be in the same village.
        # Balme, village node 7.2154 E 45.3025 N (ISTAT point 7.2195 45.3015: 340 m)
        ("001019", 7.2154, 45.3025, 500),
        # Ceresole Reale, node 7.2357 45.4320 (ISTAT 7.2324 45.4331: 280 m)
        ("001073", 7.2357, 45.4320, 500),
        # Bardonecchia, node 6.7032 45.0783 (ISTAT 6.7017 45.0771: 180 m)
        ("001022", 6.7032, 45.0783, 500),
        # Sestriere, node 6.8787 44.9585 (ISTAT "Colle Sestriere" 6.8753 44.9571: 310 m)
        ("001263", 6.8787, 44.9585, 500),
        # Torino, Piazza Castello 7.6858 E 45.0711 N: the ISTAT point sits in the
        # urban fabric 1.5 km west of it (near Porta Susa), not on the polygon's edge
        ("001272", 7.6858, 45.0711, 2000),
        # None, node 7.5401 44.9331 (ISTAT 7.5404 44.9339: 90 m)
        ("001168", 7.5401, 44.9331, 300),
    ],
)
def test_real_points_are_in_the_villages(
    real: gpd.GeoDataFrame, code: str, lon: float, lat: float, max_m: float
) -> None:
    got = gpd.GeoSeries(
        gpd.points_from_xy([real.loc[code, "ref_lon"], lon], [real.loc[code, "ref_lat"], lat]),
        crs=4326,
    ).to_crs(UTM)
    assert got.iloc[0].distance(got.iloc[1]) < max_m


def test_the_user_file_still_wins(real: gpd.GeoDataFrame, tmp_path: Path) -> None:
    csv = tmp_path / "municipi.csv"
    # Torino's town hall, Piazza Palazzo di Città
    pd.DataFrame({"pro_com_t": ["001272"], "lon": [7.6825], "lat": [45.0733]}).to_csv(
        csv, index=False
    )
    out = load_municipalities(centres=CENTRES, reference_points=csv).data.set_index("pro_com_t")
    assert out.loc["001272", "ref_source"] == "user:municipi.csv"
    assert out.loc["001272", "ref_lon"] == pytest.approx(7.6825)
    assert out.loc["001019", "ref_source"] == "istat_2011_centre"
