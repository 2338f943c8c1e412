"""Read OpenMapTiles-schema vector tile sets through GDAL (pyogrio's MVT and MBTiles drivers).

A tile set is either a folder of Mapbox Vector Tiles (``{z}/{x}/{y}.pbf`` with
the tileset's ``metadata.json`` at its root, as tilemaker and Planetiler
write them) or an ``.mbtiles`` file. GDAL reads one zoom level of it as one
dataset per layer, in EPSG:3857, and clips each feature to its own tile
square (``CLIP=YES``): the tile buffers' overlaps are cut away, and a road
crossing a tile border comes out as pieces that meet on the border line.

Every attribute a tile carries is read, not only those the metadata
declares: GDAL builds a layer's fields from ``metadata.json`` and silently
drops the others (tilemaker's profile writes ``ramp`` on ``transportation``
without declaring it, for instance), so the attributes are read as one JSON
object per feature (``JSON_FIELD=YES``) and expanded into columns here.

Tile coordinates
----------------
At zoom ``z`` with a tile extent of ``E`` units (4096 for OpenMapTiles), a
vertex is stored on an integer grid of ``2**z * E`` units around the world:
:func:`tile_units` turns EPSG:3857 coordinates into that grid, where every
vertex of a tile is an integer and the points GDAL adds where it clips a
feature to its tile lie on a tile border line. At zoom 14 a unit is
0.597 m of EPSG:3857 (0.42 m on the ground at 45°N).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
import shapely.ops
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

from territorio.errors import DataValidationError, SourceNotFoundError
from territorio.provenance import sha256_bytes

__all__ = ["MERCATOR_HALF_M", "TileSet", "footprint", "open_tileset", "read_layer", "tile_units"]

#: Half the width of the EPSG:3857 world square (m).
MERCATOR_HALF_M = 20037508.342789244


@dataclass(frozen=True)
class TileSet:
    """One zoom level of a vector tile set.

    Attributes
    ----------
    location
        The folder holding the zoom folders (and ``metadata.json``), or the
        ``.mbtiles`` file.
    kind
        ``"directory"`` or ``"mbtiles"``.
    zoom
        The zoom level read (the set's most detailed one unless asked).
    metadata
        The tileset metadata (``metadata.json``, or the MBTiles ``metadata``
        table with its ``json`` row expanded); empty when there is none.
    metadata_sha256
        sha256 of the metadata as stored (file bytes, or the table's rows as
        sorted JSON); None without metadata.
    extent
        Tile extent in units (4096 unless the metadata says otherwise).
    declared_fields
        Layer name to the attribute names the metadata declares.
    """

    location: Path
    kind: Literal["directory", "mbtiles"]
    zoom: int
    metadata: dict[str, Any] = field(default_factory=dict)
    metadata_sha256: str | None = None
    extent: int = 4096
    declared_fields: dict[str, list[str]] = field(default_factory=dict)
    _layer_names: list[str] = field(default_factory=list, compare=False, repr=False)

    @property
    def name(self) -> str:
        """The tile set's name from its metadata (or the file/folder name)."""
        return str(self.metadata.get("name") or self.location.name)

    @property
    def gdal_path(self) -> str:
        """The path GDAL opens (the zoom folder with the ``MVT:`` prefix, or the file)."""
        if self.kind == "directory":
            return f"MVT:{self.location / str(self.zoom)}"
        return str(self.location)

    @property
    def unit_m(self) -> float:
        """Size of one tile unit in EPSG:3857 metres."""
        return 2 * MERCATOR_HALF_M / (2**self.zoom * self.extent)

    def layers(self) -> list[str]:
        """Return the layer names GDAL finds in the tile set (listed once: ~2 s for a province)."""
        if not self._layer_names:
            self._layer_names.extend(str(n) for n in pyogrio.list_layers(self.gdal_path)[:, 0])
        return list(self._layer_names)

    def _open_options(self) -> dict[str, str]:
        opts = {"CLIP": "YES", "JSON_FIELD": "YES"}
        if self.kind == "directory":
            # an empty METADATA_FILE makes GDAL read the tiles' own schema, and
            # JSON_FIELD then carries every attribute (declared or not)
            opts["METADATA_FILE"] = ""
        else:
            opts["ZOOM_LEVEL"] = str(self.zoom)
        return opts


def open_tileset(location: str | Path, *, zoom: int | None = None) -> TileSet:
    """Open a vector tile set folder or ``.mbtiles`` file.

    Parameters
    ----------
    location
        A folder with ``{z}/{x}/{y}.pbf`` tiles (and ``metadata.json``), a zoom
        folder of such a set (``.../14``), or an ``.mbtiles`` file.
    zoom
        The zoom level to read; default the most detailed one present.

    Raises
    ------
    SourceNotFoundError
        If the location does not exist.
    DataValidationError
        If it holds no tiles (or not at the requested zoom), or its metadata
        is not valid JSON.
    """
    path = Path(location).expanduser()
    if not path.exists():
        raise SourceNotFoundError(
            f"vector tile set not found: {path} (give a folder of z/x/y.pbf tiles with "
            "metadata.json, or an .mbtiles file)"
        )
    if path.is_file():
        if path.suffix.lower() != ".mbtiles":
            raise DataValidationError(
                f"{path}: not a vector tile set (expected a folder of z/x/y.pbf tiles or an "
                ".mbtiles file)"
            )
        return _open_mbtiles(path, zoom)
    if path.name.isdigit() and not (path / "metadata.json").is_file():
        # a zoom folder: the set's root is its parent
        zoom = int(path.name) if zoom is None else zoom
        path = path.parent
    zooms = sorted(int(p.name) for p in path.iterdir() if p.is_dir() and p.name.isdigit())
    if not zooms:
        raise DataValidationError(
            f"{path}: no zoom folder (expected {path}/<z>/<x>/<y>.pbf vector tiles)"
        )
    z = zooms[-1] if zoom is None else zoom
    if z not in zooms:
        raise DataValidationError(
            f"{path}: no tiles at zoom {z} (zoom levels present: {', '.join(map(str, zooms))})"
        )
    meta: dict[str, Any] = {}
    digest = None
    mfile = path / "metadata.json"
    if mfile.is_file():
        raw = mfile.read_bytes()
        digest = sha256_bytes(raw)
        try:
            meta = json.loads(raw)
        except ValueError as exc:
            raise DataValidationError(f"{mfile}: not valid JSON: {exc}") from exc
    return _tileset(path, "directory", z, meta, digest)


def _open_mbtiles(path: Path, zoom: int | None) -> TileSet:
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = con.execute("SELECT name, value FROM metadata").fetchall()
            zooms = [int(r[0]) for r in con.execute("SELECT DISTINCT zoom_level FROM tiles")]
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise DataValidationError(
            f"{path}: not a readable MBTiles file ({exc}; it needs the tables metadata and tiles)"
        ) from exc
    if not zooms:
        raise DataValidationError(f"{path}: the MBTiles file holds no tiles")
    z = max(zooms) if zoom is None else zoom
    if z not in zooms:
        raise DataValidationError(
            f"{path}: no tiles at zoom {z} (zoom levels present: "
            f"{', '.join(map(str, sorted(zooms)))})"
        )
    meta: dict[str, Any] = {str(k): v for k, v in rows}
    if "json" in meta:
        try:
            # the table's own rows (name, bounds, ...) win over the json row's copies
            meta = {**json.loads(meta.pop("json")), **meta}
        except ValueError as exc:
            raise DataValidationError(f"{path}: metadata row 'json' is not valid JSON") from exc
    digest = sha256_bytes(json.dumps(sorted(map(list, rows))).encode()) if rows else None
    return _tileset(path, "mbtiles", z, meta, digest)


def _tileset(
    path: Path,
    kind: Literal["directory", "mbtiles"],
    z: int,
    meta: dict[str, Any],
    digest: str | None,
) -> TileSet:
    declared = {
        str(layer.get("id")): sorted(map(str, (layer.get("fields") or {}).keys()))
        for layer in meta.get("vector_layers", [])
        if isinstance(layer, dict)
    }
    extent = int(meta.get("extent", 4096)) if str(meta.get("extent", "")).isdigit() else 4096
    return TileSet(path, kind, z, meta, digest, extent, declared)


def read_layer(
    tiles: TileSet,
    layer: str,
    *,
    bbox: tuple[float, float, float, float] | None = None,
    mask: BaseGeometry | None = None,
) -> gpd.GeoDataFrame:
    """Read one layer of a tile set with all its attributes as columns (EPSG:3857).

    Parameters
    ----------
    tiles
        The tile set (:func:`open_tileset`).
    layer
        Layer name, e.g. ``"transportation"`` or ``"poi"``.
    bbox
        Only tiles touching this box (lon/lat, EPSG:4326) are read.
    mask
        Only features intersecting this geometry (EPSG:3857, e.g. buffers
        around a few points far apart) are read; one read instead of one per
        box. Not together with ``bbox``.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per feature piece (a feature cut by tile borders gives one row
        per tile), a column per attribute found in the tiles, geometry in
        EPSG:3857.

    Raises
    ------
    DataValidationError
        If the tile set has no such layer.
    """
    opts = tiles._open_options()
    try:
        names = tiles.layers()
    except pyogrio.errors.DataSourceError as exc:
        raise DataValidationError(f"{tiles.location}: GDAL cannot read the tiles: {exc}") from exc
    if layer not in names:
        raise DataValidationError(
            f"{tiles.location}: the tile set has no layer {layer!r} (layers: {', '.join(names)}); "
            "is it an OpenMapTiles-schema tile set?"
        )
    box = None
    if bbox is not None:
        tr = Transformer.from_crs(4326, 3857, always_xy=True)
        x0, y0 = tr.transform(bbox[0], bbox[1])
        x1, y1 = tr.transform(bbox[2], bbox[3])
        box = (x0, y0, x1, y1)
    if mask is not None and box is not None:
        raise ValueError("read_layer: give bbox or mask, not both")
    df = pyogrio.read_dataframe(tiles.gdal_path, layer=layer, bbox=box, mask=mask, **opts)
    attrs = _expand_json(df["json"] if "json" in df.columns else pd.Series([], dtype=object))
    attrs.index = df.index
    out = gpd.GeoDataFrame(attrs, geometry=df.geometry.to_numpy(), crs=3857)
    return out[~out.geometry.isna() & ~out.geometry.is_empty].reset_index(drop=True)


def _expand_json(col: pd.Series) -> pd.DataFrame:
    """Expand a column of JSON objects (GDAL's ``json`` field) into columns."""
    # tiles repeat a few attribute combinations many times: parse each once
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    parsed = pd.DataFrame.from_records([json.loads(s) for s in uniques], index=range(len(uniques)))
    if len(parsed.columns) == 0:
        return pd.DataFrame(index=range(len(col)))
    taken = parsed.reindex(np.where(codes < 0, len(uniques), codes))
    return taken.reset_index(drop=True)


def tile_units(x: np.ndarray, y: np.ndarray, *, tiles: TileSet) -> tuple[np.ndarray, np.ndarray]:
    """Turn EPSG:3857 coordinates into the set's world grid of tile units (see module notes).

    ``gx`` grows eastwards and ``gy`` southwards (the XYZ tile convention), so
    tile ``(tx, ty)`` spans ``[tx*E, (tx+1)*E] x [ty*E, (ty+1)*E]``.
    """
    unit = tiles.unit_m
    return (np.asarray(x) + MERCATOR_HALF_M) / unit, (MERCATOR_HALF_M - np.asarray(y)) / unit


def footprint(tiles: TileSet) -> BaseGeometry:
    """Return the area the tiles cover at the set's zoom (EPSG:4326): their squares' union."""
    if tiles.kind == "directory":
        zdir = tiles.location / str(tiles.zoom)
        xs, ys = [], []
        for col in zdir.iterdir():
            if not col.name.isdigit():
                continue
            for f in col.iterdir():
                stem = f.name.split(".", 1)[0]
                if stem.isdigit():
                    xs.append(int(col.name))
                    ys.append(int(stem))
        tx, ty = np.array(xs, dtype=np.int64), np.array(ys, dtype=np.int64)
    else:
        con = sqlite3.connect(f"file:{tiles.location}?mode=ro", uri=True)
        try:
            rows = np.array(
                con.execute(
                    "SELECT tile_column, tile_row FROM tiles WHERE zoom_level = ?", (tiles.zoom,)
                ).fetchall(),
                dtype=np.int64,
            ).reshape(-1, 2)
        finally:
            con.close()
        tx, ty = rows[:, 0], (1 << tiles.zoom) - 1 - rows[:, 1]  # MBTiles rows are TMS
    if len(tx) == 0:
        raise DataValidationError(f"{tiles.location}: no tiles at zoom {tiles.zoom}")
    size = 2 * MERCATOR_HALF_M / (1 << tiles.zoom)
    x0 = -MERCATOR_HALF_M + tx * size
    y1 = MERCATOR_HALF_M - ty * size
    merc = shapely.coverage_union_all(shapely.box(x0, y1 - size, x0 + size, y1))
    to_ll = Transformer.from_crs(3857, 4326, always_xy=True)
    return shapely.make_valid(shapely.ops.transform(to_ll.transform, merc))
