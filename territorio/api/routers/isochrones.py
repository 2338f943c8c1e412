"""Isochrones: the area reachable by car from a point within T minutes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from territorio.api._links import GEOJSON, geojson_response
from territorio.api._state import TerritoryData
from territorio.api.dependencies import get_data
from territorio.api.errors import InvalidParameterError
from territorio.api.models import Problem

__all__ = ["router"]

router = APIRouter(tags=["accessibility"])

Data = Annotated[TerritoryData, Depends(get_data)]


@router.get(
    "/isochrones",
    summary="Isocrone / Isochrones from a point",
    responses={
        200: {
            "description": "Nested isochrone polygons (GeoJSON), one per value of minutes",
            "content": {GEOJSON: {"schema": {"$ref": "#/components/schemas/FeatureCollection"}}},
        },
        422: {"model": Problem, "description": "point outside the area, minutes out of range"},
    },
)
def isochrones_from_point(
    request: Request,
    data: Data,
    lon: Annotated[float, Query(ge=-180, le=180, examples=[7.6858])],
    lat: Annotated[float, Query(ge=-90, le=90, examples=[45.0703])],
    minutes: Annotated[
        list[float] | None,
        Query(description="contour values, 1 to 60 minutes, at most 4", examples=[[10, 20]]),
    ] = None,
) -> Any:
    """Return the areas reachable by car from a point within each of ``minutes``."""
    from territorio.accessibility.isochrones import isochrones, isochrones_geojson

    values = sorted(set(minutes or [15.0]))
    if len(values) > 4:
        raise InvalidParameterError("query.minutes", "give at most 4 values")
    bad = [m for m in values if not 1 <= m <= 60]
    if bad:
        raise InvalidParameterError("query.minutes", f"{bad[0]:g} is not between 1 and 60")
    data.check_in_area(lon, lat, what="origin (query.lon, query.lat)")
    engine = request.app.state.engine
    engine.times_from(lon, lat, limit_s=1.0, what="origin")  # raises outside network coverage
    isos = isochrones(engine.network, [(lon, lat)], values)
    fc = isochrones_geojson(isos)
    fc["numberReturned"] = len(fc.get("features", []))
    return geojson_response(fc)
