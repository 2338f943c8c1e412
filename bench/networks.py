"""Compare two road networks on the same origin-destination pairs: tiles vs OSRM.

The vector-tile network (``configs/torino-local.toml``, class-based speeds,
no maxspeed) is compared with the OSRM-derived graph of Turin and its belts
(``configs/torino-osrm.toml``, OSRM car-profile times, which read maxspeed,
surfaces and turn costs) inside the OSRM graph's box. Random points are
snapped to both networks (within 150 m of each), car times are computed
between every origin and destination with the same Dijkstra, and the ratio
tiles / OSRM is summarised: median, p10 and p90, overall and by the road class
that carries most of the tile route's length.

The speed realism factor of the tile source is set from the overall median:
the factor that would make it 1 is printed. Nothing is fitted to SNAI.

Usage::

    python bench/networks.py [--tiles data/torino] [--osrm data/torino-osrm] [--points 150]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.sparse.csgraph import dijkstra

from territorio.accessibility.network import network_from_bundle
from territorio.bundle import Bundle

BOX = (7.43, 44.94, 7.93, 45.21)  # the OSRM graph's extent (shared/data/README.md)
GROUPS = {
    "motorway/trunk": ("motorway", "trunk"),
    "primary/secondary": ("primary", "secondary"),
    "tertiary": ("tertiary",),
    "local (minor/residential/unclassified/service)": (
        "minor",
        "residential",
        "unclassified",
        "living_street",
        "road",
        "service",
    ),
}


def _group_of(highway: pd.Series) -> np.ndarray:
    base = highway.str.replace("_link", "", regex=False)
    out = np.full(len(base), -1, dtype=np.int64)
    for g, classes in enumerate(GROUPS.values()):
        out[base.isin(classes).to_numpy()] = g
    return out


def _arc_lookup(net, edges: pd.DataFrame) -> dict[tuple[int, int], tuple[int, float]]:
    """(src, dst) -> (class group, length m) of the fastest arc between them."""
    grp = _group_of(edges["highway"].astype(str))
    length = edges["length_m"].to_numpy(float)
    df = pd.DataFrame(
        {
            "s": net.arc_src,
            "d": net.arc_dst,
            "t": net.arc_time,
            "g": grp[net.arc_edge],
            "l": length[net.arc_edge],
        }
    )
    best = df.loc[df.groupby(["s", "d"])["t"].idxmin()]
    key = best["s"].to_numpy(np.int64) * net.n_nodes + best["d"].to_numpy(np.int64)
    return dict(
        zip(key.tolist(), zip(best["g"].tolist(), best["l"].tolist(), strict=True), strict=True)
    )


def _route_class_lengths(net, pred: np.ndarray, arcs: dict, n_groups: int) -> np.ndarray:
    """Length (m) per class group along the tree path from the origin to every node."""
    n = len(pred)
    w = np.zeros((n_groups, n))
    has = np.flatnonzero(pred >= 0)
    keys = (pred[has].astype(np.int64) * net.n_nodes + has).tolist()
    for j, k in zip(has.tolist(), keys, strict=True):
        g, length = arcs.get(k, (-1, 0.0))
        if g >= 0:
            w[g, j] = length
    # pointer doubling: acc[j] += acc[P[j]], P[j] = P[P[j]] until every P is the
    # sentinel n (acc[n] = 0): then acc[j] is the sum over the whole path to j
    ptr = np.r_[np.where(pred >= 0, pred, n), n]
    acc = np.concatenate([w, np.zeros((n_groups, 1))], axis=1)
    for _ in range(64):
        if np.all(ptr == n):
            break
        acc = acc + acc[:, ptr]
        ptr = ptr[ptr]
    return acc[:, :n]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tiles", default="data/torino")
    ap.add_argument("--osrm", default="data/torino-osrm")
    ap.add_argument("--points", type=int, default=150, help="origins = destinations")
    ap.add_argument("--min-minutes", type=float, default=5.0)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    t0 = time.perf_counter()
    tb, ob = Bundle(Path(args.tiles)), Bundle(Path(args.osrm))
    tnet = network_from_bundle(tb)
    onet = network_from_bundle(ob)
    factor = json.loads((Path(args.tiles) / "manifest.json").read_text())["config"]["roads"].get(
        "speed_factor", 0.8
    )
    rng = np.random.default_rng(args.seed)
    lon = rng.uniform(BOX[0] + 0.02, BOX[2] - 0.02, 20 * args.points)
    lat = rng.uniform(BOX[1] + 0.02, BOX[3] - 0.02, 20 * args.points)
    st = tnet.snap(lon, lat, max_snap_m=150)
    so = onet.snap(lon, lat, max_snap_m=150)
    ok = np.flatnonzero(st.covered & so.covered)[: 2 * args.points]
    orig, dest = ok[: args.points], ok[args.points :]
    print(f"{len(orig)} origins x {len(dest)} destinations inside {BOX}")
    tt = dijkstra(tnet.graph, indices=st.node[orig], return_predecessors=True)
    to = dijkstra(onet.graph, indices=so.node[orig], min_only=False)
    t_tile = tt[0][:, st.node[dest]] + st.offset_s[orig][:, None] + st.offset_s[dest][None, :]
    t_osrm = to[:, so.node[dest]] + so.offset_s[orig][:, None] + so.offset_s[dest][None, :]
    arcs = _arc_lookup(tnet, tb.layer("road_edges"))
    share = np.stack(
        [
            _route_class_lengths(tnet, tt[1][i], arcs, len(GROUPS))[:, st.node[dest]]
            for i in range(len(orig))
        ],
        axis=1,
    )  # groups x origins x destinations
    dominant = share.argmax(axis=0)
    valid = np.isfinite(t_tile) & np.isfinite(t_osrm) & (t_osrm >= args.min_minutes * 60)
    ratio = (t_tile / t_osrm)[valid]
    dom = dominant[valid]

    def line(name: str, r: np.ndarray) -> str:
        if len(r) == 0:
            return f"  {name:<48} no pairs"
        p10, p50, p90 = np.percentile(r, [10, 50, 90])
        return f"  {name:<48} {len(r):>6}  {p50:6.3f}  {p10:6.3f}  {p90:6.3f}"

    print(f"pairs with OSRM time >= {args.min_minutes:g} min: {valid.sum()}")
    print(f"tile speed factor in the bundle: {factor}")
    print(f"  {'time ratio tiles / OSRM':<48} {'pairs':>6}  {'median':>6}  {'p10':>6}  {'p90':>6}")
    print(line("all", ratio))
    for g, name in enumerate(GROUPS):
        print(line(f"route mostly on {name}", ratio[dom == g]))
    med = float(np.median(ratio))
    print(f"speed factor giving median ratio 1: {factor * med:.3f}")
    print(
        f"median minutes: tiles {np.median(t_tile[valid]) / 60:.1f}, "
        f"OSRM {np.median(t_osrm[valid]) / 60:.1f}; {time.perf_counter() - t0:.1f} s"
    )


if __name__ == "__main__":
    main()
