"""Accessibility per category, from the bundle's ``access_municipalities`` layer."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from territorio.api._links import GEOJSON, geojson_response
from territorio.api._state import TerritoryData
from territorio.api._views import category_indicator
from territorio.api.dependencies import CATEGORY_SCHEMA, OutputFormat, get_data
from territorio.api.errors import ServiceUnavailableError
from territorio.api.models import AccessibilityList, Problem
from territorio.categories import check_category

__all__ = ["router"]

router = APIRouter(prefix="/accessibility", tags=["accessibility"])

Data = Annotated[TerritoryData, Depends(get_data)]


def _access(data: TerritoryData) -> Any:
    if data.access is None:
        raise ServiceUnavailableError(
            "this bundle has no accessibility indicators; run: territorio access"
        )
    return data.access


@router.get(
    "/{category}",
    response_model=AccessibilityList,
    summary="Accessibilità per categoria / Accessibility of a category",
    responses={
        200: {
            "description": "One row per municipality (GeoJSON with f=geojson)",
            "content": {GEOJSON: {"schema": {"$ref": "#/components/schemas/FeatureCollection"}}},
        },
        404: {"model": Problem},
        422: {"model": Problem},
        503: {"model": Problem},
    },
)
def category_accessibility(
    category: Annotated[
        str, Path(max_length=40, examples=["pharmacy"], json_schema_extra=CATEGORY_SCHEMA)
    ],
    data: Data,
    fmt: OutputFormat,
    municipality: Annotated[
        list[str] | None, Query(description="ISTAT codes to keep (default: all)")
    ] = None,
    status: Annotated[str | None, Query(pattern=r"^(ok|partial|outside_coverage|no_data)$")] = None,
) -> Any:
    """Travel times and residents beyond 15/30/45/60 minutes, for every municipality."""
    check_category(category, where="path parameter category")
    table = _access(data)
    rows = table[table["category"] == category]
    if municipality:
        for code in municipality:
            data.municipality(code)
        rows = rows[rows["pro_com_t"].isin(municipality)]
    if status:
        rows = rows[rows["status"] == status]
    names = data.municipalities["name"]
    items = []
    for _, r in rows.sort_values("pro_com_t").iterrows():
        code = str(r["pro_com_t"])
        ind = category_indicator(data, r)
        ind["pro_com_t"] = code
        ind["name"] = str(names.get(code, ""))
        items.append(ind)
    if fmt == "geojson":
        return geojson_response(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "id": i["pro_com_t"],
                        "geometry": data.geometries.get(i["pro_com_t"]),
                        "properties": {
                            k: v for k, v in i.items() if k not in ("thresholds", "nearest")
                        }
                        | {
                            f"{f}_{t['minutes']}": t.get(f)
                            for t in i["thresholds"]
                            for f in ("pop_beyond", "pop65_beyond", "share_beyond")
                        },
                    }
                    for i in items
                ],
                "numberMatched": len(items),
                "numberReturned": len(items),
            }
        )
    return {"category": category, "total": len(items), "items": items}
