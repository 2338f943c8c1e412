"""Population grid: hand-made GISCO rows and GeoTIFF, then the real Turin grid."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from territorio.errors import DataValidationError, MissingColumnError
from territorio.ingest.municipalities import load_municipalities
from territorio.ingest.population import load_population_grid
from territorio.schemas import LAYER_COLUMNS

# Two square-ish municipalities in EPSG:3035 (metres), on the 1 km grid rows
# y 2,400,000-2,401,000:
#   A = x 4,000,000-4,001,250 : all of cell C1 and the west 250 m (25%) of C2
#   B = x 4,001,250-4,002,500 : the east 750 m (75%) of C2 and the west half of C3
# The east half of C3 lies outside both: its people are dropped.
X0, Y0 = 4_000_000, 2_400_000
C1 = f"CRS3035RES1000mN{Y0}E{X0}"
C2 = f"CRS3035RES1000mN{Y0}E{X0 + 1000}"
C3 = f"CRS3035RES1000mN{Y0}E{X0 + 2000}"


@pytest.fixture
def two_munis() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "pro_com_t": ["001001", "001002"],
            # ISTAT shares used when ages are unknown:
            # A 65+ 250/1000 = 0.25, 0-14 100/1000 = 0.10; B 65+ 0.10, 0-14 0.20.
            "pop_total": [1000, 500],
            "pop_65_plus": [250, 50],
            "pop_0_14": [100, 100],
        },
        geometry=[
            shapely.box(X0, Y0, X0 + 1250, Y0 + 1000),
            shapely.box(X0 + 1250, Y0, X0 + 2500, Y0 + 1000),
        ],
        crs="EPSG:3035",
    )


def _write_csv(tmp_path: Path, rows: list[str]) -> Path:
    path = tmp_path / "grid.csv"
    path.write_text("GRD_ID,T,Y_LT15,Y_1564,Y_GE65,T_CI\n" + "\n".join(rows) + "\n")
    return path


def _by_piece(gdf: gpd.GeoDataFrame) -> dict[tuple[str, str], tuple[float, ...]]:
    return {
        (r.cell_id, r.pro_com_t): (r.pop_total, r.pop_65_plus, r.pop_under_15, r.area_share)
        for r in gdf.itertuples()
    }


def test_csv_apportioned_by_area_share(tmp_path: Path, two_munis: gpd.GeoDataFrame) -> None:
    path = _write_csv(
        tmp_path,
        [f"{C1},100,10,70,20,0", f"{C2},200,30,130,40,0", f"{C3},80,16,56,8,0"],
    )
    res = load_population_grid(path, municipalities=two_munis, cache_dir=tmp_path)
    gdf = res.data
    assert list(gdf.columns) == list(LAYER_COLUMNS["population_cells"])
    assert gdf.crs.to_epsg() == 4326
    got = _by_piece(gdf)
    assert set(got) == {(C1, "001001"), (C2, "001001"), (C2, "001002"), (C3, "001002")}
    expected = {
        (C1, "001001"): (100, 20, 10, 1.0),  # whole cell
        (C2, "001001"): (50, 10, 7.5, 0.25),  # 200*0.25, 40*0.25, 30*0.25
        (C2, "001002"): (150, 30, 22.5, 0.75),  # 200*0.75, 40*0.75, 30*0.75
        (C3, "001002"): (40, 4, 8, 0.5),  # 80*0.5, 8*0.5, 16*0.5
    }
    for key, values in expected.items():
        # Shares are areas in EPSG:3035, where the boxes are exact: 1e-9 slack only.
        assert got[key] == pytest.approx(values, rel=1e-9), key
    c = res.provenance.counts
    # read 100+200+80 = 380; kept 100+50+150+40 = 340; dropped 40 (east half of C3);
    # 65+ read 20+40+8 = 68, kept 20+10+30+4 = 64.
    assert c["cells_read"] == 3 and c["cells_kept"] == 3 and c["pieces"] == 4
    assert (c["people_read"], c["people_kept"], c["people_dropped_outside_area"]) == (380, 340, 40)
    assert (c["pop_65_plus_read"], c["pop_65_plus_kept"]) == (68, 64)
    assert res.provenance.source == "gisco_census2021_grid"
    # The piece of C2 in B is 750 m x 1000 m = 0.75 km2.
    piece = gdf[(gdf.cell_id == C2) & (gdf.pro_com_t == "001002")].to_crs("EPSG:3035")
    assert piece.geometry.area.iloc[0] == pytest.approx(750_000, rel=1e-6)


def test_csv_confidential_ages_use_municipal_shares(
    tmp_path: Path, two_munis: gpd.GeoDataFrame
) -> None:
    # C1 with blank Y_LT15 and a negative (confidential) Y_GE65; a cell with unknown T.
    path = _write_csv(tmp_path, [f"{C1},100,,70,-9999,1", f"{C2},,30,130,40,1"])
    res = load_population_grid(path, municipalities=two_munis, cache_dir=tmp_path)
    got = _by_piece(res.data)
    # C1 lies in A: 65+ = 100 * 0.25 = 25, under 15 = 100 * 0.10 = 10.
    assert got[(C1, "001001")] == pytest.approx((100, 25, 10, 1.0))
    assert set(got) == {(C1, "001001")}
    assert res.provenance.counts["cells_dropped_unknown_total"] == 1
    assert res.provenance.counts["cells_age_estimated"] == 1


def test_csv_bad_rows_are_named(tmp_path: Path, two_munis: gpd.GeoDataFrame) -> None:
    path = _write_csv(tmp_path, [f"{C1},100,10,70,20,0", "N2400000E4000000,5,1,3,1,0"])
    # line 1 is the header, so the second data row is row 3
    with pytest.raises(DataValidationError, match=r"grid\.csv, row 3, column GRD_ID"):
        load_population_grid(path, municipalities=two_munis, cache_dir=tmp_path)
    path = _write_csv(tmp_path, [f"{C1},many,10,70,20,0"])
    with pytest.raises(DataValidationError, match=r"row 2, column T: 'many' is not a number"):
        load_population_grid(path, municipalities=two_munis, cache_dir=tmp_path)
    path = tmp_path / "nogrid.csv"
    path.write_text("id,T\n1,5\n")
    with pytest.raises(MissingColumnError, match="GRD_ID"):
        load_population_grid(path, municipalities=two_munis, cache_dir=tmp_path)


def test_geotiff_apportioned_with_municipal_age_shares(
    tmp_path: Path, two_munis: gpd.GeoDataFrame
) -> None:
    import rasterio
    from rasterio.transform import from_origin

    # 2 rows x 4 columns of 1 km pixels, top-left corner (X0, Y0 + 1000):
    # row 0 = the cells C1, C2, C3 (+ one cell east of them, outside the area);
    # row 1 (south of the area) holds only nodata and zeros.
    values = np.array([[100, 200, 80, 7], [-1, 0, 0, 0]], dtype="float32")
    path = tmp_path / "pop.tif"
    with rasterio.open(
        path, "w", driver="GTiff", width=4, height=2, count=1, dtype="float32",
        crs="EPSG:3035", transform=from_origin(X0, Y0 + 1000, 1000, 1000), nodata=-1,
    ) as dst:  # fmt: skip
        dst.write(values, 1)
    res = load_population_grid(path, municipalities=two_munis, cache_dir=tmp_path)
    got = _by_piece(res.data)
    expected = {
        # whole C1 in A: 65+ = 100*0.25 = 25, 0-14 = 100*0.10 = 10
        ("pop:r0c0", "001001"): (100, 25, 10, 1.0),
        # 25% of C2 in A: 50 people, 65+ 50*0.25 = 12.5, 0-14 50*0.10 = 5
        ("pop:r0c1", "001001"): (50, 12.5, 5, 0.25),
        # 75% of C2 in B: 150 people, 65+ 150*0.10 = 15, 0-14 150*0.20 = 30
        ("pop:r0c1", "001002"): (150, 15, 30, 0.75),
        # half of C3 in B: 40 people, 65+ 4, 0-14 8
        ("pop:r0c2", "001002"): (40, 4, 8, 0.5),
    }
    assert set(got) == set(expected)
    for key, vals in expected.items():
        assert got[key] == pytest.approx(vals, rel=1e-9), key
    c = res.provenance.counts
    # The window covers the area's bounds (x up to X0 + 2500, so columns 0-2):
    # cells read 3 (100 + 200 + 80 = 380 people), kept 340, dropped 40.
    assert (c["cells_read"], c["people_read"], c["people_kept"]) == (3, 380, 340)
    assert c["people_dropped_outside_area"] == 40
    assert res.provenance.source == "population_geotiff"
    assert any("no ages" in n for n in res.provenance.notes)


def test_geotiff_in_lon_lat_is_reprojected(tmp_path: Path) -> None:
    import rasterio
    from rasterio.transform import from_origin

    # One 0.01 x 0.01 degree pixel holding 60 people, and a municipality that is
    # the west half of that pixel (split at lon 7.005): about half the area, so
    # about 30 people (the UTM area of the two halves differs by < 0.1%).
    path = tmp_path / "ll.tif"
    with rasterio.open(
        path, "w", driver="GTiff", width=1, height=1, count=1, dtype="float32",
        crs="EPSG:4326", transform=from_origin(7.0, 45.01, 0.01, 0.01),
    ) as dst:  # fmt: skip
        dst.write(np.array([[60]], dtype="float32"), 1)
    muni = gpd.GeoDataFrame(
        {"pro_com_t": ["001001"], "pop_total": [10], "pop_65_plus": [2], "pop_0_14": [1]},
        geometry=[shapely.box(7.0, 45.0, 7.005, 45.01)],
        crs="EPSG:4326",
    )
    res = load_population_grid(path, municipalities=muni, cache_dir=tmp_path)
    assert len(res.data) == 1
    row = res.data.iloc[0]
    assert row["area_share"] == pytest.approx(0.5, abs=1e-3)
    assert row["pop_total"] == pytest.approx(30, abs=0.06)
    assert row["pop_65_plus"] == pytest.approx(row["pop_total"] * 0.2)  # 2/10


def test_real_turin_grid(shared_data: Path, tmp_path: Path) -> None:
    munis = load_municipalities().data
    res = load_population_grid(
        shared_data / "population" / "census2021_1km_torino.csv",
        municipalities=munis,
        cache_dir=tmp_path,
    )
    c = res.provenance.counts
    # data/README: 3,879 populated cells, 2,201,928 people, 573,686 aged 65+.
    assert (c["cells_read"], c["people_read"], c["pop_65_plus_read"]) == (
        3879,
        2_201_928,
        573_686,
    )
    # Measured: every cell touches the province (the file is a bounding extract of
    # cells touching it); 1,282 people live in the parts of border cells outside it.
    assert c["cells_kept"] == 3879
    assert c["people_kept"] + c["people_dropped_outside_area"] == 2_201_928
    assert c["people_kept"] == pytest.approx(2_200_646, abs=2)
    assert c["pop_65_plus_kept"] == pytest.approx(573_330, abs=2)
    gdf = res.data
    assert set(gdf["pro_com_t"]) == set(munis["pro_com_t"])
    shares = gdf.groupby("cell_id")["area_share"].sum()
    # ISTAT boundaries overlap by slivers: at most 0.18 m2 of a 1 km2 cell is
    # counted twice (measured 1.8e-7), so the shares of a cell add up to <= 1 + 1e-6.
    assert (shares <= 1 + 1e-6).all()
    # Torino: 844,125 people by the 2021 grid vs 841,600 ISTAT residents in 2023
    # (grid cells straddling the city limit are split by area): within 1%.
    torino = gdf.loc[gdf["pro_com_t"] == "001272", "pop_total"].sum()
    assert torino == pytest.approx(841_600, rel=0.01)


def test_touching_parts_leave_no_lines(tmp_path: Path) -> None:
    # Municipality = a 500 m x 1000 m box inside cell C1 plus a box east of C1 that
    # only touches C1's east edge: the intersection is a GeometryCollection of a
    # polygon and a line; only the polygon (half the cell, 50 of 100 people) stays.
    muni = gpd.GeoDataFrame(
        {"pro_com_t": ["001001"]},
        geometry=[
            shapely.MultiPolygon(
                [
                    shapely.box(X0, Y0, X0 + 500, Y0 + 1000),
                    shapely.box(X0 + 1000, Y0, X0 + 1200, Y0 + 1000),
                ]
            )
        ],
        crs="EPSG:3035",
    )
    path = _write_csv(tmp_path, [f"{C1},100,10,70,20,0"])
    res = load_population_grid(path, municipalities=muni, cache_dir=tmp_path)
    assert len(res.data) == 1
    assert res.data.geom_type.iloc[0] in {"Polygon", "MultiPolygon"}
    assert res.data["pop_total"].iloc[0] == pytest.approx(50)
    assert res.data["area_share"].iloc[0] == pytest.approx(0.5)


def test_zip_as_gisco_distributes_it(tmp_path: Path, two_munis: gpd.GeoDataFrame) -> None:
    import zipfile

    csv = _write_csv(tmp_path, [f"{C1},100,10,70,20,0", f"{C2},200,30,130,40,0"])
    archive = tmp_path / "Eurostat_Census-GRID_2021_V2.2.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("Eurostat_Census-GRID_2021_V2.2/metadata.csv", "k,v\n")
        zf.write(csv, "Eurostat_Census-GRID_2021_V2.2/ESTAT_Census_2021_V2.csv")
    res = load_population_grid(archive, municipalities=two_munis, cache_dir=tmp_path / "cache")
    # C1 whole (100) + C2 whole across the two municipalities (50 + 150) = 300
    assert res.data["pop_total"].sum() == pytest.approx(300)
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w") as zf:
        zf.writestr("readme.txt", "nothing")
    with pytest.raises(DataValidationError, match=r"no \.csv file"):
        load_population_grid(empty, municipalities=two_munis, cache_dir=tmp_path / "cache")
