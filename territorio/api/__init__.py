"""The Welfare Point Territoriale HTTP API (FastAPI).

Build the app with :func:`create_app` from :class:`Settings`, or run it with
:func:`serve`. FastAPI is imported only when the app is built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from territorio.api.settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["Settings", "create_app", "serve"]


def create_app(settings: Settings) -> FastAPI:
    """Build the FastAPI app (see :func:`territorio.api.app.create_app`)."""
    from territorio.api.app import create_app as _create

    return _create(settings)


def serve(settings: Settings, *, host: str = "127.0.0.1", port: int = 8000, **kw: Any) -> None:
    """Serve the app with uvicorn (see :func:`territorio.api.server.serve`)."""
    from territorio.api.server import serve as _serve

    _serve(settings, host=host, port=port, **kw)
