"""Services from the ``poi`` layer of an OpenMapTiles-schema vector tile set.

A tile set (a folder of ``{z}/{x}/{y}.pbf`` tiles with ``metadata.json``, or
an ``.mbtiles`` file, as tilemaker and Planetiler write them) is read with
:mod:`territorio.ingest._vector_tiles`. The ``poi`` layer carries ``class``
(OpenMapTiles groups several OSM values in one class), ``subclass`` (the OSM
value), ``name:latin`` and ``rank``; the map reads ``subclass``:

================  ===========================================================
category          ``class`` / ``subclass``
================  ===========================================================
pharmacy          ``pharmacy`` / ``pharmacy`` (not ``chemist``, a shop)
hospital          ``hospital`` / ``hospital``
primary_care      ``hospital`` / ``clinic``, ``doctors`` / ``doctors``
social_facility   ``hospital`` / ``nursing_home`` (the tiles have no
                  ``social_facility``)
childcare         ``school`` / ``kindergarten``
primary_school /  ``school`` / ``school``, by the level its name says
secondary_school  (below)
post_office       ``post`` / ``post_office`` (not ``post_box``)
library           ``library`` / ``library`` (not ``books``, a bookshop)
town_hall         ``town_hall`` / ``townhall`` only: the class also holds
                  ``public_building``, ``courthouse``, ``community_centre``
bank_atm          ``bank`` / ``bank`` (the tiles have no ``atm``)
railway_station   ``railway`` / ``station|halt`` (OpenMapTiles, Planetiler);
                  ``station`` / ``station`` (tilemaker's profile, which
                  gives ``railway=station`` and ``aerialway=station`` the
                  same class and subclass) only within
                  :data:`RAIL_STATION_M` of a ``rail`` line of the
                  ``transportation`` layer
================  ===========================================================

Every other subclass is dropped; the provenance counts the dropped values of
the classes above (``unmapped_subclass_<value>``) and the rest in one number.

Schools
-------
The tiles carry no ``isced:level``: a school's level is read from its name
(:func:`school_levels_from_name`) and nothing is assumed. A name may name
several levels ("Scuola Primaria e dell'Infanzia"); an *istituto
comprensivo* with no level named is a primary and a lower-secondary school.
Each level gives one row in its category: ``childcare`` (ISCED 0),
``primary_school`` (ISCED 1), ``secondary_school`` (ISCED 2 and/or 3, as the
taxonomy groups them; the MIUR adapter does the same). The level is in the
attributes (``school_level``, ``isced_level``; ``school_type`` = ``liceo``,
``tecnico``, ``professionale`` or ``non_specificato`` for upper-secondary
schools). A school whose name says no level ("Istituto Federico Albert", an
unnamed one) is **not** put in any category: it is counted
(``school_level_unknown``) and reported in the provenance notes.

Identifiers
-----------
Vector tiles carry no OSM ids. ``source_id`` is built from the subclass and
the point's position on the tile set's integer grid (one unit is 0.6 m of
EPSG:3857 at zoom 14), ``"<subclass>@<z>/<gx>/<gy>"``, so it is the same on
every read of the same tiles, from a folder or from an ``.mbtiles`` file.
The ``source`` is ``"osm"`` as on the other OpenStreetMap paths, so the
registries win the merge (:mod:`territorio.ingest.services.merge`).

Duplicates
----------
GDAL clips each tile to its own square (``CLIP=YES``), so the points in the
tile buffers are cut away; a point lying exactly on a tile border is still
kept by both tiles. Points with the same subclass and name within
:data:`DUPLICATE_M` of each other are one POI (``dropped_duplicate_point``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

from territorio.config import ServiceSourceConfig
from territorio.errors import MissingColumnError
from territorio.ingest._result import SourceResult
from territorio.ingest._vector_tiles import TileSet, open_tileset, read_layer, tile_units
from territorio.ingest.services._common import RawServices, finish
from territorio.provenance import Provenance

__all__ = [
    "DUPLICATE_M",
    "POI_SUBCLASS_MAP",
    "RAIL_STATION_M",
    "classify_poi",
    "load_osm_tiles",
    "school_levels_from_name",
]

SOURCE = "osm"
LICENCE = "© OpenStreetMap contributors, ODbL 1.0"
POI_LAYER = "poi"

#: ``(class, subclass)`` to category; ``school`` / ``school`` is split by name
#: and the station pairs are checked against the railway lines.
POI_SUBCLASS_MAP: dict[tuple[str, str], str] = {
    ("pharmacy", "pharmacy"): "pharmacy",
    ("hospital", "hospital"): "hospital",
    ("hospital", "clinic"): "primary_care",
    ("doctors", "doctors"): "primary_care",
    ("hospital", "nursing_home"): "social_facility",
    ("school", "kindergarten"): "childcare",
    ("school", "school"): "school",
    ("post", "post_office"): "post_office",
    ("library", "library"): "library",
    ("town_hall", "townhall"): "town_hall",
    ("bank", "bank"): "bank_atm",
    ("railway", "station"): "railway_station",
    ("railway", "halt"): "railway_station",
    ("station", "station"): "railway_station",
    ("station", "halt"): "railway_station",
}
#: Classes where the railway and aerialway stations are not told apart
#: (tilemaker's OpenMapTiles profile): a station must be near a railway line.
_AMBIGUOUS_STATION_CLASSES = ("station",)
#: A ``station`` POI is a railway station when a ``rail`` line of the
#: ``transportation`` layer passes within this distance (m on the ground).
#: Measured on the 2021 Turin tiles: the 8 railway stations lie 2.5-31 m from a
#: track, the aerialway / disused ones 8 km or more.
RAIL_STATION_M = 100.0
#: Points of the same subclass and name closer than this (m) are one POI.
DUPLICATE_M = 1.0

_FLAGS = re.IGNORECASE
_CHILDCARE = re.compile(
    r"\b(?:infanzia|matern[ae]|asil[oi]|nido|micronido|nursery|kindergarten|maternelle)\b", _FLAGS
)
_PRIMARY = re.compile(
    r"\b(?:primari[ae]|elementar[ei]|[ée]l[ée]mentaires?|primaires?|primaries|primary"
    r"|elementary|direzione\s+didattica|circolo\s+didattico)\b",
    _FLAGS,
)
_GRADE_1 = r"(?:primo|1\s*°?|1\s*\^|i\s*°?)"
_GRADE_2 = r"(?:secondo|2\s*°?|2\s*\^|ii\s*°?)"
#: "secondaria [statale] [di] I grado": a word or two may sit before the grade
_BETWEEN = r"(?:(?:statale|paritaria)\s+)?(?:di\s+)?"
_LOWER = re.compile(
    rf"\b(?:medi[ae]|secondari[ae]\s+{_BETWEEN}{_GRADE_1}\s*grado|secondari[ae]\s+inferiore"
    r"|s\.\s?m\.\s?s\.?)(?!\w)",
    _FLAGS,
)
_UPPER_LICEO = re.compile(
    r"\b(?:lice[oi]|lyc[ée]e|istituto\s+magistrale|istituto\s+d'arte)\b", _FLAGS
)
_UPPER_TECNICO = re.compile(
    r"\b(?:istituto\s+tecnico|tecnico\s+(?:industriale|commerciale|agrario|per\s+geometri)"
    r"|sez(?:\.|ione)?\s*tecnica"
    r"|i\.?\s?t\.?\s?i\.?\s?s|i\.?\s?t\.?\s?t\.?\s?s|i\.?\s?t\.?\s?c|i\.?\s?t\.?\s?g|iti|itas|itcg)"
    r"\b",
    _FLAGS,
)
_UPPER_PROF = re.compile(
    r"\b(?:istituto\s+professionale|alberghier[oa]|enogastronomi[ac]"
    r"|i\.?\s?p\.?\s?s\.?\s?i\.?\s?a|ipssar|ipsar|ipsct|ipc|ips)\b",
    _FLAGS,
)
_UPPER_OTHER = re.compile(
    rf"\b(?:istituto\s+(?:di\s+|d')?(?:istruzione|educazione)\s+superiore|istituto\s+superiore"
    r"|scuola\s+superiore|istituto\s+commerciale|istituto\s+per\s+il\s+commercio"
    rf"|secondari[ae]\s+{_BETWEEN}{_GRADE_2}\s*grado|secondari[ae]\s+superiore"
    r"|i\.?\s?i\.?\s?s|i\.?\s?s\.?\s?i\.?\s?s)\b",
    _FLAGS,
)
_COMPRENSIVO = re.compile(r"\b(?:(?i:istituto\s+comprensivo)|I\.\s?C\.|IC)(?!\w)")
_SECONDARY_ANY = re.compile(r"\bsecondari[ae]\b", _FLAGS)

#: The levels :func:`school_levels_from_name` returns, lowest first.
SCHOOL_LEVELS = ("childcare", "primary", "lower_secondary", "upper_secondary", "secondary")


def school_levels_from_name(names: pd.Series) -> pd.DataFrame:
    """Read the school levels an Italian (or French, English) school name states.

    Parameters
    ----------
    names
        School names (missing allowed).

    Returns
    -------
    DataFrame
        Aligned with ``names``: one boolean column per level of
        :data:`SCHOOL_LEVELS` (``secondary`` = a *scuola secondaria* whose
        grade the name does not say) and ``school_type`` (``liceo``,
        ``tecnico``, ``professionale``, ``non_specificato`` for
        upper-secondary schools, else None). A row with every level False
        is a school of unknown level.

    Notes
    -----
    Levels named explicitly win over *istituto comprensivo*, which means
    primary + lower secondary only when the name names no level ("Istituto
    Comprensivo Trino - Scuola Secondaria di I Grado" is the lower-secondary
    site of that institute).
    """
    text = names.astype(object).where(names.notna(), "").astype(str)
    text = text.str.replace("’", "'", regex=False).str.replace(r"\s+", " ", regex=True)

    def has(rx: re.Pattern[str]) -> np.ndarray:
        return text.str.contains(rx).to_numpy(dtype=bool)

    childcare, primary, lower = has(_CHILDCARE), has(_PRIMARY), has(_LOWER)
    liceo, tecnico, prof = has(_UPPER_LICEO), has(_UPPER_TECNICO), has(_UPPER_PROF)
    upper = liceo | tecnico | prof | has(_UPPER_OTHER)
    explicit = childcare | primary | lower | upper
    comprensivo = has(_COMPRENSIVO) & ~explicit
    primary = primary | comprensivo
    lower = lower | comprensivo
    secondary = has(_SECONDARY_ANY) & ~(lower | upper)
    # every type the name names ("Istituto tecnico - Liceo scientifico": liceo+tecnico)
    stype = np.full(len(text), None, dtype=object)
    for i in np.flatnonzero(upper):
        kinds = [
            k for k, f in (("liceo", liceo), ("tecnico", tecnico), ("professionale", prof)) if f[i]
        ]
        stype[i] = "+".join(kinds) or "non_specificato"
    return pd.DataFrame(
        {
            "childcare": childcare,
            "primary": primary,
            "lower_secondary": lower,
            "upper_secondary": upper,
            "secondary": secondary,
            "school_type": stype,
        },
        index=names.index,
    )


def _near_rail(tiles: TileSet, points: gpd.GeoSeries, metres: float) -> np.ndarray:
    """Whether a ``rail`` line of the ``transportation`` layer passes near each point."""
    if len(points) == 0:
        return np.zeros(0, dtype=bool)
    # EPSG:3857 stretches distances by 1/cos(lat): buffer in projected metres
    scale = 1.0 / np.cos(np.radians(points.to_crs(4326).y.to_numpy()))
    zones = shapely.buffer(points.to_numpy(), metres * scale)
    lines = read_layer(tiles, "transportation", mask=shapely.union_all(zones))
    if "class" not in lines.columns or len(lines) == 0:
        return np.zeros(len(points), dtype=bool)
    rail = lines.geometry[lines["class"].astype(str).eq("rail").to_numpy()].to_numpy()
    if len(rail) == 0:
        return np.zeros(len(points), dtype=bool)
    hit, _ = shapely.STRtree(rail).query(zones, predicate="intersects")
    out = np.zeros(len(points), dtype=bool)
    out[np.unique(hit)] = True
    return out


def classify_poi(poi: pd.DataFrame, *, near_rail: np.ndarray | None = None) -> pd.Series:
    """Map ``poi`` features to a category by ``class`` and ``subclass``.

    Parameters
    ----------
    poi
        The ``poi`` layer's attributes (``class``, ``subclass``).
    near_rail
        For each row, whether a railway line passes near it (needed only for
        tilemaker's ambiguous ``station`` class; ``None``: no such station is
        a railway station).

    Returns
    -------
    Series
        The category code, ``"school"`` for schools still to be split by
        level, or None when the feature is not a service we map.
    """
    cls = poi["class"].astype(object).where(poi["class"].notna(), "").astype(str)
    sub = poi["subclass"].astype(object).where(poi["subclass"].notna(), "").astype(str)
    pairs = list(zip(cls, sub, strict=True))
    cat = np.asarray([POI_SUBCLASS_MAP.get(p) for p in pairs], dtype=object)
    ambiguous = (cat == "railway_station") & cls.isin(_AMBIGUOUS_STATION_CLASSES).to_numpy()
    rail = np.zeros(len(cat), dtype=bool) if near_rail is None else np.asarray(near_rail, bool)
    cat[ambiguous & ~rail] = None
    return pd.Series(cat, index=poi.index, dtype=object)


def _dedupe(xy: np.ndarray, key: np.ndarray, lat: np.ndarray, metres: float) -> np.ndarray:
    """Mask of the rows that repeat an earlier row's key within ``metres`` (EPSG:3857 xy)."""
    dup = np.zeros(len(xy), dtype=bool)
    if len(xy) < 2:
        return dup
    # the largest Mercator stretch of the set bounds the query; exact check after
    stretch = 1.0 / np.cos(np.radians(np.abs(lat).max()))
    pairs = cKDTree(xy).query_pairs(metres * stretch, output_type="ndarray")
    if len(pairs) == 0:
        return dup
    i, j = pairs.min(axis=1), pairs.max(axis=1)
    ground = np.hypot(*(xy[i] - xy[j]).T) * np.cos(np.radians(lat[i]))
    same = (key[i] == key[j]) & (ground <= metres)
    dup[j[same]] = True
    return dup


def load_osm_tiles(
    src: ServiceSourceConfig,
    *,
    location: str,
    area: BaseGeometry,
    municipalities: gpd.GeoDataFrame,
    cache_dir: Path,
) -> SourceResult:
    """Read services from the ``poi`` layer of a vector tile set (folder or ``.mbtiles``).

    Parameters
    ----------
    src
        The source configuration (``adapter = "osm_tiles"``); ``data_date``
        and ``extract`` go to the provenance (tiles carry neither).
    location
        The tile set folder (or its zoom folder) or ``.mbtiles`` file.
    area
        Study area (EPSG:4326); only the tiles touching its bounding box are
        read and the points outside it are dropped.
    municipalities
        Municipality polygons, to assign ``pro_com_t``.
    cache_dir
        Unused (tile sets are local).

    Returns
    -------
    SourceResult
        The services and a provenance whose counts add, to those of every
        adapter, ``poi_features`` (features read), ``school_level_unknown``
        (``school_level_unknown_unnamed`` of them without a name),
        ``school_extra_level_rows``, ``dropped_duplicate_point``,
        ``dropped_station_not_on_railway``, ``unmapped_subclass_<value>``
        (values of the mapped classes left out) and
        ``unmapped_other_subclasses``.

    Raises
    ------
    SourceNotFoundError
        If the tile set does not exist.
    DataValidationError
        If it holds no tiles or no ``poi`` layer.
    MissingColumnError
        If the ``poi`` layer has no ``class`` / ``subclass`` attributes.
    """
    del cache_dir
    tiles = open_tileset(location)
    poi = read_layer(tiles, POI_LAYER, bbox=tuple(area.bounds))
    missing = [c for c in ("class", "subclass") if c not in poi.columns]
    if missing and len(poi):
        raise MissingColumnError(
            f"vector tiles {tiles.location}, layer {POI_LAYER!r}: no attribute(s) "
            f"{', '.join(map(repr, missing))} (found: {', '.join(map(str, poi.columns))}); "
            "is it an OpenMapTiles-schema tile set?"
        )
    for col in ("class", "subclass", "name:latin", "name"):
        if col not in poi.columns:
            poi[col] = pd.Series(None, index=poi.index, dtype=object)
    name = poi["name:latin"].where(poi["name:latin"].notna(), poi["name"])
    counts: dict[str, int] = {"poi_features": len(poi)}
    if len(poi) and not (poi.geometry.geom_type == "Point").all():
        # OpenMapTiles poi features are points; a profile that writes areas gets a
        # point inside each (the point's tile-grid position is then its id)
        poi = poi.set_geometry(shapely.point_on_surface(poi.geometry.to_numpy()))

    cls = poi["class"].astype(object).where(poi["class"].notna(), "").astype(str)
    ambiguous = cls.isin(_AMBIGUOUS_STATION_CLASSES).to_numpy()
    near = np.zeros(len(poi), dtype=bool)
    if ambiguous.any():
        near[ambiguous] = _near_rail(tiles, poi.geometry[ambiguous], RAIL_STATION_M)
    category = classify_poi(poi, near_rail=near)
    station_like = ambiguous & poi["subclass"].isin(["station", "halt"]).to_numpy()
    counts["dropped_station_not_on_railway"] = int((station_like & ~near).sum())

    mapped = category.notna().to_numpy()
    classes = set(cls[mapped])
    sub = poi["subclass"].astype(object).where(poi["subclass"].notna(), "").astype(str)
    left = ~mapped & ~station_like
    related = left & cls.isin(classes).to_numpy()
    for value, k in sub[related].value_counts().sort_index().items():
        counts[f"unmapped_subclass_{value}"] = int(k)
    counts["unmapped_other_subclasses"] = int((left & ~related).sum())

    # one point per POI: drop repeats of the same subclass and name within DUPLICATE_M
    xy = np.column_stack([poi.geometry.x.to_numpy(), poi.geometry.y.to_numpy()])
    lonlat = poi.geometry.to_crs(4326)
    lon, lat = lonlat.x.to_numpy(), lonlat.y.to_numpy()
    key = (sub + "|" + name.fillna("").astype(str)).to_numpy()
    dup = np.zeros(len(poi), dtype=bool)
    dup[mapped] = _dedupe(xy[mapped], key[mapped], lat[mapped], DUPLICATE_M)
    counts["dropped_duplicate_point"] = int(dup.sum())

    keep = mapped & ~dup
    rows = np.flatnonzero(keep)
    gx, gy = tile_units(xy[rows, 0], xy[rows, 1], tiles=tiles)
    sid = np.asarray(
        [
            f"{s}@{tiles.zoom}/{x}/{y}"
            for s, x, y in zip(
                sub.to_numpy(dtype=object)[rows],
                np.rint(gx).astype(np.int64),
                np.rint(gy).astype(np.int64),
                strict=True,
            )
        ],
        dtype=object,
    )
    cat = category.to_numpy(dtype=object)[rows]
    facts = pd.DataFrame(
        {
            "class": cls.to_numpy(dtype=object)[rows],
            "subclass": sub.to_numpy(dtype=object)[rows],
            "rank": (
                poi["rank"] if "rank" in poi.columns else pd.Series(np.nan, index=poi.index)
            ).to_numpy(dtype=float)[rows],
            # the tiles' nursing homes are the social_facility=nursing_home of the taxonomy
            "social_facility": pd.Series(cat == "social_facility").map(
                {True: "nursing_home", False: None}
            ),
        }
    )
    base_attrs = [{str(k): v for k, v in r.items()} for r in facts.to_dict("records")]

    out_idx, out_cat, out_sid, out_attrs = _split_schools(rows, cat, sid, base_attrs, name, counts)
    raw = RawServices(
        source_id=pd.Series(out_sid, dtype=object),
        name=name.iloc[out_idx].reset_index(drop=True),
        category=pd.Series(out_cat, dtype=object),
        lon=pd.Series(lon[out_idx]),
        lat=pd.Series(lat[out_idx]),
        line=pd.Series([f"poi feature {i + 1}" for i in out_idx], dtype=object),
        attributes=out_attrs,
        counts={**counts, "read": len(poi)},
        lon_column="geometry",
        lat_column="geometry",
    )
    prov = Provenance(
        source="osm-tiles",
        location=str(location),
        sha256=tiles.metadata_sha256,
        data_date=src.data_date,
        licence=LICENCE,
        notes=_notes(tiles, src, counts),
    )
    result = finish(
        raw,
        source=SOURCE,
        where=f"vector tiles {tiles.location}",
        area=area,
        municipalities=municipalities,
        categories=src.categories,
        provenance=prov,
    )
    # finish saw only the mapped rows: count here what the map left out
    c = result.provenance.counts
    # (unmapped subclasses, stations off the railway, schools of unknown level)
    c["dropped_unmapped_category"] = int((~mapped).sum()) + counts["school_level_unknown"]
    return result


def _split_schools(
    rows: np.ndarray,
    cat: np.ndarray,
    sid: np.ndarray,
    attrs: list[dict[str, Any]],
    name: pd.Series,
    counts: dict[str, int],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict[str, Any]]]:
    """Give each school one row per level its name states; drop those of unknown level."""
    is_school = cat == "school"
    levels = school_levels_from_name(name.iloc[rows[is_school]].reset_index(drop=True))
    out_idx: list[int] = []
    out_cat: list[str] = []
    out_sid: list[str] = []
    out_attrs: list[dict[str, Any]] = []
    unknown = unnamed = extra = 0
    k = 0
    for r, c, s, a, school in zip(rows, cat, sid, attrs, is_school, strict=True):
        if not school:
            out_idx.append(int(r))
            out_cat.append(str(c))
            out_sid.append(str(s))
            out_attrs.append(a)
            continue
        lv = levels.iloc[k]
        k += 1
        made = []
        if lv["childcare"]:
            made.append(("childcare", {"school_level": "childcare", "isced_level": "0"}))
        if lv["primary"]:
            made.append(("primary_school", {"school_level": "primary", "isced_level": "1"}))
        sec = [
            lvl for lvl, isced in (("lower_secondary", "2"), ("upper_secondary", "3")) if lv[lvl]
        ]
        if sec:
            info: dict[str, Any] = {
                "school_level": "+".join(sec),
                "isced_level": ";".join("2" if s_ == "lower_secondary" else "3" for s_ in sec),
            }
            if lv["upper_secondary"]:
                info["school_type"] = lv["school_type"]
            made.append(("secondary_school", info))
        elif lv["secondary"]:
            made.append(("secondary_school", {"school_level": "secondary_grade_unknown"}))
        if not made:
            unknown += 1
            unnamed += not str(name.iloc[r] if pd.notna(name.iloc[r]) else "").strip()
            continue
        extra += len(made) - 1
        for j, (code, info) in enumerate(made):
            out_idx.append(int(r))
            out_cat.append(code)
            out_sid.append(str(s) if j == 0 else f"{s}#{code}")
            out_attrs.append({**a, **info, "school_level_from": "name"})
    counts["school_level_unknown"] = unknown
    counts["school_level_unknown_unnamed"] = unnamed
    counts["school_extra_level_rows"] = extra
    return (
        np.asarray(out_idx, dtype=np.int64),
        np.asarray(out_cat, dtype=object),
        np.asarray(out_sid, dtype=object),
        out_attrs,
    )


def _notes(tiles: TileSet, src: ServiceSourceConfig, counts: dict[str, int]) -> list[str]:
    notes = [
        f"vector tile set {tiles.name!r} ({tiles.kind}, zoom {tiles.zoom}), layer {POI_LAYER!r}; "
        "sha256 is that of its metadata"
        + (" (metadata.json)" if tiles.kind == "directory" else " (MBTiles metadata table)"),
        "vector tiles carry no OSM ids: source_id = <subclass>@<z>/<gx>/<gy>, the point's "
        "position on the tile grid (stable for the same tiles, from a folder or an .mbtiles)",
        "categories by the poi subclass; town_hall is subclass townhall only (not "
        "public_building, courthouse, community_centre); no atm or social_facility in the "
        "tiles (nursing_home is social_facility)",
        f"schools: the level is read from the name only (no isced:level in the tiles); "
        f"{counts.get('school_level_unknown', 0)} schools whose name says no level "
        f"({counts.get('school_level_unknown_unnamed', 0)} of them unnamed) are left out of "
        "every school category (school_level_unknown), none is assumed; to count them, "
        "add a table source that gives their level",
    ]
    if src.extract:
        notes.append(f"made from: {src.extract}")
    if src.data_date is None:
        notes.append(
            "data date unknown: the tile set does not say it; set data_date in the source config"
        )
    if counts.get("dropped_station_not_on_railway"):
        notes.append(
            f"{counts['dropped_station_not_on_railway']} 'station' POIs with no railway line "
            f"within {RAIL_STATION_M:.0f} m dropped (aerialway or disused stations: the tile "
            "profile gives them the same class as railway stations)"
        )
    return notes
