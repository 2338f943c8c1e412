"""Benchmark of the comune's PDF report on the real Turin bundle.

Run with ``.venv/bin/python bench/report.py [data/torino] [--all]``. Needs the
bundle and its plan folder (``make run``). Prints, for one process:

- opening the sources (layers read once);
- the first report (Torino), which also builds the road network and the
  isochrone samples once per process;
- steady-state seconds per report split into facts, map (isochrones and
  drawing), chart and WeasyPrint, for a few comuni;
- with ``--all``: every comune of the bundle, total and per-report quantiles.

Figures depend on the machine's load (2 shared cores here): quote them with
that caveat, never as a test threshold.

Measured 2026-12-01 on the Turin bundle (312 comuni, 36 fully covered), 2
cores shared with other jobs (load average 4-6):

- steady state, one report: 0.3-0.4 s outside coverage (no isochrones),
  0.4-1.3 s covered (Torino 1.3 s: map 0.38, chart 0.15, WeasyPrint 0.44);
- a cold ``territorio report -m 001272``: 4.9 s wall (4.1 s CPU), of which
  about 2 s are imports and 1.8 s the road network and isochrone edge
  samples (once per process); ``-m 001019`` (outside coverage): 3.0 s;
- ``territorio report --all``: 312 one-page PDFs (35 MB) in 146 s wall
  (100 s CPU) in one process; ``--workers 2`` took 152 s wall (105 s CPU)
  because the two cores were busy with other jobs: on two free cores it
  would be about half the CPU time.

On the whole-province bundle of main (vector-tile roads, every comune
covered; a trial merge of this branch, 2026-12-01, same load):
``territorio report --all --workers 2`` wrote 312 one-page PDFs in 252 s
wall (186 s CPU).
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
