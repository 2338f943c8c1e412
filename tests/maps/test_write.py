"""write_maps: four self-contained HTML files from a bundle."""

from __future__ import annotations

import re
from pathlib import Path

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
