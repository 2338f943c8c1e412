"""ISTAT *Classificazioni statistiche e dimensione dei comuni* (XLS / XLSX).

The workbook lists every Italian municipality with its altitude zone
(*zona altimetrica*), altitude of the centre, degree of urbanisation
(DEGURBA) and a few coastal flags. ISTAT reorders and renames columns
between editions, so columns are found by their header text, not by
position, and the header row is searched for in the first rows of each
sheet.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from territorio.errors import DataValidationError, MissingColumnError
from territorio.ingest._fetch import resolve_location
from territorio.provenance import Provenance, sha256_file

__all__ = ["ALTITUDE_ZONES", "load_istat_classifications"]

#: ISTAT altitude zones (*zone altimetriche*), code -> Italian label.
ALTITUDE_ZONES: dict[int, str] = {
    1: "Montagna interna",
    2: "Montagna litoranea",
    3: "Collina interna",
    4: "Collina litoranea",
    5: "Pianura",
}

# output column -> (header patterns tried in order, required?, human header for errors)
_COLUMNS: dict[str, tuple[tuple[str, ...], bool, str]] = {
    "pro_com_t": (
        (r"codice istat del comune.*alfanumeric", r"^pro_com_t$"),
        False,
        "Codice Istat del Comune (alfanumerico)",
    ),
    "_code_num": (
        (r"codice istat del comune.*numeric", r"^pro_com$"),
        False,
        "Codice Istat del Comune (numerico)",
    ),
    "name_istat": ((r"^denominazione \(italiana", r"^denominazione"), False, "Denominazione"),
    "altitude_zone_code": ((r"^zona altimetrica",), True, "Zona altimetrica"),
    "altitude_m": ((r"^altitudine del centro", r"^altitudine"), True, "Altitudine del centro"),
    "urbanisation": ((r"grado di urbanizzazione", r"degurba"), True, "Grado di urbanizzazione"),
    "mountain_municipality": ((r"^comune montano",), False, "Comune montano"),
    "coastal": ((r"^comune litoraneo",), False, "Comune litoraneo"),
    "island": ((r"^comune isolano",), False, "Comune isolano"),
    "coastal_area": ((r"^zone costiere",), False, "Zone costiere"),
    "area_km2_istat": ((r"^superficie territoriale",), False, "Superficie territoriale (kmq)"),
}
_HEADER_SCAN_ROWS = 30
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"


def _norm(text: Any) -> str:
    """Lower-case, accent-free, single-spaced header text."""
    s = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return re.sub(r"\s+", " ", s).strip().lower()


def _read_sheets(path: Path) -> dict[str, pd.DataFrame]:
    """Read every sheet as raw strings/numbers with no header."""
    with open(path, "rb") as fh:
        magic = fh.read(8)
    engine: Literal["xlrd", "openpyxl"]
    if magic.startswith(_ZIP_MAGIC):
        try:
            import openpyxl  # noqa: F401
        except ImportError as exc:
            raise DataValidationError(
                f"{path}: reading .xlsx files needs the openpyxl package, which is not "
                "installed: pip install openpyxl, or save the sheet as .xls"
            ) from exc
        engine = "openpyxl"
    elif magic == _OLE2_MAGIC:
        engine = "xlrd"
    else:
        raise DataValidationError(
            f"{path}: not an Excel workbook (expected the ISTAT .xls or .xlsx file "
            "'Classificazioni statistiche e dimensione dei comuni')"
        )
    try:
        sheets: dict[str, pd.DataFrame] = pd.read_excel(
            path, sheet_name=None, header=None, dtype=object, engine=engine
        )
    except Exception as exc:  # xlrd/openpyxl raise their own assorted errors
        raise DataValidationError(
            f"{path}: cannot read the workbook ({exc.__class__.__name__}: {exc})"
        ) from exc
    return sheets


def _find_table(path: Path, sheets: dict[str, pd.DataFrame]) -> tuple[str, int, dict[str, int]]:
    """Return (sheet, header row, output column -> column index) of the main table."""
    best: tuple[str, int, dict[str, int]] | None = None
    for name, raw in sheets.items():
        for row in range(min(_HEADER_SCAN_ROWS, len(raw))):
            headers = [_norm(v) for v in raw.iloc[row].tolist()]
            found: dict[str, int] = {}
            for out, (patterns, _, _) in _COLUMNS.items():
                for pat in patterns:
                    hit = next(
                        (
                            i
                            for i, h in enumerate(headers)
                            if re.search(pat, h) and i not in found.values()
                        ),
                        None,
                    )
                    if hit is not None:
                        found[out] = hit
                        break
            has_code = "pro_com_t" in found or "_code_num" in found
            if has_code and (best is None or len(found) > len(best[2])):
                best = (name, row, found)
    if best is None:
        raise MissingColumnError(
            f"{path}: no sheet has a header 'Codice Istat del Comune (alfanumerico)' "
            f"(or '(numerico)') in its first {_HEADER_SCAN_ROWS} rows; is this the ISTAT "
            "'Classificazioni statistiche e dimensione dei comuni' workbook?"
        )
    name, row, found = best
    missing = [human for out, (_, req, human) in _COLUMNS.items() if req and out not in found]
    if missing:
        raise MissingColumnError(
            f"{path}, sheet {name!r}, header row {row + 1}: missing column(s) "
            f"{', '.join(repr(m) for m in missing)}; found: "
            f"{', '.join(repr(str(v)) for v in sheets[name].iloc[row].tolist())}"
        )
    return name, row, found


def _codes(values: pd.Series, *, numeric: bool) -> pd.Series:
    """Turn code cells (``'001001'``, ``1001.0``, ``1001``) into 6-digit strings."""
    num = pd.to_numeric(values, errors="coerce")
    text = values.astype(str).str.strip()
    as_int = num.round().astype("Int64").astype(str).str.zfill(6)
    out = text.where(text.str.fullmatch(r"\d{6}"), as_int.where(num.notna(), None))
    if numeric:
        out = as_int.where(num.notna(), None)
    return out


def _small_int(values: pd.Series, *, labels: dict[str, int] | None = None) -> pd.Series:
    """Parse integer class codes ('1', 1.0, or a label such as 'Pianura')."""
    num = pd.to_numeric(values, errors="coerce")
    if labels:
        by_label = values.map(lambda v: labels.get(_norm(v)))
        num = num.fillna(pd.to_numeric(by_label, errors="coerce"))
    return num.round().astype("Int64")


def load_istat_classifications(
    location: str | Path,
    *,
    cache_dir: Path,
    codes: Sequence[str] | None = None,
) -> tuple[pd.DataFrame, Provenance]:
    """Read the ISTAT statistical classifications of municipalities.

    Parameters
    ----------
    location
        Path or URL of the ISTAT workbook (``.xls``, or ``.xlsx`` when
        ``openpyxl`` is installed).
    cache_dir
        Where URL downloads are cached.
    codes
        6-digit ISTAT codes of the area. When given, only these
        municipalities are returned; codes missing from the workbook (e.g.
        municipalities created after its edition) get no row, so a left join
        on ``pro_com_t`` leaves them NaN. Provenance counts how many matched.

    Returns
    -------
    pandas.DataFrame
        One row per municipality: ``pro_com_t`` (6-digit string),
        ``altitude_zone_code`` (Int64, 1..5), ``altitude_zone`` (Italian
        label), ``altitude_m`` (float, altitude of the town hall),
        ``urbanisation`` (Int64, DEGURBA 1 city, 2 towns and suburbs,
        3 rural), and when the edition has them ``name_istat``, ``coastal``,
        ``island``, ``coastal_area`` (bool), ``area_km2_istat`` (float),
        ``mountain_municipality`` (bool).
    Provenance
        File, hash, and counts (``read``, ``matched``, ``unmatched``).

    Raises
    ------
    MissingColumnError
        If a needed column (altitude zone, altitude, urbanisation, code) is
        not found, naming the file and the expected header.
    DataValidationError
        If the file is not a readable workbook or has bad codes.
    """
    path = resolve_location(location, cache_dir=cache_dir, what="ISTAT classifications")
    sheets = _read_sheets(path)
    sheet, header_row, found = _find_table(path, sheets)
    raw = sheets[sheet].iloc[header_row + 1 :]
    where = f"{path}, sheet {sheet!r}"

    if "pro_com_t" in found:
        code = _codes(raw.iloc[:, found["pro_com_t"]], numeric=False)
    else:
        code = _codes(raw.iloc[:, found["_code_num"]], numeric=True)
    filled = raw.notna() & raw.astype(str).apply(lambda c: c.str.strip() != "")
    # Blank rows and trailing notes ("Fonte: Istat") have no code and at most one
    # filled cell; any other codeless row is an error.
    notes = code.isna() & (filled.sum(axis=1) <= 1)
    bad = code.isna() & ~notes
    if bad.any():
        first = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataValidationError(
            f"{where}, row {header_row + 2 + first}: municipality code "
            f"{raw.iloc[first, found.get('pro_com_t', found.get('_code_num', 0))]!r} "
            "is not an ISTAT code; fix or delete the row"
        )
    keep = code.notna()
    raw, code = raw[keep], code[keep]

    labels = {_norm(v): k for k, v in ALTITUDE_ZONES.items()}
    out = pd.DataFrame({"pro_com_t": code.to_numpy()})
    zone = _small_int(raw.iloc[:, found["altitude_zone_code"]], labels=labels).to_numpy()
    out["altitude_zone_code"] = pd.array(zone, dtype="Int64")
    out["altitude_zone"] = out["altitude_zone_code"].map(ALTITUDE_ZONES).astype(object)
    out["altitude_m"] = pd.to_numeric(raw.iloc[:, found["altitude_m"]], errors="coerce").to_numpy(
        dtype=float
    )
    out["urbanisation"] = pd.array(
        _small_int(raw.iloc[:, found["urbanisation"]]).to_numpy(), dtype="Int64"
    )
    if "name_istat" in found:
        out["name_istat"] = raw.iloc[:, found["name_istat"]].astype(str).str.strip().to_numpy()
    for flag in ("mountain_municipality", "coastal", "island", "coastal_area"):
        if flag in found:
            vals = raw.iloc[:, found[flag]]
            num = pd.to_numeric(vals, errors="coerce")
            text = vals.map(_norm)
            yes = (num == 1) | text.isin({"si", "s", "yes", "t", "totalmente montano"})
            out[flag] = yes.to_numpy()
    if "area_km2_istat" in found:
        out["area_km2_istat"] = pd.to_numeric(
            raw.iloc[:, found["area_km2_istat"]], errors="coerce"
        ).to_numpy(dtype=float)

    bad_zone = out["altitude_zone_code"].notna() & ~out["altitude_zone_code"].isin(
        list(ALTITUDE_ZONES)
    )
    bad_urb = out["urbanisation"].notna() & ~out["urbanisation"].isin([1, 2, 3])
    for mask, what in ((bad_zone, "altitude zone (1..5)"), (bad_urb, "urbanisation (1..3)")):
        if mask.any():
            i = int(np.flatnonzero(mask.to_numpy())[0])
            raise DataValidationError(
                f"{where}: municipality {out['pro_com_t'].iloc[i]}: invalid {what}; "
                "is this the ISTAT classifications workbook?"
            )
    dup = out["pro_com_t"].duplicated()
    if dup.any():
        raise DataValidationError(
            f"{where}: municipality code {out['pro_com_t'][dup].iloc[0]!r} appears twice"
        )

    counts = {"read": len(out)}
    notes_out = [f"sheet {sheet!r}, header on row {header_row + 1}"]
    if codes is not None:
        wanted = pd.Index([str(c) for c in codes])
        matched = wanted.isin(out["pro_com_t"])
        unmatched = list(wanted[~matched])
        out = out[out["pro_com_t"].isin(wanted)].reset_index(drop=True)
        counts.update(matched=int(matched.sum()), unmatched=len(unmatched))
        if unmatched:
            notes_out.append(
                f"{len(unmatched)} municipalities of the area are not in this edition "
                f"(created, merged or renamed since): {', '.join(unmatched[:20])}"
                + (" ..." if len(unmatched) > 20 else "")
            )
    m = re.search(r"(\d{4})[-_]?(\d{2})[-_]?(\d{2})", path.name)
    data_date = f"{m.group(1)}-{m.group(2)}-{m.group(3)}" if m else None
    prov = Provenance(
        source="istat_classifications",
        location=str(location),
        sha256=sha256_file(path),
        data_date=data_date,
        licence="ISTAT, CC BY 4.0",
        counts=counts,
        notes=notes_out,
    )
    return out, prov
