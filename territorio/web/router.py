"""HTML pages of the Welfare Point Territoriale (landing, search, municipality pages, maps).

Italian by default, English with ``?lang=en``. Pages work without
JavaScript except the maps; maps load Leaflet from this router's
``/static/vendor`` (never from a CDN) and show base tiles only when a tile
URL is configured.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from territorio.bundle import Bundle
from territorio.freshness import stale_plan
from territorio.maps._assets import render_html
from territorio.maps._data import (
    PlanOutputs,
    load_plan,
    municipality_isochrones,
    no_data_categories,
    resolve_plan_dir,
)
from territorio.maps._palette import OSM_TILES, SNAI_TEXT, category_label, finite
from territorio.maps.choropleth import choropleth_map
from territorio.maps.marginality import plan_marginality_map
from territorio.maps.municipality import municipality_map
from territorio.maps.offers import OFFER_STYLE, offers_frame, offers_map
from territorio.report.service import ReportCache
from territorio.search import match_names, search_key
from territorio.web._csp import map_csp, page_csp
from territorio.web._i18n import texts

__all__ = ["OffersSource", "build_router"]

log = logging.getLogger("territorio.web")

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
TEMPLATES_DIR = HERE / "templates"

#: A callable returning the current offers (records with ``lon``/``lat``, or a
#: GeoDataFrame); called on each request that needs them.
OffersSource = Callable[[], "gpd.GeoDataFrame | Sequence[Mapping[str, Any]]"]

PROVINCE_MAPS = ("travel_times", "marginality", "offers")


def _int_text(value: Any, lang: str) -> str | None:
    if not finite(value):
        return None
    s = f"{round(float(value)):,}"
    return s.replace(",", ".") if lang == "it" else s


def _min_text(value: Any, lang: str) -> str:
    if not finite(value):
        return "–"
    s = f"{float(value):.1f} min"
    return s.replace(".", ",") if lang == "it" else s


@dataclass
class _Site:
    bundle_path: Path
    tiles: str | None
    offers: OffersSource | None
    prefix: str
    nearby_km: float
    plan_dir: Path | None = None
    _bundle: Bundle | None = None
    _plan: PlanOutputs | None = None
    cache: dict[tuple[str, ...], str] = field(default_factory=dict)
    csp_cache: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    env: Environment = field(
        default_factory=lambda: Environment(
            loader=FileSystemLoader(str(TEMPLATES_DIR)),
            autoescape=select_autoescape(["html"]),
        )
    )

    @property
    def bundle(self) -> Bundle:
        with self.lock:
            return self.bundle_unlocked()

    def bundle_unlocked(self) -> Bundle:
        if self._bundle is None:
            self._bundle = Bundle(self.bundle_path)
        return self._bundle

    def plan(self) -> PlanOutputs | None:
        """Return the planning outputs (read on first use), or None without a plan folder."""
        if self.plan_dir is None:
            return None
        with self.lock:
            if self._plan is None:
                stale = stale_plan(self.bundle_unlocked(), self.plan_dir)
                if stale is not None:
                    # another build's plan: the pages say "run territorio plan"
                    log.warning("WPT pages: not showing planning results: %s", stale)
                    self.plan_dir = None
                    return None
                self._plan = load_plan(self.plan_dir)
            return self._plan

    def munis(self) -> gpd.GeoDataFrame:
        return self.bundle.layer("municipalities")

    def get_offers(self, request: Request) -> gpd.GeoDataFrame:
        if self.offers is not None:
            return offers_frame(self.offers())
        return offers_frame(_db_offers(request))

    def page(self, request: Request, template: str, lang: str, **ctx: Any) -> HTMLResponse:
        other = "it" if lang == "en" else "en"
        params = dict(request.query_params)
        if other == "en":
            params["lang"] = "en"
        else:
            params.pop("lang", None)
        query = "&".join(f"{k}={v}" for k, v in params.items())
        switch = str(request.url.path) + (f"?{query}" if query else "")
        manifest = self.bundle.manifest
        source = (
            f"ISTAT, OpenStreetMap contributors and registries; bundle "
            f"{manifest.get('name') or self.bundle.path.name}, "
            f"territorio {manifest.get('software_version', '')}"
        )
        html = self.env.get_template(template).render(
            t=texts(lang),
            lang=lang,
            other_lang=other,
            prefix=self.prefix,
            q_lang="?lang=en" if lang == "en" else "",
            switch_url=switch,
            source=source,
            **ctx,
        )
        return HTMLResponse(html, headers={"Content-Security-Policy": page_csp()})

    def error(self, request: Request, lang: str, status: int, message: str) -> HTMLResponse:
        """Render an error page (every value escaped by the template)."""
        resp = self.page(
            request, "error.html", lang, heading=texts(lang)["not_found"], message=message
        )
        resp.status_code = status
        return resp

    def map_response(self, html: str) -> HTMLResponse:
        """Answer a map page with a CSP allowing exactly its inline scripts and the tiles."""
        csp = self.csp_cache.get(html)
        if csp is None:
            csp = map_csp(html, tiles=self.tiles)
            if len(self.csp_cache) > 64:
                self.csp_cache.clear()
            self.csp_cache[html] = csp
        return HTMLResponse(html, headers={"Content-Security-Policy": csp})


def _db_offers(request: Request) -> list[dict[str, Any]]:
    """Visible offers from the API's database, when the app has one."""
    maker = getattr(request.app.state, "sessionmaker", None)
    if maker is None:
        return []
    from sqlalchemy import select

    from territorio.db.models import Offer

    with maker() as session:
        rows = session.scalars(
            select(Offer).where(Offer.hidden.is_(False), Offer.deleted_at.is_(None))
        ).all()
        return [
            {
                "id": o.id,
                "title": o.title,
                "category": o.category,
                "provider": o.provider,
                "contact": o.contact,
                "lon": o.lon,
                "lat": o.lat,
                "pro_com_t": o.pro_com_t,
                "municipalities": o.municipalities,
            }
            for o in rows
        ]


def _lang(lang: str | None) -> str:
    return "en" if lang == "en" else "it"


def build_router(
    bundle: Bundle | str | Path,
    *,
    tiles: str | None = OSM_TILES,
    offers: OffersSource | None = None,
    prefix: str = "/wpt",
    nearby_km: float = 10.0,
    plan_dir: str | Path | None = None,
) -> APIRouter:
    """Build the router of the WPT HTML pages.

    Routes (under ``prefix``): ``/`` landing page with the municipality
    search, ``/cerca?q=`` search (redirects to the municipality when one
    name matches), ``/comuni/{code}`` municipality page (map, indicators
    table, nearby offers), ``/mappe/{name}.html`` province maps
    (``travel_times``, ``marginality``, ``offers``),
    ``/mappe/comune/{code}.html`` municipality map, ``/static/...`` CSS and
    vendored Leaflet. Every page takes ``?lang=en``.

    Parameters
    ----------
    bundle
        The territory bundle or its folder (read on first request).
    tiles
        Tile URL template for the maps, or None for no base tiles (offline).
    offers
        Callable returning the current offers; default: the visible offers
        of the API's database (``request.app.state.sessionmaker``), none
        when the app has no database.
    prefix
        URL prefix of the pages.
    nearby_km
        Radius of the "nearby offers" list on municipality pages.
    plan_dir
        Folder of the planning outputs (``territorio plan``) shown on the
        marginality map and the municipality pages; default:
        :func:`territorio.bundle.default_plan_dir` of the bundle when
        it exists. Without one, the pages say "run territorio plan first".

    Raises
    ------
    SourceNotFoundError
        If an explicit ``plan_dir`` does not exist.
    """
    path = bundle.path if isinstance(bundle, Bundle) else Path(bundle)
    site = _Site(
        path, tiles, offers, prefix.rstrip("/"), nearby_km, resolve_plan_dir(path, plan_dir)
    )
    if isinstance(bundle, Bundle):
        site._bundle = bundle
    router = APIRouter(prefix=site.prefix, include_in_schema=False)
    reports = ReportCache(lambda: site.bundle, site.plan_dir)
    assets = f"{site.prefix}/static/vendor"

    def names() -> list[str]:
        return sorted(site.munis()["name"].astype(str).tolist(), key=search_key)

    @router.get("/", response_class=HTMLResponse)
    def landing(request: Request, lang: str | None = Query(None)) -> HTMLResponse:
        lg = _lang(lang)
        t = texts(lg)
        q = "?lang=en" if lg == "en" else ""
        maps = [(f"{site.prefix}/mappe/{name}.html{q}", t[f"map_{name}"]) for name in PROVINCE_MAPS]
        area = site.bundle.manifest.get("name") or site.bundle.path.name
        return site.page(request, "landing.html", lg, names=names(), maps=maps, area=area, query="")

    @router.get("/cerca", response_model=None)
    def search(
        request: Request, q: str = Query("", max_length=100), lang: str | None = Query(None)
    ) -> Response:
        lg = _lang(lang)
        munis = site.munis()
        wanted = search_key(q)
        keys = munis["name"].astype(str).map(search_key)
        exact = munis[keys == wanted]
        suffix = "?lang=en" if lg == "en" else ""
        if wanted and len(exact) == 1:
            code = str(exact.iloc[0]["pro_com_t"])
            return RedirectResponse(f"{site.prefix}/comuni/{code}{suffix}", status_code=303)
        hit = match_names(keys, q)
        found = munis[hit] if hit is not None else munis.iloc[:0]
        if wanted and q.strip().isdigit():
            found = munis[munis["pro_com_t"].astype(str) == q.strip()]
        if len(found) == 1:
            code = str(found.iloc[0]["pro_com_t"])
            return RedirectResponse(f"{site.prefix}/comuni/{code}{suffix}", status_code=303)
        results = sorted(
            zip(found["pro_com_t"].astype(str), found["name"].astype(str), strict=True),
            key=lambda r: search_key(r[1]),
        )
        resp = site.page(request, "search.html", lg, names=names(), results=results[:50], query=q)
        if not results:
            resp.status_code = 404
        return resp

    @router.get("/comuni/{code}", response_class=HTMLResponse)
    def municipality_page(
        request: Request, code: str, lang: str | None = Query(None)
    ) -> HTMLResponse:
        lg = _lang(lang)
        t = texts(lg)
        munis = site.munis()
        sel = munis[munis["pro_com_t"].astype(str) == code]
        if len(sel) == 0:
            return _not_found(site, request, lg, code)
        row = sel.iloc[0]
        coverage = str(row.get("network_coverage", "full"))
        m = {
            "code": code,
            "name": str(row["name"]),
            "residents": _int_text(row.get("pop_total"), lg),
            "residents65": _int_text(row.get("pop_65_plus"), lg),
            "coverage": coverage,
            "coverage_text": t.get(f"coverage_{coverage}", coverage),
        }
        rows = _indicator_rows(site.bundle, code, lg)
        plan = _plan_facts(site.plan(), code, lg)
        offers_rows = _nearby_offers(site, request, row, lg)
        q = "?lang=en" if lg == "en" else ""
        return site.page(
            request,
            "municipality.html",
            lg,
            m=m,
            rows=rows,
            plan=plan,
            offers=offers_rows,
            no_offers=t["no_offers"].format(km=f"{site.nearby_km:g}"),
            map_url=f"{site.prefix}/mappe/comune/{code}.html{q}",
            report_url=f"{site.prefix}/comuni/{code}/report.pdf{q}",
        )

    @router.get("/comuni/{code}/report.pdf", response_class=Response)
    def municipality_report(code: str, lang: str | None = Query(None)) -> Response:
        """Return the comune's one-page PDF (404 unknown comune, 409 no planning outputs)."""
        lg = _lang(lang)
        body = reports.pdf(code, lg)
        name = f"comune_{code}_{lg}.pdf"
        headers = {"Content-Disposition": f'inline; filename="{name}"'}
        return Response(body, media_type="application/pdf", headers=headers)

    @router.get("/mappe/comune/{code}.html", response_class=HTMLResponse)
    def municipality_map_page(
        request: Request, code: str, lang: str | None = Query(None)
    ) -> HTMLResponse:
        lg = _lang(lang)
        key = ("municipality", code, lg)
        if key not in site.cache:
            munis = site.munis()
            sel = munis[munis["pro_com_t"].astype(str) == code]
            if len(sel) == 0:
                message = texts(lg)["unknown_municipality"].format(code=code)
                return site.error(request, lg, 404, message)
            iso, iso_outside = municipality_isochrones(site.bundle, sel.iloc[0])
            b = site.bundle
            services = b.layer("services") if b.has_layer("services") else None
            access = (
                b.layer("access_municipalities") if b.has_layer("access_municipalities") else None
            )
            fmap = municipality_map(
                munis,
                code,
                services=services,
                isochrones=iso,
                isochrones_outside=iso_outside,
                no_data=no_data_categories(access, code),
                tiles=site.tiles,
                lang=lg,
            )
            site.cache[key] = render_html(fmap, assets=assets)
        return site.map_response(site.cache[key])

    @router.get("/mappe/{name}.html", response_class=HTMLResponse)
    def province_map(request: Request, name: str, lang: str | None = Query(None)) -> HTMLResponse:
        lg = _lang(lang)
        if name not in PROVINCE_MAPS:
            message = texts(lg)["unknown_map"].format(name=name, maps=", ".join(PROVINCE_MAPS))
            return site.error(request, lg, 404, message)
        b = site.bundle
        munis = site.munis()
        if name == "offers":  # offers change: never cached
            fmap = offers_map(
                site.get_offers(request), municipalities=munis, tiles=site.tiles, lang=lg
            )
            return site.map_response(render_html(fmap, assets=assets))
        key = (name, lg)
        if key not in site.cache:
            if name == "travel_times":
                if not b.has_layer("access_municipalities"):
                    return site.error(request, lg, 404, texts(lg)["no_indicators"])
                fmap = choropleth_map(
                    munis, b.layer("access_municipalities"), tiles=site.tiles, lang=lg
                )
            else:
                fmap = plan_marginality_map(munis, site.plan(), tiles=site.tiles, lang=lg)
            site.cache[key] = render_html(fmap, assets=assets)
        return site.map_response(site.cache[key])

    @router.get("/static/{path:path}", response_model=None)
    def static(path: str) -> Response:
        target = (STATIC_DIR / path).resolve()
        if not target.is_file() or STATIC_DIR not in target.parents:
            return Response("not found", status_code=404, media_type="text/plain")
        return FileResponse(target, headers={"Cache-Control": "public, max-age=86400"})

    return router


def _not_found(site: _Site, request: Request, lang: str, code: str) -> HTMLResponse:
    resp = site.page(request, "search.html", lang, names=[], results=[], query=code)
    resp.status_code = 404
    return resp


def _plan_facts(plan: PlanOutputs | None, code: str, lang: str) -> dict[str, Any] | None:
    """SNAI class, marginality score and cluster of a municipality, from the plan folder.

    None when there are no planning outputs (the page then says to run
    ``territorio plan``).
    """
    if plan is None:
        return None
    t = texts(lang)
    rec = plan.row(code) or {}
    klass = str(rec.get("snai_class") or "")
    outside = klass == "outside_coverage"
    status = str(rec.get("index_status") or "no_data")
    if klass in SNAI_TEXT:
        klass_text = SNAI_TEXT[klass][0 if lang == "it" else 1]
    else:
        klass_text = t["snai_outside"] if outside else t["status_no_data"]
    polo = None
    if finite(rec.get("time_to_polo_min")):
        polo = _min_text(rec["time_to_polo_min"], lang)
        if rec.get("polo_destination_name"):
            polo += f" ({rec['polo_destination_name']})"
    score = None
    if status == "ok" and finite(rec.get("score")):
        score = f"{float(rec['score']):.1f}"
        if lang == "it":
            score = score.replace(".", ",")
        if finite(rec.get("rank")):
            score += " " + t["rank_of"].format(
                rank=int(rec["rank"]), n=int(plan.summary.get("scored") or 0)
            )
    cluster = None
    cid = rec.get("cluster_id")
    if isinstance(cid, str) and cid:
        cl = plan.clusters[plan.clusters["cluster_id"].astype(str) == cid]
        name_col = "name_it" if lang == "it" else "name_en"
        name = str(cl.iloc[0][name_col]) if len(cl) and name_col in cl.columns else ""
        cluster = f"{cid} {name}".strip()
    return {
        "snai": klass_text,
        "polo": polo,
        "score": score,
        "score_text": t.get(f"status_{status}", status),
        "cluster": cluster,
    }


def _indicator_rows(bundle: Bundle, code: str, lang: str) -> list[dict[str, Any]]:
    if not bundle.has_layer("access_municipalities"):
        return []
    t = texts(lang)
    acc = bundle.layer("access_municipalities")
    part = acc[acc["pro_com_t"].astype(str) == code]
    rows = []
    for rec in part.to_dict("records"):
        status = str(rec.get("status") or "no_data")
        timed = status in ("ok", "partial")
        share = rec.get("share65_beyond_30")
        n65 = rec.get("pop65_beyond_30")
        share_txt = "–"
        if finite(share):
            share_txt = f"{100 * float(share):.0f}%"
            if finite(n65):
                share_txt += f" ({_int_text(n65, lang)})"
        rows.append(
            {
                "label": category_label(str(rec["category"]), lang),
                "status": status,
                "status_text": t.get(f"status_{status}", status),
                "timed": timed,
                "ref": _min_text(rec.get("ref_time_min"), lang),
                "mean": _min_text(rec.get("mean_min"), lang),
                "median": _min_text(rec.get("median_min"), lang),
                "p90": _min_text(rec.get("p90_min"), lang),
                "share65": share_txt,
            }
        )
    return rows


def _nearby_offers(
    site: _Site, request: Request, row: pd.Series, lang: str
) -> list[dict[str, str]]:
    pts = site.get_offers(request)
    if len(pts) == 0 or not finite(row.get("ref_lon")):
        return []
    lon0, lat0 = float(row["ref_lon"]), float(row["ref_lat"])
    lon = pts.geometry.x.to_numpy()
    lat = pts.geometry.y.to_numpy()
    # Equirectangular distance: exact enough within tens of kilometres.
    kx = 111.32 * math.cos(math.radians(lat0))
    dist = np.hypot((lon - lon0) * kx, (lat - lat0) * 110.57)
    code = str(row["pro_com_t"])
    served = np.zeros(len(pts), dtype=bool)
    if "municipalities" in pts.columns:
        served = pts["municipalities"].map(lambda v: code in list(v or [])).to_numpy(dtype=bool)
    keep = (dist <= site.nearby_km) | served
    out = []
    for i in np.argsort(dist):
        if not keep[i]:
            continue
        rec = pts.iloc[int(i)]
        cat = str(rec.get("category", ""))
        style = OFFER_STYLE.get(cat)
        out.append(
            {
                "title": str(rec.get("title", "")),
                "category": (style[2] if lang == "it" else style[3]) if style else cat,
                "provider": str(rec.get("provider", "") or ""),
                "distance": f"{dist[i]:.1f} km".replace(".", "," if lang == "it" else "."),
            }
        )
    return out[:50]
