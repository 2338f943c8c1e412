"""Underserved valleys: contiguous clusters of flagged municipalities.

A municipality is *flagged* when it is inside network coverage and its
marginality score is at least the threshold, or its SNAI class is one of
``flag_classes`` (E, F by default). Flagged municipalities sharing a boundary
are grouped into clusters: the connected components of the adjacency graph
restricted to them (``scipy.sparse.csgraph.connected_components``).

Clusters are numbered ``C01``, ``C02``, ... by decreasing *need*: the sum over
members of ``residents * score / 100``, so a large valley of fairly marginal
places ranks above a single tiny village. Each cluster gets a readable name
from its most populous members, its residents, residents aged 65+, area,
and the services most lacking (most residents beyond 30 minutes, or the
longest population-weighted time when that is not available).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp

from territorio.planning._graph import adjacency, components_of
from territorio.planning.marginality import category_label

__all__ = ["cluster_name", "find_clusters"]

OUTSIDE = "outside_coverage"


def cluster_name(
    names: Sequence[str], pops: Sequence[float], *, lang: str = "it", show: int = 3
) -> str:
    """Return a readable name made of the most populous members.

    ``["Ceres", "Ala di Stura", "Lanzo", "Balme"]`` with ``show = 3`` gives
    ``"Lanzo, Ceres, Ala di Stura e altri 1 comuni"`` in Italian
    (``"... and 1 more municipality"`` in English), members ordered by residents.
    """
    order = np.argsort(-np.asarray(pops, dtype=float), kind="stable")
    top = [str(names[i]) for i in order[:show]]
    rest = len(names) - len(top)
    text = ", ".join(top)
    if rest <= 0:
        return text
    if lang == "it":
        return f"{text} e {'un altro comune' if rest == 1 else f'altri {rest} comuni'}"
    return f"{text} and {rest} more municipalit{'y' if rest == 1 else 'ies'}"


def find_clusters(
    municipalities: gpd.GeoDataFrame,
    index: pd.DataFrame,
    snai: pd.DataFrame | None = None,
    *,
    threshold: float,
    flag_classes: Sequence[str] = ("E", "F"),
    access_municipalities: pd.DataFrame | None = None,
    categories: Sequence[str] = (),
    beyond_min: int = 30,
    adj: sp.csr_matrix | None = None,
    gateway: Callable[[np.ndarray], np.ndarray] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Flag municipalities and group them into contiguous clusters.

    Parameters
    ----------
    municipalities
        Municipalities layer (``pro_com_t``, ``name``, ``pop_total``,
        ``pop_65_plus``, ``area_km2``, geometry).
    index
        Output of :func:`~territorio.planning.marginality.marginality_index`.
    snai
        Output of :func:`~territorio.planning.snai.snai_table`, or None.
    threshold
        Score at or above which a municipality is flagged.
    flag_classes
        SNAI classes flagged whatever the score.
    access_municipalities
        Long accessibility table, for "residents beyond ``beyond_min`` minutes".
    categories
        Service categories considered for "most lacking".
    beyond_min
        Minutes for the "residents beyond" figures (15, 30, 45 or 60).
    adj
        Precomputed adjacency (same row order as ``municipalities``).
    gateway
        Maps the flagged mask to each comune's valley gateway code
        (:func:`territorio.planning.valleys.gateways`); flagged neighbours join
        one cluster only when they share it. None: a shared boundary is enough.

    Returns
    -------
    members, clusters
        ``members``: one row per municipality with ``flagged`` (bool),
        ``flag_reason`` and ``cluster_id`` (None when not in a cluster).
        ``clusters``: one row per cluster, worst first: ``cluster_id``,
        ``name_it``, ``name_en``, ``n_members``, ``members`` (names),
        ``member_codes``, ``pop_total``, ``pop_65_plus``, ``area_km2``,
        ``mean_score`` (resident-weighted), ``need``, ``lacking`` (category
        codes, most lacking first), ``lacking_text_it``, ``lacking_text_en``.
    """
    m = municipalities.reset_index(drop=True).copy()
    m["pro_com_t"] = m["pro_com_t"].astype(str)
    idx = index.set_index(index["pro_com_t"].astype(str)).reindex(m["pro_com_t"])
    score = idx["score"].to_numpy(dtype=float)
    covered = (idx["status"] == "ok").to_numpy()
    by_score = covered & (np.nan_to_num(score, nan=-1.0) >= threshold)
    if snai is not None:
        cls = snai.set_index(snai["pro_com_t"].astype(str))["snai_class"].reindex(m["pro_com_t"])
        by_class = cls.isin(list(flag_classes)).to_numpy()
    else:
        cls = pd.Series(None, index=m["pro_com_t"], dtype=object)
        by_class = np.zeros(len(m), dtype=bool)
    flagged = by_score | by_class
    if adj is None:
        adj = adjacency(m)
    gate = np.full(len(m), None, dtype=object)
    if gateway is not None:
        from territorio.planning.valleys import gateway_links

        gate = gateway(flagged)
        adj = gateway_links(adj, gate)
    labels = components_of(adj, flagged)

    pop = pd.to_numeric(m.get("pop_total", 0), errors="coerce").fillna(0).to_numpy(float)
    pop65 = pd.to_numeric(m.get("pop_65_plus", 0), errors="coerce").fillna(0).to_numpy(float)
    area = pd.to_numeric(m.get("area_km2", np.nan), errors="coerce").to_numpy(float)
    need = pop * np.nan_to_num(score, nan=0.0) / 100.0

    reason = np.where(
        by_score & by_class,
        "score and class",
        np.where(by_score, "score", np.where(by_class, "class", "")),
    )
    members = pd.DataFrame(
        {
            "pro_com_t": m["pro_com_t"],
            "name": m["name"],
            "flagged": flagged,
            "flag_reason": reason,
            "score": score,
            "snai_class": cls.to_numpy(),
            "gateway": gate,
        }
    )
    name_of = dict(zip(m["pro_com_t"], m["name"].astype(str), strict=True))

    beyond = None
    if access_municipalities is not None and len(categories):
        col = f"pop_beyond_{beyond_min}"
        col65 = f"pop65_beyond_{beyond_min}"
        if {col, col65} <= set(access_municipalities.columns):
            am = access_municipalities[access_municipalities["category"].isin(list(categories))]
            am = am[am["status"].isin(["ok", "partial"])]
            beyond = am.assign(pro_com_t=am["pro_com_t"].astype(str))
    rows = []
    n_lab = int(labels.max()) + 1 if len(labels) else 0
    for lab in range(n_lab):
        sel = labels == lab
        codes = m.loc[sel, "pro_com_t"].tolist()
        names = m.loc[sel, "name"].astype(str).tolist()
        psum = float(pop[sel].sum())
        sc = score[sel]
        ok = np.isfinite(sc)
        wsum = pop[sel][ok].sum()
        mean_score = float((sc[ok] * pop[sel][ok]).sum() / wsum) if wsum > 0 else float("nan")
        lacking, text_it, text_en = _lacking(
            codes, idx, beyond, categories, beyond_min, pop[sel], pop65[sel]
        )
        order = np.argsort(-pop[sel], kind="stable")
        rows.append(
            {
                "_label": lab,
                "name_it": cluster_name(names, pop[sel], lang="it"),
                "name_en": cluster_name(names, pop[sel], lang="en"),
                "n_members": len(codes),
                "members": ", ".join(names[i] for i in order),
                "member_codes": ",".join(codes[i] for i in order),
                "pop_total": psum,
                "pop_65_plus": float(pop65[sel].sum()),
                "area_km2": float(np.nansum(area[sel])),
                "mean_score": round(mean_score, 2),
                "need": round(float(need[sel].sum()), 1),
                "lacking": ",".join(lacking),
                "lacking_text_it": text_it,
                "lacking_text_en": text_en,
                "gateway": _common(gate[sel]),
                "gateway_name": name_of.get(str(_common(gate[sel])), ""),
            }
        )
    clusters = pd.DataFrame(
        rows,
        columns=[
            "_label",
            "name_it",
            "name_en",
            "n_members",
            "members",
            "member_codes",
            "pop_total",
            "pop_65_plus",
            "area_km2",
            "mean_score",
            "need",
            "lacking",
            "lacking_text_it",
            "lacking_text_en",
            "gateway",
            "gateway_name",
        ],
    )
    clusters = clusters.sort_values(["need", "pop_total"], ascending=False, kind="stable")
    ids = {int(lab): f"C{i + 1:02d}" for i, lab in enumerate(clusters["_label"])}
    clusters.insert(0, "cluster_id", [ids[int(lab)] for lab in clusters["_label"]])
    clusters = clusters.drop(columns="_label").reset_index(drop=True)
    members["cluster_id"] = [ids.get(int(lab)) if lab >= 0 else None for lab in labels]
    return members, clusters


def _it_int(n: int) -> str:
    """Format an integer with the Italian thousands separator (1.240)."""
    return f"{n:,}".replace(",", ".")


def _lacking(
    codes: list[str],
    idx: pd.DataFrame,
    beyond: pd.DataFrame | None,
    categories: Sequence[str],
    beyond_min: int,
    pops: np.ndarray,
    pops65: np.ndarray | None = None,
) -> tuple[list[str], str, str]:
    """Categories most lacking in a cluster, with a sentence in Italian and English.

    Residents beyond the threshold are each comune's ISTAT residents (and 65+)
    times the share of its grid residents beyond it, so the figures add up to
    the cluster's residents (the census grid of 2021 counts a few more or
    fewer people than ISTAT's 2023 register).
    """
    if beyond is not None:
        b = beyond[beyond["pro_com_t"].isin(codes)].copy()
        pop_of = pd.Series(pops, index=codes)
        pop65_of = pd.Series(pops if pops65 is None else pops65, index=codes)
        col, col65 = f"pop_beyond_{beyond_min}", f"pop65_beyond_{beyond_min}"
        share, share65 = f"share_beyond_{beyond_min}", f"share65_beyond_{beyond_min}"
        if {share, share65} <= set(b.columns):
            b[col] = b[share].fillna(0) * b["pro_com_t"].map(pop_of)
            b[col65] = b[share65].fillna(0) * b["pro_com_t"].map(pop65_of)
        g = b.groupby("category")[[col, col65]].sum()
        g = g[g.iloc[:, 0] > 0].sort_values(g.columns[0], ascending=False).head(3)
        cats = [str(c) for c in g.index]
        n_all = [round(float(v)) for v in g.iloc[:, 0]]
        n_old = [round(float(v)) for v in g.iloc[:, 1]]
        it = "; ".join(
            f"{category_label(c, 'it')}: {_it_int(a)} residenti ({_it_int(o)} con 65+ anni) "
            f"a più di {beyond_min} min"
            for c, a, o in zip(cats, n_all, n_old, strict=True)
        )
        en = "; ".join(
            f"{category_label(c, 'en')}: {a:,} residents ({o:,} aged 65+) "
            f"more than {beyond_min} min away"
            for c, a, o in zip(cats, n_all, n_old, strict=True)
        )
        return cats, it, en
    tcols = [f"time_{c}" for c in categories if f"time_{c}" in idx.columns]
    if not tcols:
        return [], "", ""
    t = idx.loc[codes, tcols].to_numpy(dtype=float)
    w = np.where(np.isfinite(t), pops[:, None], 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.nansum(np.where(np.isfinite(t), t, 0) * w, axis=0) / w.sum(axis=0)
    order = [j for j in np.argsort(-np.nan_to_num(mean, nan=-1)) if np.isfinite(mean[j])][:3]
    cats = [tcols[j][5:] for j in order]
    it = "; ".join(
        f"{category_label(c, 'it')}: {mean[j]:.0f} min in media".replace(".", ",")
        for c, j in zip(cats, order, strict=True)
    )
    en = "; ".join(
        f"{category_label(c, 'en')}: {mean[j]:.0f} min on average"
        for c, j in zip(cats, order, strict=True)
    )
    return cats, it, en


def _common(values: np.ndarray) -> str | None:
    """Return the most frequent non-null value (the cluster's gateway), or None."""
    known = [str(v) for v in values if v is not None and pd.notna(v)]
    return max(set(known), key=known.count) if known else None
