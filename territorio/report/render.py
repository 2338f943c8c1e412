"""The comune's one-page PDF: an HTML template printed by WeasyPrint.

The page is the Jinja2 template ``templates/report.html`` (autoescaped: a
comune's name is data, e.g. the comune literally named "None") with its
stylesheet and two matplotlib pictures embedded as ``data:`` URIs. WeasyPrint
lays it out on A4 and writes the PDF (:mod:`territorio.report._printer`: in
this process for :func:`report_pdf`, in a printer process started beforehand
for :func:`write_reports`); it loads nothing but ``data:`` URIs, so a report
never touches the network.

Files are written to a temporary file in the target folder and renamed into
place: an interrupted run never leaves a half-written PDF.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import os
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from territorio.bundle import current_umask
from territorio.errors import ConfigError
from territorio.maps._palette import check_lang
from territorio.report._printer import Printer, PrinterError, html_to_pdf
from territorio.report.charts import comparison_chart, static_map
from territorio.report.facts import report_facts
from territorio.report.source import ReportSource

__all__ = ["report_filename", "report_html", "report_pdf", "write_reports"]

TEMPLATES = Path(__file__).resolve().parent / "templates"

_ENV = Environment(
    loader=FileSystemLoader(str(TEMPLATES)),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
# WeasyPrint's layout and matplotlib's font cache are not documented as
# thread-safe: one report at a time per process (the API's worker threads).
_RENDER_LOCK = threading.Lock()


@functools.cache
def _stylesheet() -> Markup:
    """Return the report's stylesheet, read once.

    Ours and trusted, so not escaped (autoescaping would turn its quotes into
    ``&#34;``).
    """
    return Markup((TEMPLATES / "report.css").read_text(encoding="utf-8"))


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _map_png(src: ReportSource, code: str, header: dict[str, Any], lang: str) -> bytes:
    munis = src.municipalities_metric
    iso = src.isochrones(code)
    return static_map(
        munis,
        code,
        services=src.services_metric,
        isochrones=iso,
        outside=bool(header["outside"]),
        lang=lang,
    )


def report_html(src: ReportSource, code: str, *, lang: str = "it") -> str:
    """Return the report of comune ``code`` as a self-contained HTML page.

    Raises
    ------
    NotFoundError
        If ``code`` is not a comune of the bundle.
    ConfigError
        If ``lang`` is neither ``"it"`` nor ``"en"``.
    """
    check_lang(lang)
    code = src.check(code)
    facts = report_facts(src, code, lang)
    map_png = _map_png(src, code, facts["header"], lang)
    chart = comparison_chart(facts["comparison"], lang=lang) if facts["group"] else None
    return _ENV.get_template("report.html").render(
        **facts,
        css=_stylesheet(),
        map_uri=_data_uri(map_png),
        chart_uri=_data_uri(chart) if chart else None,
    )


def report_pdf(src: ReportSource, code: str, *, lang: str = "it") -> bytes:
    """Return the one-page (two at most) A4 PDF report of comune ``code``.

    Raises
    ------
    NotFoundError
        If ``code`` is not a comune of the bundle.
    ConfigError
        If ``lang`` is neither ``"it"`` nor ``"en"``.
    """
    with _RENDER_LOCK:
        return html_to_pdf(report_html(src, code, lang=lang))


def report_filename(code: str, lang: str) -> str:
    """Return the file name of a report: ``comune_<code>_<lang>.pdf``."""
    return f"comune_{code}_{lang}.pdf"


def _write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file renamed into place."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        # mkstemp makes 0600 files; publish with the umask's permissions
        os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_reports(
    src: ReportSource,
    codes: Sequence[str],
    *,
    out_dir: str | Path,
    lang: str = "it",
    progress: Callable[[str, Path], None] | None = None,
    workers: int = 1,
) -> list[Path]:
    """Write the PDF report of each comune of ``codes`` into ``out_dir``.

    Every code is checked before any file is written; each file is written
    to a temporary name and renamed into place.

    Parameters
    ----------
    src
        The bundle and planning outputs.
    codes
        ISTAT codes (6-digit strings); duplicates are written once.
    out_dir
        Folder of the PDFs (created when missing).
    lang
        ``"it"`` (default) or ``"en"``.
    progress
        Called with each code and its file once written.
    workers
        Processes drawing and printing the reports. With 1 (default) this
        process draws the pages and a printer process prints them (two cores
        used, see :mod:`territorio.report._printer`); with more, each worker
        process does both and reads the bundle once (about a second), which
        pays off for many reports, e.g. a whole province.

    Returns
    -------
    list of Path
        The files written, in the order of ``codes``.

    Raises
    ------
    NotFoundError
        If a code is not a comune of the bundle (no file is written).
    ConfigError
        If ``lang`` is neither ``"it"`` nor ``"en"``, if ``workers < 1``, or
        if ``out_dir`` exists and is not a folder.
    """
    check_lang(lang)
    if workers < 1:
        raise ConfigError(f"workers must be at least 1, got {workers}")
    wanted = list(dict.fromkeys(src.check(str(c)) for c in codes))
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"output folder {out} exists and is not a folder; name a folder")
    out.mkdir(parents=True, exist_ok=True)
    if workers > 1 and len(wanted) > 1:
        return _write_parallel(src, wanted, out, lang, progress, workers)
    written: list[Path] = []

    def publish(printer: Printer, code: str) -> None:
        path = out / report_filename(code, lang)
        _write_atomic(path, printer.result())
        written.append(path)
        if progress is not None:
            progress(code, path)

    # The printer process starts WeasyPrint while this one draws the first
    # page, then prints page k while page k + 1 is drawn. At most one page and
    # one PDF are in the pipe at a time: a page is sent only once the previous
    # PDF has been received (two large messages crossing would block both).
    with Printer() as printer:
        printing: str | None = None
        for code in wanted:
            try:
                html = report_html(src, code, lang=lang)
            except BaseException:
                if printing is not None:  # keep the page already printed
                    with contextlib.suppress(PrinterError):
                        publish(printer, printing)
                raise
            if printing is not None:
                publish(printer, printing)
            printer.submit(html)
            printing = code
        if printing is not None:
            publish(printer, printing)
    return written


# -- several processes ------------------------------------------------------------------

_WORKER: dict[str, ReportSource] = {}


def _worker_init(bundle: str, plan_dir: str) -> None:
    _WORKER["src"] = ReportSource(bundle, plan_dir=plan_dir)


def _worker_write(code: str, out: str, lang: str) -> str:
    path = Path(out) / report_filename(code, lang)
    _write_atomic(path, report_pdf(_WORKER["src"], code, lang=lang))
    return str(path)


def _write_parallel(
    src: ReportSource,
    codes: list[str],
    out: Path,
    lang: str,
    progress: Callable[[str, Path], None] | None,
    workers: int,
) -> list[Path]:
    """Write the reports in ``workers`` fresh processes (spawned: no forked threads)."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    done: dict[str, Path] = {}
    with ProcessPoolExecutor(
        max_workers=min(workers, len(codes)),
        mp_context=mp.get_context("spawn"),
        initializer=_worker_init,
        initargs=(str(src.bundle.path), str(src.plan.path)),
    ) as pool:
        futures = {pool.submit(_worker_write, c, str(out), lang): c for c in codes}
        for fut in as_completed(futures):
            code = futures[fut]
            done[code] = Path(fut.result())
            if progress is not None:
                progress(code, done[code])
    return [done[c] for c in codes]
