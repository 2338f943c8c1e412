"""write_maps: four self-contained HTML files from a bundle."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from territorio.errors import SourceNotFoundError
from territorio.maps import write_maps
from tests.maps import synthetic as syn


def test_write_maps_self_contained(tmp_path: Path, capsys) -> None:
    bundle = syn.write_synthetic_bundle(tmp_path / "bundle")
    files = write_maps(
        bundle,
        out_dir=tmp_path / "maps",
        tiles=None,
        municipalities=["001191"],
        offers=syn.offers_frame(),
    )
    names = sorted(p.name for p in files)
    assert names == [
        "marginality.html",
        "municipality_001191.html",
        "offers.html",
        "travel_times.html",
    ]
    for path in files:
        html = path.read_text(encoding="utf-8")
        # Self-contained: Leaflet inlined, no external script/stylesheet at all.
        assert not re.search(r"<script[^>]+src=", html)
        assert not re.search(r"<link[^>]+stylesheet", html)
        assert "Leaflet 1.9.3" in html
    assert "maps: " in capsys.readouterr().err  # progress lines
    # No temporary files left behind.
    assert not list((tmp_path / "maps").glob(".*.tmp"))


def test_write_maps_default_municipality_is_most_populous(tmp_path: Path) -> None:
    bundle = syn.write_synthetic_bundle(tmp_path / "bundle")
    files = write_maps(bundle, out_dir=tmp_path / "maps", tiles=None, progress=False)
    # Pinerolo has 35,000 residents, the most of the four.
    assert tmp_path / "maps" / "municipality_001191.html" in files


def _has(text: str, html: str) -> bool:
    return text in html or json.dumps(text)[1:-1] in html


def test_write_maps_reads_the_plan_folder(tmp_path: Path, capsys) -> None:
    bundle = syn.write_synthetic_bundle(tmp_path / "bundle")
    # Default plan folder: <bundle>-plan beside the bundle (territorio plan).
    syn.write_synthetic_plan(tmp_path / "bundle-plan")
    files = write_maps(
        bundle, out_dir=tmp_path / "maps", tiles=None, municipalities=["001191", "001193"]
    )
    marg = (tmp_path / "maps" / "marginality.html").read_text(encoding="utf-8")
    assert "cluster-C01" in marg and "Piscina centro" in marg
    assert not _has("territorio plan", marg)
    # Pinerolo (on the street): three isochrones; Piscina (11 km off): a note.
    pin = (tmp_path / "maps" / "municipality_001191.html").read_text(encoding="utf-8")
    assert pin.count('"id": "iso-') == 3
    pis = (tmp_path / "maps" / "municipality_001193.html").read_text(encoding="utf-8")
    assert '"id": "iso-' not in pis
    assert _has("Isocrone non disponibili: fuori copertura della rete stradale", pis)
    err = capsys.readouterr().err
    assert "001193 Piscina: no isochrones, outside road-network coverage" in err
    assert len(files) == 5


def test_write_maps_without_plan_says_run_plan(tmp_path: Path, capsys) -> None:
    bundle = syn.write_synthetic_bundle(tmp_path / "bundle")
    write_maps(bundle, out_dir=tmp_path / "maps", tiles=None, municipalities=[])
    marg = (tmp_path / "maps" / "marginality.html").read_text(encoding="utf-8")
    assert _has("Risultati di pianificazione assenti: eseguire prima «territorio plan»", marg)
    assert "run territorio plan" in capsys.readouterr().err
    with pytest.raises(SourceNotFoundError, match="does not exist"):
        write_maps(bundle, out_dir=tmp_path / "maps", tiles=None, plan_dir=tmp_path / "nope")


def test_write_maps_checks_every_input_before_writing(tmp_path: Path) -> None:
    from territorio.errors import NotFoundError

    bundle = syn.write_synthetic_bundle(tmp_path / "bundle")
    out = tmp_path / "maps"
    with pytest.raises(NotFoundError, match="'001999'"):
        write_maps(bundle, out_dir=out, tiles=None, municipalities=["001191", "001999"])
    with pytest.raises(SourceNotFoundError, match="does not exist"):
        write_maps(bundle, out_dir=out, tiles=None, plan_dir=tmp_path / "nope")
    assert not out.exists()  # nothing written, not even the province maps
