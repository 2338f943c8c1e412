"""The whole province on the vector-tile roads (configs/torino-local.toml: `make run`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
from scipy.sparse.csgraph import dijkstra

from territorio.accessibility.network import network_from_bundle
from territorio.bundle import Bundle

# Town centres (main square or town hall, read off OpenStreetMap) and the
# routes the issue names. Expected lengths: the roads' known lengths along the
# route (A32 Torino-Susa about 50 km from the Tangenziale; Susa-Bardonecchia
# 36 km by A32/SS24; SR23 Pinerolo-Sestriere 55 km; Torino-Ceresole 85-95 km
# by the A5/SP460/Valle Orco; Ivrea-Locana about 40 km; SP1 Lanzo-Balme
# 29 km); minutes are class-default car times, so only a plausible range.
CENTRES = {
    "Torino": (7.6858, 45.0713),
    "Susa": (7.0507, 45.1376),
    "Bardonecchia": (6.7090, 45.0780),
    "Pinerolo": (7.3440, 44.8850),
    "Sestriere": (6.8794, 44.9581),
    "Ceresole Reale": (7.2350, 45.4330),
    "Ivrea": (7.8760, 45.4670),
    "Locana": (7.4590, 45.4160),
    "Lanzo Torinese": (7.4780, 45.2740),
    "Balme": (7.2190, 45.3020),
}
ROUTES = [  # from, to, km range, minutes range
    ("Torino", "Susa", (50, 62), (40, 65)),
    ("Susa", "Bardonecchia", (32, 40), (22, 40)),
    ("Pinerolo", "Sestriere", (50, 60), (50, 80)),
    ("Torino", "Ceresole Reale", (80, 100), (75, 120)),
    ("Ivrea", "Locana", (38, 48), (40, 70)),
    ("Lanzo Torinese", "Balme", (26, 32), (25, 50)),
]


@pytest.fixture(scope="module")
def province(province_bundle: Bundle) -> Bundle:
    return province_bundle


def test_network_covers_the_province(province: Bundle) -> None:
    m = province.layer("municipalities")
    assert len(m) == 312
    counts = m["network_coverage"].value_counts().to_dict()
    print("coverage", counts)
    assert counts.get("none", 0) == 0
    assert province.manifest.get("coverage") is not None
    cells = province.layer("population_cells")
    share = cells.loc[cells["in_network_coverage"], "pop_total"].sum() / cells["pop_total"].sum()
    assert share >= 0.97
    prov = province.manifest["sources"]["roads"]
    assert prov["source"] == "vector_tiles" and prov["data_date"] == "2021-08-05"


def test_named_towns_are_connected(province: Bundle) -> None:
    net = network_from_bundle(province)
    edges = province.layer("road_edges")
    names = list(CENTRES)
    lon, lat = np.array([CENTRES[n] for n in names]).T
    snapped = net.snap(lon, lat, max_snap_m=300)
    assert snapped.covered.all(), dict(zip(names, snapped.dist_m, strict=True))
    arc = pd.DataFrame(
        {
            "k": net.arc_src.astype(np.int64) * net.n_nodes + net.arc_dst,
            "t": net.arc_time,
            "l": edges["length_m"].to_numpy()[net.arc_edge],
        }
    ).sort_values("t")
    arc = arc.drop_duplicates("k").set_index("k")["l"]
    for a, b, (km0, km1), (min0, min1) in ROUTES:
        i, j = snapped.node[names.index(a)], snapped.node[names.index(b)]
        dist, pred = dijkstra(net.graph, indices=i, return_predecessors=True)
        path, n = [], j
        while pred[n] >= 0:
            path.append(int(pred[n]) * net.n_nodes + int(n))
            n = pred[n]
        km = arc.loc[path].sum() / 1000
        minutes = dist[j] / 60
        print(f"{a} - {b}: {km:.1f} km, {minutes:.0f} min")
        assert km0 <= km <= km1, (a, b, km)
        assert min0 <= minutes <= min1, (a, b, minutes)


def test_bridges_make_no_junction(province: Bundle) -> None:
    e = province.layer("road_edges")
    bridge = e[e["brunnel"] == "bridge"]
    ground = e[e["brunnel"] == ""]
    tree = shapely.STRtree(ground.geometry.to_numpy())
    _, gi = tree.query(bridge.geometry.to_numpy(), predicate="crosses")
    # bridges cross over 1,000 roads in their interior (no junction splits them there)
    assert len(gi) > 1000
    # and no junction has a bridge passing straight through it over a ground road:
    # two bridge edges and two ground edges of the same roads meeting at one node
    ends = pd.concat(
        [
            e[["u", "brunnel", "ref", "name"]].rename(columns={"u": "n"}),
            e[["v", "brunnel", "ref", "name"]].rename(columns={"v": "n"}),
        ]
    )
    per = ends.groupby("n")["brunnel"].agg(
        bridges=lambda s: int((s == "bridge").sum()), ground=lambda s: int((s == "").sum())
    )
    crossing = per[(per["bridges"] == 2) & (per["ground"] == 2)]
    names = ends[ends["n"].isin(crossing.index)].groupby(["n", "brunnel"])["name"].nunique()
    # a real junction at a bridge's end joins the same road on and off it; a false
    # one would join two bridge halves of one road and two ground halves of another
    suspects = [
        n
        for n in crossing.index
        if names.get((n, "bridge"), 0) == 1 and names.get((n, ""), 0) == 1
        and set(ends.loc[(ends["n"] == n) & (ends["brunnel"] == "bridge"), "name"])
        != set(ends.loc[(ends["n"] == n) & (ends["brunnel"] == ""), "name"])
    ]  # fmt: skip
    print("bridge/ground 2+2 nodes", len(crossing), "suspects", len(suspects))
    assert len(suspects) <= 0.01 * len(crossing) + 2


def test_underserved_clusters_are_valleys(province: Bundle) -> None:
    from territorio.bundle import default_plan_dir

    plan = default_plan_dir(province.path)
    members = pd.read_parquet(plan / "municipalities.parquet").set_index("pro_com_t")
    cluster = members["cluster_id"]
    balme, ala, groscavallo = "001019", "001003", "001118"
    ceresole, noasca, locana = "001073", "001165", "001134"
    usseglio = "001282"
    # the Valli di Lanzo leave by their mouth at Germagnano / Lanzo; Valle Orco by Cuorgnè
    assert cluster[balme] == cluster[ala] == cluster[groscavallo] is not None
    assert members.loc[balme, "gateway"] in {"001113", "001128"}  # Germagnano, Lanzo
    assert cluster[ceresole] == cluster[noasca] == cluster[locana] is not None
    # Balme borders Ceresole Reale and Usseglio across the ridges: other valleys
    assert cluster[balme] != cluster[ceresole]
    assert cluster[balme] != cluster[usseglio]
    clusters = pd.read_csv(plan / "clusters.csv", dtype=str)
    assert clusters["gateway_name"].notna().all()
