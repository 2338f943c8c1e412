"""End-to-end build of configs/torino-osrm.toml (the OSRM graph of Turin) on the real data."""

from __future__ import annotations

import pytest
import shapely
from shapely.geometry import shape

from territorio.bundle import Bundle
from territorio.info import format_info

# Municipalities wholly inside the road graph's coverage (Turin and its belts),
# measured on the first build and checked on a map: Torino 001272 is full; Moncalieri
# 001156 is only partly covered (its hills south-east lie beyond the graph).
FULL = {
    "001008", "001009", "001012", "001018", "001024", "001028", "001034", "001038",
    "001051", "001063", "001064", "001068", "001078", "001090", "001112", "001120",
    "001144", "001158", "001164", "001171", "001180", "001183", "001189", "001192",
    "001214", "001219", "001228", "001243", "001249", "001252", "001262", "001265",
    "001272", "001280", "001302", "001316",
}  # fmt: skip
PARTIAL_COUNT = 45

# Services per category after merging duplicates within 50 m (measured). The OSM
# POIs of the 2021 vector tiles cover the whole area (pharmacies, doctors, schools
# whose name says the level, nursing homes, town halls, banks, ...); the registries
# win the merge where they overlap (Turin's pharmacies and schools, GISCO hospitals,
# ICCU libraries, ViaggiaTreno stations). Digital help has no source: "no data".
CATEGORY_COUNTS = {
    "hospital": 115,  # 53 GISCO + 62 OSM (16 OSM ones merged within 50 m)
    "primary_care": 125,
    "pharmacy": 910,  # 279 registry (Turin) + 631 OSM (265 OSM merged into the registry)
    "primary_school": 342,
    "secondary_school": 332,
    "childcare": 521,
    "post_office": 377,
    "library": 821,
    "social_facility": 42,
    "town_hall": 385,
    "railway_station": 124,  # 123 ViaggiaTreno + Torino Porta Susa (> 50 m from it)
    "pt_stop": 6497,
    "digital_help": 0,
    "bank_atm": 442,
}


@pytest.fixture(scope="module")
def torino(torino_bundle: Bundle) -> Bundle:
    return torino_bundle


def test_municipalities_and_population(torino: Bundle) -> None:
    m = torino.layer("municipalities")
    assert len(m) == 312
    assert int(m["pop_total"].sum()) == 2_198_237  # ISTAT 1 Jan 2023
    assert m["pro_com_t"].str.fullmatch(r"\d{6}").all()
    torino_row = m.set_index("pro_com_t").loc["001272"]
    assert torino_row["name"] == "Torino"
    assert torino_row["altitude_zone_code"] == 5  # ISTAT: plain
    cells = torino.layer("population_cells")
    # 2,201,928 people in the grid extract, 1,282 of them in cell parts outside the province
    assert cells["pop_total"].sum() == pytest.approx(2_200_646, abs=1)


def test_roads(torino: Bundle) -> None:
    assert torino.manifest["layers"]["road_edges"] >= 96_000
    assert torino.manifest["layers"]["road_edges"] == 96_298  # the whole published graph
    assert torino.manifest["roads"]["modes"] == ["car"]


def test_service_category_counts(torino: Bundle) -> None:
    cats = torino.manifest["service_categories"]
    assert {c: v["count"] for c, v in cats.items()} == CATEGORY_COUNTS
    assert cats["primary_school"]["coverage"] == "area"  # the tiles cover the whole area
    assert cats["primary_school"]["sources"] == ["miur", "osm"]
    assert cats["pharmacy"]["coverage"] == "area"
    assert cats["digital_help"]["status"] == "no_data"
    s = torino.layer("services")
    assert s["service_id"].is_unique
    assert s["category"].value_counts().to_dict() == {k: v for k, v in CATEGORY_COUNTS.items() if v}


def test_every_municipality_coverage_flag(torino: Bundle) -> None:
    m = torino.layer("municipalities").set_index("pro_com_t")
    assert set(m.index[m["network_coverage"] == "full"]) == FULL
    assert (m["network_coverage"] == "partial").sum() == PARTIAL_COUNT
    assert (m["network_coverage"] == "none").sum() == 312 - len(FULL) - PARTIAL_COUNT
    # the flags agree with the geometry: "none" municipalities do not touch the coverage
    coverage = shape(torino.manifest["coverage"])
    none = m[m["network_coverage"] == "none"]
    assert not shapely.intersects(none.geometry.values, coverage).any()
    # valleys far from Turin are outside: Sestriere, Ceresole Reale, Pinerolo, Ivrea
    for code in ("001263", "001073", "001191", "001125"):
        assert m.loc[code, "network_coverage"] == "none", code


def test_info_summarises_the_bundle(torino: Bundle) -> None:
    text = format_info(torino)
    assert "road_edges                  96,298" in text
    assert "digital_help             0" in text and "NO DATA" in text
    assert "municipalities fully inside      36 of 312" in text
