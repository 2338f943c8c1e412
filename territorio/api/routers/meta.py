"""Provenance (`/meta`), category lists and the API's entry point."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from territorio.api._state import TerritoryData
from territorio.api.dependencies import get_data
from territorio.api.models import CategoryOut, LandingPage, MetaInfo
from territorio.categories import CATEGORIES
from territorio.db.models import OFFER_CATEGORIES

__all__ = ["router"]

router = APIRouter(tags=["meta"])

Data = Annotated[TerritoryData, Depends(get_data)]


@router.get("/", response_model=LandingPage, summary="Punto di ingresso / Entry point")
def root(request: Request) -> Any:
    """Links to the API's parts."""
    base = str(request.base_url).rstrip("/")
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
