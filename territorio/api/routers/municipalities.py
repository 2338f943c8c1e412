"""Municipalities: list with filters, detail with every indicator."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from territorio.api._links import GEOJSON, geojson_page, json_page
from territorio.api._state import TerritoryData
from territorio.api._views import municipality_detail, municipality_summaries
from territorio.api.dependencies import OutputFormat, get_data, get_settings, page_limit
from territorio.api.errors import InvalidParameterError, ServiceUnavailableError
from territorio.api.models import MunicipalityDetail, MunicipalityList, Problem
from territorio.api.settings import Settings
from territorio.search import match_names, search_key

__all__ = ["detail_body", "router", "warm_up"]

router = APIRouter(prefix="/municipalities", tags=["municipalities"])

Data = Annotated[TerritoryData, Depends(get_data)]
Conf = Annotated[Settings, Depends(get_settings)]
IstatPath = Annotated[
    str,
    Path(
        pattern=r"^\d{6}$",
        description="6-digit ISTAT code (PRO_COM_T)",
        examples=["001272"],
    ),
]
SnaiClass = Literal["A", "B", "C", "D", "E", "F"]


@router.get(
    "",
    response_model=MunicipalityList,
    summary="Elenco dei comuni / List municipalities",
    responses={
        200: {
            "description": "A page of municipalities (GeoJSON with f=geojson)",
            "content": {GEOJSON: {"schema": {"$ref": "#/components/schemas/FeatureCollection"}}},
        },
        422: {"model": Problem},
        503: {"model": Problem},
    },
)
def list_municipalities(
    request: Request,
    data: Data,
    settings: Conf,
    fmt: OutputFormat,
    q: Annotated[
        str | None,
        Query(
            max_length=100,
            description=(
                "part of the name; case, accents, apostrophes, hyphens and spaces are "
                "ignored (the same search as /wpt/cerca); blank: no filter"
            ),
            examples=["val"],
        ),
    ] = None,
    snai_class: Annotated[
        list[SnaiClass] | None, Query(description="SNAI classes to keep (A..F)")
    ] = None,
    score_min: Annotated[float | None, Query(ge=0, le=100)] = None,
    score_max: Annotated[float | None, Query(ge=0, le=100)] = None,
    limit: Annotated[int, Query(ge=1, description="page size")] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Any:
    """List the municipalities of the territory, filtered by name, SNAI class and score."""
    limit = page_limit(limit, settings)
    if score_min is not None and score_max is not None and score_min > score_max:
        raise InvalidParameterError("query.score_min", "score_min must not exceed score_max")
    items = municipality_summaries(data)
    if q:
        keys = data.derived("name_keys", lambda: tuple(search_key(m["name"]) for m in items))
        hit = match_names(keys, q)
        if hit is not None:
            items = [m for m, ok in zip(items, hit, strict=True) if ok]
    if snai_class or score_min is not None or score_max is not None:
        if "planning" not in data.extras:
            raise ServiceUnavailableError(
                "this bundle has no planning results (SNAI class, marginality score); "
                "run: territorio plan"
            )
        if snai_class:
            items = [m for m in items if m["snai_class"] in snai_class]
        if score_min is not None:
            items = [
                m
                for m in items
                if m["marginality_score"] is not None and m["marginality_score"] >= score_min
            ]
        if score_max is not None:
            items = [
                m
                for m in items
                if m["marginality_score"] is not None and m["marginality_score"] <= score_max
            ]
    total = len(items)
    page = items[offset : offset + limit]
    if fmt == "geojson":
        features = [
            {
                "type": "Feature",
                "id": m["pro_com_t"],
                "geometry": data.geometries[m["pro_com_t"]],
                "properties": m,
            }
            for m in page
        ]
        return geojson_page(request, features, total=total, limit=limit, offset=offset)
    return json_page(request, page, total=total, limit=limit, offset=offset)


@router.get(
    "/{pro_com_t}",
    response_model=MunicipalityDetail,
    summary="Scheda del comune / Municipality detail",
    responses={
        200: {
            "description": "All indicators of a municipality (a GeoJSON Feature with f=geojson)",
            "content": {GEOJSON: {"schema": {"type": "object"}}},
        },
        404: {"model": Problem, "description": "unknown ISTAT code"},
        422: {"model": Problem},
    },
)
async def get_municipality(pro_com_t: IstatPath, data: Data, fmt: OutputFormat) -> Response:
    """Return a municipality with every indicator.

    Population, accessibility per category with the nearest service and its
    travel time, SNAI class, marginality score and cluster.
    """
    body = data.cache.get(("municipality", pro_com_t, fmt))
    if body is None:
        # 10-15 ms of pandas on Turin: never on the event loop (the JSON bodies of
        # every comune are built at start-up by warm_up; GeoJSON ones on first use)
        body = await run_in_threadpool(detail_body, data, pro_com_t, fmt)
    return Response(body, media_type=GEOJSON if fmt == "geojson" else "application/json")


def detail_body(data: TerritoryData, code: str, fmt: str) -> bytes:
    """Return (and cache) the serialised detail of a municipality, JSON or GeoJSON."""
    key = ("municipality", code, fmt)
    body = data.cache.get(key)
    if body is not None:
        return body
    detail = municipality_detail(data, code)
    if fmt == "geojson":
        payload: dict[str, Any] = {
            "type": "Feature",
            "id": code,
            "geometry": data.geometries[code],
            "properties": detail,
        }
    else:
        payload = MunicipalityDetail.model_validate(detail).model_dump(mode="json")
    body = data.to_json_bytes(payload)
    data.cache[key] = body
    return body


def warm_up(data: TerritoryData) -> None:
    """Build the JSON detail of every municipality now, so no request waits for one."""
    for code in data.municipalities.index:
        detail_body(data, str(code), "json")
