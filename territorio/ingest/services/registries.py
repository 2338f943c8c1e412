"""Adapters for official registries and transit feeds, in their publishers' layouts.

=====================  =================================================  ================
adapter                file layout                                        category
=====================  =================================================  ================
gisco_healthcare       Eurostat GISCO "basic services" hospitals CSV      hospital
                       (latin-1, ``id, hospital_name, lat, lon,
                       cap_beds, emergency, facility_type, ...``)
iccu_libraries         ICCU *anagrafe biblioteche* CSV (``;``, ISIL code,  library
                       ``Lat``, ``Long``)
viaggiatreno_stations  ViaggiaTreno station dump (JSON list:              railway_station
                       ``codiceStazione, lat, lon, tipoStazione,
                       localita.nomeLungo``)
gtfs_stops             GTFS feed (folder or ``.zip``): ``stops.txt``      pt_stop
                       (+ ``stop_attributes.txt``, ``feed_info.txt``)
moh_pharmacies         Ministry of Health pharmacy registry CSV (``;``)    pharmacy
miur_schools           MIUR school registry CSV (``;``)                   childcare /
                                                                          primary_school /
                                                                          secondary_school
=====================  =================================================  ================

Notes per source
----------------
* GISCO: every row is a hospital (including accredited private *case di
  cura*); ``cap_beds`` is the capacity; ``facility_type``, ``emergency``,
  ``public_private`` and ``city`` go to ``attributes``.
* ICCU: every library is kept (public, university, specialised, school
  libraries); ``functional_type``, ``admin_type`` and ``restricted_access``
  go to ``attributes`` so a user can filter on them. Coordinates are often
  wrong in this registry: they are validated like every other source.
* ViaggiaTreno: a station listed under several regions appears several
  times with the same ``codiceStazione``; the first is kept
  (``dropped_duplicate_id``). ``tipoStazione`` (the dump gives no RFI
  category) is stored as ``station_type``.
* GTFS: stops and platforms (``location_type`` empty or 0) are kept; a
  station (``location_type=1``) is kept only when no stop names it as
  ``parent_station`` (otherwise the stop would be counted twice,
  ``dropped_parent_station``); entrances, generic nodes and boarding areas
  (2, 3, 4) are dropped (``dropped_not_a_stop``). Railway and metro stops
  are pt_stop too. ``source`` is ``"gtfs-<feed folder or zip name>"`` so
  several feeds can be loaded side by side.
* Ministry of Health pharmacies: rows with an end of validity
  (``DATAFINEVALIDITA`` other than ``-``) are closed pharmacies
  (``dropped_closed``). Coordinates are read from ``Long``/``Lat`` (the
  geocoded layout), else ``LONGITUDINE``/``LATITUDINE`` (the Ministry's own
  layout), else ``orig_long``/``orig_lat``.
* MIUR schools: ``DESCRIZIONETIPOLOGIAGRADOISTRUZIONESCUOLA`` decides:
  "...INFANZIA..." → childcare (ISCED 0); "...PRIMARIA..." → primary_school
  (ISCED 1); "...PRIMO GRADO..." → secondary_school (ISCED 2); "...SECONDO
  GRADO...", LICEO..., ISTITUTO TECNICO..., IST PROF..., ISTITUTO
  MAGISTRALE, ISTITUTO D'ARTE, ISTITUTO (D'ISTRUZIONE) SUPERIORE, CONVITTO,
  EDUCANDATO → secondary_school (ISCED 3); anything else is unmapped. For
  ISCED 3 the SNAI school type is stored as ``school_type`` = ``liceo``
  (licei, istituto magistrale, istituto d'arte), ``tecnico`` or
  ``professionale``, read from the grade description or, for the generic
  "SEC. SECONDO GRADO" of *scuole paritarie*, from the school's name
  (``"non_specificato"`` when neither tells).
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry.base import BaseGeometry

from territorio.config import ServiceSourceConfig
from territorio.errors import DataValidationError
from territorio.ingest._fetch import resolve_location
from territorio.ingest._result import SourceResult
from territorio.ingest.services._common import (
    RawServices,
    finish,
    read_csv_checked,
    require,
    slug,
)
from territorio.provenance import Provenance, sha256_bytes, sha256_file

__all__ = [
    "load_gisco_healthcare",
    "load_gtfs_stops",
    "load_iccu_libraries",
    "load_miur_schools",
    "load_moh_pharmacies",
    "load_viaggiatreno_stations",
    "miur_school_category",
]


def _lines(df: pd.DataFrame) -> pd.Series:
    # Header is line 1, so data row i (0-based) is line i + 2.
    return pd.Series([f"line {i + 2}" for i in range(len(df))], dtype=object)


def _col(df: pd.DataFrame, name: str) -> pd.Series:
    if name in df.columns:
        return df[name].reset_index(drop=True)
    return pd.Series([None] * len(df), dtype=object)


def _records(df: pd.DataFrame, mapping: dict[str, str]) -> list[dict[Any, Any]]:
    """Return attribute dicts ``{attribute name: df[column]}`` for columns present."""
    cols = {k: v for k, v in mapping.items() if v in df.columns}
    sub = df[list(cols.values())].reset_index(drop=True)
    sub.columns = list(cols)
    return sub.astype(object).where(sub.notna(), None).to_dict("records")


def _ddmmyy(text: str | None) -> str | None:
    """Convert ``"01/01/20"`` or ``"01/01/2020"`` to ``"2020-01-01"``."""
    if not text:
        return None
    m = re.fullmatch(r"(\d{2})/(\d{2})/(\d{2}|\d{4})", text.strip())
    if not m:
        return None
    d, mo, y = m.groups()
    return f"{'20' + y if len(y) == 2 else y}-{mo}-{d}"


# --------------------------------------------------------------------------- GISCO


def load_gisco_healthcare(
    src: ServiceSourceConfig,
    *,
    location: str,
    area: BaseGeometry,
    municipalities: gpd.GeoDataFrame,
    cache_dir: Path,
) -> SourceResult:
    """Read hospitals from the GISCO healthcare CSV (latin-1) as ``hospital``."""
    path = resolve_location(location, cache_dir=cache_dir, what="GISCO healthcare CSV")
    enc = src.encoding or "latin-1"
    df = read_csv_checked(
        path,
        what="GISCO healthcare CSV",
        sep=src.csv_separator or ",",
        encoding=enc,
        required=("id", "hospital_name", "lat", "lon"),
    )
    # The published file carries UTF-8 replacement characters read as latin-1
    # ("Universitï¿½"); show them as the one character they stand for.
    text_cols = [c for c in ("hospital_name", "facility_type", "city", "street") if c in df]
    df[text_cols] = df[text_cols].apply(lambda s: s.str.replace("ï¿½", "\ufffd", regex=False))
    attrs = _records(
        df,
        {
            "emergency": "emergency",
            "facility_type": "facility_type",
            "public_private": "public_private",
            "city": "city",
            "site_name": "site_name",
            "street": "street",
            "cap_prac": "cap_prac",
            "cap_rooms": "cap_rooms",
            "ref_date": "ref_date",
        },
    )
    raw = RawServices(
        source_id=df["id"],
        name=df["hospital_name"],
        category=pd.Series(["hospital"] * len(df), dtype=object),
        lon=df["lon"],
        lat=df["lat"],
        line=_lines(df),
        capacity=_col(df, "cap_beds"),
        attributes=attrs,
        lon_column="lon",
        lat_column="lat",
    )
    dates = _col(df, "ref_date").dropna()
    prov = Provenance(
        source="gisco-healthcare",
        location=str(location),
        sha256=sha256_file(path),
        data_date=_ddmmyy(str(dates.iloc[0])) if len(dates) else None,
        licence="Eurostat GISCO, EUPL 1.2",
    )
    return finish(
        raw,
        categories=src.categories,
        source="gisco",
        where=str(path),
        area=area,
        municipalities=municipalities,
        provenance=prov,
    )


# --------------------------------------------------------------------------- ICCU


def load_iccu_libraries(
    src: ServiceSourceConfig,
    *,
    location: str,
    area: BaseGeometry,
    municipalities: gpd.GeoDataFrame,
    cache_dir: Path,
) -> SourceResult:
    """Read libraries from the ICCU registry CSV (``;``) as ``library``."""
    path = resolve_location(location, cache_dir=cache_dir, what="ICCU libraries CSV")
    df = read_csv_checked(
        path,
        what="ICCU libraries CSV",
        sep=src.csv_separator or ";",
        encoding=src.encoding or "utf-8",
        required=("codici-identificativi.isil", "denominazioni.ufficiale", "Lat", "Long"),
    )
    attrs = _records(
        df,
        {
            "isil": "codici-identificativi.isil",
            "owner": "ente",
            "address": "indirizzo.via-piazza",
            "admin_type": "tipologia-amministrativa",
            "functional_type": "tipologia-funzionale",
            "wheelchair_access": "accesso.portatori-handicap",
            "restricted_access": "accesso.riservato",
            "comune_declared": "comune",
        },
    )
    raw = RawServices(
        source_id=df["codici-identificativi.isil"],
        name=df["denominazioni.ufficiale"],
        category=pd.Series(["library"] * len(df), dtype=object),
        lon=df["Long"],
        lat=df["Lat"],
        line=_lines(df),
        attributes=attrs,
        lon_column="Long",
        lat_column="Lat",
    )
    prov = Provenance(
        source="iccu-libraries",
        location=str(location),
        sha256=sha256_file(path),
        licence="ICCU Anagrafe delle biblioteche italiane, CC BY",
    )
    return finish(
        raw,
        categories=src.categories,
        source="iccu",
        where=str(path),
        area=area,
        municipalities=municipalities,
        provenance=prov,
    )


# --------------------------------------------------------------------------- ViaggiaTreno


def load_viaggiatreno_stations(
    src: ServiceSourceConfig,
    *,
    location: str,
    area: BaseGeometry,
    municipalities: gpd.GeoDataFrame,
    cache_dir: Path,
) -> SourceResult:
    """Read railway stations from a ViaggiaTreno JSON dump as ``railway_station``."""
    path = resolve_location(location, cache_dir=cache_dir, what="ViaggiaTreno stations JSON")
    try:
        doc = json.loads(path.read_text(encoding=src.encoding or "utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataValidationError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(doc, list) or not all(isinstance(d, dict) for d in doc):
        raise DataValidationError(
            f"{path}: expected a JSON list of station objects (ViaggiaTreno "
            f"elencoStazioni dump), got {type(doc).__name__}"
        )
    df = pd.json_normalize(doc)
    if len(df) == 0:
        df = pd.DataFrame(columns=["codiceStazione", "lat", "lon"])
    require(
        df,
        ("codiceStazione", "lat", "lon"),
        where=f"ViaggiaTreno stations JSON {path}",
        hint="each station object needs codiceStazione, lat and lon",
    )
    name = _col(df, "localita.nomeLungo").fillna(_col(df, "localita.nomeBreve"))
    attrs = _records(
        df,
        {
            "station_type": "tipoStazione",
            "region_code": "codReg",
            "abroad": "esterno",
            "short_name": "localita.nomeBreve",
        },
    )
    raw = RawServices(
        source_id=df["codiceStazione"],
        name=name,
        category=pd.Series(["railway_station"] * len(df), dtype=object),
        lon=df["lon"],
        lat=df["lat"],
        line=pd.Series([f"item {i}" for i in range(len(df))], dtype=object),
        attributes=attrs,
        lon_column="lon",
        lat_column="lat",
    )
    prov = Provenance(
        source="viaggiatreno",
        location=str(location),
        sha256=sha256_file(path),
        licence="Trenitalia ViaggiaTreno public data",
        notes=["tipoStazione stored as station_type; the dump has no RFI category"],
    )
    return finish(
        raw,
        categories=src.categories,
        source="viaggiatreno",
        where=str(path),
        area=area,
        municipalities=municipalities,
        provenance=prov,
    )


# --------------------------------------------------------------------------- GTFS


class _Feed:
    """Read text files from a GTFS folder or zip."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._zip = zipfile.ZipFile(path) if path.is_file() else None
        if self._zip is not None:
            self._names = {Path(n).name: n for n in self._zip.namelist()}

    def has(self, name: str) -> bool:
        if self._zip is not None:
            return name in self._names
        return (self.path / name).is_file()

    def read(self, name: str) -> bytes:
        if self._zip is not None:
            return self._zip.read(self._names[name])
        return (self.path / name).read_bytes()

    def table(self, name: str) -> pd.DataFrame:
        data = self.read(name)
        try:
            df = pd.read_csv(
                io.BytesIO(data),
                dtype=str,
                encoding="utf-8-sig",
                keep_default_na=False,
                na_values=[""],
            )
        except (UnicodeDecodeError, pd.errors.ParserError) as exc:
            raise DataValidationError(f"GTFS {self.path}: cannot read {name}: {exc}") from exc
        df.columns = [c.strip() for c in df.columns]
        return df

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()


def load_gtfs_stops(
    src: ServiceSourceConfig,
    *,
    location: str,
    area: BaseGeometry,
    municipalities: gpd.GeoDataFrame,
    cache_dir: Path,
) -> SourceResult:
    """Read the stops of a GTFS feed (folder or ``.zip``) as ``pt_stop``."""
    loc = Path(location).expanduser()
    path = (
        loc if loc.is_dir() else resolve_location(location, cache_dir=cache_dir, what="GTFS feed")
    )
    if path.is_file() and not zipfile.is_zipfile(path):
        raise DataValidationError(
            f"GTFS feed {path}: neither a folder nor a .zip file; point the source at the "
            "unzipped feed folder or at the feed's .zip"
        )
    feed = _Feed(path)
    try:
        if not feed.has("stops.txt"):
            raise DataValidationError(
                f"GTFS feed {path}: stops.txt not found; is this a GTFS feed?"
            )
        stops = feed.table("stops.txt")
        require(stops, ("stop_id", "stop_lat", "stop_lon"), where=f"GTFS {path}/stops.txt")
        city = feed.table("stop_attributes.txt") if feed.has("stop_attributes.txt") else None
        info = feed.table("feed_info.txt") if feed.has("feed_info.txt") else None
        digest = sha256_bytes(
            b"".join(feed.read(n) for n in ("stops.txt", "stop_attributes.txt") if feed.has(n))
        )
    finally:
        feed.close()
    if city is not None and {"stop_id", "stop_city"} <= set(city.columns):
        city_of = city.drop_duplicates("stop_id").set_index("stop_id")["stop_city"]
        stops["stop_city"] = stops["stop_id"].map(city_of)
    ltype = _col(stops, "location_type").fillna("0").astype(str).str.strip()
    is_stop = ltype.isin(["0", ""]).to_numpy()
    parents = set(_col(stops, "parent_station")[is_stop].dropna().astype(str))
    is_station = (ltype == "1").to_numpy()
    lone_station = is_station & ~stops["stop_id"].astype(str).isin(parents).to_numpy()
    keep = is_stop | lone_station
    counts = {
        "read": len(stops),
        "dropped_parent_station": int((is_station & ~lone_station).sum()),
        "dropped_not_a_stop": int((~is_stop & ~is_station).sum()),
    }
    sel = stops[keep].reset_index(drop=True)
    lines = pd.Series([f"stops.txt line {i + 2}" for i in np.flatnonzero(keep)], dtype=object)
    attrs = _records(
        sel,
        {
            "stop_code": "stop_code",
            "stop_desc": "stop_desc",
            "zone_id": "zone_id",
            "location_type": "location_type",
            "parent_station": "parent_station",
            "wheelchair_boarding": "wheelchair_boarding",
            "stop_city": "stop_city",
        },
    )
    raw = RawServices(
        source_id=sel["stop_id"],
        name=_col(sel, "stop_name"),
        category=pd.Series(["pt_stop"] * len(sel), dtype=object),
        lon=sel["stop_lon"],
        lat=sel["stop_lat"],
        line=lines,
        attributes=attrs,
        counts=counts,
        lon_column="stop_lon",
        lat_column="stop_lat",
    )
    data_date = None
    if info is not None and len(info):
        for col in ("feed_version", "feed_start_date"):
            v = str(info[col].iloc[0]) if col in info.columns else ""
            if re.fullmatch(r"\d{8}", v):
                data_date = f"{v[:4]}-{v[4:6]}-{v[6:]}"
                break
    name = path.stem if path.is_file() else path.name
    prov = Provenance(
        source="gtfs",
        location=str(location),
        sha256=digest,
        data_date=data_date,
        notes=["stops only: timetables are not used"],
    )
    return finish(
        raw,
        categories=src.categories,
        source=f"gtfs-{slug(name)}",
        where=f"{path}/stops.txt",
        area=area,
        municipalities=municipalities,
        provenance=prov,
    )


# --------------------------------------------------------------------------- MoH pharmacies

_COORD_PAIRS = (("Long", "Lat"), ("LONGITUDINE", "LATITUDINE"), ("orig_long", "orig_lat"))


def _coord_columns(df: pd.DataFrame, where: str) -> tuple[str, str]:
    for lon, lat in _COORD_PAIRS:
        if lon in df.columns and lat in df.columns:
            return lon, lat
    require(df, _COORD_PAIRS[0], where=where, hint="geocode the registry (add Long and Lat)")
    raise AssertionError("unreachable")  # pragma: no cover


def load_moh_pharmacies(
    src: ServiceSourceConfig,
    *,
    location: str,
    area: BaseGeometry,
    municipalities: gpd.GeoDataFrame,
    cache_dir: Path,
) -> SourceResult:
    """Read open pharmacies from the Ministry of Health registry CSV as ``pharmacy``."""
    path = resolve_location(location, cache_dir=cache_dir, what="pharmacy registry CSV")
    where = f"pharmacy registry CSV {path}"
    df = read_csv_checked(
        path,
        what="pharmacy registry CSV",
        sep=src.csv_separator or ";",
        encoding=src.encoding or "utf-8",
        required=("CODICEIDENTIFICATIVOFARMACIA", "DESCRIZIONEFARMACIA"),
    )
    lon_c, lat_c = _coord_columns(df, where)
    end = _col(df, "DATAFINEVALIDITA").fillna("-").astype(str).str.strip()
    closed = ~end.isin(["-", ""]).to_numpy()
    attrs = _records(
        df,
        {
            "address": "INDIRIZZO",
            "postcode": "CAP",
            "istat_code_declared": "CODICECOMUNEISTAT",
            "comune_declared": "DESCRIZIONECOMUNE",
            "frazione": "FRAZIONE",
            "type": "DESCRIZIONETIPOLOGIA",
            "valid_from": "DATAINIZIOVALIDITA",
            "asl_code": "CODFARMACIAASSEGNATODAASL",
        },
    )
    open_idx = np.flatnonzero(~closed)
    sel = df.iloc[open_idx].reset_index(drop=True)
    raw = RawServices(
        source_id=sel["CODICEIDENTIFICATIVOFARMACIA"],
        name=sel["DESCRIZIONEFARMACIA"],
        category=pd.Series(["pharmacy"] * len(sel), dtype=object),
        lon=sel[lon_c],
        lat=sel[lat_c],
        line=pd.Series([f"line {i + 2}" for i in open_idx], dtype=object),
        attributes=[attrs[i] for i in open_idx],
        counts={"read": len(df), "dropped_closed": int(closed.sum())},
        lon_column=lon_c,
        lat_column=lat_c,
    )
    prov = Provenance(
        source="moh-pharmacies",
        location=str(location),
        sha256=sha256_file(path),
        licence="Ministero della Salute open data, CC BY",
        notes=[f"coordinates from columns {lon_c}/{lat_c}"],
    )
    return finish(
        raw,
        categories=src.categories,
        source="moh",
        where=str(path),
        area=area,
        municipalities=municipalities,
        provenance=prov,
    )


# --------------------------------------------------------------------------- MIUR schools

_UPPER = re.compile(
    r"SECONDO GRADO|^LICEO|^ISTITUTO TECNICO|^IST\.? TEC|^IST\.? PROF|^ISTITUTO PROFESSIONALE|"
    r"^ISTITUTO MAGISTRALE|^ISTITUTO D'ARTE|SUPERIORE|^CONVITTO|^EDUCANDATO|^SCUOLA MAGISTRALE"
)


def _snai_type(text: pd.Series) -> pd.Series:
    t = text.fillna("").str.upper()
    return pd.Series(
        np.select(
            [
                t.str.contains(r"LICEO|MAGISTRALE|D'ARTE").to_numpy(dtype=bool),
                t.str.contains(r"TECNIC|\bITIS\b|\bITC\b|\bITG\b").to_numpy(dtype=bool),
                t.str.contains(r"PROF|\bIPSIA\b|\bIPSSAR\b|\bIPC\b").to_numpy(dtype=bool),
            ],
            ["liceo", "tecnico", "professionale"],
            default="",
        ),
        index=text.index,
    )


def miur_school_category(grade: pd.Series, name: pd.Series) -> pd.DataFrame:
    """Map MIUR grade descriptions to category, ISCED level and SNAI school type.

    Parameters
    ----------
    grade
        ``DESCRIZIONETIPOLOGIAGRADOISTRUZIONESCUOLA`` values.
    name
        ``DENOMINAZIONESCUOLA`` values (used when the grade does not say
        which kind of upper-secondary school it is).

    Returns
    -------
    DataFrame
        Columns ``category`` (None when unmapped), ``isced_level`` (float)
        and ``school_type`` (``liceo``/``tecnico``/``professionale``/
        ``non_specificato`` for ISCED 3, else None).
    """
    g = grade.fillna("").astype(str).str.upper().str.strip()
    infanzia = g.str.contains("INFANZIA").to_numpy(dtype=bool)
    primaria = g.str.contains("PRIMARIA").to_numpy(dtype=bool)
    primo = g.str.contains("PRIMO GRADO").to_numpy(dtype=bool)
    upper = g.str.contains(_UPPER).to_numpy(dtype=bool)
    category = np.select(
        [infanzia, primaria, primo, upper],
        ["childcare", "primary_school", "secondary_school", "secondary_school"],
        default="",
    )
    isced = np.select([infanzia, primaria, primo, upper], [0.0, 1.0, 2.0, 3.0], default=np.nan)
    by_grade = _snai_type(g).to_numpy(dtype=object)
    by_name = _snai_type(name.fillna("").astype(str)).to_numpy(dtype=object)
    stype = np.where(by_grade != "", by_grade, np.where(by_name != "", by_name, "non_specificato"))
    cat_obj = np.asarray(category, dtype=object)
    cat_obj[cat_obj == ""] = None
    stype_obj = np.asarray(stype, dtype=object)
    stype_obj[isced != 3.0] = None
    return pd.DataFrame(
        {
            "category": pd.Series(cat_obj, dtype=object),
            "isced_level": isced,
            "school_type": pd.Series(stype_obj, dtype=object),
        }
    )


def load_miur_schools(
    src: ServiceSourceConfig,
    *,
    location: str,
    area: BaseGeometry,
    municipalities: gpd.GeoDataFrame,
    cache_dir: Path,
) -> SourceResult:
    """Read school sites from the MIUR registry CSV (childcare, primary, secondary)."""
    path = resolve_location(location, cache_dir=cache_dir, what="MIUR school registry CSV")
    where = f"MIUR school registry CSV {path}"
    grade_col = "DESCRIZIONETIPOLOGIAGRADOISTRUZIONESCUOLA"
    df = read_csv_checked(
        path,
        what="MIUR school registry CSV",
        sep=src.csv_separator or ";",
        encoding=src.encoding or "utf-8",
        required=("CODICESCUOLA", "DENOMINAZIONESCUOLA", grade_col),
    )
    lon_c, lat_c = _coord_columns(df, where)
    mapped = miur_school_category(df[grade_col], df["DENOMINAZIONESCUOLA"])
    grade = df[grade_col].fillna("").astype(str).str.upper()
    statale = _col(df, "bStatale").map({"True": True, "False": False, "true": True, "false": False})
    statale = statale.where(statale.notna(), ~grade.str.contains("NON STATALE"))
    attrs = _records(
        df,
        {
            "grade": grade_col,
            "institute_code": "CODICEISTITUTORIFERIMENTO",
            "institute_name": "DENOMINAZIONEISTITUTORIFERIMENTO",
            "address": "INDIRIZZOSCUOLA",
            "comune_declared": "DESCRIZIONECOMUNE",
            "characteristic": "DESCRIZIONECARATTERISTICASCUOLA",
            "school_year": "ANNOSCOLASTICO",
        },
    )
    for rec, lvl, st, stat in zip(
        attrs, mapped["isced_level"], mapped["school_type"], statale, strict=True
    ):
        rec["isced_level"] = None if np.isnan(lvl) else int(lvl)
        rec["school_type"] = st
        rec["statale"] = bool(stat)
    raw = RawServices(
        source_id=df["CODICESCUOLA"],
        name=df["DENOMINAZIONESCUOLA"],
        category=mapped["category"],
        lon=df[lon_c],
        lat=df[lat_c],
        line=_lines(df),
        attributes=attrs,
        lon_column=lon_c,
        lat_column=lat_c,
    )
    years = _col(df, "ANNOSCOLASTICO").dropna()
    year = str(years.iloc[0]) if len(years) else ""
    prov = Provenance(
        source="miur-schools",
        location=str(location),
        sha256=sha256_file(path),
        data_date=f"{year[:4]}/{year[4:]}" if re.fullmatch(r"\d{6}", year) else None,
        licence="MIUR Portale Unico dei Dati della Scuola, IODL 2.0",
    )
    return finish(
        raw,
        categories=src.categories,
        source="miur",
        where=str(path),
        area=area,
        municipalities=municipalities,
        provenance=prov,
    )
