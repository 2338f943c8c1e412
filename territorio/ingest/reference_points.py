"""Reference points of municipalities: where people live, not the polygon's middle.

A municipality's reference point is the origin of its SNAI time and of its
isochrones. SNAI measures from the *centro capoluogo*, while a polygon's
representative point in a mountain comune can sit on a glacier, so the point
is chosen from these sources, first available wins:

1. a user CSV (``[municipalities] reference_points``), ``ref_source``
   ``"user:<file name>"``;
2. the ISTAT 2011 census *centro capoluogo* (``[municipalities] centres``,
   the ``Localita_11_..._points.geojson`` layout), ``"istat_2011_centre"``,
   with the 2011-to-2023 code changes resolved (:func:`match_istat_centres`);
3. the OpenStreetMap ``place`` node named like the comune, inside it, from
   an OpenMapTiles vector tile set (``[municipalities] places``),
   ``"osm_place"``;
4. the most populated piece of the population grid inside the comune
   (applied by the build once the grid is read), ``"population_cell"``;
5. the polygon's representative point, ``"representative_point"``.

Every point used lies inside its 2023 polygon: a source point outside it is
never used blindly, the next source is tried and the reason is noted.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from territorio.errors import DataValidationError, SourceNotFoundError

__all__ = [
    "PLACE_CLASS_RANK",
    "REF_SOURCES",
    "CentreMatch",
    "fill_from_population_cells",
    "match_istat_centres",
    "match_places",
    "normalise_name",
    "population_cell_points",
    "read_istat_centres",
    "read_places",
]

#: The values of ``ref_source``, by priority (a user file is ``"user:<name>"``).
REF_SOURCES: tuple[str, ...] = (
    "user",
    "istat_2011_centre",
    "osm_place",
    "population_cell",
    "representative_point",
)

#: OpenMapTiles ``place`` classes that can be a comune's centre, best first.
PLACE_CLASS_RANK: dict[str, int] = {
    "city": 0,
    "town": 1,
    "village": 2,
    "municipality": 3,
    "suburb": 4,
    "hamlet": 5,
    "quarter": 6,
    "neighbourhood": 7,
    "locality": 8,
    "isolated_dwelling": 9,
}

_SAN = {"s", "san", "sant", "santa", "santo", "ss"}


def normalise_name(name: str) -> str:
    """Return a comparable form of a place name.

    Lower case, accents dropped, apostrophes, hyphens, slashes and dots turned
    into spaces, and the forms of *San* (``S.``, ``Sant'``, ``Santa``,
    ``Santo``) made one token, so ``"Sant'Ambrogio di Torino"``,
    ``"S. Ambrogio di Torino"`` and ``"Sant Ambrogio-di-Torino"`` compare
    equal. Names are data: ``"None"`` stays ``"none"``.
    """
    text = unicodedata.normalize("NFKD", str(name))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = re.sub(r"[’'`´\-‐/.,()]", " ", text)
    tokens = ["san" if t in _SAN else t for t in text.split()]
    return " ".join(tokens)


@dataclass
class CentreMatch:
    """Points found for the municipalities of an area by one source.

    Attributes
    ----------
    lon, lat
        Point per ``pro_com_t`` (EPSG:4326), only where the source gave one
        inside the municipality.
    detail
        Per ``pro_com_t``: what the point is (e.g. the locality name and its
        2011 code).
    notes
        Each code change or rejected point, in words, for the provenance.
    counts
        Figures for the provenance (points read, matched, rejected...).
    """

    lon: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))
    lat: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))
    detail: pd.Series = field(default_factory=lambda: pd.Series(dtype=object))
    notes: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


# -- ISTAT 2011 centres ---------------------------------------------------------


_ISTAT_COLUMNS = ("PRO_COM_T", "DENOMINAZI", "POPRES")


def read_istat_centres(path: str | Path) -> gpd.GeoDataFrame:
    """Read the ISTAT 2011 *centri capoluogo* points (GeoJSON, one point per comune).

    The file's real layout: a GeoJSON FeatureCollection in WGS 84 with
    ``PRO_COM_T`` (2011 code, 6-digit string), ``DENOMINAZI`` (name of the
    locality), ``POPRES`` (2011 residents of the locality) and ``CENTRO_CL``
    (1 for the *centro capoluogo*; other localities, if present, are dropped).

    Returns
    -------
    geopandas.GeoDataFrame
        ``code_2011``, ``locality``, ``popres``, geometry Point (EPSG:4326).

    Raises
    ------
    SourceNotFoundError
        If the file does not exist.
    DataValidationError
        If it is not readable as points with the columns above.
    """
    p = Path(path)
    if not p.is_file():
        raise SourceNotFoundError(
            f"ISTAT centres file not found: {p} (check [municipalities] centres in the config; "
            "expected the ISTAT 2011 Localita ... points GeoJSON)"
        )
    try:
        raw = pyogrio.read_dataframe(p)
    except pyogrio.errors.DataSourceError as exc:
        raise DataValidationError(f"{p}: not a readable vector file: {exc}") from exc
    missing = [c for c in _ISTAT_COLUMNS if c not in raw.columns]
    if missing:
        raise DataValidationError(
            f"{p}: missing column(s) {', '.join(missing)}; expected the ISTAT 2011 località "
            f"layout ({', '.join(_ISTAT_COLUMNS)}, CENTRO_CL), found {', '.join(raw.columns)}"
        )
    if raw.crs is None or raw.crs.to_epsg() != 4326:
        raw = raw.set_crs(4326, allow_override=True) if raw.crs is None else raw.to_crs(4326)
    if "CENTRO_CL" in raw.columns:
        raw = raw[pd.to_numeric(raw["CENTRO_CL"], errors="coerce") == 1]
    geom = raw.geometry
    bad = geom.isna() | geom.is_empty | (geom.geom_type != "Point")
    if bad.all():
        raise DataValidationError(f"{p}: no point geometries (expected one point per comune)")
    raw = raw[~bad]
    code = raw["PRO_COM_T"].astype(str).str.strip()
    code = code.where(~code.str.fullmatch(r"\d{1,6}"), code.str.zfill(6))
    return gpd.GeoDataFrame(
        {
            "code_2011": code.to_numpy(),
            "locality": raw["DENOMINAZI"].astype(str).to_numpy(),
            "popres": pd.to_numeric(raw["POPRES"], errors="coerce").fillna(0).to_numpy(),
        },
        geometry=raw.geometry.to_numpy(),
        crs=4326,
    ).reset_index(drop=True)


def match_istat_centres(
    centres: gpd.GeoDataFrame,
    municipalities: gpd.GeoDataFrame,
    *,
    current_codes: set[str],
    year: int,
) -> CentreMatch:
    """Assign the 2011 centres to the municipalities of ``year`` (codes changed since).

    Rules, each difference recorded in the notes:

    * a 2011 code that still exists keeps its point when the point lies inside
      the current polygon; a point outside it is rejected (never used
      blindly) and the municipality falls back to the next source;
    * a 2011 code that no longer exists (a comune merged or renumbered since)
      is placed by its point in the current municipality containing it; a
      current municipality without a point of its own code takes, among the
      predecessors inside it, the one whose locality is named like it, else
      the most populous one (2011 residents);
    * a current municipality with neither (a comune created from parts of
      others, e.g. Mappano 2017) gets no point here.

    Parameters
    ----------
    centres
        :func:`read_istat_centres` output (any extent, e.g. all Italy).
    municipalities
        ``pro_com_t``, ``name``, geometry, in a metric CRS.
    current_codes
        Every ISTAT code existing in ``year`` (the whole country), to tell a
        code that disappeared from one outside the area.
    year
        The boundaries' year, for the notes.
    """
    crs = municipalities.crs
    codes = municipalities["pro_com_t"].astype(str).to_numpy()
    names = dict(zip(codes, municipalities["name"].astype(str), strict=True))
    polys = dict(zip(codes, municipalities.geometry.to_numpy(), strict=True))
    pts = centres.to_crs(crs)
    lonlat = centres.geometry
    own = pts[pts["code_2011"].isin(set(codes))]
    gone = pts[~pts["code_2011"].isin(current_codes)]
    notes: list[str] = []
    lon: dict[str, float] = {}
    lat: dict[str, float] = {}
    detail: dict[str, str] = {}
    rejected = 0

    inside = shapely.contains(
        np.asarray([polys[c] for c in own["code_2011"]], dtype=object), own.geometry.to_numpy()
    )
    for i, ok in zip(own.index, inside, strict=True):
        c = str(own.at[i, "code_2011"])
        if ok:
            lon[c], lat[c] = float(lonlat[i].x), float(lonlat[i].y)
            detail[c] = f"ISTAT 2011 centre {own.at[i, 'locality']} ({c})"
        else:
            rejected += 1
            d = float(shapely.distance(polys[c], own.geometry[i]))
            notes.append(
                f"ISTAT 2011 centre of {c} {names[c]} ({own.at[i, 'locality']}) lies "
                f"{d:,.0f} m outside its {year} boundary: not used"
            )

    # codes that no longer exist: which current municipality holds each point
    inherited = 0
    if len(gone):
        munis = gpd.GeoDataFrame({"pro_com_t": codes}, geometry=municipalities.geometry.values)
        joined = gpd.sjoin(gone, munis.set_crs(crs), how="inner", predicate="within")
        for c, grp in joined.groupby("pro_com_t", sort=True):
            c = str(c)
            preds = ", ".join(
                f"{r.code_2011} {r.locality} ({int(r.popres):,} residents in 2011)"
                for r in grp.itertuples()
            )
            if c in lon:
                notes.append(
                    f"2011 code(s) {preds} now inside {c} {names[c]}, which keeps its own "
                    "2011 centre"
                )
                continue
            target = normalise_name(names[c])
            named = grp[grp["locality"].map(normalise_name) == target]
            pick = named.iloc[0] if len(named) else grp.sort_values("popres").iloc[-1]
            why = "named like the comune" if len(named) else "most populous predecessor"
            i = pick.name
            lon[c], lat[c] = float(lonlat[i].x), float(lonlat[i].y)
            detail[c] = f"ISTAT 2011 centre {pick['locality']} ({pick['code_2011']})"
            inherited += 1
            notes.append(
                f"{c} {names[c]} ({year}) has no 2011 code of its own: centre of "
                f"{pick['code_2011']} {pick['locality']} ({why}; 2011 predecessors inside it: "
                f"{preds})"
            )
        outside = sorted(set(gone["code_2011"]) - set(joined["code_2011"]))
        if outside:
            in_area = gone[gone["code_2011"].isin(outside)]
            near = shapely.dwithin(
                shapely.union_all(municipalities.geometry.to_numpy()),
                in_area.geometry.to_numpy(),
                1.0,
            )
            if near.any():  # dropped codes on the area's edge: say so, never silently
                notes.append(
                    f"2011 code(s) {', '.join(in_area['code_2011'][near])} no longer exist and "
                    "their centre lies in no municipality of the area: ignored"
                )
    none = [c for c in codes if c not in lon]
    for c in none:
        if not any(n.startswith(f"ISTAT 2011 centre of {c} ") for n in notes):
            notes.append(
                f"{c} {names[c]}: no ISTAT 2011 centre (created since 2011 from parts of "
                "other comuni, or absent from the file): next source used"
            )
    counts = {
        "istat_centres_read": len(centres),
        "istat_centres_matched_by_code": int(inside.sum()),
        "istat_centres_inherited": inherited,
        "istat_centres_rejected_outside": rejected,
    }
    return CentreMatch(
        pd.Series(lon, dtype=float),
        pd.Series(lat, dtype=float),
        pd.Series(detail, dtype=object),
        notes=notes,
        counts=counts,
    )


# -- OpenStreetMap places ---------------------------------------------------------


def read_places(
    location: str | Path, *, bbox: tuple[float, float, float, float]
) -> gpd.GeoDataFrame:
    """Read the ``place`` layer of an OpenMapTiles vector tile set inside ``bbox``.

    Returns
    -------
    geopandas.GeoDataFrame
        ``class``, ``name`` (``name:latin``, else ``name``), geometry Point
        (EPSG:4326); only the classes of :data:`PLACE_CLASS_RANK`.
    """
    from territorio.ingest._vector_tiles import open_tileset, read_layer

    tiles = open_tileset(location)
    gdf = read_layer(tiles, "place", bbox=bbox)
    name_col = next((c for c in ("name:latin", "name") if c in gdf.columns), None)
    if name_col is None or "class" not in gdf.columns:
        raise DataValidationError(
            f"{tiles.location}: the 'place' layer has no 'class' and 'name:latin' attributes "
            f"(found {', '.join(map(str, gdf.columns))}); is it an OpenMapTiles-schema tile set?"
        )
    keep = gdf["class"].isin(list(PLACE_CLASS_RANK)) & gdf[name_col].notna()
    keep &= gdf.geometry.geom_type == "Point"
    out = gpd.GeoDataFrame(
        {"class": gdf.loc[keep, "class"].astype(str), "name": gdf.loc[keep, name_col].astype(str)},
        geometry=gdf.geometry[keep],
        crs=gdf.crs,
    )
    return out.to_crs(4326).reset_index(drop=True)


def match_places(places: gpd.GeoDataFrame, municipalities: gpd.GeoDataFrame) -> CentreMatch:
    """Find, for each municipality, the place node named like it and inside it.

    Names are compared with :func:`normalise_name`; among several matches the
    best place class wins (:data:`PLACE_CLASS_RANK`: a village before a
    hamlet of the same name), then the first in the tile set.

    Parameters
    ----------
    places
        :func:`read_places` output.
    municipalities
        ``pro_com_t``, ``name``, geometry, in a metric CRS.
    """
    crs = municipalities.crs
    munis = gpd.GeoDataFrame(
        {
            "pro_com_t": municipalities["pro_com_t"].astype(str).to_numpy(),
            "key": municipalities["name"].map(normalise_name).to_numpy(),
        },
        geometry=municipalities.geometry.to_numpy(),
        crs=crs,
    )
    pts = places.assign(
        key=places["name"].map(normalise_name), rank=places["class"].map(PLACE_CLASS_RANK)
    )
    pts = pts[pts["key"].isin(set(munis["key"]))]
    metric = pts.to_crs(crs)
    joined = gpd.sjoin(metric, munis, how="inner", predicate="within")
    joined = joined[joined["key_left"] == joined["key_right"]]
    best = joined.sort_values(["pro_com_t", "rank"], kind="stable").drop_duplicates("pro_com_t")
    lonlat = pts.geometry.loc[best.index]
    codes = best["pro_com_t"].to_numpy()
    lon = pd.Series(lonlat.x.to_numpy(), index=codes)
    lat = pd.Series(lonlat.y.to_numpy(), index=codes)
    detail = pd.Series(
        [f"OSM place {n} ({k})" for n, k in zip(best["name"], best["class"], strict=True)],
        index=codes,
        dtype=object,
    )
    counts = {"osm_places_read": len(places), "osm_places_named_like_a_comune": len(pts)}
    return CentreMatch(lon, lat, detail, counts=counts)


# -- population grid ----------------------------------------------------------------


def population_cell_points(cells: gpd.GeoDataFrame) -> CentreMatch:
    """Return, per municipality, a point inside its most populated grid-cell piece.

    ``cells`` is the ``population_cells`` layer (pieces already cut by the
    municipal boundaries, EPSG:4326). Pieces without residents never count.
    """
    pop = cells[cells["pop_total"].astype(float) > 0]
    if pop.empty:
        return CentreMatch()
    best = pop.sort_values(["pro_com_t", "pop_total"], ascending=[True, False], kind="stable")
    best = best.drop_duplicates("pro_com_t")
    crs = best.estimate_utm_crs()
    inner = gpd.GeoSeries(best.geometry, crs=best.crs).to_crs(crs).representative_point()
    pts = inner.to_crs(4326)
    codes = best["pro_com_t"].astype(str).to_numpy()
    detail = pd.Series(
        [
            f"grid cell {c} ({p:,.0f} residents)"
            for c, p in zip(best["cell_id"], best["pop_total"], strict=True)
        ],
        index=codes,
        dtype=object,
    )
    return CentreMatch(
        pd.Series(pts.x.to_numpy(), index=codes),
        pd.Series(pts.y.to_numpy(), index=codes),
        detail,
    )


def fill_from_population_cells(
    municipalities: gpd.GeoDataFrame, cells: gpd.GeoDataFrame
) -> tuple[gpd.GeoDataFrame, int]:
    """Move the reference points still at ``representative_point`` to the most populated cell.

    Returns the updated layer (a copy) and how many municipalities moved.
    """
    found = population_cell_points(cells)
    out = municipalities.copy()
    codes = out["pro_com_t"].astype(str)
    mask = (out["ref_source"] == "representative_point") & codes.isin(found.lon.index)
    sel = codes[mask]
    out.loc[mask, "ref_lon"] = found.lon.reindex(sel).to_numpy()
    out.loc[mask, "ref_lat"] = found.lat.reindex(sel).to_numpy()
    out.loc[mask, "ref_source"] = "population_cell"
    if "ref_detail" in out.columns:
        out.loc[mask, "ref_detail"] = found.detail.reindex(sel).to_numpy()
    return out, int(mask.sum())
