"""Mountain and winter figures of a built bundle, timed: DEM coverage, climbs, winter.

Run with ``.venv/bin/python bench/mountain.py [BUNDLE] [--config PLAN.toml]
[--json out.json]`` after ``territorio build`` and ``territorio access``
(default bundle ``data/torino``, plan ``configs/plan-torino.toml``). Prints
the ``territorio effect`` report (junctions and residents with DEM, comuni
without DEM, hairpins, three named climbs, the 20 comuni that change most)
and the ``winter`` preset (closures, minutes added, residents pushed beyond
30 minutes, class changes, clusters), then three timings of the winter
scenario alone on the already built context and baseline: what the API's
``POST /planning/scenarios {"preset": "winter"}`` costs once its baseline is
built.

Timings are of a shared 2-core machine: indicative only.

Measured on the whole province (configs/torino-local.toml, vector tiles:
135,416 junctions, 170,975 edges; 1 Dec 2026, load average 7-8 on 2 cores)
----------------------------------------------------------------------------
* build step "elevation, curvature, gradient": 7.9-10.7 s of a 52-63 s build.
* DEM: 100,366 of 135,416 junctions (74 %), 1,837,655 of 2,200,646
  residents (83.5 %); 76 of 312 comuni without DEM (ISTAT centre altitude
  stands in); 6 void pixels, all filled.
* curvature: 7,129 hairpins (primary 46, secondary 86, tertiary 613,
  unclassified 3,298; 3,082 on service roads and streets: turning loops,
  car-park rings), 19,949 edges slowed; gradient: 23,288 edges slowed.
* climbs (flat class speeds -> with curves and slopes): Pinerolo - Sestriere
  55.2 km, 2 hairpins, 63.5 -> 65.5 min (+2.1; DEM only north of 45 N);
  Susa - Moncenisio 15.4 km, 17 hairpins, 20.6 -> 22.5 min (+1.9); Lanzo -
  Balme 30.1 km, 6 hairpins, 1,379 m of climb, 32.9 -> 36.5 min (+3.5).
* minutes to the nearest polo: +0.22 min median, +0.53 mean, +7.7 max
  (Usseglio 63.0 -> 70.6); plains about 0.
* winter preset: 41 km closed (SP172 16.4 km, Nivolet road 16 km, Assietta
  10.7 km), 1,205 km slowed above 1,000 m; 5 comuni change SNAI class
  (Bardonecchia, Cesana Torinese, Noasca, Sestriere E -> F; Fenestrelle
  D -> E); 218 residents (56 aged 65+) pushed beyond 30 min from a pharmacy,
  390 (114) from a post office; 2 residents of Fenestrelle unreachable.
* winter preset alone 5.2-7.3 s (median 5.4 s); ``territorio winter``
  8.7 s wall with the context; ``POST /planning/scenarios {"preset":
  "winter"}`` 3.6-5.4 s once the API's baseline is built, 9.3-13.6 s for the
  first request (which builds it).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    from territorio.accessibility import AccessContext
    from territorio.bundle import Bundle, default_plan_dir
    from territorio.planning.effect import baseline_of
    from territorio.planning.mountain_report import effect_report, winter_report
    from territorio.planning.run import access_config_of, load_plan_config
    from territorio.planning.winter import run_winter

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("bundle", nargs="?", type=Path, default=ROOT / "data" / "torino")
    ap.add_argument("--config", type=Path, default=ROOT / "configs" / "plan-torino.toml")
    ap.add_argument("--json", type=Path, help="write the figures to this JSON file")
    args = ap.parse_args()
    if not (args.bundle / "manifest.json").is_file():
        sys.exit(f"no bundle at {args.bundle}: run territorio build and territorio access first")
    bundle = Bundle(args.bundle)
    cfg = load_plan_config(args.config)
    out = default_plan_dir(bundle.path) / "bench"
    figures: dict[str, Any] = {"effect": effect_report(bundle, cfg, out_dir=out, stream=sys.stdout)}
    print()
    t0 = time.perf_counter()
    ctx = AccessContext.from_bundle(bundle, access_config_of(bundle))
    base = baseline_of(bundle, cfg, ctx)
    t_setup = time.perf_counter() - t0
    summary = winter_report(bundle, cfg, out_dir=out, stream=sys.stdout, ctx=ctx)
    edges, nodes = bundle.layer("road_edges"), bundle.layer("road_nodes")
    runs = []
    for _ in range(3):
        t = time.perf_counter()
        run_winter(ctx, base, edges, nodes, cfg, cfg.winter_scenario())
        runs.append(time.perf_counter() - t)
    print(
        f"\nwinter preset alone: {', '.join(f'{r:.2f}' for r in runs)} s "
        f"(median {statistics.median(runs):.2f} s); context + baseline {t_setup:.2f} s"
    )
    figures["winter"] = summary
    figures["winter_seconds"] = {"runs": runs, "setup": t_setup}
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
