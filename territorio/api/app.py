"""The FastAPI application factory of the Welfare Point Territoriale."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from pydantic.json_schema import models_json_schema
from starlette.concurrency import run_in_threadpool

from territorio._version import __version__
from territorio.api import _views as views
from territorio.api._engine import Engine
from territorio.api._middleware import WptMiddleware
from territorio.api._planning import PlanningState
from territorio.api._ratelimit import RateLimiter, parse_networks
from territorio.api._state import TerritoryData
from territorio.api.dependencies import rate_limit_key
from territorio.api.errors import add_exception_handlers
from territorio.api.models import Feature, FeatureCollection, Link, Problem
from territorio.api.routers import (
    accessibility,
    accounts,
    admin,
    isochrones,
    meta,
    municipalities,
    nearest,
    offers,
    ogc,
    planning,
    services,
)
from territorio.api.settings import Settings
from territorio.config import AccessConfig
from territorio.db.migrations import upgrade
from territorio.db.session import make_engine, make_sessionmaker
from territorio.freshness import stale_access, stale_plan
from territorio.web import build_router

__all__ = ["WEB_PREFIX", "create_app", "plan_folder"]

#: Where the WPT HTML pages are mounted.
WEB_PREFIX = "/wpt"

log = logging.getLogger("territorio.api")

DESCRIPTION = """
**Welfare Point Territoriale** – accessibilità ai servizi essenziali e offerte di
welfare territoriale per i comuni del territorio servito.

* Comuni, servizi, accessibilità per categoria (JSON o GeoJSON: `f=geojson` o
  `Accept: application/geo+json`).
* OGC API - Features su `/ogc` (aggiungibile in QGIS).
* Offerte di welfare: ricerca pubblica; pubblicazione con un token
  (`Authorization: Bearer wpt_...`).

Errors are RFC 9457 `application/problem+json`. Every data response carries
`X-Territorio-Data: osm=<timestamp>; istat=<year>; build=<time>`.
"""


def _features(data: TerritoryData) -> dict[str, bool]:
    return {
        "accessibility_indicators": data.access is not None,
        "planning": "planning" in data.extras,
        "nearest_services": data.bundle.has_layer("road_edges"),
        "isochrones": data.bundle.has_layer("road_edges"),
        "offer_travel_time": data.bundle.has_layer("road_edges"),
    }


def plan_folder(settings: Settings) -> Path | None:
    """Folder of the planning results to serve.

    ``settings.plan_path`` when set; otherwise ``<bundle>-plan`` beside the
    bundle (where ``territorio plan`` writes by default) when it holds
    results, else None.
    """
    if settings.plan_path is not None:
        return settings.plan_path
    from territorio.bundle import default_plan_dir

    guess = default_plan_dir(settings.bundle_path)
    return guess if (guess / "municipalities.parquet").is_file() else None


def _access_config(manifest: dict[str, Any]) -> AccessConfig:
    raw = (manifest.get("config") or {}).get("access") or {}
    try:
        return AccessConfig(**raw)
    except (TypeError, ValueError):
        log.warning("invalid [access] section in the bundle manifest; using the defaults")
        return AccessConfig()


def _private_counter_file() -> Path:
    """Return a temporary SQLite file for one process's rate-limit counters (removed at exit)."""
    import atexit
    import os
    import tempfile

    fd, name = tempfile.mkstemp(prefix="territorio-ratelimit-", suffix=".sqlite")
    os.close(fd)
    path = Path(name)

    def _remove() -> None:
        for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            p.unlink(missing_ok=True)

    atexit.register(_remove)
    return path


def create_app(settings: Settings) -> FastAPI:
    """Build the API.

    Parameters
    ----------
    settings
        Server settings; the bundle is read and the database migrated when the
        app starts (lifespan), not here.

    Returns
    -------
    FastAPI
        The application, to be served by an ASGI server.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        data = TerritoryData.load(settings.bundle_path)
        stale = stale_access(data.bundle)
        if stale is not None:
            log.warning("serving access layers that may not match the bundle: %s", stale)
        plan_path = plan_folder(settings)
        if plan_path is not None:
            stale = stale_plan(data.bundle, plan_path)
            if stale is None:
                data.load_plan(plan_path)
            else:
                # never serve a plan beside a bundle it does not describe
                log.warning("not serving planning results: %s", stale)
                data.stale_plan = stale
                plan_path = None
        if settings.migrate_on_start:
            upgrade(settings.database_url)
        engine = make_engine(settings.database_url)
        app.state.data = data
        routing = Engine(
            data.bundle,
            _access_config(data.bundle.manifest),
            isochrone_cache=settings.isochrone_cache_size,
        )
        if settings.warm_up:
            # once per worker, before the first request: the network (seconds on
            # a province) and the isochrone edge samples are never built per request
            await run_in_threadpool(routing.warm_up)
            # and the response rows and service snaps the first requests would
            # otherwise build, each of 16 concurrent ones per worker repeating it
            await run_in_threadpool(views.warm_up, data)
            await run_in_threadpool(municipalities.warm_up, data)
            await run_in_threadpool(nearest.warm_up, data, routing)
            # what is loaded now lives as long as the worker: keep it out of the
            # cyclic garbage collector's full passes, which otherwise walk the
            # bundle's tables and the cached rows again and again under load
            gc.collect()
            gc.freeze()
        app.state.engine = routing
        # fresh isochrones run one at a time per worker: the others wait here as
        # coroutines, not as threadpool threads contending for the GIL (see
        # routers/isochrones.py)
        app.state.isochrone_gate = asyncio.Lock()
        app.state.planning = PlanningState(
            data,
            routing,
            plan_config=settings.plan_config,
            concurrency=settings.planning_concurrency,
            queue=settings.planning_queue,
        )
        app.state.sessionmaker = make_sessionmaker(engine)
        app.state.features = _features(data)
        log.info(
            "serving %s (%d municipalities, %d services, planning results: %s)",
            settings.bundle_path,
            len(data.municipalities),
            len(data.services),
            plan_path or "none",
        )
        try:
            yield
        finally:
            engine.dispose()
            if settings.warm_up:
                gc.unfreeze()  # an app ending in a longer process (tests) is collectable again

    app = FastAPI(
        title="Welfare Point Territoriale",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.settings = settings
    add_exception_handlers(app)
    for r in (
        meta.router,
        municipalities.router,
        services.router,
        accessibility.router,
        nearest.router,
        isochrones.router,
        planning.router,
        offers.router,
        accounts.router,
        admin.router,
        ogc.router,
    ):
        app.include_router(r)
    plan_dir = plan_folder(settings)
    app.include_router(
        build_router(
            settings.bundle_path,
            tiles=settings.tiles_url,
            prefix=WEB_PREFIX,
            # the served plan (TERRITORIO_PLAN_PATH) for the pages and PDF reports too
            plan_dir=plan_dir if plan_dir is not None and plan_dir.is_dir() else None,
        )
    )

    def _header() -> str | None:
        data = getattr(app.state, "data", None)
        return data.header if data is not None else None

    def _account_key(token: str) -> str | None:
        return rate_limit_key(settings, getattr(app.state, "sessionmaker", None), token)

    app.add_middleware(
        WptMiddleware,
        max_body_bytes=settings.max_body_bytes,
        limiter=RateLimiter(
            limit=settings.write_rate_limit,
            window_s=settings.write_rate_window_s,
            path=settings.rate_limit_path or _private_counter_file(),
        ),
        header=_header,
        account_key=_account_key,
        trusted_proxies=parse_networks(settings.trusted_proxies),
        allowed_hosts=settings.hosts(),
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Accept"],
            expose_headers=["X-Territorio-Data"],
        )

    def custom_openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        _, defs = models_json_schema(
            [(m, "serialization") for m in (Feature, FeatureCollection, Link, Problem)],
            ref_template="#/components/schemas/{model}",
        )
        comps = schema.setdefault("components", {}).setdefault("schemas", {})
        for name, sch in defs.get("$defs", {}).items():
            comps.setdefault(name, sch)
        _declare_limits_and_bodies(schema, max_page_size=settings.max_page_size)
        _declare_no_control_characters(schema)
        _problem_media(schema)
        app.openapi_schema = schema
        return schema

    app.openapi = custom_openapi  # type: ignore[method-assign]
    return app


def _declare_limits_and_bodies(schema: dict[str, Any], *, max_page_size: int) -> None:
    """Make the document say what the server does with page sizes and unreadable bodies.

    Every ``limit`` query parameter gets ``maximum`` (the configured page size:
    a larger value is clamped to it, as OGC API - Features asks, and clients
    such as GDAL read it to choose their page size). Every operation with a
    request body declares the 400 problem of a body that is not UTF-8 JSON.
    """
    for path in schema.get("paths", {}).values():
        for op in path.values():
            for param in op.get("parameters", []):
                if param.get("in") == "query" and param.get("name") == "limit":
                    sch = param.setdefault("schema", {})
                    sch["maximum"] = min(sch.get("maximum", max_page_size), max_page_size)
            if "requestBody" in op:
                op.setdefault("responses", {}).setdefault(
                    "400",
                    {
                        "description": "Bad request: the body is not UTF-8 JSON",
                        "content": {"application/json": {}},
                    },
                )


def _problem_media(schema: dict[str, Any]) -> None:
    """Declare error responses as ``application/problem+json``."""
    for path in schema.get("paths", {}).values():
        for op in path.values():
            for code, resp in op.get("responses", {}).items():
                if str(code).startswith(("4", "5")):
                    content = resp.get("content", {})
                    if "application/json" in content:
                        resp["content"] = {
                            "application/problem+json": {
                                "schema": {"$ref": "#/components/schemas/Problem"}
                            }
                        }


#: What the middleware accepts (``_middleware``): no C0 control character or DEL
#: in a path or query parameter; in a JSON body tab, newline and carriage
#: return are allowed.
_PARAM_PATTERN = "^[^\\u0000-\\u001f\\u007f]*$"
_BODY_PATTERN = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f]*$"


def _declare_no_control_characters(schema: dict[str, Any]) -> None:
    """Say in the document that strings may not hold control characters (a 422 otherwise).

    Every free string (no ``enum`` or ``pattern``) of a parameter gets
    :data:`_PARAM_PATTERN`, and of a request body (with the components it
    refers to, transitively) :data:`_BODY_PATTERN`, so a client (or
    schemathesis) knows the rule. Response-only components are left alone:
    a problem's ``instance`` echoes the path it refuses.
    """
    comps = schema.get("components", {}).get("schemas", {})

    def refs(node: Any, found: set[str]) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
                name = ref.rsplit("/", 1)[1]
                if name not in found and name in comps:
                    found.add(name)
                    refs(comps[name], found)
            for value in node.values():
                refs(value, found)
        elif isinstance(node, list):
            for value in node:
                refs(value, found)

    def walk(node: Any, pattern: str) -> None:
        if isinstance(node, dict):
            if node.get("type") == "string" and not ({"enum", "pattern"} & set(node)):
                node["pattern"] = pattern
            for key, value in node.items():
                if key != "$ref":
                    walk(value, pattern)
        elif isinstance(node, list):
            for value in node:
                walk(value, pattern)

    bodies: set[str] = set()
    for item in schema.get("paths", {}).values():
        for op in item.values():
            if not isinstance(op, dict):
                continue
            for param in op.get("parameters", []):
                walk(param.get("schema", {}), _PARAM_PATTERN)
            walk(op.get("requestBody", {}), _BODY_PATTERN)
            refs(op.get("requestBody", {}), bodies)
    for name in sorted(bodies):
        walk(comps[name], _BODY_PATTERN)
