"""A whole report on the synthetic bundle (no shared data): layout, site, plan facts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from territorio.report import ReportSource, write_reports
from territorio.report.facts import report_facts
from tests.maps import synthetic as syn
from tests.report.support import pdf_pages, pdf_text


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> ReportSource:
    path = tmp_path_factory.mktemp("syn") / "bundle"
    syn.write_synthetic_bundle(path)
    plan = syn.write_synthetic_plan(path.with_name("bundle-plan"))
    # siting ran on cluster C01 (Frossasco, Piscina) and chose "Piscina centro"
    summary = json.loads((plan / "summary.json").read_text(encoding="utf-8"))
    summary["siting"] = {"cluster": "C01", "t_min": 15.0}
    (plan / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    return ReportSource(path)


def test_site_of_the_cluster(source: ReportSource) -> None:
    # Frossasco (001192) is in C01: the cluster's best site is named, with the
    # comune that holds its point and its 300 more residents 65+ within 15 min.
    site = report_facts(source, "001192", "it")["marginality"]["site"]
    assert site.startswith("sito migliore: Piscina centro (")
    assert "300 residenti 65+ in più entro 15 min" in site
    # Pinerolo (001191) is in no cluster and holds no site
    assert report_facts(source, "001191", "en")["marginality"]["site"] == (
        "no site proposed for this comune"
    )


def test_synthetic_pdf(source: ReportSource, tmp_path: Path) -> None:
    (path,) = write_reports(source, ["001192"], out_dir=tmp_path)
    assert pdf_pages(path) == 1
    text = " ".join(pdf_text(path).split())
    assert "Frossasco" in text and "CODICE ISTAT 001192" in text
    assert "Area sottoservita C01 Frossasco, Piscina" in text
    assert "© OpenStreetMap contributors" in text


def test_two_processes_write_the_same_reports(source: ReportSource, tmp_path: Path) -> None:
    codes = ["001193", "001191", "001192"]
    one = write_reports(source, codes, out_dir=tmp_path / "one")
    two = write_reports(source, codes, out_dir=tmp_path / "two", workers=2)
    assert [p.name for p in two] == [p.name for p in one]  # in the order of the codes
    for a, b in zip(one, two, strict=True):
        # the same text but the footer's date of writing (which may cross midnight)
        assert pdf_text(a).split("Generato")[0] == pdf_text(b).split("Generato")[0]
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == sorted(p.name for p in two)
