"""The PDF reports of real comuni on the real Turin bundle (pdftotext, pdfinfo)."""

from __future__ import annotations

import re
import socket
import warnings
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from territorio.report import ReportSource, write_reports
from territorio.report.render import report_pdf
from territorio.report.source import comparable_group
from tests.report.support import pdf_pages, pdf_text

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.shared_data

#: Torino, None (the comune named "None"), Rivalta di Torino (its post office
#: closes in the plan's scenario), Val della Torre (a pharmacy opens there).
CODES = ["001272", "001168", "001214", "001284"]
#: Ceresole Reale (Valle Orco), outside the road coverage of the Turin graph.
VALLEY = "001073"


@pytest.fixture(scope="module")
def source(torino_bundle: Any) -> ReportSource:
    return ReportSource(torino_bundle)


@pytest.fixture(scope="module")
def outside(source: ReportSource) -> str | None:
    """A comune outside network coverage: Ceresole Reale when it is, else the first one."""
    m = source.municipalities
    codes = m.loc[m["network_coverage"] == "none", "pro_com_t"].tolist()
    return VALLEY if VALLEY in codes else (codes[0] if codes else None)


@pytest.fixture(scope="module")
def pdfs(
    source: ReportSource, outside: str | None, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("reports")
    extra = [c for c in (outside, VALLEY) if c is not None and c not in CODES]
    codes = CODES + list(dict.fromkeys(extra))
    paths = write_reports(source, codes, out_dir=out, lang="it")
    return dict(zip(codes, paths, strict=True))


def _klass(source: ReportSource, code: str, lang: str = "it") -> str | None:
    """The comune's SNAI class as the report words it (from the plan), None when it has none."""
    from territorio.maps._palette import SNAI_TEXT

    m = source.municipalities
    klass = m.loc[m["pro_com_t"] == code, "snai_class"].iloc[0]
    return SNAI_TEXT[klass][0 if lang == "it" else 1] if klass in SNAI_TEXT else None


@pytest.fixture(scope="module")
def api_detail(torino_bundle: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    from territorio.api import Settings
    from territorio.api.app import create_app

    db = tmp_path_factory.mktemp("db") / "wpt.db"
    settings = Settings(bundle_path=torino_bundle.path, database_url=f"sqlite:///{db}")
    with TestClient(create_app(settings)) as c:

        def get(code: str) -> dict[str, Any]:
            r = c.get(f"/municipalities/{code}")
            assert r.status_code == 200
            body: dict[str, Any] = r.json()
            return body

        yield get


def _line(text: str, label: str) -> str:
    """The table row of a category: the line of the table that starts with its label."""
    table = text.split("Servizi per categoria", 1)[1].split("Tempi in auto dal punto", 1)[0]
    # the label is in the first column (a wrapped service name is indented far)
    rows = [ln for ln in table.splitlines() if re.match(rf"\s{{0,4}}{re.escape(label)}", ln)]
    assert len(rows) == 1, f"no row {label!r} in the report's table"
    return rows[0]


def test_one_or_two_pages_with_name_and_attribution(pdfs: dict[str, Path]) -> None:
    for code, path in pdfs.items():
        assert path.name == f"comune_{code}_it.pdf"
        assert 1 <= pdf_pages(path) <= 2
        text = pdf_text(path)
        assert f"CODICE ISTAT {code}" in text
        # on the map and in the footer
        assert text.count("© OpenStreetMap contributors") >= 2
    # no temporary files left next to the reports
    assert sorted(p.name for p in next(iter(pdfs.values())).parent.iterdir()) == sorted(
        p.name for p in pdfs.values()
    )


def test_the_comune_named_none_keeps_its_name(pdfs: dict[str, Path], source: ReportSource) -> None:
    text = pdf_text(pdfs["001168"])
    lines = [ln.strip() for ln in text.splitlines()]
    assert "None" in lines  # the title line is the bare name
    klass = _klass(source, "001168")
    # C Cintura on today's Turin graph; outside coverage where the graph misses its centre
    assert f"Classe SNAI {klass or 'non classificabile'}" in text


def test_minutes_are_those_of_the_api(pdfs: dict[str, Path], api_detail: Any) -> None:
    checked = 0
    for code in ("001272", "001168", "001214"):
        text = pdf_text(pdfs[code])
        detail = api_detail(code)
        for ind in detail["indicators"]:
            line = _line(text, ind["label_it"])
            nearest = ind["nearest"]
            if ind["status"] in ("ok", "partial") and nearest and nearest["time_min"] is not None:
                minutes = f"{nearest['time_min']:.1f}".replace(".", ",")
                assert f" {minutes} " in f"{line} ", (code, ind["category"], line)
                checked += 1
            elif ind["status"] == "no_data":
                assert "nessun dato" in line, (code, ind["category"], line)
    # Torino, None and Rivalta have 7, 6 and 6 categories with a time
    assert checked >= 15


def test_outside_coverage_is_said_not_blank(pdfs: dict[str, Path], outside: str | None) -> None:
    if outside is None:
        pytest.skip("every comune of this bundle is inside network coverage")
    text = pdf_text(pdfs[outside])
    assert "fuori copertura della rete stradale" in text
    assert "Confronto non disponibile" in text
    # above the map (which draws the boundary hatched, with no isochrones)
    flow = " ".join(pdf_text(pdfs[outside], layout=False).split())
    assert "Il comune è fuori dalla copertura della rete stradale di questi dati" in flow
    assert _line(text, "Farmacia").split()[-2:] == ["fuori", "copertura"]


def test_comparable_group_is_the_one_stated(
    pdfs: dict[str, Path], source: ReportSource, torino_bundle: Any
) -> None:
    # Hand count from the plan and the bundle: SNAI class and altitude zone
    # equal to the comune's, the comune itself excluded.
    plan = pd.read_parquet(source.plan.path / "municipalities.parquet")
    munis = torino_bundle.layer("municipalities")
    both = plan[["pro_com_t", "snai_class"]].merge(
        munis[["pro_com_t", "altitude_zone"]], on="pro_com_t"
    )
    for code in ("001168", "001214"):
        me = both[both["pro_com_t"] == code].iloc[0]
        peers = both[
            (both["snai_class"] == me["snai_class"])
            & (both["altitude_zone"] == me["altitude_zone"])
            & (both["pro_com_t"] != code)
        ]
        # the map's attribution is text laid over the map's corner: pdftotext may read
        # it in the middle of the chart's caption beside it
        raw = pdf_text(pdfs[code]).replace("© OpenStreetMap contributors", " ")
        text = " ".join(raw.split())
        if _klass(source, code) is None:
            assert "Confronto non disponibile" in text
            assert comparable_group(source.municipalities, code) is None
            continue
        if len(peers) >= 3:
            stated = (
                f"Comuni confrontabili: classe SNAI {_klass(source, code)} e zona altimetrica "
                f"«{me['altitude_zone']}» ({len(peers)} comuni)."
            )
        else:  # widened to the whole class
            peers = both[(both["snai_class"] == me["snai_class"]) & (both["pro_com_t"] != code)]
            stated = (
                f"Comuni confrontabili: classe SNAI {_klass(source, code)}, tutte le zone "
                f"altimetriche ({len(peers)} comuni;"
            )
        at = text.find("Comuni confrontabili")
        assert stated in text, text[at : at + 200]
        group = comparable_group(source.municipalities, code)
        assert group is not None and set(group.codes) == set(peers["pro_com_t"])


def test_whatif_box_only_where_the_scenario_touches(
    pdfs: dict[str, Path], source: ReportSource
) -> None:
    from territorio.report._texts import fmt_min

    # configs/plan-torino.toml: Rivalta di Torino's post office closes
    rivalta = " ".join(pdf_text(pdfs["001214"]).split())
    assert "Cosa cambia se" in rivalta
    assert "chiude: Ufficio postale" in rivalta and ", Rivalta di Torino" in rivalta
    # ... and a pharmacy opens at Val della Torre's reference point: its time
    # before and after are those of the plan's scenario.csv
    row = source.scenario_table.loc["001284"]  # type: ignore[union-attr]
    before, after = row["pharmacy_ref_min_before"], row["pharmacy_ref_min_after"]
    assert after < before  # the new pharmacy is nearer
    vdt = " ".join(pdf_text(pdfs["001284"]).split())
    assert "apre: Farmacia «Farmacia di comunità (ipotesi)»" in vdt
    expected = f"Farmacia, dal punto di riferimento {fmt_min(before, 'it')} {fmt_min(after, 'it')}"
    assert expected in vdt
    # Torino is not touched
    assert "Cosa cambia se" not in pdf_text(pdfs["001272"])


def test_english_report(source: ReportSource, tmp_path: Path) -> None:
    (path,) = write_reports(source, ["001168"], out_dir=tmp_path, lang="en")
    text = pdf_text(path)
    klass = _klass(source, "001168", "en")
    assert path.name == "comune_001168_en.pdf"
    assert "MUNICIPALITY REPORT" in text and f"SNAI class {klass or 'not classifiable'}" in text
    flow = " ".join(text.split())
    assert (f"Comparable comuni: SNAI class {klass}" if klass else "No comparison") in flow


def test_renders_with_no_network(
    source: ReportSource, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("network access is forbidden in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    path = tmp_path / "torino.pdf"
    path.write_bytes(report_pdf(source, "001272", lang="it"))
    text = pdf_text(path)
    assert "Servizi e isocrone in auto" in text and "Torino" in text
    # the map is an embedded raster, not a reference to tiles
    assert b"/Subtype /Image" in path.read_bytes() or b"/Subtype/Image" in path.read_bytes()
