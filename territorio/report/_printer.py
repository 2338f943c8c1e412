"""Printing the report's HTML page to PDF (WeasyPrint), here or in a process of its own.

:func:`html_to_pdf` prints in this process. :class:`Printer` prints in a
separate process started *before* the pages are drawn: a cold WeasyPrint
costs about 1.1 s before its first page (0.6 s of import, which loads pango
and harfbuzz through cffi, and 0.45 s of C-declaration parsing on the first
``write_pdf``), about as long as loading geopandas and matplotlib and drawing
the page's map and chart. ``territorio report`` overlaps the two on two
cores: one report from a cold process took 2.8-3.05 s printed in-process and
2.3-2.6 s with the printer (Balme, province bundle), and with many reports
the printer prints page k while page k + 1 is drawn.

WeasyPrint's URL fetcher here refuses anything but ``data:`` URIs, so a
report never touches the network.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import traceback
from multiprocessing.connection import Connection
from typing import Any

from territorio.errors import TerritorioError

__all__ = ["Printer", "PrinterError", "html_to_pdf"]


class PrinterError(TerritorioError):
    """The printer process failed or stopped (the message holds its error)."""


def _offline_fetcher() -> Any:
    """WeasyPrint URL fetcher for ``data:`` URIs only: a report loads nothing from outside."""
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols=["data"], fail_on_errors=True)


def html_to_pdf(html: str) -> bytes:
    """Print a self-contained HTML page (images as ``data:`` URIs) to PDF bytes."""
    from weasyprint import HTML

    pdf: bytes = HTML(string=html, url_fetcher=_offline_fetcher()).write_pdf()
    return pdf


def _serve(conn: Connection) -> None:
    """Printer process: warm WeasyPrint up, then print each page received until ``None``."""
    try:
        html_to_pdf("<p>.</p>")  # imports and parses the C declarations once
        while (html := conn.recv()) is not None:
            try:
                conn.send(("pdf", html_to_pdf(html)))
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException:  # WeasyPrint's fetch errors are BaseExceptions
                conn.send(("error", traceback.format_exc()))
    except (EOFError, KeyboardInterrupt):
        pass  # the caller went away
    except Exception:  # e.g. WeasyPrint's libraries missing
        conn.send(("error", traceback.format_exc()))
    finally:
        conn.close()


class Printer:
    """A process printing HTML pages to PDF, one page at a time.

    Start it (``with Printer() as p:``) before drawing the first page;
    :meth:`submit` a page and take its PDF with :meth:`result` before
    submitting the next one (a second page sent while a PDF waits in the
    pipe could block both processes). The process is spawned (no forked
    threads or locks), daemonic, and stopped on exit.

    Raises
    ------
    PrinterError
        From :meth:`result`, with the printer's traceback, if printing a
        page failed or the process stopped.
    """

    def __init__(self) -> None:
        ctx = mp.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(
            target=_serve, args=(child,), name="territorio-printer", daemon=True
        )
        self._proc.start()
        child.close()
        self._pending = 0

    def submit(self, html: str) -> None:
        """Send a page to print; its PDF comes from :meth:`result`.

        Raises
        ------
        PrinterError
            If the previous page's PDF has not been taken yet, or the printer
            process stopped.
        """
        if self._pending:
            raise PrinterError("take the previous page's PDF (result()) before submitting another")
        try:
            self._conn.send(html)
        except (BrokenPipeError, OSError) as exc:
            raise PrinterError(f"the PDF printer process stopped ({exc}); run again") from exc
        self._pending += 1

    def result(self) -> bytes:
        """Return the PDF of the page submitted last (waits for the printer)."""
        if self._pending == 0:
            raise PrinterError("no page was submitted to the PDF printer")
        try:
            kind, body = self._conn.recv()
        except EOFError:
            raise PrinterError(
                f"the PDF printer process stopped (exit code {self._proc.exitcode}) "
                "before returning a page"
            ) from None
        self._pending -= 1
        if kind != "pdf":
            raise PrinterError(f"the PDF printer failed:\n{body}")
        pdf: bytes = body
        return pdf

    def close(self) -> None:
        """Stop the printer (it exits after the pages already sent)."""
        with contextlib.suppress(BrokenPipeError, OSError):
            self._conn.send(None)
        self._conn.close()

    def __enter__(self) -> Printer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
