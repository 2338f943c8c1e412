"""Derived outputs record the bundle's build id; stale ones are refused or flagged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from territorio.api._state import provenance_summary
from territorio.build import _osm_timestamps, roads_osm_timestamp
from territorio.bundle import Bundle, update_bundle, write_bundle
from territorio.cli import main
from territorio.errors import StaleOutputError
from territorio.freshness import check_plan, stale_access, stale_maps, stale_plan
from territorio.maps import write_maps
from tests.maps import synthetic as syn
from tests.test_build import GOOD, _config


def test_each_build_has_a_new_id_and_update_keeps_it(tmp_path: Path) -> None:
    a = syn.write_synthetic_bundle(tmp_path / "bundle").path
    first = Bundle(a).build_id
    assert first and len(first) == 32
    b = update_bundle(Bundle(a), {}, {"access": {"build_id": first}})
    assert b.build_id == first and stale_access(b) is None
    syn.write_synthetic_bundle(tmp_path / "bundle")
    assert Bundle(a).build_id not in (None, first)


def test_a_plan_of_the_previous_build_is_refused_by_maps(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = syn.write_synthetic_bundle(tmp_path / "bundle").path
    plan = syn.write_synthetic_plan(tmp_path / "bundle-plan")
    assert stale_plan(Bundle(path), plan) is None
    check_plan(Bundle(path), plan)
    syn.write_synthetic_bundle(tmp_path / "bundle")  # territorio build again: a new build
    why = stale_plan(Bundle(path), plan)
    assert why is not None and f"territorio plan {path} --out {plan}" in why
    with pytest.raises(StaleOutputError, match="territorio plan"):
        write_maps(path, out_dir=tmp_path / "maps", tiles=None)
    assert not (tmp_path / "maps").exists() or not any((tmp_path / "maps").glob("*.html"))
    # the CLI: one line, exit 2, naming the command
    assert main(["maps", str(path), "--tiles", "none", "--out", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("territorio: error:") and "territorio plan" in err


def test_info_flags_the_plan_of_the_previous_build(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = _config(tmp_path, GOOD)
    assert main(["build", "--config", str(cfg), "--quiet"]) == 0
    target = tmp_path / "out" / "pinerolese"
    syn.write_synthetic_plan(tmp_path / "out" / "pinerolese-plan")
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert main(["info", str(target)]) == 0
    out = capsys.readouterr().out
    assert "pinerolese-plan" in out and "up to date" in out and "STALE" not in out
    assert main(["build", "--config", str(cfg), "--quiet"]) == 0  # a new build
    assert main(["info", str(target)]) == 0
    out = capsys.readouterr().out
    assert "STALE" in out and f"territorio plan {target}" in out


def test_plan_without_a_build_id_is_stale(tmp_path: Path) -> None:
    path = syn.write_synthetic_bundle(tmp_path / "bundle").path
    plan = syn.write_synthetic_plan(tmp_path / "bundle-plan")
    summary = json.loads((plan / "summary.json").read_text())
    del summary["bundle_build_id"]
    (plan / "summary.json").write_text(json.dumps(summary))
    assert "older territorio" in (stale_plan(Bundle(path), plan) or "")


def test_maps_record_the_build_and_go_stale_with_a_new_build(tmp_path: Path) -> None:
    path = syn.write_synthetic_bundle(tmp_path / "bundle").path
    syn.write_synthetic_plan(tmp_path / "bundle-plan")
    out = tmp_path / "maps"
    files = write_maps(path, out_dir=out, tiles=None, progress=False)
    bid = Bundle(path).build_id
    for f in files:
        assert f'<meta name="territorio-build-id" content="{bid}">' in f.read_text()
    record = json.loads((out / "maps.json").read_text())
    assert record["bundle_build_id"] == bid
    assert sorted(record["files"]) == sorted(f.name for f in files)
    assert stale_maps(Bundle(path), out) is None
    syn.write_synthetic_bundle(tmp_path / "bundle")
    assert "territorio maps" in (stale_maps(Bundle(path), out) or "")


def test_access_layers_of_another_build_are_flagged(tmp_path: Path) -> None:
    layers = {
        "access_municipalities": syn.access_frame(),
        "access_isochrones": syn.isochrones_frame(),
    }
    b = write_bundle(tmp_path / "t", layers, {})
    assert "territorio access" in (stale_access(b) or "")  # no access.build_id recorded
    b = update_bundle(b, {}, {"access": {"build_id": b.build_id}})
    assert stale_access(b) is None
    # travel times of an older territorio, without the reference-point isochrones
    (b.path / "access_isochrones.parquet").unlink()
    why = stale_access(Bundle(b.path)) or ""
    assert "without the isochrones" in why and f"run: territorio access {b.path}" in why


def test_manifest_headline_is_the_roads_osm_date_not_the_old_poi_file() -> None:
    provenance = {
        "roads": {"source": "edges", "data_date": "2025-10-01T00:00:00Z"},
        "services": [{"index": 0, "adapter": "osm_geojson", "data_date": "2015-02-01T00:00:00Z"}],
    }
    assert roads_osm_timestamp(provenance) == "2025-10-01T00:00:00Z"
    stamps = _osm_timestamps(provenance)
    assert stamps["roads"] == "2025-10-01T00:00:00Z"
    assert stamps["services"] == {"0:osm_geojson": "2015-02-01T00:00:00Z"}
    # roads of unknown date: the headline is unknown, never the 2015 POI date
    provenance["roads"] = {"source": "edges"}
    assert roads_osm_timestamp(provenance) is None
    manifest = {
        "osm_timestamp": None,
        "roads_osm_timestamp": None,
        "sources": {"roads": {"source": "edges"}, "services": provenance["services"]},
    }
    assert provenance_summary(manifest)["osm_timestamp"] is None
    manifest["roads_osm_timestamp"] = manifest["osm_timestamp"] = "2025-10-01T00:00:00Z"
    assert provenance_summary(manifest)["osm_timestamp"] == "2025-10-01T00:00:00Z"
