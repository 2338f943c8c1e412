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
from collections.abc import Mapping, Sequence
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
    "polo_destinations",
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
    return pd.DataFrame({"pro_com_t": codes.to_numpy(), "polo_type": polo_type, "polo_group": ""})


def _most_populous(members: list[str], pop: pd.Series) -> str:
    """Return the member with most residents (ties: the lowest ISTAT code)."""
    members = sorted(members)
    p = pop.reindex(members).fillna(0).to_numpy(dtype=float)
    return members[int(np.argmax(p))]


def polo_destinations(
    municipalities: gpd.GeoDataFrame,
    poli: pd.DataFrame,
    destinations: Mapping[str, str],
    *,
    adj: sp.csr_matrix | None = None,
    strict: bool = True,
) -> tuple[pd.DataFrame, list[str]]:
    """Group the poli intercomunali and name the ONE member each group's times go to.

    SNAI measures a municipality's time to a *polo intercomunale* to one
    member of the group, named by the official table (e.g. Collegno for the
    Rivoli-Collegno-Alpignano-Rosta polo), not to whichever member is nearest.

    Groups: the derived ones (``polo_group`` already set by
    :func:`derive_poli`), else the members sharing a destination in
    ``destinations``, else contiguous members (shared boundaries). A group
    with no destination given takes its most populous member (noted).

    Parameters
    ----------
    municipalities
        ``pro_com_t``, geometry and ``pop_total`` (for the default).
    poli
        ``pro_com_t``, ``polo_type``, ``polo_group``.
    destinations
        Member code to destination code (:attr:`PlanConfig.polo_destinations`).
    adj
        Adjacency of ``municipalities`` (computed when needed and not given).
    strict
        Raise on codes of ``destinations`` that are not poli intercomunali
        (False for presets: codes outside the bundle are noted and ignored).

    Returns
    -------
    poli, notes
        ``poli`` with ``polo_group`` set for every member and a
        ``polo_destination`` column: the municipality itself for a polo, the
        group's destination for a member of a polo intercomunale, else ``""``.

    Raises
    ------
    UnknownAreaError
        If a code of ``destinations`` is not a member of a polo intercomunale,
        or a destination is not a member of the same group.
    """
    out = poli.copy()
    out["pro_com_t"] = out["pro_com_t"].astype(str)
    out["polo_group"] = out["polo_group"].fillna("").astype(str)
    kind = out.set_index("pro_com_t")["polo_type"]
    members = set(kind.index[kind == "intercomunale"])
    notes: list[str] = []
    wrong = sorted(c for c in {*destinations, *destinations.values()} if c not in members)
    given = {k: v for k, v in destinations.items() if k in members and v in members}
    if wrong and strict:
        raise UnknownAreaError(
            f"polo_destinations: {', '.join(wrong[:5])} not member(s) of a polo intercomunale "
            f"of this plan (members: {', '.join(sorted(members)) or 'none'}); each key and "
            "each destination must be one of them"
        )
    if wrong:
        notes.append(
            f"preset polo destinations not poli intercomunali here, ignored: {', '.join(wrong)}"
        )
    is_member = out["polo_type"] == "intercomunale"
    if (out.loc[is_member, "polo_group"] == "").any():
        # explicit lists: group by destination, then the rest by contiguity
        group = pd.Series("", index=out.loc[is_member, "pro_com_t"].to_numpy(), dtype=object)
        for c in group.index:
            if c in given or c in set(given.values()):
                group[c] = given.get(c, c)
        rest = [c for c in group.index if not group[c]]
        if rest:
            a = adj if adj is not None else adjacency(municipalities)
            pos = pd.Index(municipalities["pro_com_t"].astype(str)).get_indexer(rest)
            sub = a[pos][:, pos]
            _, lab = connected_components(sub, directed=False)
            for c, k in zip(rest, lab, strict=True):
                group[c] = f"~{k}"
        order = sorted(set(group), key=lambda g: min(group.index[group == g]))
        ids = {g: f"I{i + 1}" for i, g in enumerate(order)}
        out.loc[is_member, "polo_group"] = (
            group.map(ids).reindex(out.loc[is_member, "pro_com_t"]).to_numpy()
        )
    pop = (
        municipalities.set_index(municipalities["pro_com_t"].astype(str))["pop_total"]
        if "pop_total" in municipalities.columns
        else pd.Series(dtype=float)
    )
    names = (
        dict(
            zip(
                municipalities["pro_com_t"].astype(str),
                municipalities["name"].astype(str),
                strict=True,
            )
        )
        if "name" in municipalities.columns
        else {}
    )
    dest = pd.Series(
        np.where(out["polo_type"] == "polo", out["pro_com_t"], ""), index=out.index, dtype=object
    )
    for gid, grp in out[is_member].groupby("polo_group", sort=True):
        codes = grp["pro_com_t"].tolist()
        chosen = sorted({given[c] for c in codes if c in given})
        outside = [d for d in chosen if d not in codes]
        if outside or len(chosen) > 1:
            raise UnknownAreaError(
                f"polo_destinations: polo intercomunale {gid} ({', '.join(codes)}) is given "
                f"destination(s) {', '.join(chosen)}; give ONE destination, a member of the group"
            )
        if chosen:
            d = chosen[0]
            why = "configured"
        else:
            d = _most_populous(codes, pop)
            why = "most populous member, none configured"
        dest[grp.index] = d
        label = " - ".join(names.get(c, c) for c in codes)
        notes.append(
            f"polo intercomunale {gid} ({label}): times measured to {d} {names.get(d, '')} ({why})"
        )
    out["polo_destination"] = dest.to_numpy()
    return out, notes


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
        ``pro_com_t``, ``polo_type`` (from :func:`derive_poli` or a given
        list), optional ``polo_group`` and ``polo_destination``.
    times
        ``pro_com_t``, ``time_min`` (NaN where unknown), ``polo_destination``
        (ISTAT code of the polo the time goes to, or None).
    thresholds
        ``(t1, t2, t3)`` in minutes.

    Returns
    -------
    pandas.DataFrame
        ``pro_com_t``, ``name``, ``polo_type``, ``polo_group``,
        ``time_to_polo_min``, ``polo_destination``, ``polo_destination_name``
        (the ONE comune the time is measured to: itself for a polo, the
        group's destination for a member of a polo intercomunale),
        ``snai_class``, ``snai_label_it``, ``snai_label_en``, ``area_interna``.
    """
    require_columns(times, ("pro_com_t", "time_min", "polo_destination"), where="polo times")
    m = municipalities[["pro_com_t", "name"]].copy()
    m["pro_com_t"] = m["pro_com_t"].astype(str)
    pcols = [c for c in ("polo_type", "polo_group", "polo_destination") if c in poli.columns]
    p = poli[["pro_com_t", *pcols]].rename(columns={"polo_destination": "own_destination"})
    df = m.merge(p.assign(pro_com_t=p["pro_com_t"].astype(str)), on="pro_com_t", how="left")
    df = df.merge(times[["pro_com_t", "time_min", "polo_destination"]], on="pro_com_t", how="left")
    if len(df) != len(m):
        raise DataValidationError("polo times: duplicate pro_com_t rows")
    df["polo_type"] = df["polo_type"].fillna("")
    df["polo_group"] = df["polo_group"].fillna("") if "polo_group" in df else ""
    own = df["own_destination"] if "own_destination" in df else df["pro_com_t"]
    outside = np.zeros(len(df), dtype=bool)
    if "network_coverage" in municipalities.columns:
        outside = (municipalities["network_coverage"].astype(str) == "none").to_numpy()
    t = df["time_min"].astype(float).to_numpy()
    cls = classify_times(t, thresholds=thresholds, polo_type=df["polo_type"], outside=outside)
    is_polo = np.isin(cls, ["A", "B"])
    no_time = cls == OUTSIDE
    df["time_to_polo_min"] = np.where(is_polo, 0.0, np.where(no_time, np.nan, t))
    names = dict(zip(m["pro_com_t"], m["name"], strict=True))
    dest = df["polo_destination"].where(~no_time, None)
    own = own.where(own.astype(str) != "", df["pro_com_t"]) if "own_destination" in df else own
    dest = dest.where(~is_polo, own)
    df["polo_destination"] = dest
    df["polo_destination_name"] = dest.map(names)
    df["snai_class"] = cls
    df["snai_label_it"] = [SNAI_LABELS[c][0] for c in cls]
    df["snai_label_en"] = [SNAI_LABELS[c][1] for c in cls]
    df["area_interna"] = np.isin(cls, AREE_INTERNE)
    return df[
        [
            "pro_com_t",
            "name",
            "polo_type",
            "polo_group",
            "time_to_polo_min",
            "polo_destination",
            "polo_destination_name",
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
    destinations: Mapping[str, str] | None = None,
    criteria: PoliCriteria,
    adj: sp.csr_matrix | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """Resolve the configured poli (derived, preset or list) to a per-municipality table.

    ``destinations`` (member code to destination code) names the member of
    each polo intercomunale the times go to; with a preset it overrides the
    preset's own (see :func:`polo_destinations`).

    Returns
    -------
    poli, notes
        ``pro_com_t``, ``polo_type``, ``polo_group``, ``polo_destination``
        (and the criterion flags when derived).
    """
    from territorio.planning.config import OFFICIAL_POLI

    codes = municipalities["pro_com_t"].astype(str)
    user = dict(destinations or {})
    if poli == "derive":
        if services is None:
            raise DataValidationError("poli = 'derive' needs the services layer")
        pf, notes = derive_poli(municipalities, services, criteria=criteria, adj=adj)
        pf, more = polo_destinations(municipalities, pf, user, adj=adj)
        return pf, notes + more
    if isinstance(poli, str):
        preset = OFFICIAL_POLI[poli]
        notes = [f"poli from the preset {poli!r}"]
        absent = [c for c in (*preset.poli, *preset.intercomunali) if c not in set(codes)]
        if absent:
            notes.append(f"preset poli not in this bundle, ignored: {', '.join(absent)}")
        pf = _given_poli(codes, preset.poli, preset.intercomunali, strict=False)
        inter = set(pf.loc[pf["polo_type"] == "intercomunale", "pro_com_t"])
        bad = sorted(c for c in {*user, *user.values()} if c not in inter)
        if bad:
            raise UnknownAreaError(
                f"polo_destinations: {', '.join(bad[:5])} not member(s) of a polo intercomunale "
                f"of the preset {poli!r} (members: {', '.join(sorted(inter)) or 'none'})"
            )
        merged = {**preset.destinations, **user}
        pf, more = polo_destinations(municipalities, pf, merged, adj=adj, strict=False)
        return pf, notes + more
    pf = _given_poli(codes, poli, poli_intercomunali)
    pf, more = polo_destinations(municipalities, pf, user, adj=adj)
    return pf, ["poli given as a list", *more]


def polo_times(ctx: Any, poli: pd.DataFrame) -> pd.DataFrame:
    """Time from each municipality's reference point to the nearest polo.

    Exactly the engine's nearest-target primitive
    (:meth:`~territorio.accessibility.context.AccessContext.times_to_nearest`):
    one multi-source search on the reversed graph from the targets' reference
    points. The targets are the poli and, for each polo intercomunale, its
    ONE destination member (``polo_destination``), never the other members:
    a municipality nearer to Orbassano than to Nichelino still gets its time
    to Nichelino. Targets outside network coverage cannot be reached.

    Parameters
    ----------
    ctx
        :class:`~territorio.accessibility.context.AccessContext`.
    poli
        ``pro_com_t``, ``polo_type``, ``polo_destination`` (from
        :func:`poli_frame`).

    Returns
    -------
    pandas.DataFrame
        ``pro_com_t``, ``time_min`` (NaN outside coverage or unreachable),
        ``polo_destination`` (ISTAT code of the target reached, or None), in
        ``ctx.municipalities`` order.
    """
    m = ctx.municipalities
    codes = m["pro_com_t"].astype(str).to_numpy()
    pf = poli.set_index(poli["pro_com_t"].astype(str))
    dest = (
        pf["polo_destination"]
        if "polo_destination" in pf
        else pf["pro_com_t"].where(pf["polo_type"] == "polo", "")
    )
    sel = (dest.reindex(codes) == codes).to_numpy() & pf["polo_type"].reindex(codes).isin(
        ["polo", "intercomunale"]
    ).to_numpy()
    t_codes = codes[sel]
    if not sel.any():
        return pd.DataFrame({"pro_com_t": codes, "time_min": np.nan, "polo_destination": None})
    near = ctx.times_to_nearest(
        m["ref_lon"].to_numpy(dtype=float)[sel], m["ref_lat"].to_numpy(dtype=float)[sel]
    )
    tgt = near.ref_target
    reached = np.where(tgt >= 0, t_codes[np.maximum(tgt, 0)], None)
    return pd.DataFrame(
        {"pro_com_t": codes, "time_min": near.ref_s / 60.0, "polo_destination": reached}
    )


def classify(
    ctx: Any,
    municipalities: gpd.GeoDataFrame,
    services: pd.DataFrame | None,
    *,
    poli: str | list[str] = "derive",
    poli_intercomunali: Sequence[str] = (),
    destinations: Mapping[str, str] | None = None,
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
        destinations=destinations,
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
    dests = pf.loc[pf["pro_com_t"] == pf["polo_destination"], "pro_com_t"]
    off = [c for c in dests if not bool(cov.get(c, False))]
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
        destinations=cfg.polo_destinations,
        criteria=cfg.criteria,
        thresholds=cfg.thresholds,
        adj=adj,
    )
