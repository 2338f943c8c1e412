"""Service points: filter by bbox, category and municipality, with paging."""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse

from territorio.api._links import GEOJSON, geojson_page, geojson_response, json_page
from territorio.api._state import TerritoryData
from territorio.api._views import service_dict, service_dicts
from territorio.api.dependencies import (
    BBOX_PATTERN,
    OutputFormat,
    get_data,
    get_settings,
    page_limit,
    parse_bbox,
)
from territorio.api.models import Problem, ServiceCategory, ServiceList, ServiceOut
from territorio.api.settings import Settings
from territorio.categories import check_category
from territorio.errors import NotFoundError

__all__ = ["filter_services", "router", "service_feature"]

router = APIRouter(prefix="/services", tags=["services"])

Data = Annotated[TerritoryData, Depends(get_data)]
Conf = Annotated[Settings, Depends(get_settings)]


def filter_services(
    data: TerritoryData,
    *,
    bbox: tuple[float, float, float, float] | None = None,
    categories: list[str] | None = None,
    municipality: str | None = None,
) -> np.ndarray:
    """Positions of the services matching every filter (vectorised)."""
    svc = data.services
    keep = np.ones(len(svc), dtype=bool)
    if bbox is not None:
        x0, y0, x1, y1 = bbox
        keep &= (data.service_lon >= x0) & (data.service_lon <= x1)
        keep &= (data.service_lat >= y0) & (data.service_lat <= y1)
    if categories:
        for i, c in enumerate(categories):
            check_category(c, where=f"query parameter category[{i}]")
        keep &= svc["category"].isin(categories).to_numpy()
    if municipality is not None:
        data.municipality(municipality)  # 404 for an unknown code
        keep &= (svc["pro_com_t"].astype("string") == municipality).fillna(False).to_numpy()
    return np.flatnonzero(keep)


def service_feature(item: dict[str, Any]) -> dict[str, Any]:
    """Return a service dict as a GeoJSON Feature."""
    props = {k: v for k, v in item.items() if k not in ("lon", "lat")}
    return {
        "type": "Feature",
        "id": item["service_id"],
        "geometry": {"type": "Point", "coordinates": [item["lon"], item["lat"]]},
        "properties": props,
    }


@router.get(
    "",
    response_model=ServiceList,
    summary="Servizi / Services",
    responses={
        200: {
            "description": "A page of services (GeoJSON with f=geojson)",
            "content": {GEOJSON: {"schema": {"$ref": "#/components/schemas/FeatureCollection"}}},
        },
        404: {"model": Problem, "description": "unknown municipality"},
        422: {"model": Problem},
    },
)
def list_services(
    request: Request,
    data: Data,
    settings: Conf,
    fmt: OutputFormat,
    bbox: Annotated[
        str | None,
        Query(
            description="minlon,minlat,maxlon,maxlat (WGS84)",
            examples=["7.60,45.03,7.72,45.10"],
            pattern=BBOX_PATTERN,
        ),
    ] = None,
    category: Annotated[
        list[ServiceCategory] | None, Query(description="service categories (see /categories)")
    ] = None,
    municipality: Annotated[
        str | None, Query(pattern=r"^\d{6}$", description="ISTAT code", examples=["001272"])
    ] = None,
    limit: Annotated[int, Query(ge=1)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Any:
    """List services inside a bounding box, of some categories, in a municipality."""
    limit = page_limit(limit, settings)
    idx = filter_services(
        data, bbox=parse_bbox(bbox), categories=category, municipality=municipality
    )
    total = len(idx)
    rows = service_dicts(data)
    items = [rows[int(i)] for i in idx[offset : offset + limit]]
    if fmt == "geojson":
        return geojson_page(
            request,
            [service_feature(i) for i in items],
            total=total,
            limit=limit,
            offset=offset,
        )
    # Built from validated dicts: skip FastAPI's second validation on this hot path.
    return JSONResponse(json_page(request, items, total=total, limit=limit, offset=offset))


@router.get(
    "/{service_id:path}",
    response_model=ServiceOut,
    summary="Un servizio / One service",
    responses={
        200: {
            "description": "The service (a GeoJSON Feature with f=geojson)",
            "content": {GEOJSON: {"schema": {"$ref": "#/components/schemas/Feature"}}},
        },
        404: {"model": Problem},
    },
)
def get_service(
    service_id: Annotated[str, Path(max_length=200, examples=["osm:node/123"])],
    data: Data,
    fmt: OutputFormat,
) -> Any:
    """Return one service by its ``service_id``."""
    if service_id not in data.services.index:
        raise NotFoundError(f"no service with id {service_id!r}; search them at /services")
    item = service_dict(data.service(service_id))
    if fmt == "geojson":
        return geojson_response(service_feature(item))
    return item
