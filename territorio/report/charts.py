"""The report's pictures, drawn with matplotlib: the static map and the comparison chart.

Both are drawn offline from the bundle's own geometry (no base tiles, no
network) with matplotlib's object-oriented API (no ``pyplot`` state, so two
threads may draw at once) and returned as PNG bytes.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from territorio.maps._data import isochrone_view
from territorio.maps._palette import CATEGORY_STYLE, category_label
from territorio.report._texts import fmt_num

__all__ = [
    "ISOCHRONE_COLOURS",
    "MAP_HIDDEN",
    "MARKERS",
    "comparison_chart",
    "static_map",
]

#: Isochrone fills by minutes (as the interactive map: near = dark green).
ISOCHRONE_COLOURS: dict[int, str] = {10: "#1a9850", 20: "#91cf60", 30: "#d9ef8b"}
#: Categories not drawn on the printed map (thousands of stops would hide the rest).
MAP_HIDDEN = frozenset({"pt_stop"})
#: Marker of each category (its colour is that of the interactive maps).
MARKERS: dict[str, str] = {
    "hospital": "s",
    "primary_care": "P",
    "pharmacy": "P",
    "primary_school": "^",
    "secondary_school": "^",
    "childcare": "v",
    "post_office": "D",
    "library": "p",
    "social_facility": "h",
    "town_hall": "*",
    "railway_station": "X",
    "pt_stop": ".",
    "digital_help": "o",
    "bank_atm": "d",
}
_DPI = 200
_BOUNDARY = "#111111"
_NEIGHBOUR = "#9e9e9e"
_LATE = "#c62828"
_ON_TIME = "#1f4e9c"

_TEXT = {
    "boundary": ("Confine comunale", "Municipal boundary"),
    "neighbours": ("Comuni vicini", "Neighbouring comuni"),
    "ref": ("Punto di riferimento", "Reference point"),
    "outside": ("Fuori copertura della rete stradale", "Outside road-network coverage"),
    "iso": ("≤ {m} min in auto", "≤ {m} min by car"),
    "in_comune": ("{n} nel comune", "{n} in the comune"),
    "hidden": ("fermate TPL non disegnate ({n})", "public-transport stops not drawn ({n})"),
    "minutes": ("minuti in auto", "minutes by car"),
    "nd": ("n.d.", "n/a"),
    "comune": ("il comune", "the comune"),
    "median": ("mediana", "median"),
    "iqr": ("1°–3° quartile", "1st–3rd quartile"),
}


def _t(key: str, lang: str) -> str:
    return _TEXT[key][0 if lang == "it" else 1]


def _box(alpha: float, *, edge: str = "none", pad: float = 1) -> dict[str, object]:
    """Return a white text-box style."""
    return {"facecolor": "white", "alpha": alpha, "edgecolor": edge, "pad": pad}


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=_DPI)
    return buf.getvalue()


def _nice_length(span_m: float) -> float:
    """Return a round scale-bar length (metres) of about a fifth of ``span_m``."""
    target = span_m / 5
    for step in (100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000):
        if step >= target:
            return float(step)
    return 100_000.0


def _fit(bounds: Sequence[float], aspect: float, pad: float = 0.06) -> tuple[float, ...]:
    """Pad ``(xmin, ymin, xmax, ymax)`` and widen it to the width/height ratio ``aspect``."""
    x0, y0, x1, y1 = bounds
    w, h = max(x1 - x0, 500.0), max(y1 - y0, 500.0)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    w, h = w * (1 + 2 * pad), h * (1 + 2 * pad)
    if w / h < aspect:
        w = h * aspect
    else:
        h = w / aspect
    return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2


def static_map(
    municipalities: gpd.GeoDataFrame,
    code: str,
    *,
    services: gpd.GeoDataFrame,
    isochrones: gpd.GeoDataFrame | None,
    outside: bool,
    lang: str = "it",
    size_cm: tuple[float, float] = (9.4, 7.95),
) -> bytes:
    """Draw the comune's map and return it as PNG.

    Parameters
    ----------
    municipalities
        Every comune (``pro_com_t``, geometry) in a metric CRS; the comune's
        boundary is drawn in black, its neighbours in grey.
    code
        The comune.
    services
        Services (``category``, ``pro_com_t``, Point geometry) in the same
        CRS; those inside the map's extent are drawn, one marker per
        category, and the legend counts those of the comune.
    isochrones
        Car isochrone polygons (``minutes``) in the same CRS, or None.
    outside
        The comune is outside the road network's coverage: its area is
        hatched and the legend says so (there are no isochrones).
    lang
        ``"it"`` or ``"en"``.
    size_cm
        Width and height of the map; the legend is added below it, as tall
        as its rows.

    Notes
    -----
    The OpenStreetMap attribution is not drawn here: the report's page puts
    it as text on the map's corner (so it can be read and searched in the
    PDF).
    """
    muni = municipalities[municipalities["pro_com_t"].astype(str) == code]
    fig = Figure(figsize=(size_cm[0] / 2.54, size_cm[1] / 2.54))
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    aspect = size_cm[0] / size_cm[1]
    bounds = isochrone_view(muni.total_bounds, isochrones)
    # room below the comune for the scale bar and the attribution
    bounds[1] -= 0.08 * (bounds[3] - bounds[1])
    x0, y0, x1, y1 = _fit(bounds, aspect)
    handles: list[object] = []
    if isochrones is not None and len(isochrones):
        for _, iso in isochrones.sort_values("minutes", ascending=False).iterrows():
            m = round(float(iso["minutes"]))
            colour = ISOCHRONE_COLOURS.get(m, "#e0e0e0")
            gpd.GeoSeries([iso.geometry]).plot(
                ax=ax, color=colour, alpha=0.55, edgecolor=colour, linewidth=0.6, zorder=1
            )
        for m in sorted(round(float(v)) for v in isochrones["minutes"]):
            colour = ISOCHRONE_COLOURS.get(m, "#e0e0e0")
            handles.append(
                Patch(
                    facecolor=colour,
                    alpha=0.55,
                    edgecolor=colour,
                    label=_t("iso", lang).format(m=m),
                )
            )
    near = municipalities.cx[x0:x1, y0:y1]
    near = near[near["pro_com_t"].astype(str) != code]
    if len(near):
        near.boundary.plot(ax=ax, color=_NEIGHBOUR, linewidth=0.5, zorder=2)
        handles.append(
            Line2D([], [], color=_NEIGHBOUR, linewidth=0.8, label=_t("neighbours", lang))
        )
    if outside:
        muni.plot(ax=ax, facecolor="none", edgecolor="#9e9e9e", hatch="////", linewidth=0, zorder=2)
        handles.append(
            Patch(facecolor="white", edgecolor="#9e9e9e", hatch="////", label=_t("outside", lang))
        )
    muni.boundary.plot(ax=ax, color=_BOUNDARY, linewidth=1.6, zorder=3)
    handles.insert(0, Line2D([], [], color=_BOUNDARY, linewidth=1.6, label=_t("boundary", lang)))
    view = services.cx[x0:x1, y0:y1] if len(services) else services
    mine = (services["pro_com_t"].astype(str) == code).to_numpy(dtype=bool)
    counts = services[mine]["category"].value_counts()
    hidden = int(sum(int(counts.get(c, 0)) for c in MAP_HIDDEN))
    drawn = view[~view["category"].isin(MAP_HIDDEN)] if len(view) else view
    # smaller markers where they crowd (a city's hundreds of services)
    size = 16.0 if len(drawn) < 250 else 7.0
    for cat in CATEGORY_STYLE:
        if cat in MAP_HIDDEN:
            continue
        part = view[view["category"] == cat]
        if len(part) == 0:
            continue
        colour = CATEGORY_STYLE[cat][0]
        marker = MARKERS.get(cat, "o")
        ax.scatter(
            part.geometry.x,
            part.geometry.y,
            s=size,
            marker=marker,
            c=colour,
            edgecolors="white",
            linewidths=0.3,
            zorder=5,
        )
        n = int(counts.get(cat, 0))
        label = f"{category_label(cat, lang)} ({_t('in_comune', lang).format(n=n)})"
        handles.append(
            Line2D(
                [],
                [],
                linestyle="none",
                marker=marker,
                markersize=5,
                markerfacecolor=colour,
                markeredgecolor="white",
                label=label,
            )
        )
    row = muni.iloc[0]
    if "ref_x" in muni.columns and np.isfinite(float(row["ref_x"])):
        ax.scatter(
            [row["ref_x"]],
            [row["ref_y"]],
            s=150,
            marker="*",
            c="black",
            edgecolors="white",
            linewidths=1.0,
            zorder=6,
        )
        handles.append(
            Line2D(
                [],
                [],
                linestyle="none",
                marker="*",
                markersize=8,
                markerfacecolor="black",
                markeredgecolor="white",
                label=_t("ref", lang),
            )
        )
    if hidden:
        note = _t("hidden", lang).format(n=hidden)
        handles.append(Line2D([], [], linestyle="none", label=note))
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")  # geopandas labels the axes with the CRS's (Easting, Northing)
    ax.set_ylabel("")
    for side in ax.spines.values():
        side.set_color("#666666")
        side.set_linewidth(0.6)
    # scale bar, lower left (the CRS is metric)
    length = _nice_length(x1 - x0)
    bx, by = x0 + 0.04 * (x1 - x0), y0 + 0.05 * (y1 - y0)
    ax.plot(
        [bx, bx + length], [by, by], color="black", linewidth=2.2, solid_capstyle="butt", zorder=7
    )
    km = length / 1000
    ax.text(
        bx + length / 2,
        by + 0.015 * (y1 - y0),
        f"{km:g} km",
        ha="center",
        va="bottom",
        fontsize=6,
        zorder=7,
        bbox=_box(0.7),
    )
    if outside:
        ax.text(
            (x0 + x1) / 2,
            y1 - 0.04 * (y1 - y0),
            _t("outside", lang),
            ha="center",
            va="top",
            fontsize=7,
            weight="bold",
            color="#444444",
            zorder=7,
            bbox=_box(0.85, edge="#9e9e9e", pad=2),
        )
    # the legend below the map, as tall as its rows (two columns)
    rows = (len(handles) + 1) // 2
    leg_cm = 0.25 + 0.3 * rows
    total = size_cm[1] + leg_cm
    fig.set_size_inches(size_cm[0] / 2.54, total / 2.54)
    ax.set_position((0.0, leg_cm / total, 1.0, size_cm[1] / total))
    leg = fig.add_axes((0.0, 0.0, 1.0, (leg_cm - 0.05) / total))
    leg.axis("off")
    leg.legend(
        handles=handles,
        loc="upper left",
        ncol=2,
        fontsize=5.2,
        frameon=False,
        handlelength=1.4,
        columnspacing=0.8,
        borderaxespad=0.2,
        labelspacing=0.35,
    )
    return _png(fig)


def comparison_chart(
    table: pd.DataFrame, *, lang: str = "it", width_cm: float = 8.6
) -> bytes | None:
    """Draw minutes to the nearest service per category against the comparable comuni.

    One row per category that has a time for the comune or for its group:
    a bar from the group's first to third quartile, a tick at its median,
    and a dot at the comune's time (red when beyond the third quartile),
    written at the right.

    Parameters
    ----------
    table
        :func:`territorio.report.source.comparison_table`.
    lang
        ``"it"`` or ``"en"``.
    width_cm
        Picture width; the height follows the number of rows.

    Returns
    -------
    bytes or None
        PNG, or None when no category has a time (nothing to draw).
    """
    rows = table[np.isfinite(table["value"].to_numpy(float)) | (table["n"] > 0)]
    if len(rows) == 0:
        return None
    n = len(rows)
    height_cm = 1.2 + 0.42 * n
    fig = Figure(figsize=(width_cm / 2.54, height_cm / 2.54))
    ax = fig.add_axes((0.47, 1.0 / height_cm * 0.95, 0.42, 1 - 1.45 / height_cm))
    ys = np.arange(n)[::-1]
    top = np.nanmax(np.r_[rows["q3"].to_numpy(float), rows["value"].to_numpy(float), 1.0])
    for y, (cat, r) in zip(ys, rows.iterrows(), strict=True):
        if r["n"] > 0:
            ax.barh(
                y,
                max(r["q3"] - r["q1"], top * 0.004),
                left=r["q1"],
                height=0.5,
                color="#cfd8dc",
                edgecolor="#90a4ae",
                linewidth=0.5,
                zorder=1,
            )
            ax.plot(
                [r["median"]] * 2, [y - 0.32, y + 0.32], color="#37474f", linewidth=1.4, zorder=2
            )
        label = category_label(str(cat), lang)
        if math.isfinite(r["value"]):
            late = r["n"] > 0 and r["value"] > r["q3"]
            ax.scatter(
                [r["value"]],
                [y],
                s=22,
                c=_LATE if late else _ON_TIME,
                zorder=3,
                edgecolors="white",
                linewidths=0.5,
            )
            txt = fmt_num(r["value"], lang)
        else:
            txt = _t("nd", lang)
        ax.text(
            1.02,
            y,
            txt,
            transform=ax.get_yaxis_transform(),
            va="center",
            fontsize=6.5,
            color=_LATE
            if math.isfinite(r["value"]) and r["n"] > 0 and r["value"] > r["q3"]
            else "#222222",
        )
        ax.text(
            -0.03,
            y,
            f"{label} (n={int(r['n'])})",
            transform=ax.get_yaxis_transform(),
            ha="right",
            va="center",
            fontsize=6.2,
        )
    ax.set_yticks([])
    ax.set_ylim(-0.7, n - 0.3)
    ax.set_xlim(0, top * 1.08)
    ax.tick_params(axis="x", labelsize=6, length=2)
    ax.set_xlabel(_t("minutes", lang), fontsize=6.5, labelpad=1)
    ax.grid(axis="x", color="#eeeeee", linewidth=0.5, zorder=0)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return _png(fig)
