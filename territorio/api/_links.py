"""Paging links and GeoJSON responses."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

__all__ = [
    "GEOJSON",
    "geojson_page",
    "geojson_response",
    "json_bytes_response",
    "json_page",
    "page_links",
    "public_base",
]

GEOJSON = "application/geo+json"


def public_base(request: Request) -> str:
    """Return the base URL of the links the API writes, without a trailing slash.

    The configured ``public_url`` when set (a server behind a proxy), else
    the request's base URL: its ``Host`` header has been checked against the
    allowed hosts by the middleware (an unknown one is replaced by the
    server's own address), so a client never chooses the links' host.
    """
    settings = getattr(getattr(request.scope.get("app"), "state", None), "settings", None)
    configured = getattr(settings, "public_url", None)
    if configured:
        return str(configured).rstrip("/")
    return str(request.base_url).rstrip("/")


def page_links(
    request: Request, *, total: int, limit: int, offset: int, media: str = "application/json"
) -> list[dict[str, Any]]:
    """``self``, ``next`` and ``prev`` links for a page, keeping the other parameters."""
    url = request.url
    links = [{"href": str(url), "rel": "self", "type": media}]
    if offset + limit < total:
        nxt = url.include_query_params(offset=offset + limit, limit=limit)
        links.append({"href": str(nxt), "rel": "next", "type": media})
    if offset > 0:
        prv = url.include_query_params(offset=max(0, offset - limit), limit=limit)
        links.append({"href": str(prv), "rel": "prev", "type": media})
    return links


def json_page(
    request: Request, items: list[Any], *, total: int, limit: int, offset: int
) -> dict[str, Any]:
    """Return one page of a JSON list: ``total``, ``limit``, ``offset``, ``items``, ``links``."""
    return {
        "total": total,
        "limit": limit,
        "offset": offset,
        "items": items,
        "links": page_links(request, total=total, limit=limit, offset=offset),
    }


def geojson_page(
    request: Request, features: list[dict[str, Any]], *, total: int, limit: int, offset: int
) -> JSONResponse:
    """Return one page of a GeoJSON FeatureCollection with OGC counts and paging links."""
    return geojson_response(
        {
            "type": "FeatureCollection",
            "features": features,
            "numberMatched": total,
            "numberReturned": len(features),
            "links": page_links(request, total=total, limit=limit, offset=offset, media=GEOJSON),
        }
    )


def geojson_response(payload: Any, *, status_code: int = 200) -> JSONResponse:
    """Return a JSON response with the GeoJSON media type."""
    return JSONResponse(payload, status_code=status_code, media_type=GEOJSON)


def json_bytes_response(body: bytes, *, media_type: str = "application/json") -> Response:
    """Return a response from pre-serialised bytes."""
    return Response(content=body, media_type=media_type)


def geojson_content(description: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entry declaring the GeoJSON alternative of a 200."""
    return {
        200: {
            "description": description,
            "content": {GEOJSON: {"schema": {"$ref": "#/components/schemas/FeatureCollection"}}},
        }
    }
