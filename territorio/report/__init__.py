"""The comune's one-page PDF report (``territorio report``, ``/wpt/comuni/{code}/report.pdf``).

Drawn from the territory bundle and the planning outputs folder only:
header facts, a static map with the 10/20/30-minute isochrones, a chart of
minutes to the nearest service against comparable comuni, a table per
category, the marginality score, and the what-if scenario when it touches the
comune.
"""

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
