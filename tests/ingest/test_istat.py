"""ISTAT classifications workbook: real file, header search, errors."""

from __future__ import annotations

import functools
import sys
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from territorio.errors import DataValidationError, MissingColumnError
from territorio.ingest import istat
from territorio.ingest.istat import load_istat_classifications
from territorio.ingest.municipalities import load_municipalities

XLS = "istat/classificazioni_statistiche_comuni_2020-12-31.xls"


def test_real_workbook(shared_data: Path, tmp_path: Path) -> None:
    df, prov = load_istat_classifications(shared_data / XLS, cache_dir=tmp_path)
    # The sheet "Comuni al 31122020" has 7,904 rows: 1 header + 7,903 municipalities.
    assert prov.counts == {"read": 7903}
    assert prov.data_date == "2020-12-31"
    assert df["pro_com_t"].is_unique
    assert df["pro_com_t"].str.fullmatch(r"\d{6}").all()
    assert set(df["altitude_zone_code"].dropna()) <= {1, 2, 3, 4, 5}
    assert set(df["urbanisation"].dropna()) <= {1, 2, 3}
    t = df.set_index("pro_com_t")
    # Row 268 of the sheet: Torino, zona altimetrica 5 (Pianura), 239 m, DEGURBA 1.
    assert t.loc["001272", "altitude_zone_code"] == 5
    assert t.loc["001272", "altitude_zone"] == "Pianura"
    assert t.loc["001272", "altitude_m"] == 239.0
    assert t.loc["001272", "urbanisation"] == 1
    # Row 4: Ala di Stura, zona 1 (Montagna interna), 1,080 m, DEGURBA 3.
    assert t.loc["001003", "altitude_zone"] == "Montagna interna"
    assert t.loc["001003", "altitude_m"] == 1080.0
    assert t.loc["001003", "urbanisation"] == 3
    assert t.loc["001272", "area_km2_istat"] == pytest.approx(130.0645)
    assert not t.loc["001272", "coastal"]


def test_real_workbook_joined_to_turin(shared_data: Path, tmp_path: Path) -> None:
    munis = load_municipalities().data
    df, prov = load_istat_classifications(
        shared_data / XLS, cache_dir=tmp_path, codes=list(munis["pro_com_t"])
    )
    # All 312 comuni of 2023 already existed with the same code on 31/12/2020
    # (no merger in the province between the two dates).
    assert prov.counts["matched"] == 312
    assert prov.counts["unmatched"] == 0
    assert len(df) == 312
    joined = munis.merge(df, on="pro_com_t", how="left")
    assert joined["altitude_zone_code"].notna().all()
    # Counted in the sheet for codes 001xxx: 105 inland mountain, 124 inland hill,
    # 83 plain (105 + 124 + 83 = 312); DEGURBA: 1 city (Torino), 114 towns, 197 rural.
    assert joined["altitude_zone"].value_counts().to_dict() == {
        "Collina interna": 124,
        "Montagna interna": 105,
        "Pianura": 83,
    }
    assert joined["urbanisation"].value_counts().to_dict() == {3: 197, 2: 114, 1: 1}


def _sheet(rows: list[list[object]]) -> pd.DataFrame:
    return pd.DataFrame(rows, dtype=object)


def _fake_workbook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sheets: dict) -> Path:
    """A file whose sheets are given directly (no xls writer is installed)."""
    path = tmp_path / "classificazioni.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1fake")
    monkeypatch.setattr(istat, "_read_sheets", lambda p: sheets)
    return path


def test_columns_found_by_header_not_position(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A future edition: title rows above the header, columns reordered and renamed
    # slightly, numeric codes only, labels instead of zone codes, a trailing note.
    legend = _sheet([["Campo", "Descrizione"], ["Zona altimetrica", "1=Montagna interna"]])
    data = _sheet(
        [
            ["Classificazioni statistiche dei comuni al 31/12/2024", None, None, None, None],
            [None, None, None, None, None],
            [
                "Grado di urbanizzazione",
                "Altitudine del centro (metri)",
                "Codice Istat del Comune\n(numerico)",
                "Zona  altimetrica",
                "Comune montano",
            ],
            [3, 1080, 1003.0, "1", "SI"],
            ["1", 239.0, 1272, "Pianura", "NO"],
            [None, None, None, None, None],
            ["Fonte: Istat", None, None, None, None],
        ]
    )
    path = _fake_workbook(tmp_path, monkeypatch, {"Legenda": legend, "Comuni": data})
    df, prov = load_istat_classifications(path, cache_dir=tmp_path, codes=["001272", "001999"])
    assert prov.counts == {"read": 2, "matched": 1, "unmatched": 1}
    assert any("001999" in n for n in prov.notes)
    assert df.to_dict("records") == [
        {
            "pro_com_t": "001272",
            "altitude_zone_code": 5,
            "altitude_zone": "Pianura",
            "altitude_m": 239.0,
            "urbanisation": 1,
            "mountain_municipality": False,
        }
    ]
    all_rows, _ = load_istat_classifications(path, cache_dir=tmp_path)
    first = all_rows.iloc[0]
    assert (first["pro_com_t"], first["altitude_zone_code"], first["urbanisation"]) == (
        "001003",
        1,
        3,
    )
    assert bool(first["mountain_municipality"]) is True


def test_missing_column_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = _sheet(
        [
            ["Codice Istat del Comune (alfanumerico)", "Zona altimetrica", "Altitudine del centro"],
            ["001272", "5", 239],
        ]
    )
    path = _fake_workbook(tmp_path, monkeypatch, {"Comuni": data})
    with pytest.raises(
        MissingColumnError, match=r"classificazioni\.xls.*'Grado di urbanizzazione'"
    ):
        load_istat_classifications(path, cache_dir=tmp_path)


def test_bad_code_row_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    header = [
        "Codice Istat del Comune (alfanumerico)",
        "Zona altimetrica",
        "Altitudine del centro",
        "Grado di urbanizzazione",
    ]
    data = _sheet([header, ["001272", "5", 239, "1"], ["Torino?", "5", 239, "1"]])
    path = _fake_workbook(tmp_path, monkeypatch, {"Comuni": data})
    # Header on sheet row 1, so the second data row is sheet row 3.
    with pytest.raises(DataValidationError, match=r"row 3: municipality code 'Torino\?'"):
        load_istat_classifications(path, cache_dir=tmp_path)


def test_not_a_workbook_and_xlsx_without_openpyxl(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = tmp_path / "classificazioni.xls"
    text.write_text("Codice;Zona\n", encoding="utf-8")
    with pytest.raises(DataValidationError, match="not an Excel workbook"):
        load_istat_classifications(text, cache_dir=tmp_path)
    xlsx = tmp_path / "classificazioni.xlsx"
    xlsx.write_bytes(b"PK\x03\x04rest-of-zip")
    monkeypatch.setitem(sys.modules, "openpyxl", None)  # behave as if not installed
    with pytest.raises(DataValidationError, match="needs the openpyxl package"):
        load_istat_classifications(xlsx, cache_dir=tmp_path)


@pytest.fixture
def local_server(shared_data: Path) -> Iterator[str]:
    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(shared_data / "istat"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_url_is_downloaded_and_cached(local_server: str, tmp_path: Path) -> None:
    url = f"{local_server}/{Path(XLS).name}"
    df, prov = load_istat_classifications(url, cache_dir=tmp_path, codes=["001272"])
    assert prov.location == url
    assert prov.counts["matched"] == 1
    assert df["altitude_m"].to_numpy().tolist() == [239.0]
    assert len(list((tmp_path / "downloads").iterdir())) == 1
    assert np.isfinite(df["altitude_m"]).all()
