"""The territory bundle: a folder of GeoParquet layers plus ``manifest.json``.

A bundle is always written whole into a temporary sibling folder and then
swapped in with renames, so a failed or killed build never damages the
previous bundle: readers see either the old folder or the new one.

Layout::

    data/<slug>/
        manifest.json
        municipalities.parquet
        population_cells.parquet
        road_nodes.parquet
        road_edges.parquet
        services.parquet
        access_cells.parquet            # added by ``territorio access``
        access_municipalities.parquet   # added by ``territorio access``
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyarrow.parquet as pq

from territorio._version import __version__
from territorio.errors import BundleError

__all__ = ["MANIFEST", "Bundle", "update_bundle", "write_bundle"]

MANIFEST = "manifest.json"
FORMAT_VERSION = 1


class Bundle:
    """A read-only view of a territory bundle; layers are read lazily and cached."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        _recover(self.path)
        mpath = self.path / MANIFEST
        if not mpath.is_file():
            raise BundleError(
                f"no territory bundle at {self.path} (missing {MANIFEST}); "
                "build one with: territorio build --config configs/torino-local.toml"
            )
        try:
            self.manifest: dict[str, Any] = json.loads(mpath.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise BundleError(f"{mpath}: manifest is not valid JSON: {exc}") from exc
        if self.manifest.get("format_version") != FORMAT_VERSION:
            raise BundleError(
                f"{mpath}: bundle format {self.manifest.get('format_version')!r} is not "
                f"{FORMAT_VERSION}; rebuild it with this version of territorio"
            )
        self._cache: dict[str, pd.DataFrame] = {}

    @property
    def layers(self) -> list[str]:
        """Names of the layers present."""
        return sorted(p.stem for p in self.path.glob("*.parquet"))

    def has_layer(self, name: str) -> bool:
        """Return True if the layer exists."""
        return (self.path / f"{name}.parquet").is_file()

    def layer(self, name: str) -> Any:
        """Return a layer: a GeoDataFrame for spatial layers, else a DataFrame."""
        if name not in self._cache:
            path = self.path / f"{name}.parquet"
            if not path.is_file():
                hint = (
                    "run: territorio access" if name.startswith("access_") else "rebuild the bundle"
                )
                raise BundleError(f"bundle {self.path} has no layer {name!r}; {hint}")
            meta = pq.read_schema(path).metadata or {}
            self._cache[name] = gpd.read_parquet(path) if b"geo" in meta else pd.read_parquet(path)
        return self._cache[name]


def _write_layers(folder: Path, layers: Mapping[str, pd.DataFrame]) -> dict[str, int]:
    counts = {}
    for name, df in layers.items():
        target = folder / f"{name}.parquet"
        df.to_parquet(target, index=False, compression="zstd")
        counts[name] = len(df)
    return counts


def _commit(tmp: Path, target: Path, manifest: Mapping[str, Any]) -> Bundle:
    """Write the manifest into the filled ``tmp`` folder and swap it in as ``target``."""
    (tmp / MANIFEST).write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False, default=str), encoding="utf-8"
    )
    _swap_in(tmp, target)
    return Bundle(target)


def _swap_in(tmp: Path, target: Path) -> None:
    """Replace ``target`` by ``tmp`` with renames (old kept until the new is in place)."""
    old = target.with_name(f".{target.name}.old")
    if old.exists():
        shutil.rmtree(old)
    if target.exists():
        os.replace(target, old)
    os.replace(tmp, target)
    if old.exists():
        shutil.rmtree(old)


def _recover(target: Path) -> None:
    """Restore the previous bundle if a swap was interrupted between its two renames."""
    old = target.with_name(f".{target.name}.old")
    if not target.exists() and old.exists():
        os.replace(old, target)


def write_bundle(
    target: str | Path, layers: Mapping[str, pd.DataFrame], manifest: Mapping[str, Any]
) -> Bundle:
    """Write a complete bundle atomically and return it.

    ``manifest`` gets ``format_version``, ``software_version`` and
    ``layers`` (row counts) added.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    _recover(target)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        counts = _write_layers(tmp, layers)
        full = {
            "format_version": FORMAT_VERSION,
            "software_version": __version__,
            **manifest,
            "layers": counts,
        }
        return _commit(tmp, target, full)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def update_bundle(
    bundle: Bundle,
    layers: Mapping[str, pd.DataFrame],
    manifest_update: Mapping[str, Any],
) -> Bundle:
    """Add or replace layers of an existing bundle, atomically.

    The untouched layers are hard-linked (or copied) into the new folder, the
    given ones written, the manifest merged (``manifest_update`` keys replace
    the old ones), and the folder swapped in.
    """
    target = bundle.path
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        for f in target.iterdir():
            if f.suffix == ".parquet" and f.stem not in layers:
                try:
                    os.link(f, tmp / f.name)
                except OSError:
                    shutil.copy2(f, tmp / f.name)
        counts = dict(bundle.manifest.get("layers", {}))
        counts.update(_write_layers(tmp, layers))
        full = {**bundle.manifest, **manifest_update, "layers": counts}
        return _commit(tmp, target, full)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
