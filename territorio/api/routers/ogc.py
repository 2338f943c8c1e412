"""OGC API - Features (Part 1 Core, GeoJSON; Part 3 queryables): municipalities, services, offers.

Add ``<server>/ogc`` in QGIS as an "OGC API - Features" (WFS 3) connection,
or read it with GDAL (``ogrinfo OAPIF:<server>/ogc``) or owslib.

Each collection lists the properties it filters on at
``/collections/{id}/queryables`` (a JSON Schema, Part 3) and takes them as
query parameters of ``/items`` (``?category=pharmacy&category=hospital&pro_com_t=001272``);
a parameter an ``/items`` request does not know is a 400, never silently
ignored. ``limit`` above the maximum page size is clamped to it. Extents are
computed from each collection's own features.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

import numpy as np
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import StringConstraints
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from territorio.api._links import GEOJSON, geojson_response
from territorio.api._state import TerritoryData
from territorio.api._views import municipality_summaries, service_dict, service_dicts
from territorio.api.dependencies import (
    BBOX_PATTERN,
    get_data,
    get_db,
    get_settings,
    page_limit,
    parse_bbox,
)
from territorio.api.errors import BadRequestError, ServiceUnavailableError
from territorio.api.models import (
    Collection,
    Collections,
    Conformance,
    LandingPage,
    OfferCategory,
    Problem,
    ServiceCategory,
)
from territorio.api.routers.offers import offer_dict, offer_feature, offers_query
from territorio.api.routers.services import filter_services, service_feature
from territorio.api.settings import Settings
from territorio.categories import CATEGORIES
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
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
]
QUERYABLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
SCHEMA_JSON = "application/schema+json"
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


#: Paging and format parameters every ``/items`` request takes, besides the queryables.
_ITEMS_PARAMS = frozenset({"bbox", "limit", "offset", "f"})
_OFFER_CATEGORIES: tuple[str, ...] = get_args(OfferCategory)
_ISTAT = {"type": "string", "pattern": r"^\d{6}$"}


def _queryables(cid: str, data: TerritoryData) -> dict[str, dict[str, Any]]:
    """Return the properties a collection filters on: name -> JSON Schema."""
    muni: dict[str, Any] = {
        **_ISTAT,
        "title": "Comune (codice ISTAT) / Municipality (ISTAT code)",
        "description": "6-digit ISTAT code; repeat the parameter for several",
    }
    if cid == "municipalities":
        out: dict[str, dict[str, Any]] = {"pro_com_t": muni}
        if "planning" in data.extras:
            out["snai_class"] = {
                "type": "string",
                "enum": ["A", "B", "C", "D", "E", "F"],
                "title": "Classe SNAI / SNAI class",
                "description": "repeat the parameter for several",
            }
        return out
    if cid == "services":
        cats = list(CATEGORIES)
        muni = {**muni, "description": muni["description"] + " (where the service is)"}
    else:
        cats = list(_OFFER_CATEGORIES)
        muni = {
            **muni,
            "description": muni["description"] + " (where the offer is, or a comune it serves)",
        }
    return {
        "category": {
            "type": "string",
            "enum": cats,
            "title": "Categoria / Category",
            "description": "repeat the parameter for several",
        },
        "pro_com_t": muni,
    }


def _extent(cid: str, data: TerritoryData, session: Session) -> list[float] | None:
    """Bounding box of a collection's own features, None when it has none."""
    if cid == "municipalities":
        return list(data.bounds)
    if cid == "services":
        return data.derived("services_extent", lambda: _points_bbox(data))
    row = session.execute(
        offers_query(caller=None).with_only_columns(
            func.min(Offer.lon), func.min(Offer.lat), func.max(Offer.lon), func.max(Offer.lat)
        )
    ).one()
    if row[0] is None:
        return None
    return [float(v) for v in row]


def _points_bbox(data: TerritoryData) -> list[float]:
    lon, lat = data.service_lon, data.service_lat
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not ok.any():
        return []
    return [float(lon[ok].min()), float(lat[ok].min()), float(lon[ok].max()), float(lat[ok].max())]


def _collection(cid: str, base: str, data: TerritoryData, session: Session) -> dict[str, Any]:
    title, desc = _COLLECTIONS[cid]
    bbox = _extent(cid, data, session)
    # no features, no extent: OGC's extent is optional, an invented one is not
    extent = {"spatial": {"bbox": [bbox], "crs": CRS84}} if bbox else {}
    return {
        "id": cid,
        "title": title,
        "description": desc,
        "itemType": "feature",
        "crs": [CRS84],
        "extent": extent,
        "links": [
            {"href": f"{base}/collections/{cid}", "rel": "self", "type": "application/json"},
            {"href": f"{base}/collections/{cid}/items", "rel": "items", "type": GEOJSON},
            {
                "href": f"{base}/collections/{cid}/queryables",
                "rel": QUERYABLES_REL,
                "type": SCHEMA_JSON,
                "title": "Queryables",
            },
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
def collections(request: Request, settings: Conf, data: Data, session: Db) -> Any:
    """List the feature collections: municipalities, services, offers."""
    base = _base(request, settings)
    return {
        "links": [{"href": f"{base}/collections", "rel": "self", "type": "application/json"}],
        "collections": [_collection(c, base, data, session) for c in _COLLECTIONS],
    }


@router.get(
    "/collections/{collection_id}",
    response_model=Collection,
    summary="One collection",
    responses={404: {"model": Problem}},
)
def collection(
    collection_id: CollectionId, request: Request, settings: Conf, data: Data, session: Db
) -> Any:
    """Describe one collection."""
    return _collection(collection_id, _base(request, settings), data, session)


@router.get(
    "/collections/{collection_id}/queryables",
    summary="Queryables of a collection",
    responses={
        200: {
            "description": "The properties /items filters on, as a JSON Schema (Part 3)",
            "content": {SCHEMA_JSON: {"schema": {"type": "object"}}},
        },
        404: {"model": Problem},
        422: {"model": Problem},
    },
)
def queryables(
    collection_id: CollectionId, request: Request, settings: Conf, data: Data
) -> Response:
    """List the properties a collection's ``/items`` filters on (OGC API - Features Part 3).

    Each one is also a query parameter of ``/items``, compared for equality;
    a parameter repeated matches any of its values.
    """
    base = _base(request, settings)
    body = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{base}/collections/{collection_id}/queryables",
        "type": "object",
        "title": _COLLECTIONS[collection_id][0],
        "properties": _queryables(collection_id, data),
        "additionalProperties": False,
    }
    return JSONResponse(body, media_type=SCHEMA_JSON)


def _reject_unknown(request: Request, cid: str, data: TerritoryData) -> None:
    """Raise a 400 for a query parameter ``/items`` of this collection does not know."""
    known = _ITEMS_PARAMS | set(_queryables(cid, data))
    for name in request.query_params:
        if name in known:
            continue
        what = (
            "is not supported (these features have no time)"
            if name == "datetime"
            else "is not a parameter of this collection"
        )
        raise BadRequestError(
            f"query.{name}",
            f"{name!r} {what}; the parameters are {', '.join(sorted(known))}: the "
            f"filters are listed at /ogc/collections/{cid}/queryables",
        )


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


def _page(
    request: Request,
    base: str,
    cid: str,
    features: list[dict[str, Any]],
    *,
    total: int,
    limit: int,
    offset: int,
) -> Any:
    return geojson_response(
        {
            "type": "FeatureCollection",
            "features": features,
            "numberMatched": total,
            "numberReturned": len(features),
            "links": _items_links(request, base, cid, total=total, limit=limit, offset=offset),
        }
    )


_ITEMS_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "A page of features (GeoJSON)",
        "content": {GEOJSON: {"schema": {"$ref": "#/components/schemas/FeatureCollection"}}},
    },
    400: {"model": Problem, "description": "a query parameter this collection does not know"},
    422: {"model": Problem},
}
Bbox = Annotated[
    str | None,
    Query(
        description="minlon,minlat,maxlon,maxlat (CRS84)",
        examples=["7,45,8,46"],
        pattern=BBOX_PATTERN,
    ),
]
Limit = Annotated[
    int, Query(ge=1, description="page size; a larger value is clamped to the maximum")
]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]
Format = Annotated[
    Literal["json", "geojson"] | None,
    Query(description="accepted for clients that send it: the items are always GeoJSON"),
]
IstatCodes = Annotated[
    list[Annotated[str, StringConstraints(pattern=r"^\d{6}$")]] | None,
    Query(description="ISTAT codes (repeat the parameter for several)", examples=[["001272"]]),
]
ServiceCategories = Annotated[
    list[ServiceCategory] | None,
    Query(description="service categories (repeat the parameter for several)"),
]
OfferCategories = Annotated[
    list[OfferCategory] | None,
    Query(description="offer categories (repeat the parameter for several)"),
]
SnaiClasses = Annotated[
    list[Literal["A", "B", "C", "D", "E", "F"]] | None,
    Query(description="SNAI classes (needs the planning results)"),
]


@router.get(
    "/collections/municipalities/items",
    summary="Comuni / Municipalities (features)",
    responses={**_ITEMS_RESPONSES, 503: {"model": Problem, "description": "no planning results"}},
)
def municipality_items(
    request: Request,
    settings: Conf,
    data: Data,
    bbox: Bbox = None,
    limit: Limit = 100,
    offset: Offset = 0,
    f: Format = None,
    pro_com_t: IstatCodes = None,
    snai_class: SnaiClasses = None,
) -> Any:
    """Municipalities as GeoJSON polygons, by bbox, ISTAT code and SNAI class."""
    if snai_class and "planning" not in data.extras:
        raise ServiceUnavailableError(
            "this bundle has no planning results (SNAI class); run: territorio plan"
        )
    _reject_unknown(request, "municipalities", data)
    limit = page_limit(limit, settings)
    box = parse_bbox(bbox)
    rows = municipality_summaries(data)
    if box is not None:
        hits = set(data.municipalities_in_bbox(box))
        rows = [m for m in rows if m["pro_com_t"] in hits]
    if pro_com_t:
        codes = set(pro_com_t)
        rows = [m for m in rows if m["pro_com_t"] in codes]
    if snai_class:
        classes = set(snai_class)
        rows = [m for m in rows if m["snai_class"] in classes]
    features = [
        {
            "type": "Feature",
            "id": m["pro_com_t"],
            "geometry": data.geometries[m["pro_com_t"]],
            "properties": m,
        }
        for m in rows[offset : offset + limit]
    ]
    base = _base(request, settings)
    return _page(
        request, base, "municipalities", features, total=len(rows), limit=limit, offset=offset
    )


@router.get(
    "/collections/services/items",
    summary="Servizi / Services (features)",
    responses=_ITEMS_RESPONSES,
)
def service_items(
    request: Request,
    settings: Conf,
    data: Data,
    bbox: Bbox = None,
    limit: Limit = 100,
    offset: Offset = 0,
    f: Format = None,
    category: ServiceCategories = None,
    pro_com_t: IstatCodes = None,
) -> Any:
    """Service points as GeoJSON, by bbox, category and municipality."""
    _reject_unknown(request, "services", data)
    limit = page_limit(limit, settings)
    idx = filter_services(data, bbox=parse_bbox(bbox), categories=category)
    if pro_com_t:
        where = data.services["pro_com_t"].astype("string").fillna("").to_numpy(dtype=object)
        idx = idx[np.isin(where[idx], pro_com_t)]
    rows = service_dicts(data)
    features = [service_feature(rows[int(i)]) for i in idx[offset : offset + limit]]
    base = _base(request, settings)
    return _page(request, base, "services", features, total=len(idx), limit=limit, offset=offset)


@router.get(
    "/collections/offers/items",
    summary="Offerte / Welfare offers (features)",
    responses=_ITEMS_RESPONSES,
)
def offer_items(
    request: Request,
    settings: Conf,
    data: Data,
    session: Db,
    bbox: Bbox = None,
    limit: Limit = 100,
    offset: Offset = 0,
    f: Format = None,
    category: OfferCategories = None,
    pro_com_t: IstatCodes = None,
) -> Any:
    """Public welfare offers as GeoJSON points, by bbox, category and municipality.

    ``pro_com_t`` keeps the offers located in, or serving, one of the comuni.
    """
    _reject_unknown(request, "offers", data)
    limit = page_limit(limit, settings)
    stmt = offers_query(
        caller=None,
        bbox=parse_bbox(bbox),
        categories=list(category) if category else None,
        municipalities=pro_com_t,
    )
    total = int(session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    offers = session.scalars(
        stmt.options(selectinload(Offer.served), selectinload(Offer.organisation))
        .order_by(Offer.id)
        .offset(offset)
        .limit(limit)
    ).all()
    features = [offer_feature(offer_dict(o)) for o in offers]
    base = _base(request, settings)
    return _page(request, base, "offers", features, total=total, limit=limit, offset=offset)


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
