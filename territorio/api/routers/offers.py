"""Territorial welfare offers: search for everyone, publish and edit with a token."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Depends, Path, Query, Request, Response
from sqlalchemy import Select, false, func, or_, select
from sqlalchemy.orm import Session, selectinload

from territorio.api._links import GEOJSON, geojson_page, geojson_response, json_page
from territorio.api._state import TerritoryData
from territorio.api.dependencies import (
    BBOX_PATTERN,
    OPTIONAL_AUTH,
    OptionalCaller,
    OutputFormat,
    Principal,
    RequiredCaller,
    as_utc,
    get_data,
    get_db,
    get_settings,
    page_limit,
    parse_bbox,
    utcnow,
)
from territorio.api.errors import (
    AuthenticationError,
    InvalidParameterError,
    PermissionDeniedError,
)
from territorio.api.models import (
    OfferCategory,
    OfferCreate,
    OfferList,
    OfferOut,
    OfferUpdate,
    Problem,
)
from territorio.api.settings import Settings
from territorio.db.models import Offer, OfferMunicipality, Organisation
from territorio.errors import NotFoundError

__all__ = ["offer_dict", "offer_dicts", "offer_feature", "offers_query", "router"]

router = APIRouter(prefix="/offers", tags=["offers"])

Data = Annotated[TerritoryData, Depends(get_data)]
Conf = Annotated[Settings, Depends(get_settings)]
Db = Annotated[Session, Depends(get_db)]
OfferId = Annotated[int, Path(ge=1, le=2**31 - 1)]

_WRITE_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "no or bad token"},
    403: {"model": Problem, "description": "not the owner nor an administrator"},
    404: {"model": Problem},
    422: {"model": Problem},
    429: {"model": Problem},
}


def offer_dict(o: Offer, *, travel_time_min: float | None = None) -> dict[str, Any]:
    """Return an offer as an :class:`OfferOut` dict."""
    return {
        "id": o.id,
        "organisation_id": o.organisation_id,
        "organisation": o.organisation.name,
        "title": o.title,
        "description": o.description,
        "category": o.category,
        "provider": o.provider,
        "lon": o.lon,
        "lat": o.lat,
        "pro_com_t": o.pro_com_t,
        "municipalities": o.municipalities,
        "contact": o.contact,
        "valid_from": o.valid_from,
        "valid_to": o.valid_to,
        "conditions": o.conditions,
        "hidden": o.hidden,
        "created_at": as_utc(o.created_at),
        "updated_at": as_utc(o.updated_at),
        "travel_time_min": travel_time_min,
    }


_ROW = (
    Offer.id, Offer.organisation_id, Organisation.name, Offer.title, Offer.description,
    Offer.category, Offer.provider, Offer.lon, Offer.lat, Offer.pro_com_t, Offer.contact,
    Offer.valid_from, Offer.valid_to, Offer.conditions, Offer.hidden, Offer.created_at,
    Offer.updated_at,
)  # fmt: skip


def offer_dicts(session: Session, ids: list[int]) -> dict[int, dict[str, Any]]:
    """Return the offers ``ids`` as :func:`offer_dict` dicts, by id, in two plain queries.

    The hot path of the search by travel time: rows and served municipalities
    read as tuples, without building ORM objects (which took most of its time).
    """
    if not ids:
        return {}
    served: dict[int, list[str]] = {}
    for oid, code in session.execute(
        select(OfferMunicipality.offer_id, OfferMunicipality.pro_com_t)
        .where(OfferMunicipality.offer_id.in_(ids))
        .order_by(OfferMunicipality.offer_id, OfferMunicipality.pro_com_t)
    ):
        served.setdefault(oid, []).append(code)
    out: dict[int, dict[str, Any]] = {}
    for r in session.execute(
        select(*_ROW)
        .join(Organisation, Organisation.id == Offer.organisation_id)
        .where(Offer.id.in_(ids))
    ):
        out[r[0]] = {
            "id": r[0], "organisation_id": r[1], "organisation": r[2], "title": r[3],
            "description": r[4], "category": r[5], "provider": r[6], "lon": r[7], "lat": r[8],
            "pro_com_t": r[9], "municipalities": served.get(r[0], []), "contact": r[10],
            "valid_from": r[11], "valid_to": r[12], "conditions": r[13], "hidden": r[14],
            "created_at": as_utc(r[15]), "updated_at": as_utc(r[16]), "travel_time_min": None,
        }  # fmt: skip
    return out


def offer_feature(item: dict[str, Any]) -> dict[str, Any]:
    """Return an offer dict as a GeoJSON Feature (dates as ISO strings)."""
    props = {
        k: (v.isoformat() if hasattr(v, "isoformat") else v)
        for k, v in item.items()
        if k not in ("lon", "lat")
    }
    return {
        "type": "Feature",
        "id": item["id"],
        "geometry": {"type": "Point", "coordinates": [item["lon"], item["lat"]]},
        "properties": props,
    }


def offers_query(
    *,
    caller: Principal | None = None,
    include_hidden: bool = False,
    categories: list[str] | None = None,
    municipality: str | None = None,
    municipalities: list[str] | None = None,
    text: str | None = None,
    active_on: date | None = None,
    organisation_id: int | None = None,
    bbox: tuple[float, float, float, float] | None = None,
) -> Select[Any]:
    """Build the SELECT of the offers visible to ``caller`` and matching the filters.

    ``municipality`` (one ISTAT code) or ``municipalities`` (any of several)
    keep the offers located in, or serving, those comuni.
    """
    stmt = select(Offer).where(Offer.deleted_at.is_(None))
    if not include_hidden:
        own = caller.organisation.id if caller and caller.organisation else None
        stmt = stmt.where(
            or_(Offer.hidden == false(), Offer.organisation_id == own)
            if own is not None
            else Offer.hidden == false()
        )
    if categories:
        stmt = stmt.where(Offer.category.in_(categories))
    codes = [municipality] if municipality else list(municipalities or [])
    if codes:
        served = select(OfferMunicipality.offer_id).where(OfferMunicipality.pro_com_t.in_(codes))
        stmt = stmt.where(or_(Offer.id.in_(served), Offer.pro_com_t.in_(codes)))
    if text:
        needle = text.lower()
        stmt = stmt.where(
            or_(
                func.lower(Offer.title).contains(needle, autoescape=True),
                func.lower(Offer.description).contains(needle, autoescape=True),
                func.lower(Offer.provider).contains(needle, autoescape=True),
            )
        )
    if active_on is not None:
        stmt = stmt.where(or_(Offer.valid_from.is_(None), Offer.valid_from <= active_on))
        stmt = stmt.where(or_(Offer.valid_to.is_(None), Offer.valid_to >= active_on))
    if organisation_id is not None:
        stmt = stmt.where(Offer.organisation_id == organisation_id)
    if bbox is not None:
        x0, y0, x1, y1 = bbox
        stmt = stmt.where(Offer.lon.between(x0, x1), Offer.lat.between(y0, y1))
    return stmt


def _load(session: Session, offer_id: int) -> Offer | None:
    return session.scalars(
        select(Offer)
        .where(Offer.id == offer_id, Offer.deleted_at.is_(None))
        .options(selectinload(Offer.served), selectinload(Offer.organisation))
    ).first()


def _visible(o: Offer, caller: Principal | None) -> bool:
    if not o.hidden:
        return True
    if caller is None:
        return False
    return caller.is_admin or (
        caller.organisation is not None and caller.organisation.id == o.organisation_id
    )


def _get_visible(session: Session, offer_id: int, caller: Principal | None) -> Offer:
    o = _load(session, offer_id)
    if o is None or not _visible(o, caller):
        raise NotFoundError(f"no offer with id {offer_id}")
    return o


def _check_owner(o: Offer, caller: Principal) -> None:
    if caller.is_admin:
        return
    if caller.organisation is None or caller.organisation.id != o.organisation_id:
        raise PermissionDeniedError(
            f"offer {o.id} belongs to another organisation; only its owner or an "
            "administrator may change it"
        )


def _check_place(
    data: TerritoryData, lon: float, lat: float, municipalities: list[str] | None
) -> str | None:
    data.check_in_area(lon, lat, what="offer location (body.lon, body.lat)")
    if municipalities:
        unknown = [c for c in municipalities if c not in data.municipalities.index]
        if unknown:
            raise InvalidParameterError(
                "body.municipalities",
                f"unknown ISTAT code(s) {', '.join(unknown[:5])} in this territory; "
                "list them at /municipalities",
            )
    return data.municipality_at(lon, lat)


@router.get(
    "",
    response_model=OfferList,
    summary="Cerca offerte / Search offers",
    openapi_extra=OPTIONAL_AUTH,
    responses={
        200: {
            "description": "A page of offers (GeoJSON with f=geojson)",
            "content": {GEOJSON: {"schema": {"$ref": "#/components/schemas/FeatureCollection"}}},
        },
        401: {"model": Problem},
        403: {"model": Problem},
        404: {"model": Problem, "description": "unknown municipality"},
        422: {"model": Problem},
    },
)
def search_offers(
    request: Request,
    data: Data,
    settings: Conf,
    session: Db,
    caller: OptionalCaller,
    fmt: OutputFormat,
    category: Annotated[list[OfferCategory] | None, Query()] = None,
    municipality: Annotated[
        str | None,
        Query(pattern=r"^\d{6}$", description="served or located in this comune"),
    ] = None,
    q: Annotated[
        str | None, Query(max_length=100, description="text in title, description, provider")
    ] = None,
    active_on: Annotated[date | None, Query(description="valid on this date")] = None,
    organisation_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    bbox: Annotated[
        str | None, Query(description="minlon,minlat,maxlon,maxlat", pattern=BBOX_PATTERN)
    ] = None,
    include_hidden: Annotated[bool, Query(description="administrators only")] = False,
    from_lon: Annotated[
        float | None, Query(ge=-180, le=180, description="workplace longitude")
    ] = None,
    from_lat: Annotated[
        float | None, Query(ge=-90, le=90, description="workplace latitude")
    ] = None,
    max_minutes: Annotated[
        float, Query(gt=0, le=120, description="with from_lon/from_lat: car minutes")
    ] = 30.0,
    limit: Annotated[int, Query(ge=1)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Any:
    """Search the offers by category, municipality served, text and validity date.

    With ``from_lon``/``from_lat`` (a workplace), keep the offers within
    ``max_minutes`` by car and sort them by travel time.
    """
    limit = page_limit(limit, settings)
    if include_hidden:
        if caller is None:
            raise AuthenticationError(
                "include_hidden=true needs an administrator's token: send "
                "'Authorization: Bearer <token>'"
            )
        if not caller.is_admin:
            raise PermissionDeniedError("include_hidden=true is reserved to administrators")
    if municipality is not None:
        data.municipality(municipality)
    stmt = offers_query(
        caller=caller,
        include_hidden=include_hidden,
        categories=list(category) if category else None,
        municipality=municipality,
        text=q,
        active_on=active_on,
        organisation_id=organisation_id,
        bbox=parse_bbox(bbox),
    )
    if (from_lon is None) != (from_lat is None):
        missing = "from_lat" if from_lat is None else "from_lon"
        raise InvalidParameterError(
            f"query.{missing}", "give both from_lon and from_lat (the workplace), or neither"
        )
    if from_lon is not None and from_lat is not None:
        total, items = _offers_by_time(
            request, data, session, stmt, from_lon, from_lat, max_minutes * 60.0,
            offset=offset, limit=limit,
        )  # fmt: skip
    else:
        total = int(session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
        rows = session.scalars(
            stmt.options(selectinload(Offer.served), selectinload(Offer.organisation))
            .order_by(Offer.id)
            .offset(offset)
            .limit(limit)
        ).all()
        items = [offer_dict(o) for o in rows]
    if fmt == "geojson":
        return geojson_page(
            request, [offer_feature(i) for i in items], total=total, limit=limit, offset=offset
        )
    return json_page(request, items, total=total, limit=limit, offset=offset)


def _offers_by_time(
    request: Request,
    data: TerritoryData,
    session: Session,
    stmt: Select[Any],
    lon: float,
    lat: float,
    limit_s: float,
    *,
    offset: int,
    limit: int,
) -> tuple[int, list[dict[str, Any]]]:
    """Return how many offers are within ``limit_s`` of the workplace, and one page of them.

    Ranks every matching offer (no cap): first only ``(id, lon, lat)`` of the
    offers inside the box of the reached junctions (grown by the snapping
    distance, so an offer snapped to a reached junction is never left out),
    then the whole rows of the requested page only.
    """
    data.check_in_area(lon, lat, what="workplace (query.from_lon, query.from_lat)")
    engine = request.app.state.engine
    node_s = engine.times_from(lon, lat, limit_s=limit_s, what="workplace")
    net = engine.network
    reached = np.isfinite(node_s)
    if not reached.any():
        return 0, []
    grow_lat = net.max_snap_m / 111_320.0
    lat0, lat1 = float(net.lat[reached].min()), float(net.lat[reached].max())
    grow_lon = grow_lat / max(np.cos(np.radians(max(abs(lat0), abs(lat1)))), 1e-6)
    lon0, lon1 = float(net.lon[reached].min()), float(net.lon[reached].max())
    near = stmt.where(
        Offer.lon.between(lon0 - grow_lon, lon1 + grow_lon),
        Offer.lat.between(lat0 - grow_lat, lat1 + grow_lat),
    )
    rows = session.execute(near.with_only_columns(Offer.id, Offer.lon, Offer.lat)).all()
    if not rows:
        return 0, []
    ids = np.fromiter((r[0] for r in rows), np.int64, len(rows))
    # an offer is snapped once per worker (again only if it moved), not per request
    snap = engine.snap_keyed(
        [r[0] for r in rows],
        np.fromiter((r[1] for r in rows), float, len(rows)),
        np.fromiter((r[2] for r in rows), float, len(rows)),
    )
    t = engine.at_points(node_s, snap)
    ok = np.flatnonzero(np.isfinite(t) & (t <= limit_s))
    # by travel time, ties by id (the order of the search without a workplace)
    order = ok[np.lexsort((ids[ok], t[ok]))]
    page = order[offset : offset + limit]
    if not len(page):
        return len(ok), []
    by_id = offer_dicts(session, [int(i) for i in ids[page]])
    return len(ok), [
        {**by_id[int(ids[i])], "travel_time_min": round(float(t[i]) / 60.0, 2)} for i in page
    ]


@router.get(
    "/{offer_id}",
    response_model=OfferOut,
    summary="Un'offerta / One offer",
    openapi_extra=OPTIONAL_AUTH,
    responses={
        200: {
            "description": "The offer (a GeoJSON Feature with f=geojson)",
            "content": {GEOJSON: {"schema": {"$ref": "#/components/schemas/Feature"}}},
        },
        401: {"model": Problem},
        404: {"model": Problem},
    },
)
def get_offer(offer_id: OfferId, session: Db, caller: OptionalCaller, fmt: OutputFormat) -> Any:
    """Return one offer (hidden offers only to their owner and administrators)."""
    item = offer_dict(_get_visible(session, offer_id, caller))
    if fmt == "geojson":
        return geojson_response(offer_feature(item))
    return item


@router.post(
    "",
    response_model=OfferOut,
    status_code=201,
    summary="Pubblica un'offerta / Publish an offer",
    responses=_WRITE_RESPONSES,
)
def create_offer(body: OfferCreate, data: Data, session: Db, caller: RequiredCaller) -> Any:
    """Publish an offer for the caller's organisation."""
    if caller.organisation is None:
        raise PermissionDeniedError(
            "the bootstrap admin token has no organisation; publish with an account's token"
        )
    pro_com_t = _check_place(data, body.lon, body.lat, body.municipalities)
    now = utcnow()
    o = Offer(
        organisation_id=caller.organisation.id,
        created_by=caller.account.id if caller.account else None,
        title=body.title,
        description=body.description,
        category=body.category,
        provider=body.provider,
        lon=body.lon,
        lat=body.lat,
        pro_com_t=pro_com_t,
        contact=body.contact,
        valid_from=body.valid_from,
        valid_to=body.valid_to,
        conditions=body.conditions,
        hidden=False,
        created_at=now,
        updated_at=now,
    )
    o.served = [OfferMunicipality(pro_com_t=c) for c in body.municipalities]
    session.add(o)
    session.commit()
    return offer_dict(_get_visible(session, o.id, caller))


@router.patch(
    "/{offer_id}",
    response_model=OfferOut,
    summary="Modifica un'offerta / Edit an offer",
    responses=_WRITE_RESPONSES,
)
def update_offer(
    offer_id: OfferId, body: OfferUpdate, data: Data, session: Db, caller: RequiredCaller
) -> Any:
    """Change an offer (owner or administrator)."""
    o = _get_visible(session, offer_id, caller)
    _check_owner(o, caller)
    changes = body.model_dump(exclude_unset=True)
    for key in ("title", "category", "provider", "lon", "lat"):
        if key in changes and changes[key] is None:
            raise InvalidParameterError(f"body.{key}", "may be left out but not set to null")
    vf = changes.get("valid_from", o.valid_from)
    vt = changes.get("valid_to", o.valid_to)
    if vf is not None and vt is not None and vt < vf:
        raise InvalidParameterError("body.valid_to", "valid_to must not be before valid_from")
    lon = changes.get("lon", o.lon)
    lat = changes.get("lat", o.lat)
    munis = changes.pop("municipalities", None)
    if "lon" in changes or "lat" in changes or munis:
        o.pro_com_t = _check_place(data, lon, lat, munis)
    for key, value in changes.items():
        setattr(
            o,
            key,
            "" if value is None and key in ("description", "contact", "conditions") else value,
        )
    if munis is not None:
        o.served = [OfferMunicipality(pro_com_t=c) for c in munis]
    o.updated_at = utcnow()
    session.commit()
    return offer_dict(_get_visible(session, o.id, caller))


@router.delete(
    "/{offer_id}",
    status_code=204,
    summary="Elimina un'offerta / Delete an offer",
    responses=_WRITE_RESPONSES,
)
def delete_offer(offer_id: OfferId, session: Db, caller: RequiredCaller) -> Response:
    """Delete an offer (owner or administrator)."""
    o = _get_visible(session, offer_id, caller)
    _check_owner(o, caller)
    session.delete(o)
    session.commit()
    return Response(status_code=204)


def _set_hidden(session: Session, offer_id: int, caller: Principal, hidden: bool) -> Any:
    caller.require_admin()
    o = _get_visible(session, offer_id, caller)
    o.hidden = hidden
    o.updated_at = utcnow()
    session.commit()
    return offer_dict(_get_visible(session, offer_id, caller))


@router.post(
    "/{offer_id}/hide",
    response_model=OfferOut,
    summary="Nascondi / Hide an offer (admin)",
    responses=_WRITE_RESPONSES,
)
def hide_offer(offer_id: OfferId, session: Db, caller: RequiredCaller) -> Any:
    """Hide an offer from the public (administrators only)."""
    return _set_hidden(session, offer_id, caller, True)


@router.post(
    "/{offer_id}/unhide",
    response_model=OfferOut,
    summary="Rendi visibile / Unhide an offer (admin)",
    responses=_WRITE_RESPONSES,
)
def unhide_offer(offer_id: OfferId, session: Db, caller: RequiredCaller) -> Any:
    """Show a hidden offer again (administrators only)."""
    return _set_hidden(session, offer_id, caller, False)
