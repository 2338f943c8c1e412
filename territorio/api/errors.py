"""Errors to HTTP, in one place: RFC 9457 ``application/problem+json``.

Domain code raises :mod:`territorio.errors` exceptions; the API adds a few of
its own (authentication, permissions, size and rate limits). The table
:data:`STATUS` maps each class to a status code; :func:`add_exception_handlers`
installs one handler for all of them, one for request validation and a
catch-all that logs the exception and never shows its message.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from territorio import errors as terr
from territorio.api._links import public_base

__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "PROBLEM_TYPES",
    "STATUS",
    "ApiError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "InvalidParameterError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "RateLimitedError",
    "ServerBusyError",
    "ServiceUnavailableError",
    "add_exception_handlers",
    "problem",
    "problem_body",
]

log = logging.getLogger("territorio.api")

PROBLEM_MEDIA_TYPE = "application/problem+json"


class ApiError(terr.TerritorioError):
    """Base of the API's own errors."""


class AuthenticationError(ApiError):
    """No credentials, or credentials that match no active token (401)."""


class PermissionDeniedError(ApiError):
    """Authenticated, but not allowed to do this (403)."""


class BadRequestError(ApiError, ValueError):
    """The request cannot be read as asked: an unknown query parameter (400).

    OGC API - Features Part 1 (/req/core/query-param-unknown) answers 400 to a
    parameter the operation does not know, so that a client never believes it
    filtered when it did not.

    Parameters
    ----------
    field
        Where the parameter was read, e.g. ``"query.datetime"``.
    reason
        What is wrong and how to fix it.
    """

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class InvalidParameterError(ApiError, ValueError):
    """A parameter is well-formed but out of its domain (422).

    Parameters
    ----------
    field
        Where the parameter was read, e.g. ``"query.lon"`` or ``"body.category"``.
    reason
        What is wrong and how to fix it.
    """

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class ConflictError(ApiError):
    """The request conflicts with the current state (409)."""


class PayloadTooLargeError(ApiError):
    """The request body exceeds the configured limit (413)."""


class RateLimitedError(ApiError):
    """Too many write requests from one client (429)."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ServiceUnavailableError(ApiError):
    """A feature needs data the served bundle does not have (503)."""


class ServerBusyError(ServiceUnavailableError):
    """Every slot of a heavy computation is taken (503 with ``Retry-After``)."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


#: Exception class -> (HTTP status, problem title). Looked up along the MRO,
#: so the most specific class wins.
STATUS: dict[type[BaseException], tuple[int, str]] = {
    BadRequestError: (400, "Bad request"),
    AuthenticationError: (401, "Authentication required"),
    PermissionDeniedError: (403, "Forbidden"),
    terr.NotFoundError: (404, "Not found"),
    ConflictError: (409, "Conflict"),
    terr.MissingOutputsError: (409, "Outputs not computed"),
    PayloadTooLargeError: (413, "Request body too large"),
    InvalidParameterError: (422, "Invalid parameter"),
    terr.OutsideCoverageError: (422, "Outside coverage"),
    terr.UnknownCategoryError: (422, "Unknown category"),
    terr.UnknownAreaError: (422, "Unknown area"),
    terr.UnsupportedModeError: (422, "Unsupported mode"),
    terr.ConfigError: (422, "Invalid configuration"),
    terr.DataValidationError: (422, "Invalid data"),
    RateLimitedError: (429, "Too many requests"),
    terr.BundleError: (503, "Territory data unavailable"),
    ServiceUnavailableError: (503, "Feature unavailable"),
    ServerBusyError: (503, "Server busy"),
    terr.SourceNotFoundError: (503, "Source unavailable"),
}

#: Problem types: slug -> (status, title, what it means and how to fix it).
#: Each is documented at ``/problems/{slug}`` (the ``type`` of a problem).
PROBLEM_TYPES: dict[str, tuple[int, str, str]] = {
    "bad-request": (
        400, "Bad request",
        "The request could not be read: a body that is not valid UTF-8 JSON (send "
        "'Content-Type: application/json' with a JSON object), or a query parameter "
        "the operation does not know (the OGC API items list theirs in /queryables).",
    ),
    "unauthorized": (
        401, "Unauthorized",
        "The request needs an API token: send 'Authorization: Bearer <token>'. "
        "Tokens are issued to the accounts of an organisation by an administrator.",
    ),
    "forbidden": (
        403, "Forbidden",
        "The token is valid but its account may not do this (only the owner or an "
        "administrator edits or deletes an offer; only administrators hide offers).",
    ),
    "not-found": (
        404, "Not found",
        "No such resource: check the identifier (ISTAT codes are 6-digit strings, "
        "e.g. 001272 for Torino) or the path.",
    ),
    "method-not-allowed": (405, "Method not allowed", "This path does not accept this method."),
    "not-acceptable": (406, "Not acceptable", "No representation matches the Accept header."),
    "conflict": (
        409, "Conflict",
        "The request conflicts with existing data (e.g. a duplicate), or needs outputs "
        "not computed yet on this server (e.g. run territorio plan for the PDF report).",
    ),
    "payload-too-large": (
        413, "Payload too large", "The request body exceeds the server's size limit.",
    ),
    "unsupported-media-type": (
        415, "Unsupported media type", "Send the body as application/json.",
    ),
    "invalid-parameter": (
        422, "Invalid request",
        "A parameter or body field is invalid, out of range or outside the territory: "
        "'errors' names each field and the reason.",
    ),
    "too-many-requests": (
        429, "Too many requests",
        "Too many writes from this client: wait the seconds given in Retry-After.",
    ),
    "internal-error": (
        500, "Internal server error",
        "An unexpected error, logged on the server; retry or report it.",
    ),
    "unavailable": (
        503, "Service unavailable",
        "Data or a feature this request needs is not available on this server (e.g. a "
        "bundle without planning outputs or without a road network).",
    ),
}  # fmt: skip

_SLUG = {status: slug for slug, (status, _, _) in PROBLEM_TYPES.items()}


def problem_body(request: Request, status: int, title: str, detail: str) -> dict[str, Any]:
    """Return the members of an RFC 9457 problem document about ``request``.

    ``type`` is ``<base URL>/problems/{slug}``, documented by the API itself
    (see :data:`PROBLEM_TYPES`); ``instance`` is the request path.
    """
    slug = _SLUG.get(status, "internal-error" if status >= 500 else "invalid-parameter")
    return {
        "type": f"{public_base(request)}/problems/{slug}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }


def problem(
    request: Request,
    status: int,
    title: str,
    detail: str,
    *,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """Build an RFC 9457 problem response.

    Parameters
    ----------
    request
        The request the problem is about (its path is the ``instance``).
    status
        HTTP status code.
    title
        Short, fixed summary of the problem type.
    detail
        Human explanation of this occurrence (what, where, how to fix).
    errors
        For validation problems: ``[{"field": ..., "reason": ...}]``.
    headers
        Extra response headers (``WWW-Authenticate``, ``Retry-After``).
    """
    body = problem_body(request, status, title, detail)
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _lookup(exc: BaseException) -> tuple[int, str] | None:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return None


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(p) for p in loc)


async def _territorio_handler(request: Request, exc: Exception) -> JSONResponse:
    found = _lookup(exc)
    if found is None:
        return await _catch_all(request, exc)
    status, title = found
    headers: dict[str, str] = {}
    errors = None
    if isinstance(exc, AuthenticationError):
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(exc, RateLimitedError | ServerBusyError):
        headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, (InvalidParameterError, BadRequestError)):
        errors = [{"field": exc.field, "reason": exc.reason}]
    if status >= 500:
        log.info("%s on %s: %s", type(exc).__name__, request.url.path, exc)
    return problem(request, status, title, str(exc), errors=errors, headers=headers or None)


async def _validation_handler(request: Request, exc: Exception) -> JSONResponse:
    raw = exc.errors() if isinstance(exc, RequestValidationError) else []
    errors = [{"field": _field(e.get("loc", ())), "reason": str(e.get("msg", ""))} for e in raw]
    summary = "; ".join(f"{e['field']}: {e['reason']}" for e in errors[:5])
    detail = f"the request is not valid: {summary}" if summary else "the request is not valid"
    return problem(request, 422, "Invalid request", detail, errors=errors)


async def _http_handler(request: Request, exc: Exception) -> JSONResponse:
    status = exc.status_code if isinstance(exc, StarletteHTTPException) else 500
    detail = exc.detail if isinstance(exc, StarletteHTTPException) else ""
    headers = getattr(exc, "headers", None)
    title = {400: "Bad request", 404: "Not found", 405: "Method not allowed"}.get(
        status, "HTTP error"
    )
    if status == 400 and detail == "There was an error parsing the body":
        # FastAPI's answer to a JSON body it cannot decode (e.g. not UTF-8)
        detail = (
            "the request body could not be read: send a JSON object encoded in UTF-8 "
            "with 'Content-Type: application/json'"
        )
        return problem(
            request,
            400,
            title,
            detail,
            errors=[{"field": "body", "reason": "not readable as UTF-8 JSON"}],
            headers=headers,
        )
    return problem(request, status, title, str(detail), headers=headers)


async def _catch_all(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(
        request,
        500,
        "Internal server error",
        "an unexpected error occurred; it has been logged. Please retry or report it.",
    )


def add_exception_handlers(app: FastAPI) -> None:
    """Install the problem+json handlers on ``app``."""
    app.add_exception_handler(terr.TerritorioError, _territorio_handler)
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(StarletteHTTPException, _http_handler)
    app.add_exception_handler(Exception, _catch_all)
