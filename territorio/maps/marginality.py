"""Marginality map: index score, SNAI classes, underserved clusters, proposed sites."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from territorio.maps._palette import (
    GREY,
    UNREACHABLE_FILL,
    NO_DATA_FILL,
    OSM_TILES,
    SCORE_COLOURS,
    SNAI_COLOURS,
    SNAI_TEXT,
    check_lang,
    esc,
    finite,
    fmt_min,
    tr,
)
from territorio.maps._style import (
    HATCH_FILL,
    PROVINCE_TOLERANCE_M,
    Legend,
    base_map,
    class_rows,
    display_frame,
    div_icon,
    feature_collection,
    outline_row,
    swatch,
)
from territorio.maps._data import PlanOutputs, marginality_table
from territorio.maps.choropleth import outside_mask
from territorio.schemas import require_columns

__all__ = ["SCORE_BINS", "marginality_map", "plan_marginality_map"]

#: Fixed score classes (upper bounds, points of the 0-100 index), so maps of
#: different runs are comparable.
SCORE_BINS: tuple[float, ...] = (20.0, 40.0, 60.0, 80.0, 100.0)
CLUSTER_COLOUR = "#0b3c8c"
SITE_COLOUR = "#ff6f00"


def _members(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.replace(";", ",").split(",") if v.strip()]
    return [str(v) for v in value]


def marginality_map(
    municipalities: gpd.GeoDataFrame,
    marginality: pd.DataFrame | None = None,
    *,
    snai: pd.DataFrame | None = None,
    clusters: pd.DataFrame | None = None,
    sites: gpd.GeoDataFrame | None = None,
    notice: str | None = None,
    winter: pd.DataFrame | None = None,
    tiles: str | None = OSM_TILES,
    lang: str = "it",
    tolerance_m: float = PROVINCE_TOLERANCE_M,
) -> folium.Map:
    """Build the marginality map.

    Base layers (switched by the layer control): the marginality score in
    fixed classes of 20 points, and the SNAI classes A-F. Overlays: the
    underserved clusters outlined (members dissolved), and the proposed
    cooperative sites. Municipalities without a score or class because they
    are outside network coverage are grey and hatched.

    Parameters
    ----------
    municipalities
        Municipalities layer (``pro_com_t``, ``name``, geometry; optional
        ``network_coverage``), EPSG:4326.
    marginality
        ``pro_com_t``, ``score``, optional ``status``, ``rank``,
        ``main_factor``, ``cluster_id`` (the planning outputs'
        ``municipalities`` table, ``index_status`` renamed ``status``, see
        :func:`territorio.maps._data.marginality_table`).
    snai
        ``pro_com_t``, ``snai_class`` (``"A"``-``"F"`` or
        ``"outside_coverage"``), optional ``time_to_polo_min`` and
        ``polo_destination_name``.
    clusters
        ``cluster_id`` and ``member_codes`` (comma-separated ``pro_com_t``,
        as in the planning outputs) or ``members`` (list of ``pro_com_t``),
        optional ``name_it``/``name_en`` and ``pop_total``.
    sites
        Points with optional ``name``, ``marginal_gain_pop`` and
        ``marginal_gain_65`` (residents and 65+ newly served). An empty
        frame adds a legend line "no sites proposed in this plan".
    notice
        A message shown at the top of the legend (e.g. that the planning
        outputs are missing).
    winter
        A winter scenario's municipalities table (``pro_com_t``,
        ``score_winter``, ``class_winter``, optional ``polo_min_winter``, see
        :mod:`territorio.planning.winter`): adds the score and SNAI layers in
        winter, switched against the summer ones in the layer control; comuni
        cut off in winter are drawn as unreachable.
    tiles, lang, tolerance_m
        As in :func:`territorio.maps.choropleth_map`.
    """
    check_lang(lang)
    require_columns(municipalities, ("pro_com_t", "name", "geometry"), where="municipalities layer")
    munis = display_frame(municipalities.reset_index(drop=True), tolerance_m=tolerance_m)
    codes = munis["pro_com_t"].astype(str).to_numpy()
    cov_out = outside_mask(munis)
    fmap = base_map(munis.total_bounds, tiles=tiles)
    sections: list[tuple[str | None, str]] = []
    base_names: list[str] = []
    style_base = {"color": "#555555", "weight": 0.6, "fillOpacity": 0.8}

    def add_score(marginality: pd.DataFrame, name: str, where: str) -> None:
        require_columns(marginality, ("pro_com_t", "score"), where=where)
        mg = marginality.assign(pro_com_t=marginality["pro_com_t"].astype(str))
        mg = mg.drop_duplicates("pro_com_t").set_index("pro_com_t").reindex(codes)
        score = mg["score"].astype(float).to_numpy()
        status = (
            mg["status"].fillna("").astype(str).to_numpy()
            if "status" in mg.columns
            else np.full(len(mg), "")
        )
        outside = cov_out | (status == "outside_coverage")
        cls = np.searchsorted(np.array(SCORE_BINS), np.clip(np.nan_to_num(score), 0, 100))
        cls = np.clip(cls, 0, len(SCORE_BINS) - 1)
        fills = np.where(
            outside,
            HATCH_FILL,
            np.where(np.isfinite(score), np.array(SCORE_COLOURS)[cls], NO_DATA_FILL),
        )
        txt = np.where(
            outside,
            tr("outside", lang),
            np.where(np.isfinite(score), [f"{v:.1f}" for v in score], tr("no_data", lang)),
        )
        txt_keys = {"no_data"} if bool((~outside & ~np.isfinite(score)).any()) else set()
        rank = mg["rank"] if "rank" in mg.columns else pd.Series([None] * len(mg))
        factor = mg["main_factor"] if "main_factor" in mg.columns else pd.Series([None] * len(mg))
        cluster = mg["cluster_id"] if "cluster_id" in mg.columns else pd.Series([None] * len(mg))
        rank_txt = [str(int(r)) if finite(r) else "" for r in rank]
        factor_txt = [_factor_label(f, lang) for f in factor]
        cluster_txt = ["" if c is None or pd.isna(c) else str(c) for c in cluster]
        styles = {c: {**style_base, "fillColor": f} for c, f in zip(codes, fills, strict=True)}
        base_names.append(name)
        group = folium.FeatureGroup(name=name, overlay=False, show=not base_names[:-1])
        folium.GeoJson(
            feature_collection(
                munis,
                {
                    "name": munis["name"],
                    "score": txt,
                    "rank": rank_txt,
                    "factor": factor_txt,
                    "cluster": cluster_txt,
                },
                ids=codes,
            ),
            style_function=lambda f, s=styles: s[f["id"]],
            tooltip=folium.GeoJsonTooltip(
                fields=["name", "score", "rank", "factor", "cluster"],
                aliases=[
                    tr("municipality", lang),
                    tr("score", lang),
                    tr("rank", lang),
                    tr("main_factor", lang),
                    tr("cluster", lang),
                ],
                sticky=True,
            ),
        ).add_to(group)
        group.add_to(fmap)
        body = (
            f"<h4>{esc(name)}</h4>"
            + f"<div>{esc(tr('score_hint', lang))}</div>"
            + class_rows(SCORE_BINS, SCORE_COLOURS, unit="", lower=0)
            + (swatch(NO_DATA_FILL, tr("no_data", lang)) if "no_data" in txt_keys else "")
        )
        sections.append((name, body))

    def add_snai(snai: pd.DataFrame, name: str, where: str) -> None:
        require_columns(snai, ("pro_com_t", "snai_class"), where=where)
        sn = snai.assign(pro_com_t=snai["pro_com_t"].astype(str))
        sn = sn.drop_duplicates("pro_com_t").set_index("pro_com_t").reindex(codes)
        klass = sn["snai_class"].fillna("").astype(str).to_numpy()
        outside = cov_out | (klass == "outside_coverage")
        fills = np.array(
            [
                HATCH_FILL
                if o
                else (UNREACHABLE_FILL if k == "unreachable" else SNAI_COLOURS.get(k, NO_DATA_FILL))
                for o, k in zip(outside, klass, strict=True)
            ]
        )
        labels = [
            tr("outside", lang)
            if o
            else tr("unreachable_winter", lang)
            if k == "unreachable"
            else (SNAI_TEXT[k][0 if lang == "it" else 1] if k in SNAI_TEXT else tr("no_data", lang))
            for o, k in zip(outside, klass, strict=True)
        ]
        polo_t = sn["time_to_polo_min"] if "time_to_polo_min" in sn.columns else [None] * len(sn)
        polo_n = sn["polo_destination_name"] if "polo_destination_name" in sn.columns else [None] * len(sn)
        polo_txt = [
            "" if o else (fmt_min(t) + (f" ({n})" if isinstance(n, str) and n else ""))
            for o, t, n in zip(outside, polo_t, polo_n, strict=True)
        ]
        styles = {c: {**style_base, "fillColor": f} for c, f in zip(codes, fills, strict=True)}
        base_names.append(name)
        group = folium.FeatureGroup(name=name, overlay=False, show=not base_names[:-1])
        folium.GeoJson(
            feature_collection(
                munis, {"name": munis["name"], "klass": labels, "polo": polo_txt}, ids=codes
            ),
            style_function=lambda f, s=styles: s[f["id"]],
            tooltip=folium.GeoJsonTooltip(
                fields=["name", "klass", "polo"],
                aliases=[tr("municipality", lang), tr("class", lang), tr("time_to_polo", lang)],
                sticky=True,
            ),
        ).add_to(group)
        group.add_to(fmap)
        body = (
            f"<h4>{esc(name)}</h4>"
            + "".join(
                swatch(SNAI_COLOURS[k], SNAI_TEXT[k][0 if lang == "it" else 1])
                for k in SNAI_COLOURS
            )
            + (
                swatch(UNREACHABLE_FILL, tr("unreachable_winter", lang))
                if (klass == "unreachable").any()
                else ""
            )
            + (
                swatch(NO_DATA_FILL, tr("no_data", lang))
                if any(
                    not o and k not in SNAI_TEXT and k != "unreachable"
                    for o, k in zip(outside, klass, strict=True)
                )
                else ""
            )
        )
        sections.append((name, body))

    if marginality is not None:
        add_score(marginality, tr("score", lang), "marginality table")
    if snai is not None:
        add_snai(snai, tr("snai", lang), "SNAI table")
    if winter is not None:
        # the same two layers for the winter scenario: switch them in the layer control
        require_columns(winter, ("pro_com_t", "score_winter", "class_winter"), where="winter table")
        season = f" - {tr('winter', lang)}"
        w = winter.assign(pro_com_t=winter["pro_com_t"].astype(str))
        add_score(w.assign(score=w["score_winter"]), tr("score", lang) + season, "winter table")
        w_snai = w.assign(snai_class=w["class_winter"])
        if "polo_min_winter" in w.columns:
            w_snai = w_snai.assign(time_to_polo_min=w["polo_min_winter"])
        add_snai(w_snai, tr("snai", lang) + season, "winter table")

    if not base_names:
        # Nothing to colour: draw the boundaries so the overlays have context.
        outside_by_code = dict(zip(codes, cov_out, strict=True))
        folium.GeoJson(
            feature_collection(munis, {"name": munis["name"]}, ids=codes),
            style_function=lambda f, o=outside_by_code: {
                "fillColor": HATCH_FILL if o[f["id"]] else NO_DATA_FILL,
                "color": "#555555",
                "weight": 0.6,
                "fillOpacity": 0.6,
            },
            tooltip=folium.GeoJsonTooltip(fields=["name"], aliases=[tr("municipality", lang)]),
        ).add_to(fmap)

    always = swatch(HATCH_FILL, tr("outside", lang), border=GREY)
    if clusters is not None and len(clusters):
        _add_clusters(fmap, munis, clusters, lang=lang)
        always += outline_row(CLUSTER_COLOUR, f"{tr('clusters', lang)} ({len(clusters)})")
    if sites is not None:
        site_label = tr("sites", lang) if len(sites) else tr("no_sites", lang)
        if len(sites):
            _add_sites(fmap, sites, lang=lang)
        star = SITE_COLOUR if len(sites) else GREY
        always += (
            f'<div class="row"><div class="territorio-icon" style="background:{star}">'
            f"★</div><span>{esc(site_label)}</span></div>"
        )
    sections.append((None, always))
    Legend(
        sections,
        initial=base_names[0] if base_names else "",
        title=tr("legend", lang),
        notice=notice,
    ).add_to(fmap)
    if (
        len(base_names) > 1
        or (clusters is not None and len(clusters))
        or (sites is not None and len(sites))
    ):
        folium.LayerControl(collapsed=False).add_to(fmap)
    return fmap


def plan_marginality_map(
    municipalities: gpd.GeoDataFrame,
    plan: PlanOutputs | None,
    *,
    tiles: str | None = OSM_TILES,
    lang: str = "it",
) -> folium.Map:
    """Build the marginality map of a plan's outputs.

    Without outputs (``plan`` None) the map shows the municipalities and a
    notice saying to run ``territorio plan`` first.
    """
    if plan is None:
        return marginality_map(municipalities, notice=tr("no_plan", lang), tiles=tiles, lang=lang)
    table = marginality_table(plan)
    return marginality_map(
        municipalities,
        table,
        snai=table,
        clusters=plan.clusters,
        sites=plan.sites,
        winter=plan.winter,
        tiles=tiles,
        lang=lang,
    )


def _factor_label(code: Any, lang: str) -> str:
    if code is None or (isinstance(code, float) and not np.isfinite(code)):
        return ""
    from territorio.maps._palette import category_label

    structural = {
        "altitude": ("Zona altimetrica", "Altitude zone"),
        "density": ("Bassa densità", "Low density"),
        "old_age": ("Indice di vecchiaia", "Old-age index"),
    }
    if code in structural:
        return structural[code][0 if lang == "it" else 1]
    return category_label(str(code), lang)


def _add_clusters(
    fmap: folium.Map, munis: gpd.GeoDataFrame, clusters: pd.DataFrame, *, lang: str
) -> None:
    if "member_codes" in clusters.columns:
        members_col = "member_codes"
    else:
        require_columns(clusters, ("cluster_id", "members"), where="clusters table")
        members_col = "members"
    by_code = dict(zip(munis["pro_com_t"].astype(str), munis.geometry, strict=True))
    name_of = dict(zip(munis["pro_com_t"].astype(str), munis["name"].astype(str), strict=True))
    geoms: list[Any] = []
    ids: list[str] = []
    labels: list[str] = []
    pops: list[str] = []
    for rec in clusters.to_dict("records"):
        codes = [c for c in _members(rec[members_col]) if c in by_code]
        if not codes:
            continue
        # Union of the display (simplified) polygons of the members, so the
        # outline sits exactly on the drawn boundaries.
        geoms.append(shapely.union_all([by_code[c] for c in codes]))
        ids.append(f"cluster-{rec['cluster_id']}")
        labels.append(f"{rec['cluster_id']}: {', '.join(name_of[c] for c in codes)}")
        pop = rec.get("pop_total")
        pops.append(_int(pop) if finite(pop) else "")
    if not geoms:
        return
    frame = gpd.GeoDataFrame(geometry=geoms, crs=4326)
    group = folium.FeatureGroup(name=tr("clusters", lang), overlay=True, show=True)
    folium.GeoJson(
        feature_collection(frame, {"members": labels, "pop": pops}, ids=ids),
        style_function=lambda f: {
            "color": CLUSTER_COLOUR,
            "weight": 3.5,
            "fill": False,
            "dashArray": "",
        },
        tooltip=folium.GeoJsonTooltip(
            fields=["members", "pop"],
            aliases=[tr("members", lang), tr("population", lang)],
        ),
    ).add_to(group)
    # The cluster id written on the map, so the reports' C01, C02 ... are found.
    for geom, gid in zip(frame.geometry, ids, strict=True):
        pt = geom.representative_point()
        folium.Marker(
            [round(pt.y, 5), round(pt.x, 5)],
            icon=folium.DivIcon(
                html=f'<div class="territorio-cluster-label">{esc(gid.removeprefix("cluster-"))}'
                "</div>",
                icon_size=(40, 18),
                icon_anchor=(20, 9),
                class_name="t-mk",
            ),
            interactive=False,
        ).add_to(group)
    group.add_to(fmap)


def _add_sites(fmap: folium.Map, sites: gpd.GeoDataFrame, *, lang: str) -> None:
    group = folium.FeatureGroup(name=tr("sites", lang), overlay=True, show=True)
    pts = sites.to_crs(4326) if sites.crs is not None else sites
    n = len(pts)
    names: Sequence[Any] = pts["name"].tolist() if "name" in pts.columns else [""] * n
    gains: Sequence[Any] = (
        pts["marginal_gain_pop"].tolist() if "marginal_gain_pop" in pts.columns else [None] * n
    )
    gains65: Sequence[Any] = (
        pts["marginal_gain_65"].tolist() if "marginal_gain_65" in pts.columns else [None] * n
    )
    for geom, name, gain, gain65 in zip(pts.geometry, names, gains, gains65, strict=True):
        tip = f"<b>{esc(tr('sites', lang))}</b><br>{esc(name)}"
        if finite(gain):
            tip += f"<br>{esc(tr('gain', lang))}: " + _int(gain)
            if finite(gain65):
                tip += f" ({esc(tr('gain65', lang))}: {_int(gain65)})"
        folium.Marker(
            [round(geom.y, 5), round(geom.x, 5)],
            icon=div_icon(f'<div class="territorio-icon" style="background:{SITE_COLOUR}">★</div>'),
            tooltip=tip,
        ).add_to(group)
    group.add_to(fmap)


def _int(value: Any) -> str:
    return f"{round(float(value)):,}".replace(",", ".")
