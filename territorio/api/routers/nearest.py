"""The k nearest services of a category by car travel time from a point."""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from territorio.api._links import GEOJSON, geojson_response
from territorio.api._state import TerritoryData
from territorio.api._views import service_dicts
from territorio.api.dependencies import CATEGORY_SCHEMA, OutputFormat, get_data
from territorio.api.models import NearestList, Problem
from territorio.api.routers.services import service_feature
from territorio.categories import check_category

__all__ = ["category_points", "router", "warm_up"]

router = APIRouter(tags=["accessibility"])

Data = Annotated[TerritoryData, Depends(get_data)]


def category_points(data: TerritoryData, engine: Any, category: str) -> tuple[np.ndarray, Any]:
    """Positions of a category's services in the layer and their search targets (cached)."""
    pos = data.derived(
        f"positions:{category}",
        lambda: np.flatnonzero((data.services["category"] == category).to_numpy()),
    )
    targets = engine.targets(
        data.service_lon[pos], data.service_lat[pos], key=f"services:{category}"
    )
    return pos, targets


def category_data(data: TerritoryData, category: str, n_services: int) -> tuple[str, str | None]:
    """Say whether the bundle's sources cover a category: ``(status, note)``.

    ``no_data`` when no source has the category (a data gap, never to be read
    as "nothing nearby"); ``partial`` when its sources cover only some
    municipalities (``coverage`` in the manifest's ``service_categories``).
    """
    info = (data.bundle.manifest.get("service_categories") or {}).get(category) or {}
    if n_services == 0:
        return "no_data", (
            f"no source of this territory's data has {category!r} services: the empty "
            "list is a gap in the data, not a service desert; add a source for it to the "
            "build configuration"
        )
    coverage = info.get("coverage", "area")
    if isinstance(coverage, list):
        return "partial", (
            f"the sources of {category!r} cover only the municipalities "
            f"{', '.join(map(str, coverage))}: services elsewhere are missing from the "
            "data, so nearer ones may exist outside them"
        )
    return "ok", None


def warm_up(data: TerritoryData, engine: Any) -> None:
    """Snap every category's services now, so no request pays for it."""
    if engine.available:
        for category in data.services["category"].unique():
            category_points(data, engine, str(category))


@router.get(
    "/nearest",
    response_model=NearestList,
    summary="Servizi più vicini / Nearest services by travel time",
    responses={
        200: {
            "description": "Services sorted by car travel time (GeoJSON with f=geojson)",
            "content": {GEOJSON: {"schema": {"$ref": "#/components/schemas/FeatureCollection"}}},
        },
        422: {"model": Problem, "description": "point outside the area, bad category or limits"},
    },
)
async def nearest_services(
    request: Request,
    data: Data,
    fmt: OutputFormat,
    lon: Annotated[float, Query(ge=-180, le=180, examples=[7.6858])],
    lat: Annotated[float, Query(ge=-90, le=90, examples=[45.0703])],
    category: Annotated[
        str, Query(max_length=40, examples=["pharmacy"], json_schema_extra=CATEGORY_SCHEMA)
    ],
    k: Annotated[int, Query(ge=1, le=20, description="how many services")] = 3,
    max_minutes: Annotated[
        float, Query(gt=0, le=120, description="search radius in minutes")
    ] = 60.0,
) -> Any:
    """Return the ``k`` services of a category nearest by car from a point.

    Runs on the event loop, not in the threadpool: the search stops once the
    ``k`` nearest are certain (a few hundred junctions, well under a
    millisecond), less than the hand-over to a thread and back cost.
    """
    check_category(category, where="query parameter category")
    data.check_in_area(lon, lat, what="origin (query.lon, query.lat)")
    engine = request.app.state.engine
    if engine.available and engine._net is None:  # not warmed up: build it off the loop
        await run_in_threadpool(lambda: engine.network)
        await run_in_threadpool(category_points, data, engine, category)
    pos, targets = category_points(data, engine, category)
    status, note = category_data(data, category, len(pos))
    items: list[dict[str, Any]] = []
    if status != "no_data":
        times, order = engine.nearest_from(
            lon, lat, targets, k=k, limit_s=max_minutes * 60.0, what="origin"
        )
        rows = service_dicts(data)
        items = [
            {**rows[int(pos[i])], "time_min": round(float(t) / 60.0, 2), "rank": rank}
            for rank, (t, i) in enumerate(zip(times, order, strict=True), start=1)
        ]
    if fmt == "geojson":
        return geojson_response(
            {
                "type": "FeatureCollection",
                "features": [service_feature(i) for i in items],
                "numberMatched": len(items),
                "numberReturned": len(items),
                "data": status,
                "note": note,
            }
        )
    return {
        "origin": {"lon": lon, "lat": lat},
        "category": category,
        "max_minutes": max_minutes,
        "data": status,
        "note": note,
        "items": items,
    }
