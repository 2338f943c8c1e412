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
    from territorio.bundle import Bundle
    from territorio.planning.effect import baseline_of
    from territorio.planning.mountain_report import effect_report, winter_report
    from territorio.planning.run import access_config_of, default_plan_dir, load_plan_config
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
