"""Benchmark of the accessibility engine on the real data of the whole province.

Run with ``.venv/bin/python bench/accessibility.py``. Reads the bundle in
``data/torino`` when it is complete; otherwise builds one into a temporary
folder from ``configs/torino-local.toml`` (the real files in ../shared/data).
Nothing is written to the bundle: the tables are computed in memory.

Prints, side by side:

(a) our full computation: context (network, snapping) + nearest times and all
    indicators for every category and every population cell;
(b) the floor: the bare multi-source Dijkstra per category (scipy, reversed
    graph, ``min_only=True``), nothing else;
(b2) the bare cost (scipy) of ALL the searches the indicators need: the
    category searches of (b), the 30-minute searches from the covered
    reference points (``opportunities_*``) and the 30-minute catchment searches
    from the capacity facilities (2SFCA), i.e. the algorithmic floor of (a);
(c) pandana: contraction-hierarchy build + ``set_pois`` / ``nearest_pois``
    for the same categories;
(d) the usual networkx way: one single-source Dijkstra per origin (cell),
    timed on a sample and extrapolated to every covered cell;

plus peak memory and the 30-minute isochrones from Piazza Castello and from a
valley comune (Ceresole Reale).
"""

from __future__ import annotations

import os
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from territorio.accessibility.compute import compute_tables  # noqa: E402
from territorio.accessibility.context import AccessContext  # noqa: E402
from territorio.accessibility.isochrones import isochrones  # noqa: E402
from territorio.bundle import Bundle  # noqa: E402
from territorio.config import AccessConfig, load_config  # noqa: E402

NEEDED = ("road_nodes", "road_edges", "municipalities", "population_cells", "services")


def load_bundle() -> Bundle:
    path = ROOT / "data" / "torino"
    try:
        b = Bundle(path)
        if all(b.has_layer(n) for n in NEEDED):
            print(f"bundle: {path}")
            return b
    except Exception as exc:  # fall back to a fresh build
        print(f"bundle {path} not usable ({exc}); building one from ../shared/data")
    from territorio.build import build_bundle

    cfg = load_config(ROOT / "configs" / "torino-local.toml")
    tmp = tempfile.mkdtemp(prefix="territorio-bench-")
    cfg = cfg.model_copy(update={"output_dir": tmp, "cache_dir": f"{tmp}/cache"})
    b = build_bundle(cfg)
    print(f"bundle: built into {b.path}")
    return b


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def best(fn, repeat: int = 3) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main() -> None:
    from scipy.sparse.csgraph import dijkstra

    print(f"load average: {os.getloadavg()}, cores: {os.cpu_count()}")
    from territorio.accessibility._dijkstra import warm_up

    t_jit = warm_up()  # numba import + kernel load (compile on the very first run)
    bundle = load_bundle()
    cfg = AccessConfig()
    services = bundle.layer("services")
    for name in NEEDED:
        bundle.layer(name)  # read once: I/O is not part of the engine's time

    # ---------------------------------------------------------------- (a)
    # cold runs: a fresh context each time (nothing cached between runs)
    def full():
        t0 = time.perf_counter()
        c = AccessContext.from_bundle(bundle, cfg)
        t1 = time.perf_counter()
        out = compute_tables(c, services, progress=False)
        return c, out, t1 - t0, time.perf_counter() - t1

    runs = [full() for _ in range(2)]
    ctx, out, t_ctx, t_tab = min(runs, key=lambda r: r[2] + r[3])
    cells, munis, timings = out
    t_a = t_ctx + t_tab
    # the parts shared by all categories, measured alone on a fresh context
    fresh = AccessContext.from_bundle(bundle, cfg)
    t0 = time.perf_counter()
    fresh.ref_times_by_node(1800.0)
    t_refs = time.perf_counter() - t0
    # the same without 2SFCA (sfca_categories = []), ref times already cached
    ctx_no = AccessContext(
        fresh.network,
        cfg.model_copy(update={"sfca_categories": []}),
        fresh.cells,
        fresh.municipalities,
        fresh.service_categories,
        fresh._cache,
    )
    t_nosfca, _ = best(lambda: compute_tables(ctx_no, services, progress=False), repeat=2)
    n_cells = len(ctx.cells)
    covered = int(ctx.cells["covered"].sum())
    cats = [c for c, g in services.groupby("category") if len(g)]
    print(
        f"\nnetwork: {ctx.network.n_nodes:,} nodes, {ctx.network.graph.nnz:,} arcs; "
        f"cells: {n_cells:,} ({covered:,} inside coverage); categories with services: "
        f"{len(cats)}; services: {len(services):,}"
    )
    print("per-category time (s):", {k: v for k, v in timings.items() if v > 0.001})
    rss_a = rss_mb()

    # ---------------------------------------------------------------- (b)
    fac_nodes = {}
    for cat in cats:
        g = services[services.category == cat]
        s = ctx.snap(g.geometry.x.to_numpy(), g.geometry.y.to_numpy())
        fac_nodes[cat] = np.unique(s.node[s.covered])

    def floor() -> None:
        for nodes in fac_nodes.values():
            dijkstra(ctx.network.reverse, indices=nodes, min_only=True, return_predecessors=True)

    t_b, _ = best(floor, repeat=3)

    # ---------------------------------------------------------------- (b2)
    m = ctx.municipalities[ctx.municipalities["covered"]]
    ref_nodes = m["node"].to_numpy()
    cap_nodes = []
    for cat in cats:
        g = services[services.category == cat]
        if g["capacity"].notna().any():
            s = ctx.snap(g.geometry.x.to_numpy(), g.geometry.y.to_numpy())
            cap_nodes.append(s.node[s.covered])
    cap = np.concatenate(cap_nodes) if cap_nodes else np.zeros(0, dtype=np.int64)

    def floor_all() -> None:
        floor()
        dijkstra(ctx.network.graph, indices=ref_nodes, limit=1800.0)
        if len(cap):
            dijkstra(ctx.network.reverse, indices=cap, limit=cfg.catchment_min * 60.0)

    t_b2, _ = best(floor_all, repeat=2)

    # ---------------------------------------------------------------- (c)
    t_c_build = t_c_query = float("nan")
    agree = "n/a"
    try:
        import pandana

        net = ctx.network
        g = net.graph.tocoo()

        def build():
            import pandas as pd

            return pandana.Network(
                pd.Series(net.x, index=np.arange(net.n_nodes)),
                pd.Series(net.y, index=np.arange(net.n_nodes)),
                pd.Series(g.row),
                pd.Series(g.col),
                pd.DataFrame({"t": g.data}),
                twoway=False,
            )

        t0 = time.perf_counter()
        pnet = build()
        t_c_build = time.perf_counter() - t0
        t0 = time.perf_counter()
        res = {}
        for cat, nodes in fac_nodes.items():
            pnet.set_pois(cat, maxdist=7200, maxitems=1, x_col=net.x[nodes], y_col=net.y[nodes])
            res[cat] = pnet.nearest_pois(7200, cat, num_pois=1)
        t_c_query = time.perf_counter() - t0
        # agreement on the first category with facilities (to the node, in seconds)
        cat = cats[0]
        ours_fwd = dijkstra(net.graph, indices=fac_nodes[cat], min_only=True)
        ours_rev = dijkstra(net.reverse, indices=fac_nodes[cat], min_only=True)
        theirs = res[cat][1].to_numpy()
        ok = theirs < 7200
        # pandana keeps impedances in float32: over a path of hundreds of edges its
        # sums drift by up to about 1e-4 of the time (0.06 s at 12 minutes on the
        # province), so "equal" allows that; an absolute 0.01 s read as 71-86%
        # disagreement, all of it rounding
        same_to = np.mean(np.isclose(theirs[ok], ours_rev[ok], rtol=1e-4, atol=0.01))
        same_from = np.mean(np.isclose(theirs[ok], ours_fwd[ok], rtol=1e-4, atol=0.01))
        worst = float(np.max(np.abs(theirs[ok] - ours_rev[ok]))) if ok.any() else float("nan")
        agree = (
            f"{cat}: pandana == ours (to the facility, float32 tolerance) on {same_to:.1%} "
            f"of nodes (largest difference {worst:.3f} s); == times from the facility on "
            f"{same_from:.1%} (one-way streets)"
        )
    except ImportError:
        print("pandana not installed: (c) skipped (pip install pandana)")
    t_c = t_c_build + t_c_query

    # ---------------------------------------------------------------- (d)
    import networkx as nx

    net = ctx.network
    g = net.graph.tocoo()
    nxg = nx.DiGraph()
    nxg.add_weighted_edges_from(zip(g.row.tolist(), g.col.tolist(), g.data.tolist(), strict=True))
    all_fac = {c: set(n.tolist()) for c, n in fac_nodes.items()}
    rng = np.random.default_rng(0)
    origins = ctx.cells["node"].to_numpy()[ctx.cells["covered"].to_numpy()]
    sample = rng.choice(origins, 20, replace=False)
    t0 = time.perf_counter()
    for o in sample:
        dist = nx.single_source_dijkstra_path_length(nxg, int(o), weight="weight")
        for fac in all_fac.values():
            min((dist.get(f, np.inf) for f in fac), default=np.inf)
    per_origin = (time.perf_counter() - t0) / len(sample)
    t_d = per_origin * len(origins)

    # --------------------------------------------------------- isochrone
    pc = [(7.6854, 45.0712)]
    isochrones(ctx, pc, [30])  # first call prepares and caches the edge samples
    iso = []
    for _ in range(15):
        t0 = time.perf_counter()
        isochrones(ctx, pc, [30])
        iso.append(time.perf_counter() - t0)
    # a valley comune: Ceresole Reale, at the head of the Valle Orco
    valley = [(7.2350, 45.4330)]
    isochrones(ctx, valley, [30])
    iso_v = []
    for _ in range(15):
        t0 = time.perf_counter()
        isochrones(ctx, valley, [30])
        iso_v.append(time.perf_counter() - t0)
    iso3 = []
    for _ in range(5):
        t0 = time.perf_counter()
        isochrones(ctx, pc, [10, 20, 30])
        iso3.append(time.perf_counter() - t0)

    # ------------------------------------------------------- what-if
    ph = services[services.category == "pharmacy"]
    from territorio.accessibility.indicators import category_indicators

    t_w, _ = best(lambda: category_indicators(ctx, ph.iloc[1:], "pharmacy"), repeat=3)

    # ---------------------------------------------------------- memory
    tracemalloc.start()
    compute_tables(ctx, services, progress=False)
    _, peak_a = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    print("\n=== accessibility benchmark (seconds, best of runs) ===")
    print(f"(a) ours, full: {t_a:8.3f}  (context {t_ctx:.3f} + all categories {t_tab:.3f})")
    print(
        f"    of which searches from the {len(fresh.ref_times_by_node(1800.0)[0])} covered "
        f"reference points (opportunities_15/30, shared): {t_refs:.3f}"
    )
    print(f"(b) floor, bare multi-source Dijkstra (scipy, {len(cats)} categories): {t_b:8.3f}")
    print(
        f"(b2) all searches the indicators need, bare scipy ({len(cats)} categories + "
        f"{len(ref_nodes)} reference points + {len(cap)} catchments): {t_b2:8.3f}"
    )
    print(f"    one-off per process, not in (a): numba import + kernel load {t_jit:.3f}")
    print(f"(c) pandana: {t_c:8.3f}  (CH build {t_c_build:.3f} + POI queries {t_c_query:.3f})")
    print(
        f"(d) networkx, one search per origin: {t_d:8.1f}  (extrapolated: "
        f"{per_origin * 1000:.0f} ms/origin x {len(origins):,} covered cells)"
    )
    print(
        f"    of which 2SFCA/E2SFCA (capacity categories: "
        f"{[c for c in cats if services[services.category == c].capacity.notna().any()]}): "
        f"{t_tab - t_refs - t_nosfca:.3f}; per-category nearest times + indicators: "
        f"{t_nosfca:.3f}"
    )
    print(
        f"ratio a/b = {t_a / t_b:.1f}   a/b2 = {t_a / t_b2:.2f}   "
        f"(nearest times + indicators alone: {t_nosfca / t_b:.1f})"
    )
    if t_a / t_b > 3:
        print(
            "    a/b > 3: opportunities_15/30 and 2SFCA need one bounded search per reference "
            "point and per facility, which (b) does not count; (b2) is the floor of those."
        )
    print(f"ratio c/a = {t_c / t_a:.1f}   ratio d/a = {t_d / t_a:.0f}")
    print(f"pandana agreement: {agree}")
    print(
        f"isochrone 30 min Piazza Castello: min {min(iso) * 1000:.0f} ms, "
        f"median {statistics.median(iso) * 1000:.0f} ms; 10/20/30 nested: "
        f"min {min(iso3) * 1000:.0f} ms"
    )
    print(
        f"isochrone 30 min Ceresole Reale (valley): min {min(iso_v) * 1000:.0f} ms, "
        f"median {statistics.median(iso_v) * 1000:.0f} ms"
    )
    print(f"what-if (one pharmacy closes, category recomputed): {t_w * 1000:.0f} ms")
    print(
        f"peak memory: (a) traced allocations {peak_a / 2**20:.0f} MiB; process max RSS "
        f"after (a) {rss_a:.0f} MiB, at the end (with pandana, networkx) {rss_mb():.0f} MiB"
    )
    print(f"rows: access_cells {len(cells):,}, access_municipalities {len(munis):,}")
    print(f"load average at the end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
