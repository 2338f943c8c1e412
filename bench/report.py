"""Benchmark of the comune's PDF report on the province bundle.

Run with ``.venv/bin/python bench/report.py [data/torino] [--all]``. Needs the
bundle and its plan folder (``make run``). Prints:

- cold ``territorio report -m CODE`` processes (what a user waits for), five
  per comune: Torino, Ceresole Reale, None, Balme;
- in one process: opening the sources, then steady-state seconds per report
  split into facts, map, chart, the whole HTML page and WeasyPrint's PDF;
- with ``--all``: every comune of the bundle with ``--workers 1`` (this
  process draws, the printer process prints) and ``--workers 2``.

Figures depend on the machine's load (2 shared cores here): quote them with
that caveat, never as a test threshold.

Measured 2026-12-01 on the province bundle (vector-tile roads, 312 comuni),
idle machine (load average 0.1):

- cold report: Torino median 2.29 s [2.04-2.38], Ceresole Reale 2.28
  [1.88-2.48], None 2.06 [1.91-2.13], Balme 1.90 [1.82-2.07]. Before the
  isochrones were kept in the bundle and the printer process overlapped
  WeasyPrint's start with the drawing: 5.9-7.5 s (Balme), of which about
  2.5 s built the road network and sampled its edges for the isochrones,
  0.8 s imported folium through ``territorio.maps`` and 0.5 s waited for
  WeasyPrint's first page;
- steady state: map 0.13-0.22 s, chart 0.1 s, page 0.25-0.49 s, PDF
  0.2-0.43 s;
- all 312 reports: 127.9 s with ``--workers 1``, 126.9 s with ``--workers
  2`` (86 MB of PDFs).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from territorio.report import (  # noqa: E402
    ReportSource,
    render,
    write_reports,
)
from territorio.report._printer import html_to_pdf  # noqa: E402
from territorio.report.charts import comparison_chart  # noqa: E402
from territorio.report.facts import report_facts  # noqa: E402

#: Torino, None, Rivalta, Ceresole Reale, Balme, Val della Torre.
SAMPLE = ("001272", "001168", "001214", "001073", "001019", "001284")
#: Cold ``territorio report`` processes per comune.
COLD_RUNS = 5


def _cold(bundle: Path, code: str, out: str) -> float:
    """Wall seconds of one ``territorio report -m CODE`` in a fresh process."""
    exe = Path(sys.executable).with_name("territorio")
    t0 = time.perf_counter()
    subprocess.run(
        [str(exe), "report", str(bundle), "-m", code, "--out", out, "-q"],
        check=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    return time.perf_counter() - t0


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    bundle = Path(args[0]) if args else ROOT / "data" / "torino"
    with tempfile.TemporaryDirectory() as tmp:
        print(f"cold territorio report -m CODE, {COLD_RUNS} runs each: median [min-max] s")
        for code in ("001272", "001073", "001168", "001019"):
            runs = [_cold(bundle, code, tmp) for _ in range(COLD_RUNS)]
            print(f"  {code}: {statistics.median(runs):.2f} [{min(runs):.2f}-{max(runs):.2f}]")
        t0 = time.perf_counter()
        src = ReportSource(bundle)
        _ = src.municipalities_metric, src.services_metric, src.access
        print(f"open sources (in process): {time.perf_counter() - t0:.2f} s")
        html_to_pdf(render.report_html(src, "001272", lang="it"))  # WeasyPrint's first page
        print("steady state, seconds: facts / map / chart / page (HTML) / PDF (WeasyPrint)")
        for code in SAMPLE:
            t0 = time.perf_counter()
            facts = report_facts(src, code, "it")
            t1 = time.perf_counter()
            render._map_png(src, code, facts["header"], "it")
            t2 = time.perf_counter()
            comparison_chart(facts["comparison"], lang="it")
            t3 = time.perf_counter()
            html = render.report_html(src, code, lang="it")
            t4 = time.perf_counter()
            html_to_pdf(html)
            t5 = time.perf_counter()
            print(
                f"  {code}: {t1 - t0:.3f} / {t2 - t1:.3f} / {t3 - t2:.3f} / "
                f"{t4 - t3:.3f} / {t5 - t4:.3f}"
            )
        if "--all" in sys.argv:
            codes = src.municipalities["pro_com_t"].tolist()
            for workers in (1, 2):
                t0 = time.perf_counter()
                write_reports(src, codes, out_dir=Path(tmp) / f"w{workers}", workers=workers)
                print(
                    f"all {len(codes)} reports, --workers {workers}: "
                    f"{time.perf_counter() - t0:.1f} s wall"
                )


if __name__ == "__main__":
    main()
