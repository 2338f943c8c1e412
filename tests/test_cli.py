"""CLI behaviour that needs no data: one-line errors, exit code 2, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from territorio.cli import main


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "territorio.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def test_missing_config_is_one_line_exit_2(tmp_path: Path) -> None:
    res = _run("build", "--config", "absent.toml", cwd=tmp_path)
    assert res.returncode == 2
    assert res.stderr.strip().splitlines() == [
        "territorio: error: config file not found: absent.toml"
    ]
    assert "Traceback" not in res.stderr


def test_unknown_area_code_in_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[area]\nslug = "x"\nname = "X"\nprovince_code = "1"\n', encoding="utf-8")
    assert main(["build", "--config", str(cfg)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "area.province_code" in err[0]


def test_info_without_bundle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    res = _run("info", cwd=tmp_path)
    assert res.returncode == 2
    assert "no bundle found under ./data" in res.stderr
    res = _run("info", "elsewhere", cwd=tmp_path)
    assert res.returncode == 2
    assert "no territory bundle at elsewhere" in res.stderr


def test_version() -> None:
    res = _run("--version", cwd=Path.cwd())
    assert res.returncode == 0
    assert res.stdout.startswith("territorio ")
