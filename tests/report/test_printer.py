"""The printer process: PDFs of pages, its errors brought back to the caller."""

from __future__ import annotations

import pytest

from territorio.report._printer import Printer, PrinterError, html_to_pdf


def test_prints_pages_in_turn_like_in_process() -> None:
    pages = ["<h1>Balme</h1>", "<h1>None</h1>"]
    with Printer() as printer:
        pdfs = []
        for page in pages:
            printer.submit(page)
            with pytest.raises(PrinterError, match="before submitting another"):
                printer.submit(page)
            pdfs.append(printer.result())
    assert all(p.startswith(b"%PDF-") for p in pdfs)
    # the same page printed here has the same length (only the dates differ)
    assert len(pdfs[0]) == len(html_to_pdf(pages[0]))


def test_a_failing_page_raises_with_the_printers_error() -> None:
    # the printer loads data: URIs only; an http image fails the page, not the printer
    with Printer() as printer:
        printer.submit('<img src="http://tile.openstreetmap.org/0/0/0.png">')
        with pytest.raises(PrinterError, match="the PDF printer failed"):
            printer.result()
        printer.submit("<p>next page</p>")
        assert printer.result().startswith(b"%PDF-")
    with pytest.raises(PrinterError, match="no page was submitted"):
        Printer().result()
