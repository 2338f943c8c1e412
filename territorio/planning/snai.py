"""SNAI-style classification of municipalities (Strategia Nazionale Aree Interne).

Method
------
1. **Poli.** Either given (ISTAT codes, or a preset of the official map) or
   derived from the services layer: a municipality is a *polo* when it offers
   at once upper-secondary schooling (a liceo and a technical or vocational
   institute), a hospital with an emergency department and a railway station
   of at least Silver category (each criterion configurable in
   :class:`~territorio.planning.config.PoliCriteria`). Adjacent
   municipalities that are not poli, each meeting at least one criterion and
   meeting all of them only together (connected groups over shared
   boundaries), form a *polo intercomunale*.
2. **Time to the nearest polo** from each municipality's reference point,
   targets = the reference points of poli and poli intercomunali (one
   multi-source search with the accessibility engine).
3. **Classes**: A Polo, B Polo intercomunale, then by time ``t`` and the
   thresholds ``t1 < t2 < t3``: C Cintura (``t < t1``), D Intermedio
   (``t1 <= t < t2``), E Periferico (``t2 <= t < t3``), F Ultraperiferico
   (``t >= t3``). Presets: 2014 map 20/40/75 min, 2020 map 27.7/40.9/66.9 min.
   A municipality whose reference point is outside network coverage (or
   cannot reach any polo on the network) gets ``"outside_coverage"``, never a
   class computed from a made-up time.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from territorio.errors import DataValidationError, UnknownAreaError
from territorio.planning._graph import adjacency, components_of
from territorio.planning.config import PlanConfig, PoliCriteria
from territorio.schemas import require_columns

__all__ = [
    "AREE_INTERNE",
    "OUTSIDE",
    "SNAI_LABELS",
    "classify",
    "classify_times",
    "derive_poli",
    "poli_criteria_flags",
    "poli_frame",
    "polo_times",
    "snai_table",
]

OUTSIDE = "outside_coverage"

#: Class code -> (Italian label, English label).
SNAI_LABELS: dict[str, tuple[str, str]] = {
    "A": ("Polo", "Hub"),
    "B": ("Polo intercomunale", "Inter-municipal hub"),
    "C": ("Cintura", "Belt"),
    "D": ("Intermedio", "Intermediate"),
    "E": ("Periferico", "Peripheral"),
    "F": ("Ultraperiferico", "Ultra-peripheral"),
    OUTSIDE: ("Fuori copertura della rete", "Outside network coverage"),
}

#: Classes forming the *aree interne*.
AREE_INTERNE: tuple[str, ...] = ("D", "E", "F")

_TRUE = {"1", "true", "yes", "si", "sì", "y", "s"}
_SILVER = {"platinum", "gold", "silver"}


def _attrs(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if not isinstance(value, str) or not value.strip():
        return {}
    try:
        out = json.loads(value)
    except json.JSONDecodeError:
        return {}
    return out if isinstance(out, dict) else {}


def _lower_keys(d: dict[str, Any]) -> dict[str, Any]:
    return {str(k).lower(): v for k, v in d.items()}


def _is_true(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, int | float) and not isinstance(v, bool):
        return bool(v) and not np.isnan(v)
    return str(v).strip().lower() in _TRUE


def _school_kinds(row: pd.Series) -> tuple[bool, bool]:
    """Return (is_liceo, is_technical_or_vocational) from attributes and name."""
    a = _attrs(row["attributes"])
    text = " ".join(str(v) for v in a.values() if isinstance(v, str | int | float))
    text = f"{text} {row.get('name') or ''}".lower()
    return "liceo" in text, ("tecnic" in text or "professional" in text)


def _hospital_ok(row: pd.Series, criteria: PoliCriteria) -> bool:
    if criteria.hospital == "any":
        cap = row.get("capacity")
        beds = float(cap) if cap is not None and pd.notna(cap) else np.nan
        return criteria.min_beds <= 0 or (not np.isnan(beds) and beds >= criteria.min_beds)
    a = _lower_keys(_attrs(row["attributes"]))
    for key in ("dea_level", "emergency_level"):
        if key in a:
            try:
                return float(a[key]) >= 1
            except (TypeError, ValueError):
                return False
    return "emergency" in a and _is_true(a["emergency"])


def _station_ok(row: pd.Series, criteria: PoliCriteria) -> bool:
    if criteria.station == "any":
        return True
    a = _lower_keys(_attrs(row["attributes"]))
    if str(a.get("rfi_category", "")).strip().lower() in _SILVER:
        return True
    tipo = a.get("tipostazione")
    try:
        return tipo is not None and int(tipo) in set(criteria.station_types)
    except (TypeError, ValueError):
        return False


def poli_criteria_flags(
    municipalities: pd.DataFrame,
    services: pd.DataFrame,
    *,
    criteria: PoliCriteria,
) -> tuple[pd.DataFrame, list[str]]:
    """Which polo criteria each municipality meets, from its own services.

    Parameters
    ----------
    municipalities
        Municipalities layer (``pro_com_t`` used).
    services
        Services layer (``category``, ``pro_com_t``, ``attributes``, ``name``,
        ``capacity``).
    criteria
        How strict each criterion is.

    Returns
    -------
    flags, notes
        ``flags`` is indexed by ``pro_com_t`` with boolean columns ``liceo``,
        ``technical``, ``school``, ``hospital``, ``station`` and ``all``;
        ``notes`` says which criteria were relaxed or found no qualifying data.
    """
    require_columns(services, ("category", "pro_com_t", "attributes"), where="services layer")
    codes = municipalities["pro_com_t"].astype(str)
    flags = pd.DataFrame(
        False,
        index=pd.Index(codes, name="pro_com_t"),
        columns=["liceo", "technical", "school", "hospital", "station"],
    )
    notes: list[str] = []
    svc = services[services["pro_com_t"].notna()]
    svc = svc[svc["pro_com_t"].astype(str).isin(flags.index)]

    def mark(col: str, rows: pd.DataFrame) -> None:
        where = rows["pro_com_t"].astype(str).unique()
        flags.loc[where, col] = True

    if criteria.school == "ignore":
        flags["school"] = True
        notes.append("school criterion ignored (criteria.school = 'ignore')")
    else:
        sch = svc[svc["category"] == "secondary_school"]
        if criteria.school == "any_secondary":
            mark("school", sch)
            notes.append("school criterion relaxed to any secondary school")
        elif len(sch):
            kinds = sch.apply(_school_kinds, axis=1, result_type="expand")
            mark("liceo", sch[kinds[0].to_numpy()])
            mark("technical", sch[kinds[1].to_numpy()])
            flags["school"] = flags["liceo"] & flags["technical"]
        if not flags["school"].any():
            notes.append("no municipality meets the school criterion with the data available")
    checks = (
        ("hospital", "hospital", _hospital_ok,
         "hospital criterion relaxed to any hospital (no DEA level required)",
         "no hospital with an emergency department found: the registry may lack the "
         "'emergency' attribute; set criteria.hospital = 'any' to relax"),
        ("station", "railway_station", _station_ok,
         "station criterion relaxed to any railway station (no RFI category)",
         "no Silver-or-better railway station found: registries rarely carry the RFI "
         "category; set criteria.station = 'any' or list station_types"),
    )  # fmt: skip
    for flag, category, qualifies, relaxed, missing in checks:
        mode = getattr(criteria, flag)
        if mode == "ignore":
            flags[flag] = True
            notes.append(f"{flag} criterion ignored (criteria.{flag} = 'ignore')")
            continue
        found = svc[svc["category"] == category]
        if len(found):
            ok = found.apply(qualifies, axis=1, criteria=criteria).astype(bool)
            mark(flag, found[ok.to_numpy()])
        if mode == "any":
            notes.append(relaxed)
        if not flags[flag].any():
            notes.append(missing)
    flags["all"] = flags["school"] & flags["hospital"] & flags["station"]
    return flags, notes


def derive_poli(
    municipalities: gpd.GeoDataFrame,
    services: pd.DataFrame,
    *,
    criteria: PoliCriteria,
    adj: sp.csr_matrix | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """Derive poli and poli intercomunali from the services layer.

    Returns
    -------
    poli, notes
        ``poli`` has one row per municipality: ``pro_com_t``, ``polo_type``
        (``"polo"``, ``"intercomunale"`` or ``""``), ``polo_group`` (group id
        such as ``"I1"`` for poli intercomunali, else ``""``) and the criterion
        flags.
    """
    flags, notes = poli_criteria_flags(municipalities, services, criteria=criteria)
    if adj is None:
        adj = adjacency(municipalities)
    single = flags["all"].to_numpy()
    # Candidates for a polo intercomunale: not a polo alone, meeting at least
    # one *required* criterion themselves.
    some = (flags["school"] | flags["liceo"] | flags["technical"]).to_numpy(copy=True)
    some &= criteria.school != "ignore"
    some |= flags["hospital"].to_numpy() & (criteria.hospital != "ignore")
    some |= flags["station"].to_numpy() & (criteria.station != "ignore")
    cand = some & ~single
    labels = components_of(adj, cand)
    polo_type = np.where(single, "polo", "").astype(object)
    group = np.full(len(single), "", dtype=object)
    n_inter = 0
    for lab in range(labels.max() + 1) if len(labels) else []:
        members = np.flatnonzero(labels == lab)
        if len(members) < 2 or not _together(flags, members):
            continue
        members = _prune(flags, adj, members)
        n_inter += 1
        polo_type[members] = "intercomunale"
        group[members] = f"I{n_inter}"
    out = flags.reset_index()
    out.insert(1, "polo_type", polo_type)
    out.insert(2, "polo_group", group)
    return out, notes


def _together(flags: pd.DataFrame, members: npt.NDArray[np.intp]) -> bool:
    """Return True if the members, pooled, meet every criterion."""
    f = flags.iloc[members]
    school = f["school"].any() or (f["liceo"].any() and f["technical"].any())
    return bool(school and f["hospital"].any() and f["station"].any())


def _prune(
    flags: pd.DataFrame, adj: sp.csr_matrix, members: npt.NDArray[np.intp]
) -> npt.NDArray[np.intp]:
    """Drop members not needed for the group to meet the criteria together.

    Members meeting fewest criteria are tried first; one is dropped when the
    rest still meet every criterion and stay contiguous. Groups are a handful
    of municipalities, so the loop is short.
    """
    crit = flags.iloc[members][["liceo", "technical", "school", "hospital", "station"]]
    order = members[np.argsort(crit.sum(axis=1).to_numpy(), kind="stable")]
    keep = list(members)
    for i in order:
        rest = np.array([j for j in keep if j != i])
        if len(rest) < 2 or not _together(flags, rest):
            continue
        sub = adj[rest][:, rest]
        if connected_components(sub, directed=False)[0] == 1:
            keep = list(rest)
    return np.array(sorted(keep), dtype=np.intp)


def _given_poli(
    codes: pd.Series, poli: Sequence[str], inter: Sequence[str], *, strict: bool = True
) -> pd.DataFrame:
    known = set(codes)
    unknown = [c for c in (*poli, *inter) if c not in known]
    if unknown and strict:
        raise UnknownAreaError(
            f"poli {unknown[:5]} are not municipalities of this bundle; check the ISTAT codes "
            "(6 digits, e.g. '001272') in the plan configuration"
        )
    polo_type = np.where(codes.isin(poli), "polo", np.where(codes.isin(inter), "intercomunale", ""))
    group = np.where(polo_type == "intercomunale", "I1", "")
    return pd.DataFrame(
        {"pro_com_t": codes.to_numpy(), "polo_type": polo_type, "polo_group": group}
    )


def classify_times(
    time_min: npt.ArrayLike,
    *,
    thresholds: tuple[float, float, float],
    polo_type: npt.ArrayLike | None = None,
    outside: npt.ArrayLike | None = None,
) -> npt.NDArray[np.object_]:
    """Return SNAI classes from times to the nearest polo (vectorised).

    Parameters
    ----------
    time_min
        Minutes from each municipality to the nearest polo; NaN or inf means
        no time is known (outside coverage or unreachable).
    thresholds
        ``(t1, t2, t3)`` in minutes.
    polo_type
        ``"polo"`` (class A), ``"intercomunale"`` (class B) or ``""``.
    outside
        True where the municipality is outside network coverage.

    Returns
    -------
    numpy.ndarray
        ``"A"`` ... ``"F"`` or ``"outside_coverage"``.
    """
    t = np.asarray(time_min, dtype=float)
    t1, t2, t3 = thresholds
    cls = np.select([t < t1, t < t2, t < t3], ["C", "D", "E"], default="F").astype(object)
    bad = ~np.isfinite(t)
    if outside is not None:
        bad |= np.asarray(outside, dtype=bool)
    cls[bad] = OUTSIDE
    if polo_type is not None:
        pt = np.asarray(polo_type, dtype=object)
        cls[pt == "polo"] = "A"
        cls[pt == "intercomunale"] = "B"
    return cls


def snai_table(
    municipalities: pd.DataFrame,
    poli: pd.DataFrame,
    times: pd.DataFrame,
    *,
    thresholds: tuple[float, float, float],
) -> pd.DataFrame:
    """Assemble the classification table.

    Parameters
    ----------
    municipalities
        ``pro_com_t``, ``name`` and optionally ``network_coverage``.
    poli
        ``pro_com_t``, ``polo_type`` (from :func:`derive_poli` or a given list).
    times
        ``pro_com_t``, ``time_min`` (NaN where unknown), ``nearest_polo``
        (ISTAT code or None).
    thresholds
        ``(t1, t2, t3)`` in minutes.

    Returns
    -------
    pandas.DataFrame
        ``pro_com_t``, ``name``, ``polo_type``, ``time_to_polo_min``,
        ``nearest_polo``, ``nearest_polo_name``, ``snai_class``,
        ``snai_label_it``, ``snai_label_en``, ``area_interna``.
    """
    require_columns(times, ("pro_com_t", "time_min", "nearest_polo"), where="polo times")
    m = municipalities[["pro_com_t", "name"]].copy()
    m["pro_com_t"] = m["pro_com_t"].astype(str)
    df = m.merge(poli[["pro_com_t", "polo_type"]], on="pro_com_t", how="left")
    df = df.merge(times[["pro_com_t", "time_min", "nearest_polo"]], on="pro_com_t", how="left")
    if len(df) != len(m):
        raise DataValidationError("polo times: duplicate pro_com_t rows")
    df["polo_type"] = df["polo_type"].fillna("")
    outside = np.zeros(len(df), dtype=bool)
    if "network_coverage" in municipalities.columns:
        outside = (municipalities["network_coverage"].astype(str) == "none").to_numpy()
    t = df["time_min"].astype(float).to_numpy()
    cls = classify_times(t, thresholds=thresholds, polo_type=df["polo_type"], outside=outside)
    is_polo = np.isin(cls, ["A", "B"])
    no_time = cls == OUTSIDE
    df["time_to_polo_min"] = np.where(is_polo, 0.0, np.where(no_time, np.nan, t))
    names = dict(zip(m["pro_com_t"], m["name"], strict=True))
    nearest = df["nearest_polo"].where(~no_time, None)
    nearest = nearest.where(~is_polo, df["pro_com_t"])
    df["nearest_polo"] = nearest
    df["nearest_polo_name"] = nearest.map(names)
    df["snai_class"] = cls
    df["snai_label_it"] = [SNAI_LABELS[c][0] for c in cls]
    df["snai_label_en"] = [SNAI_LABELS[c][1] for c in cls]
    df["area_interna"] = np.isin(cls, AREE_INTERNE)
    return df.drop(columns=["time_min"])[
        [
            "pro_com_t",
            "name",
            "polo_type",
            "time_to_polo_min",
            "nearest_polo",
            "nearest_polo_name",
            "snai_class",
            "snai_label_it",
            "snai_label_en",
            "area_interna",
        ]
    ]


def poli_frame(
    municipalities: gpd.GeoDataFrame,
    services: pd.DataFrame | None,
    *,
    poli: str | list[str],
    poli_intercomunali: Sequence[str] = (),
    criteria: PoliCriteria,
    adj: sp.csr_matrix | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """Resolve the configured poli (derived, preset or list) to a per-municipality table."""
    from territorio.planning.config import OFFICIAL_POLI

    codes = municipalities["pro_com_t"].astype(str)
    if poli == "derive":
        if services is None:
            raise DataValidationError("poli = 'derive' needs the services layer")
        return derive_poli(municipalities, services, criteria=criteria, adj=adj)
    if isinstance(poli, str):
        p, inter = OFFICIAL_POLI[poli]
        notes = [f"poli from the preset {poli!r}"]
        absent = [c for c in (*p, *inter) if c not in set(codes)]
        if absent:
            notes.append(f"preset poli not in this bundle, ignored: {', '.join(absent)}")
        return _given_poli(codes, p, inter, strict=False), notes
    return _given_poli(codes, poli, poli_intercomunali), ["poli given as a list"]


def polo_times(ctx: Any, poli: pd.DataFrame) -> pd.DataFrame:
    """Time from each municipality's reference point to the nearest polo.

    Exactly the engine's nearest-target primitive
    (:meth:`~territorio.accessibility.context.AccessContext.times_to_nearest`):
    one multi-source search on the reversed graph from the reference points
    of all poli and poli intercomunali. Poli outside network coverage cannot
    be targets.

    Parameters
    ----------
    ctx
        :class:`~territorio.accessibility.context.AccessContext`.
    poli
        ``pro_com_t``, ``polo_type`` (from :func:`poli_frame`).

    Returns
    -------
    pandas.DataFrame
        ``pro_com_t``, ``time_min`` (NaN outside coverage or unreachable),
        ``nearest_polo`` (ISTAT code or None), in ``ctx.municipalities`` order.
    """
    m = ctx.municipalities
    codes = m["pro_com_t"].astype(str).to_numpy()
    is_target = poli.set_index(poli["pro_com_t"].astype(str))["polo_type"].reindex(codes)
    sel = is_target.isin(["polo", "intercomunale"]).to_numpy()
    t_codes = codes[sel]
    if not sel.any():
        return pd.DataFrame({"pro_com_t": codes, "time_min": np.nan, "nearest_polo": None})
    near = ctx.times_to_nearest(
        m["ref_lon"].to_numpy(dtype=float)[sel], m["ref_lat"].to_numpy(dtype=float)[sel]
    )
    tgt = near.ref_target
    nearest = np.where(tgt >= 0, t_codes[np.maximum(tgt, 0)], None)
    return pd.DataFrame(
        {"pro_com_t": codes, "time_min": near.ref_s / 60.0, "nearest_polo": nearest}
    )


def classify(
    ctx: Any,
    municipalities: gpd.GeoDataFrame,
    services: pd.DataFrame | None,
    *,
    poli: str | list[str] = "derive",
    poli_intercomunali: Sequence[str] = (),
    criteria: PoliCriteria | None = None,
    thresholds: tuple[float, float, float] = (27.7, 40.9, 66.9),
    adj: sp.csr_matrix | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Classify every municipality (poli, time to the nearest polo, class).

    Returns
    -------
    table, poli, notes
        :func:`snai_table` output, the per-municipality poli table and notes.

    Raises
    ------
    DataValidationError
        If no municipality is a polo (the criteria are too strict for the
        data): the message says which criteria found nothing and how to relax.
    """
    crit = criteria if criteria is not None else PoliCriteria()
    pf, notes = poli_frame(
        municipalities,
        services,
        poli=poli,
        poli_intercomunali=poli_intercomunali,
        criteria=crit,
        adj=adj,
    )
    targets = pf[pf["polo_type"].isin(["polo", "intercomunale"])]["pro_com_t"]
    if len(targets) == 0:
        why = "; ".join(notes) if notes else "no municipality meets the criteria"
        raise DataValidationError(
            f"no polo found, so no SNAI class can be computed ({why}); relax the criteria "
            "in [plan.criteria] or give the poli as a list of ISTAT codes (poli = [...])"
        )
    times = polo_times(ctx, pf)
    cov = ctx.municipalities.set_index(ctx.municipalities["pro_com_t"].astype(str))["covered"]
    off = [c for c in targets if not bool(cov.get(c, False))]
    if off:
        notes.append(
            f"poli outside network coverage cannot be reached as targets: {', '.join(off)}"
        )
    return snai_table(municipalities, pf, times, thresholds=thresholds), pf, notes


def classify_with(
    cfg: PlanConfig,
    ctx: Any,
    municipalities: gpd.GeoDataFrame,
    services: pd.DataFrame | None,
    *,
    adj: sp.csr_matrix | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Run :func:`classify` with the poli, criteria and thresholds of a plan configuration."""
    return classify(
        ctx,
        municipalities,
        services,
        poli=cfg.poli,
        poli_intercomunali=cfg.poli_intercomunali,
        criteria=cfg.criteria,
        thresholds=cfg.thresholds,
        adj=adj,
    )
