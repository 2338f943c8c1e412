"""Helpers of the API tests: validate bodies against the response models."""

from __future__ import annotations

from typing import Any, TypeVar

import httpx
from pydantic import BaseModel

from territorio.api.models import Problem

M = TypeVar("M", bound=BaseModel)


def body(resp: httpx.Response, model: type[M], status: int = 200) -> M:
    """Assert the status and validate the JSON body against ``model``."""
    assert resp.status_code == status, resp.text
    return model.model_validate(resp.json())


def problem(resp: httpx.Response, status: int) -> Problem:
    """Assert an RFC 9457 problem with ``status`` and return it."""
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    p = Problem.model_validate(resp.json())
    assert p.status == status
    assert p.instance == resp.request.url.path
    return p


def auth(token: str) -> dict[str, Any]:
    """Authorization header for a bearer token."""
    return {"Authorization": f"Bearer {token}"}
