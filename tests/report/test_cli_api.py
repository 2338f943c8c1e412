"""``territorio report`` and ``GET /wpt/comuni/{code}/report.pdf``: files, errors, problems."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from territorio.api.errors import add_exception_handlers
from territorio.cli import main
from territorio.report import ReportSource, write_reports
from territorio.web import build_router
from tests.maps import synthetic as syn
from tests.report.support import pdf_text

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def _one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("territorio: error: "), err
    return err


# -- errors on a bundle without planning outputs (synthetic, no shared data) ----------


@pytest.fixture()
def bundle_without_plan(tmp_path: Path) -> Path:
    path = tmp_path / "bundle"
    syn.write_synthetic_bundle(path)
    return path


def test_cli_plan_missing_exit_2(
    bundle_without_plan: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "pdf"
    assert main(["report", str(bundle_without_plan), "-m", "001191", "--out", str(out)]) == 2
    err = _one_line_error(capsys)
    assert "no planning outputs" in err and "run: territorio plan" in err
    assert not out.exists()


def test_cli_needs_codes(bundle_without_plan: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(bundle_without_plan)]) == 2
    assert "-m 001272" in _one_line_error(capsys)


def test_api_plan_missing_is_409_problem(bundle_without_plan: Path) -> None:
    app = FastAPI()
    add_exception_handlers(app)
    app.include_router(build_router(bundle_without_plan, tiles=None, offers=lambda: []))
    with TestClient(app) as c:
        r = c.get("/wpt/comuni/001191/report.pdf")
        assert r.status_code == 409
        assert r.headers["content-type"] == "application/problem+json"
        body = r.json()
        assert body["status"] == 409 and body["title"] == "Outputs not computed"
        assert "territorio plan" in body["detail"]
        assert body["instance"] == "/wpt/comuni/001191/report.pdf"


# -- the real Turin bundle ---------------------------------------------------------------


@pytest.mark.shared_data
def test_cli_writes_reports_and_checks_every_code_first(
    torino_bundle: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "pdf"
    bundle = str(torino_bundle.path)
    # one bad code among good ones: exit 2, one line, no file at all
    assert main(["report", bundle, "-m", "001168", "-m", "015146", "--out", str(out)]) == 2
    err = _one_line_error(capsys)
    assert "comune 015146 is outside the bundle: it is not in province 001" in err
    assert not out.exists() or not any(out.iterdir())
    assert main(["report", bundle, "-m", "None", "--out", str(out)]) == 2
    assert "'None' is not an ISTAT municipality code" in _one_line_error(capsys)
    # the comune named None, in English
    assert main(["report", bundle, "-m", "001168", "--lang", "en", "--out", str(out)]) == 0
    printed = capsys.readouterr().out.split()
    assert printed == [str(out / "comune_001168_en.pdf")]
    assert [p.name for p in out.iterdir()] == ["comune_001168_en.pdf"]
    assert "None" in pdf_text(out / "comune_001168_en.pdf").splitlines()[2:4]


@pytest.mark.shared_data
def test_interrupted_run_leaves_no_partial_file(
    torino_bundle: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import territorio.report.render as render

    src = ReportSource(torino_bundle)
    real = render.report_html
    calls: list[str] = []

    # interrupted while drawing the second page: the first, printed meanwhile, is kept
    def interrupted(source: ReportSource, code: str, *, lang: str = "it") -> str:
        calls.append(code)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(source, code, lang=lang)

    monkeypatch.setattr(render, "report_html", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_reports(src, ["001168", "001272"], out_dir=tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["comune_001168_it.pdf"]


@pytest.fixture(scope="module")
def api(torino_bundle: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    from territorio.api import Settings
    from territorio.api.app import create_app

    db = tmp_path_factory.mktemp("db") / "wpt.db"
    settings = Settings(bundle_path=torino_bundle.path, database_url=f"sqlite:///{db}")
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.mark.shared_data
def test_api_serves_the_pdf_and_links_it(api: TestClient, tmp_path: Path) -> None:
    page = api.get("/wpt/comuni/001168")
    assert 'href="/wpt/comuni/001168/report.pdf"' in page.text
    assert (
        'href="/wpt/comuni/001168/report.pdf?lang=en"'
        in api.get("/wpt/comuni/001168", params={"lang": "en"}).text
    )
    r = api.get("/wpt/comuni/001168/report.pdf", params={"lang": "en"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"] == 'inline; filename="comune_001168_en.pdf"'
    assert r.content.startswith(b"%PDF-")
    path = tmp_path / "r.pdf"
    path.write_bytes(r.content)
    text = pdf_text(path)
    assert "MUNICIPALITY REPORT" in text and "SNAI class " in text


@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("code", "detail"),
    [
        ("001999", "comune 001999 is outside the bundle"),
        ("015146", "it is not in province 001"),
        ("abc", "'abc' is not an ISTAT municipality code"),
    ],
)
def test_api_unknown_comune_is_404_problem(api: TestClient, code: str, detail: str) -> None:
    r = api.get(f"/wpt/comuni/{code}/report.pdf")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    assert detail in r.json()["detail"]


def test_cli_isochrones_missing_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # travel times computed by a territorio that did not keep the isochrones
    path = tmp_path / "bundle"
    syn.write_synthetic_bundle(path)
    syn.write_synthetic_plan(path.with_name("bundle-plan"))
    (path / "access_isochrones.parquet").unlink()
    out = tmp_path / "pdf"
    assert main(["report", str(path), "-m", "001191", "--out", str(out)]) == 2
    err = _one_line_error(capsys)
    assert "layer access_isochrones" in err and f"run: territorio access {path}" in err
    assert not out.exists()
