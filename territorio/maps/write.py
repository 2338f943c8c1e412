"""Write the four maps of a bundle as self-contained HTML files."""

from __future__ import annotations

import html
import json
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd

from territorio.bundle import Bundle
from territorio.errors import NotFoundError
from territorio.freshness import MAPS_RECORD, check_plan, maps_record
from territorio.maps._assets import render_html
from territorio.maps._data import (
    load_plan,
    marginality_table,
    ISOCHRONE_LAYER,
    municipality_isochrones,
    no_data_categories,
    resolve_plan_dir,
)
from territorio.maps._palette import check_lang, tr
from territorio.maps.choropleth import choropleth_map
from territorio.maps.marginality import plan_marginality_map
from territorio.maps.municipality import municipality_map
from territorio.maps.offers import offers_map

__all__ = ["MAP_FILES", "write_maps"]

#: File names written into ``out_dir`` (the municipality map adds the code).
MAP_FILES = {
    "travel_times": "travel_times.html",
    "marginality": "marginality.html",
    "offers": "offers.html",
    "municipality": "municipality_{code}.html",
}


def write_maps(
    bundle: Bundle | str | Path,
    *,
    out_dir: Path,
    tiles: str | None,
    progress: bool = True,
    lang: str = "it",
    municipalities: Sequence[str] | None = None,
    offers: gpd.GeoDataFrame | Sequence[Mapping[str, Any]] | None = None,
    plan_dir: str | Path | None = None,
) -> list[Path]:
    """Write the travel-time, marginality, offers and municipality maps.

    Every file is self-contained: Leaflet's JS/CSS are inlined, so it opens
    offline (with ``tiles=None`` nothing at all is fetched). Files are written
    to a temporary name and renamed, so a failed run leaves old maps intact.

    Parameters
    ----------
    bundle
        The territory bundle (or its folder). The travel-time map needs the
        ``access_municipalities`` layer; the municipality maps need the
        road network for their isochrones.
    out_dir
        Folder to write into (created if needed), e.g. ``maps/``.
    tiles
        Tile URL template, or None for no base tiles.
    progress
        Print one line per map with its time to stderr.
    lang
        ``"it"`` (default) or ``"en"``.
    municipalities
        ISTAT codes of the municipality maps to write; default: the most
        populous municipality.
    offers
        Welfare offers (GeoDataFrame or records with ``lon``/``lat``); default
        none (the offers map then says so).
    plan_dir
        Folder of the planning outputs (``territorio plan``) drawn on the
        marginality map; default:
        :func:`territorio.bundle.default_plan_dir` of the bundle when
        it exists. Without planning outputs the marginality map shows only
        the boundaries and says "run territorio plan first" (the index is
        never recomputed here with other parameters than the plan's).

    Raises
    ------
    SourceNotFoundError
        If an explicit ``plan_dir`` does not exist or is incomplete.
    StaleOutputError
        If the plan folder was computed from another build of the bundle
        (the message names the ``territorio plan`` command that refreshes it).
    NotFoundError
        If a requested municipality code is not in the bundle.

    Each page records the bundle's build id (``<meta name="territorio-build-id">``)
    and ``out_dir/maps.json`` lists the pages with it
    (:func:`territorio.freshness.stale_maps` compares it with the bundle).

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    check_lang(lang)
    b = bundle if isinstance(bundle, Bundle) else Bundle(bundle)
    out_dir = Path(out_dir)
    munis = b.layer("municipalities")
    codes = list(municipalities) if municipalities is not None else []
    if municipalities is None and len(munis):
        pop = munis["pop_total"] if "pop_total" in munis.columns else None
        codes = [
            str(
                munis.loc[pop.idxmax(), "pro_com_t"]
                if pop is not None
                else munis.iloc[0]["pro_com_t"]
            )
        ]
    # every input is checked before the first file is written
    known = set(munis["pro_com_t"].astype(str))
    for code in codes:
        if code not in known:
            raise NotFoundError(
                f"no municipality with ISTAT code {code!r} in bundle {b.path}; "
                "codes are 6-digit strings, e.g. 001272 for Torino"
            )
    pdir = resolve_plan_dir(b.path, plan_dir)
    if pdir is not None:
        check_plan(b, pdir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    build_meta = (
        f'<meta name="territorio-build-id" content="{html.escape(b.build_id or "")}">'
    )

    def emit(name: str, fmap: Any, started: float) -> None:
        target = out_dir / name
        tmp = target.with_name(f".{target.name}.tmp")
        page = render_html(fmap, assets="inline").replace("<head>", "<head>" + build_meta, 1)
        tmp.write_text(page, encoding="utf-8")
        tmp.replace(target)
        written.append(target)
        if progress:
            size = target.stat().st_size / 1e6
            print(
                f"maps: {target} ({size:.1f} MB, {time.perf_counter() - started:.1f} s)",
                file=sys.stderr,
            )

    t0 = time.perf_counter()
    if b.has_layer("access_municipalities"):
        emit(
            MAP_FILES["travel_times"],
            choropleth_map(munis, b.layer("access_municipalities"), tiles=tiles, lang=lang),
            t0,
        )
    elif progress:
        print(
            "maps: skipped travel_times.html: the bundle has no access_municipalities layer "
            "(run: territorio access)",
            file=sys.stderr,
        )

    t0 = time.perf_counter()
    if pdir is None and progress:
        print(
            f"maps: marginality.html has no planning outputs ({b.path.name}-plan/ not "
            f"found): run territorio plan {b.path} first",
            file=sys.stderr,
        )
    fmap = plan_marginality_map(
        munis, None if pdir is None else load_plan(pdir), tiles=tiles, lang=lang
    )
    emit(MAP_FILES["marginality"], fmap, t0)

    t0 = time.perf_counter()
    emit(
        MAP_FILES["offers"],
        offers_map([] if offers is None else offers, municipalities=munis, tiles=tiles, lang=lang),
        t0,
    )

    services = b.layer("services") if b.has_layer("services") else None
    access = b.layer("access_municipalities") if b.has_layer("access_municipalities") else None
    for code in codes:
        t0 = time.perf_counter()
        row = munis[munis["pro_com_t"].astype(str) == code].iloc[0]
        iso, iso_outside = municipality_isochrones(b, row)
        if iso_outside and progress:
            print(
                f"maps: {code} {row['name']}: no isochrones, outside road-network coverage",
                file=sys.stderr,
            )
        elif iso is None and progress:
            print(
                f"maps: {code} {row['name']}: no isochrones: the bundle has no "
                f"{ISOCHRONE_LAYER} layer (run: territorio access {b.path})",
                file=sys.stderr,
            )
        emit(
            MAP_FILES["municipality"].format(code=code),
            municipality_map(
                munis,
                code,
                services=services,
                isochrones=iso,
                isochrones_outside=iso_outside,
                no_data=no_data_categories(access, code),
                tiles=tiles,
                lang=lang,
            ),
            t0,
        )
    record = out_dir / MAPS_RECORD
    tmp = record.with_name(f".{record.name}.tmp")
    tmp.write_text(
        json.dumps(maps_record(b, [p.name for p in written]), indent=2), encoding="utf-8"
    )
    tmp.replace(record)
    return written
