"""OGC API - Features, Part 1 Core (GeoJSON): municipalities, services, offers.

Add ``<server>/ogc`` in QGIS as an "OGC API - Features" (WFS 3) connection.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from territorio.api._links import GEOJSON, geojson_response
from territorio.api._state import TerritoryData
from territorio.api._views import municipality_summaries, service_dict
from territorio.api.dependencies import (
    check_limit,
    get_data,
    get_db,
    get_settings,
    parse_bbox,
)
from territorio.api.models import Collection, Collections, Conformance, LandingPage, Problem
from territorio.api.routers.offers import offer_dict, offer_feature, offers_query
from territorio.api.routers.services import filter_services, service_feature
from territorio.api.settings import Settings
from territorio.db.models import Offer
from territorio.errors import NotFoundError

__all__ = ["CONFORMANCE", "router"]

router = APIRouter(prefix="/ogc", tags=["OGC API - Features"])

Data = Annotated[TerritoryData, Depends(get_data)]
Conf = Annotated[Settings, Depends(get_settings)]
Db = Annotated[Session, Depends(get_db)]

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"

_COLLECTIONS = {
    "municipalities": ("Comuni / Municipalities", "Municipalities with population and indicators"),
    "services": ("Servizi / Services", "Service points by category (hospital, pharmacy, ...)"),
    "offers": ("Offerte di welfare / Welfare offers", "Territorial welfare offers published"),
}

CollectionId = Annotated[
    str, Path(pattern=r"^(municipalities|services|offers)$", examples=["municipalities"])
]


def _base(request: Request, settings: Settings) -> str:
    if settings.public_url:
        return settings.public_url.rstrip("/") + "/ogc"
    return str(request.base_url).rstrip("/") + "/ogc"


def _collection(cid: str, base: str, data: TerritoryData) -> dict[str, Any]:
    title, desc = _COLLECTIONS[cid]
    x0, y0, x1, y1 = data.bounds
    return {
        "id": cid,
        "title": title,
        "description": desc,
        "itemType": "feature",
        "crs": [CRS84],
        "extent": {"spatial": {"bbox": [[x0, y0, x1, y1]], "crs": CRS84}},
        "links": [
            {"href": f"{base}/collections/{cid}", "rel": "self", "type": "application/json"},
            {"href": f"{base}/collections/{cid}/items", "rel": "items", "type": GEOJSON},
        ],
    }


@router.get("", response_model=LandingPage, summary="OGC API landing page")
def landing(request: Request, settings: Conf) -> Any:
    """Landing page of the OGC API - Features service."""
    base = _base(request, settings)
    root = base.removesuffix("/ogc")
    return {
        "title": "Welfare Point Territoriale - OGC API Features",
        "description": "Comuni, servizi e offerte di welfare come layer GeoJSON",
        "links": [
            {"href": base, "rel": "self", "type": "application/json"},
            {
                "href": f"{root}/openapi.json",
                "rel": "service-desc",
                "type": "application/vnd.oai.openapi+json;version=3.0",
            },
            {"href": f"{root}/docs", "rel": "service-doc", "type": "text/html"},
            {"href": f"{base}/conformance", "rel": "conformance", "type": "application/json"},
            {"href": f"{base}/collections", "rel": "data", "type": "application/json"},
        ],
    }


@router.get("/conformance", response_model=Conformance, summary="Conformance classes")
def conformance() -> Any:
    """List the conformance classes implemented."""
    return {"conformsTo": CONFORMANCE}


@router.get("/collections", response_model=Collections, summary="Collections")
def collections(request: Request, settings: Conf, data: Data) -> Any:
    """List the feature collections: municipalities, services, offers."""
    base = _base(request, settings)
    return {
        "links": [{"href": f"{base}/collections", "rel": "self", "type": "application/json"}],
        "collections": [_collection(c, base, data) for c in _COLLECTIONS],
    }


@router.get(
    "/collections/{collection_id}",
    response_model=Collection,
    summary="One collection",
    responses={404: {"model": Problem}},
)
def collection(collection_id: CollectionId, request: Request, settings: Conf, data: Data) -> Any:
    """Describe one collection."""
    return _collection(collection_id, _base(request, settings), data)


def _items_links(
    request: Request, base: str, cid: str, *, total: int, limit: int, offset: int
) -> list[dict[str, Any]]:
    url = request.url
    links = [
        {"href": str(url), "rel": "self", "type": GEOJSON},
        {"href": f"{base}/collections/{cid}", "rel": "collection", "type": "application/json"},
    ]
    if offset + limit < total:
        links.append(
            {
                "href": str(url.include_query_params(offset=offset + limit, limit=limit)),
                "rel": "next",
                "type": GEOJSON,
            }
        )
    if offset > 0:
        links.append(
            {
                "href": str(url.include_query_params(offset=max(0, offset - limit), limit=limit)),
                "rel": "prev",
                "type": GEOJSON,
            }
        )
    return links


@router.get(
    "/collections/{collection_id}/items",
    summary="Features of a collection",
    responses={
        200: {"content": {GEOJSON: {"schema": {"$ref": "#/components/schemas/FeatureCollection"}}}},
        404: {"model": Problem},
        422: {"model": Problem},
    },
)
def items(
    collection_id: CollectionId,
    request: Request,
    settings: Conf,
    data: Data,
    session: Db,
    bbox: Annotated[str | None, Query(description="minlon,minlat,maxlon,maxlat (CRS84)")] = None,
    limit: Annotated[int, Query(ge=1)] = 10,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Any:
    """Features of a collection, GeoJSON, with bbox filter and next/prev links."""
    check_limit(limit, settings)
    box = parse_bbox(bbox)
    base = _base(request, settings)
    features: list[dict[str, Any]]
    if collection_id == "municipalities":
        rows = municipality_summaries(data)
        if box is not None:
            hits = set(data.municipalities_in_bbox(box))
            rows = [m for m in rows if m["pro_com_t"] in hits]
        total = len(rows)
        features = [
            {
                "type": "Feature",
                "id": m["pro_com_t"],
                "geometry": data.geometries[m["pro_com_t"]],
                "properties": m,
            }
            for m in rows[offset : offset + limit]
        ]
    elif collection_id == "services":
        idx = filter_services(data, bbox=box)
        total = len(idx)
        page = data.services.iloc[idx[offset : offset + limit]]
        features = [service_feature(service_dict(r)) for _, r in page.iterrows()]
    else:
        stmt = offers_query(caller=None, bbox=box)
        total = int(session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
        offers = session.scalars(
            stmt.options(selectinload(Offer.served), selectinload(Offer.organisation))
            .order_by(Offer.id)
            .offset(offset)
            .limit(limit)
        ).all()
        features = [offer_feature(offer_dict(o)) for o in offers]
    return geojson_response(
        {
            "type": "FeatureCollection",
            "features": features,
            "numberMatched": total,
            "numberReturned": len(features),
            "links": _items_links(
                request, base, collection_id, total=total, limit=limit, offset=offset
            ),
        }
    )


@router.get(
    "/collections/{collection_id}/items/{feature_id:path}",
    summary="One feature",
    responses={
        200: {"content": {GEOJSON: {"schema": {"$ref": "#/components/schemas/Feature"}}}},
        404: {"model": Problem},
    },
)
def item(
    collection_id: CollectionId,
    feature_id: Annotated[str, Path(max_length=200)],
    request: Request,
    settings: Conf,
    data: Data,
    session: Db,
) -> Any:
    """One feature by id (ISTAT code, service id or offer id)."""
    base = _base(request, settings)
    feat: dict[str, Any]
    if collection_id == "municipalities":
        summaries = {m["pro_com_t"]: m for m in municipality_summaries(data)}
        if feature_id not in summaries:
            raise NotFoundError(f"no municipality with ISTAT code {feature_id!r}")
        feat = {
            "type": "Feature",
            "id": feature_id,
            "geometry": data.geometries[feature_id],
            "properties": summaries[feature_id],
        }
    elif collection_id == "services":
        if feature_id not in data.services.index:
            raise NotFoundError(f"no service with id {feature_id!r}")
        feat = service_feature(service_dict(data.service(feature_id)))
    else:
        o = None
        if feature_id.isdigit() and len(feature_id) < 10:
            o = session.scalars(
                offers_query(caller=None)
                .where(Offer.id == int(feature_id))
                .options(selectinload(Offer.served), selectinload(Offer.organisation))
            ).first()
        if o is None:
            raise NotFoundError(f"no offer with id {feature_id!r}")
        feat = offer_feature(offer_dict(o))
    feat["links"] = [
        {"href": str(request.url), "rel": "self", "type": GEOJSON},
        {
            "href": f"{base}/collections/{collection_id}",
            "rel": "collection",
            "type": "application/json",
        },
    ]
    return geojson_response(feat)
