"""Reports served over HTTP: one :class:`ReportSource` per app, the last PDFs kept."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from territorio.bundle import Bundle
from territorio.errors import MissingOutputsError

if TYPE_CHECKING:  # the renderer (matplotlib, WeasyPrint) loads on the first report
    from territorio.report.source import ReportSource

__all__ = ["ReportCache"]


class ReportCache:
    """PDF reports of a served bundle, built on request and kept (least recently used out).

    Parameters
    ----------
    bundle
        Returns the served bundle (read when the first report is asked for).
    plan_dir
        The planning outputs folder, or None when the server has none (every
        report then fails with :class:`~territorio.errors.MissingOutputsError`).
    capacity
        PDFs kept in memory (a few hundred kB each).
    """

    def __init__(
        self, bundle: Callable[[], Bundle], plan_dir: Path | None, *, capacity: int = 32
    ) -> None:
        self._bundle = bundle
        self._plan_dir = plan_dir
        self._src: ReportSource | None = None
        self._pdfs: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        self._lock = threading.Lock()
        self.capacity = capacity

    def source(self) -> ReportSource:
        """Return the :class:`ReportSource` (opened once).

        Raises
        ------
        MissingOutputsError
            If the server has no planning outputs or the bundle no travel times.
        """
        with self._lock:
            if self._src is None:
                bundle = self._bundle()
                if self._plan_dir is None:
                    raise MissingOutputsError(
                        "this server has no planning outputs (SNAI class, marginality), which "
                        f"the report needs; run: territorio plan {bundle.path}, then restart it"
                    )
                from territorio.report.source import ReportSource

                self._src = ReportSource(bundle, plan_dir=self._plan_dir)
            return self._src

    def pdf(self, code: str, lang: str) -> bytes:
        """Return the PDF report of ``code`` in ``lang`` (built on first request).

        Raises
        ------
        NotFoundError
            If ``code`` is not a comune of the bundle.
        MissingOutputsError
            See :meth:`source`.
        """
        key = (code, lang)
        with self._lock:
            hit = self._pdfs.get(key)
            if hit is not None:
                self._pdfs.move_to_end(key)
                return hit
        from territorio.report.render import report_pdf

        body = report_pdf(self.source(), code, lang=lang)
        with self._lock:
            self._pdfs[key] = body
            while len(self._pdfs) > self.capacity:
                self._pdfs.popitem(last=False)
        return body
