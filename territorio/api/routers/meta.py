"""Provenance (`/meta`), category lists and the API's entry point."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import RedirectResponse

from territorio.api._links import public_base
from territorio.api._state import TerritoryData
from territorio.api.dependencies import get_data
from territorio.api.errors import PROBLEM_TYPES
from territorio.api.models import CategoryOut, LandingPage, MetaInfo, Problem, ProblemType
from territorio.categories import CATEGORIES
from territorio.db.models import OFFER_CATEGORIES
from territorio.errors import NotFoundError

__all__ = ["router"]

router = APIRouter(tags=["meta"])

Data = Annotated[TerritoryData, Depends(get_data)]


#: Where the pages for people are (the ``territorio.web`` router).
WEB_PATH = "/wpt/"


def _quality(accept: str, media: str) -> float:
    """Return the q-value ``accept`` gives ``media`` (exact, ``type/*`` or ``*/*``)."""
    main = media.split("/")[0]
    best, rank = 0.0, -1
    for part in accept.split(","):
        bits = [b.strip() for b in part.split(";")]
        rng = bits[0].lower()
        q = 1.0
        for b in bits[1:]:
            if b.startswith("q="):
                try:
                    q = float(b[2:])
                except ValueError:
                    q = 0.0
        r = 2 if rng == media else 1 if rng == f"{main}/*" else 0 if rng == "*/*" else -1
        if r > rank:
            best, rank = q, r
    return best if rank >= 0 else 0.0


def prefers_html(accept: str | None) -> bool:
    """Whether an Accept header ranks HTML above JSON (a browser, not an API client)."""
    if not accept:
        return False
    return _quality(accept, "text/html") > _quality(accept, "application/json")


@router.get(
    "/",
    response_model=LandingPage,
    summary="Punto di ingresso / Entry point",
    responses={303: {"description": "a browser (Accept prefers text/html) is sent to /wpt/"}},
)
def root(
    request: Request,
    f: Annotated[
        Literal["json"] | None, Query(description="json: always answer JSON, even to browsers")
    ] = None,
) -> Any:
    """Links to the API's parts and to the WPT pages for people.

    Browsers (``Accept`` ranking ``text/html`` above JSON) are redirected to
    the pages at ``/wpt/``; API clients get this JSON (``f=json`` forces it).
    """
    if f is None and prefers_html(request.headers.get("accept")):
        return RedirectResponse(WEB_PATH, status_code=303)
    base = public_base(request)
    return {
        "title": "Welfare Point Territoriale",
        "description": "Accessibilità ai servizi e offerte di welfare territoriale",
        "links": [
            {"href": f"{base}/docs", "rel": "service-doc", "type": "text/html"},
            {
                "href": f"{base}/openapi.json",
                "rel": "service-desc",
                "type": "application/vnd.oai.openapi+json;version=3.0",
            },
            {"href": f"{base}/meta", "rel": "describedby", "type": "application/json"},
            {
                "href": f"{base}/ogc",
                "rel": "data",
                "type": "application/json",
                "title": "OGC API - Features",
            },
            {
                "href": f"{base}{WEB_PATH}",
                "rel": "alternate",
                "type": "text/html",
                "title": "Welfare Point Territoriale: pagine per i cittadini / pages for people",
            },
        ],
    }


@router.get("/meta", response_model=MetaInfo, summary="Provenienza dei dati / Data provenance")
def meta(request: Request, data: Data) -> Any:
    """Software version, bundle build time, OSM timestamp, ISTAT year and sources."""
    features: dict[str, bool] = request.app.state.features
    return {**data.summary, "features": dict(features)}


@router.get(
    "/categories",
    response_model=list[CategoryOut],
    summary="Categorie di servizi / Service categories",
)
def service_categories() -> Any:
    """List the fixed service taxonomy of the bundle."""
    return [
        {"code": c.code, "label_it": c.label_it, "label_en": c.label_en, "group": c.group}
        for c in CATEGORIES.values()
    ]


@router.get(
    "/offers/categories",
    response_model=list[CategoryOut],
    tags=["offers"],
    summary="Categorie di offerte / Offer categories",
)
def offer_categories() -> Any:
    """List the documented categories of territorial welfare offers."""
    return [
        {"code": code, "label_it": it, "label_en": en, "group": None}
        for code, (it, en) in OFFER_CATEGORIES.items()
    ]


@router.get(
    "/problems/{slug}",
    response_model=ProblemType,
    summary="Tipi di errore / Problem types",
    responses={404: {"model": Problem}},
)
def problem_type(
    request: Request,
    slug: Annotated[str, Path(max_length=40, pattern=r"^[a-z-]+$", examples=["invalid-parameter"])],
) -> Any:
    """Explain a problem type: the ``type`` URI of every error response points here."""
    if slug not in PROBLEM_TYPES:
        raise NotFoundError(
            f"no problem type {slug!r}; the types are: {', '.join(sorted(PROBLEM_TYPES))}"
        )
    status, title, description = PROBLEM_TYPES[slug]
    return {
        "type": f"{public_base(request)}/problems/{slug}",
        "status": status,
        "title": title,
        "description": description,
    }
