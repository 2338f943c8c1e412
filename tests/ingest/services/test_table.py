from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from territorio.errors import (
    ConfigError,
    DataValidationError,
    MissingColumnError,
    UnknownCategoryError,
)
from territorio.ingest.services import load_service_source
from tests.ingest.services._toy import cfg, write

CSV = (
    "codice;tipo;denominazione;x;y;posti;note\n"
    "WP1;sportello;Welfare Point Mirafiori;7,6300;45,0200;;aperto lun-ven\n"  # decimal commas
    "WP2;rsa;RSA Le Rose;7.7200;45.0600;80;\n"  # in Moncalieri, capacity 80
    "WP3;bar;Bar Sport;7.6500;45.0500;;\n"  # unmapped source value
    "WP4;rsa;RSA Lontana;9.19;45.46;40;\n"  # Milan: outside
    "WP5;sportello;Sportello senza coordinate;;;;\n"  # missing coordinates
)
MAPPING = {"sportello": "digital_help", "rsa": "social_facility"}


def _cfg(**kw: Any) -> Any:
    base: dict[str, Any] = {
        "lon": "x",
        "lat": "y",
        "category_column": "tipo",
        "category_map": MAPPING,
        "name_column": "denominazione",
        "id_column": "codice",
        "capacity_column": "posti",
        "csv_separator": ";",
    }
    base.update(kw)
    return cfg("table", **base)


def test_csv_with_category_map(tmp_path: Path, load_kw: dict[str, Any]) -> None:
    path = write(tmp_path, "welfare points.csv", CSV)
    res = load_service_source(_cfg(), location=str(path), **load_kw)
    c = res.provenance.counts
    # 5 rows: WP3 unmapped, WP4 outside, WP5 bad coordinates, WP1 and WP2 kept
    assert (c["read"], c["kept"], c["dropped_unmapped_category"]) == (5, 2, 1)
    assert (c["dropped_outside_area"], c["dropped_bad_coordinates"]) == (1, 1)
    df = res.data.set_index("source_id")
    assert df.loc["WP2", "service_id"] == "table-welfare_points:WP2"
    assert df.loc["WP2", "category"] == "social_facility" and df.loc["WP2", "capacity"] == 80.0
    assert df.loc["WP2", "pro_com_t"] == "001156"
    assert math.isnan(df.loc["WP1", "capacity"])
    assert (df.loc["WP1", "geometry"].x, df.loc["WP1", "geometry"].y) == (7.63, 45.02)
    a = json.loads(df.loc["WP1", "attributes"])
    assert a == {"note": "aperto lun-ven", "source_type": "sportello"}


def test_fixed_category_and_sniffed_separator(tmp_path: Path, load_kw: dict[str, Any]) -> None:
    path = write(tmp_path, "posts.csv", "lon,lat,name\n7.65,45.05,Poste Centro\n")
    res = load_service_source(
        cfg("table", category="post_office", name_column="name"), location=str(path), **load_kw
    )
    row = res.data.iloc[0]
    assert (row["category"], row["name"], row["source_id"]) == ("post_office", "Poste Centro", "1")


def test_unknown_category_in_map_names_file_and_value(
    tmp_path: Path, load_kw: dict[str, Any]
) -> None:
    path = write(tmp_path, "w.csv", CSV)
    with pytest.raises(UnknownCategoryError) as err:
        load_service_source(
            _cfg(category_map={"rsa": "casa_di_riposo"}), location=str(path), **load_kw
        )
    assert "casa_di_riposo" in str(err.value) and "w.csv" in str(err.value)
    assert "'rsa'" in str(err.value)
    with pytest.raises(UnknownCategoryError, match="farmacia"):
        load_service_source(cfg("table", category="farmacia"), location=str(path), **load_kw)


def test_no_category_is_a_config_error(tmp_path: Path, load_kw: dict[str, Any]) -> None:
    path = write(tmp_path, "w.csv", CSV)
    with pytest.raises(ConfigError, match="category_column"):
        load_service_source(cfg("table", lon="x", lat="y"), location=str(path), **load_kw)


def test_missing_column_names_it(tmp_path: Path, load_kw: dict[str, Any]) -> None:
    path = write(tmp_path, "w.csv", CSV)
    with pytest.raises(MissingColumnError) as err:
        load_service_source(_cfg(lon="longitude"), location=str(path), **load_kw)
    assert "'longitude'" in str(err.value) and "w.csv" in str(err.value)


def test_all_bad_coordinates_is_an_error(tmp_path: Path, load_kw: dict[str, Any]) -> None:
    path = write(tmp_path, "bad.csv", "lon,lat\nabc,def\n,\n")
    with pytest.raises(DataValidationError, match="line 2"):
        load_service_source(cfg("table", category="library"), location=str(path), **load_kw)


def test_geopackage_projected_polygons(tmp_path: Path, load_kw: dict[str, Any]) -> None:
    # A square 100 m wide around the UTM 32N point of (7.65 E, 45.05 N), stored in EPSG:32632;
    # its representative point goes back to about (7.65, 45.05).
    centre = gpd.GeoSeries([Point(7.65, 45.05)], crs=4326).to_crs(32632).iloc[0]
    sq = box(centre.x - 50, centre.y - 50, centre.x + 50, centre.y + 50)
    gdf = gpd.GeoDataFrame({"kind": ["townhall"], "label": ["Municipio"]}, geometry=[sq], crs=32632)
    path = tmp_path / "halls.gpkg"
    gdf.to_file(path)
    res = load_service_source(
        cfg(
            "table",
            category_column="kind",
            category_map={"townhall": "town_hall"},
            name_column="label",
        ),
        location=str(path),
        **load_kw,
    )
    pt = res.data.geometry.iloc[0]
    assert res.data["category"].iloc[0] == "town_hall"
    assert pt.x == pytest.approx(7.65, abs=1e-3) and pt.y == pytest.approx(45.05, abs=1e-3)
    assert pd.notna(res.data["pro_com_t"].iloc[0])


def test_text_in_a_coordinate_is_an_error_naming_line_and_column(
    tmp_path: Path, load_kw: dict[str, Any]
) -> None:
    # Empty cells and 0 placeholders are skipped and counted (registries use them
    # for "not geocoded"), but text is a typo to fix: line 3 is the second data row.
    path = write(tmp_path, "mixed.csv", "name;lon;lat\nA;7,68;45,07\nB;7.6;45°04'N\nC;;\n")
    src = cfg("table", lon="lon", lat="lat", category="pharmacy")
    with pytest.raises(DataValidationError, match=r"mixed\.csv, line 3, column 'lat': \"45°04'N\""):
        load_service_source(src, location=str(path), **load_kw)
