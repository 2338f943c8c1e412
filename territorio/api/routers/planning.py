"""Planning: results of ``territorio plan`` (marginal municipalities, clusters) and computations.

The computations (``POST /planning/sites``, ``POST /planning/scenarios``)
write nothing, but they cost CPU seconds on a large territory, so they count
as writes for the rate limit (``TERRITORIO_WRITE_RATE_LIMIT`` per client and
window) and run at most ``TERRITORIO_PLANNING_CONCURRENCY`` at a time per
worker, with at most ``TERRITORIO_PLANNING_QUEUE`` more waiting (as coroutines,
not threads); beyond, 503 with ``Retry-After`` at once. Their inputs are
bounded by the request models.
"""

from __future__ import annotations

from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Body, Depends, Path, Query, Request
from shapely.geometry import mapping

from territorio.api._links import GEOJSON, geojson_response
from territorio.api._state import TerritoryData, clean
from territorio.api._views import municipality_summaries
from territorio.api.dependencies import OutputFormat, get_data
from territorio.api.errors import ServiceUnavailableError
from territorio.api.models import (
    ClusterList,
    ClusterOut,
    MunicipalityList,
    Problem,
    ScenarioOut,
    ScenarioRequest,
    SitingOut,
    SitingRequest,
)
from territorio.errors import NotFoundError

__all__ = ["router"]

router = APIRouter(
    prefix="/planning",
    tags=["planning"],
    responses={503: {"model": Problem, "description": "no planning results loaded"}},
)

Data = Annotated[TerritoryData, Depends(get_data)]


def _clusters(data: TerritoryData) -> pd.DataFrame:
    table = data.extras.get("clusters")
    if table is None and data.stale_plan is not None:
        raise ServiceUnavailableError(data.stale_plan)
    if table is None:
        raise ServiceUnavailableError(
            "no planning results are loaded; run: territorio plan, and start the server "
            "with TERRITORIO_PLAN_PATH set to its output folder"
        )
    return table


def _cluster_dict(row: pd.Series, data: TerritoryData) -> dict[str, Any]:
    cid = str(row["cluster_id"])
    members = [
        code
        for code, r in data.extras["planning"].iterrows()
        if clean(r.get("cluster_id")) is not None and str(r.get("cluster_id")) == cid
    ]
    props = {
        str(k): clean(v)
        for k, v in row.items()
        if k not in ("geometry", "cluster_id") and not isinstance(v, (list, dict))
    }
    props = {k: v for k, v in props.items() if isinstance(v, (str, int, float, bool, type(None)))}
    return {"cluster_id": cid, "members": sorted(members), "attributes": props}


@router.get(
    "/clusters",
    response_model=ClusterList,
    summary="Aree sottoservite / Underserved clusters",
    responses={
        200: {"content": {GEOJSON: {"schema": {"$ref": "#/components/schemas/FeatureCollection"}}}}
    },
)
def list_clusters(data: Data, fmt: OutputFormat) -> Any:
    """Clusters of adjacent marginal municipalities found by ``territorio plan``."""
    table = _clusters(data)
    items = [_cluster_dict(r, data) for _, r in table.iterrows()]
    if fmt == "geojson":
        geoms = table.geometry if "geometry" in table else [None] * len(table)
        return geojson_response(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "id": i["cluster_id"],
                        "geometry": mapping(g) if g is not None else None,
                        "properties": {**i["attributes"], "members": i["members"]},
                    }
                    for i, g in zip(items, geoms, strict=True)
                ],
                "numberMatched": len(items),
                "numberReturned": len(items),
            }
        )
    return {"total": len(items), "items": items}


@router.get(
    "/clusters/{cluster_id}",
    response_model=ClusterOut,
    summary="Un'area sottoservita / One cluster",
    responses={404: {"model": Problem}},
)
def get_cluster(
    cluster_id: Annotated[str, Path(max_length=20, examples=["C01"])], data: Data
) -> Any:
    """One cluster with its member municipalities."""
    table = _clusters(data)
    rows = table[table["cluster_id"].astype(str) == cluster_id]
    if rows.empty:
        raise NotFoundError(f"no cluster {cluster_id!r}; list them at /planning/clusters")
    return _cluster_dict(rows.iloc[0], data)


@router.get(
    "/marginal",
    response_model=MunicipalityList,
    summary="Comuni marginali / Marginal municipalities",
)
def marginal(
    data: Data,
    min_score: Annotated[float, Query(ge=0, le=100, description="lowest score kept")] = 50.0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Any:
    """Municipalities by decreasing marginality score, from ``min_score`` up."""
    if "planning" not in data.extras:
        _clusters(data)
    items = [
        m
        for m in municipality_summaries(data)
        if m["marginality_score"] is not None and m["marginality_score"] >= min_score
    ]
    items.sort(key=lambda m: -m["marginality_score"])
    return {"total": len(items), "limit": limit, "offset": 0, "items": items[:limit], "links": []}


_COMPUTE_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem, "description": "unknown cluster"},
    413: {"model": Problem, "description": "request body too large"},
    422: {"model": Problem, "description": "invalid input (field and reason named)"},
    429: {"model": Problem, "description": "too many computations from this client"},
    503: {"model": Problem, "description": "every computation slot is taken: retry later"},
}


@router.post(
    "/sites",
    response_model=SitingOut,
    summary="Dove aprire punti multiservizio / Sites for new multi-service points",
    responses=_COMPUTE_RESPONSES,
)
async def plan_sites(request: Request, req: Annotated[SitingRequest, Body()]) -> Any:
    """Choose up to ``k`` sites maximising the people newly within ``minutes`` of the bundle.

    A resident is *served* when every category of ``categories`` is within
    ``minutes`` by car (existing services, or a new point offering them all).
    The scope is a cluster of ``/planning/clusters``, a list of ISTAT codes,
    or the whole territory; the candidates are the reference points of the
    municipalities in scope unless given. Greedy maximal covering (exact
    marginal gains). A computation: nothing is stored; rate-limited like writes.
    """
    state = request.app.state.planning
    cands = [(c.lon, c.lat, c.name) for c in req.candidates] if req.candidates is not None else None
    return await state.gate.run(
        state.site,
        cluster=req.cluster,
        municipalities=req.municipalities,
        candidates=cands,
        categories=req.categories,
        k=req.k,
        minutes=req.minutes,
        demand=req.demand,
    )


@router.post(
    "/scenarios",
    response_model=ScenarioOut,
    summary="Scenario what-if / What-if scenario",
    responses={k: v for k, v in _COMPUTE_RESPONSES.items() if k != 404},
)
async def plan_scenario(request: Request, req: Annotated[ScenarioRequest, Body()]) -> Any:
    """Add or remove services, or run a road preset, and compare every municipality.

    With ``preset = "winter"`` (or a ``[[winter]]`` variant of the served plan
    configuration) the high passes close and roads above an altitude slow
    down: *before* is summer, *after* is winter; a comune cut off is reported
    as unreachable (``status_after``), never with a made-up time.

    Only the categories touched are recomputed (same engine, same
    parameters, before and after); then the marginality index and, when the
    poli are derived from services that changed, the SNAI classes. Nothing is
    stored; rate-limited like writes.
    """
    from territorio.planning.config import ScenarioChange

    state = request.app.state.planning
    if req.preset is not None:
        return await state.gate.run(state.winter, name=req.preset, only_changed=req.only_changed)
    changes = [ScenarioChange(**c.model_dump()) for c in req.changes]
    return await state.gate.run(
        state.scenario, name=req.name, changes=changes, only_changed=req.only_changed
    )
