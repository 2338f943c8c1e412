"""Helpers of the PDF report tests: poppler's pdftotext and pdfinfo."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest


def require_poppler() -> None:
    """Skip when poppler-utils is absent locally; fail on CI (env CI set), which installs it."""
    if shutil.which("pdftotext") and shutil.which("pdfinfo"):
        return
    reason = "pdftotext/pdfinfo are absent: apt-get install -y poppler-utils"
    if os.environ.get("CI"):
        pytest.fail(f"the PDF tests must run on CI: {reason}")
    pytest.skip(reason)


def pdf_text(path: Path, *, layout: bool = True) -> str:
    """Return the text of a PDF: laid out as on the page (``-layout``) or in reading order."""
    require_poppler()
    flags = ["-layout"] if layout else []
    out = subprocess.run(
        ["pdftotext", *flags, str(path), "-"], check=True, capture_output=True, text=True
    )
    return out.stdout


def pdf_pages(path: Path) -> int:
    """Return the number of pages of a PDF (``pdfinfo``)."""
    require_poppler()
    out = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True)
    for line in out.stdout.splitlines():
        if line.startswith("Pages:"):
            return int(line.split()[1])
    raise AssertionError(f"pdfinfo gave no page count for {path}")
