"""The comune's one-page PDF report (``territorio report``, ``/wpt/comuni/{code}/report.pdf``).

Drawn from the territory bundle and the planning outputs folder only:
header facts, a static map with the 10/20/30-minute isochrones, a chart of
minutes to the nearest service against comparable comuni, a table per
category, the marginality score, and the what-if scenario when it touches the
comune.

The names below are loaded on first use, so importing the package (as the
web router does) does not load matplotlib or WeasyPrint.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from territorio._lazy import lazy_attributes

if TYPE_CHECKING:
    from territorio.report.render import report_filename, report_html, report_pdf, write_reports
    from territorio.report.source import ComparableGroup, ReportSource, comparable_group

__all__ = [
    "ComparableGroup",
    "ReportSource",
    "comparable_group",
    "report_filename",
    "report_html",
    "report_pdf",
    "write_reports",
]

_WHERE = {
    "ComparableGroup": "territorio.report.source",
    "ReportSource": "territorio.report.source",
    "comparable_group": "territorio.report.source",
    "report_filename": "territorio.report.render",
    "report_html": "territorio.report.render",
    "report_pdf": "territorio.report.render",
    "write_reports": "territorio.report.render",
}


__getattr__ = lazy_attributes(__name__, _WHERE)
