"""The bundle is published atomically: a failed write never damages the previous one."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

from territorio.bundle import Bundle, update_bundle, write_bundle
from territorio.errors import BundleError


def _points(n: int) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"node_id": range(n)}, geometry=[Point(7.6 + i / 100, 45.0) for i in range(n)], crs=4326
    )


class _Boom(pd.DataFrame):
    """A DataFrame whose write fails, as a crashing source would mid-build."""

    def to_parquet(self, *args: object, **kwargs: object) -> None:  # type: ignore[override]
        raise RuntimeError("disk full")


def test_write_and_read_roundtrip(tmp_path: Path) -> None:
    b = write_bundle(tmp_path / "t", {"road_nodes": _points(3)}, {"area": {"name": "x"}})
    assert b.layers == ["road_nodes"]
    assert b.manifest["layers"] == {"road_nodes": 3}
    assert b.manifest["format_version"] == 1
    got = Bundle(tmp_path / "t").layer("road_nodes")
    assert isinstance(got, gpd.GeoDataFrame)
    assert got.crs.to_epsg() == 4326
    assert list(got["node_id"]) == [0, 1, 2]


def test_failed_write_leaves_previous_bundle_intact(tmp_path: Path) -> None:
    target = tmp_path / "t"
    write_bundle(target, {"road_nodes": _points(3)}, {"area": {"name": "old"}})
    before = {p.name: p.read_bytes() for p in target.iterdir()}
    with pytest.raises(RuntimeError, match="disk full"):
        write_bundle(
            target, {"road_nodes": _points(5), "services": _Boom({"a": [1]})}, {"area": {}}
        )
    after = {p.name: p.read_bytes() for p in target.iterdir()}
    assert after == before
    # no temporary folders left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t"]


def test_update_adds_layer_and_keeps_others(tmp_path: Path) -> None:
    b = write_bundle(tmp_path / "t", {"road_nodes": _points(2)}, {"area": {"name": "x"}})
    table = pd.DataFrame({"pro_com_t": ["001272"], "category": ["pharmacy"]})
    b2 = update_bundle(b, {"access_municipalities": table}, {"access": {"seconds": 1}})
    assert b2.layers == ["access_municipalities", "road_nodes"]
    assert b2.manifest["layers"] == {"road_nodes": 2, "access_municipalities": 1}
    assert b2.manifest["access"] == {"seconds": 1}
    got = b2.layer("access_municipalities")
    assert not isinstance(got, gpd.GeoDataFrame)
    assert got["pro_com_t"].tolist() == ["001272"]


def test_interrupted_swap_is_recovered(tmp_path: Path) -> None:
    # A kill between the two renames of the swap leaves only ".t.old": the next
    # reader restores it.
    write_bundle(tmp_path / "t", {"road_nodes": _points(2)}, {"area": {"name": "x"}})
    (tmp_path / "t").rename(tmp_path / ".t.old")
    assert Bundle(tmp_path / "t").manifest["layers"] == {"road_nodes": 2}


def test_missing_bundle_and_bad_manifest(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="territorio build"):
        Bundle(tmp_path / "nope")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "manifest.json").write_text("{", encoding="utf-8")
    with pytest.raises(BundleError, match="not valid JSON"):
        Bundle(tmp_path / "bad")
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "manifest.json").write_text(json.dumps({"format_version": 0}))
    with pytest.raises(BundleError, match="rebuild"):
        Bundle(tmp_path / "old")
    b = write_bundle(tmp_path / "ok", {"road_nodes": _points(1)}, {})
    with pytest.raises(BundleError, match="territorio access"):
        b.layer("access_cells")


def test_layer_rows_reads_one_comune_from_small_row_groups(tmp_path: Path) -> None:
    # 70 rows (comuni 000 to 034, two rows each) in row groups of 30: 3 groups
    codes = [f"001{i:03d}" for i in range(35) for _ in range(2)]
    frame = gpd.GeoDataFrame(
        {"pro_com_t": codes, "minutes": [10.0, 20.0] * 35},
        geometry=[Point(7.6, 45.0)] * 70,
        crs=4326,
    )
    b = write_bundle(tmp_path / "b", {"access_isochrones": frame, "nodes": _points(70)}, {})
    import pyarrow.parquet as pq

    assert pq.ParquetFile(b.path / "access_isochrones.parquet").metadata.num_row_groups == 3
    assert pq.ParquetFile(b.path / "nodes.parquet").metadata.num_row_groups == 1
    rows = b.layer_rows("access_isochrones", "pro_com_t", "001020")
    assert rows["pro_com_t"].tolist() == ["001020", "001020"] and rows.crs.to_epsg() == 4326
    assert len(b.layer_rows("access_isochrones", "pro_com_t", "001999")) == 0
    # a layer already read whole is filtered in memory, with the same answer
    b.layer("access_isochrones")
    assert b.layer_rows("access_isochrones", "pro_com_t", "001020")["minutes"].tolist() == [
        10.0,
        20.0,
    ]
    with pytest.raises(BundleError, match="no layer 'access_cells'; run: territorio access"):
        b.layer_rows("access_cells", "pro_com_t", "001020")


def test_a_damaged_layer_file_is_a_bundle_error_naming_file_and_fix(tmp_path: Path) -> None:
    b = write_bundle(tmp_path / "b", {"nodes": _points(3), "access_isochrones": _points(3)}, {})
    for name in ("nodes", "access_isochrones"):
        (b.path / f"{name}.parquet").write_text("not parquet", encoding="utf-8")
    fresh = Bundle(b.path)
    with pytest.raises(BundleError, match=r"layer 'nodes' .* not a readable Parquet.*rebuild"):
        fresh.layer("nodes")
    fix = f"run: territorio access {b.path}"
    with pytest.raises(BundleError, match=rf"access_isochrones.parquet: .*{fix}$"):
        fresh.layer_rows("access_isochrones", "node_id", "1")
