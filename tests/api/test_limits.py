"""Cross-cutting behaviour: body size, write rate limit, CORS, no leaks on 500."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from territorio.api import Settings, create_app

from .conftest import ADMIN_TOKEN
from .support import auth, problem


def test_body_too_large_is_413(make_settings: Callable[..., Settings]) -> None:
    with TestClient(create_app(make_settings(max_body_bytes=100))) as c:
        r = c.post("/offers", content=b"x" * 101, headers={"Content-Type": "application/json"})
        p = problem(r, 413)
        assert "100 bytes" in p.detail
        # answered by the middleware, with the same documented problem types
        assert p.type == "http://testserver/problems/payload-too-large"
        assert c.get(p.type).json()["status"] == 413

        # chunked upload without Content-Length is bounded too
        def chunks():  # type: ignore[no-untyped-def]
            for _ in range(5):
                yield b"y" * 50

        r = c.post("/offers", content=chunks(), headers={"Content-Type": "application/json"})
        problem(r, 413)


def test_write_rate_limit_is_429_per_client(make_settings: Callable[..., Settings]) -> None:
    with TestClient(create_app(make_settings(write_rate_limit=3))) as c:
        # 3 writes allowed per window for this client (anonymous: keyed by IP) ...
        for _ in range(3):
            assert c.post("/offers", json={}).status_code == 401
        r = c.post("/offers", json={})
        p = problem(r, 429)
        assert int(r.headers["retry-after"]) >= 1
        assert "3 write requests" in p.detail
        # ... reads are not limited, and another token is another client
        assert c.get("/offers").status_code == 200
        assert c.get("/me", headers=auth(ADMIN_TOKEN)).status_code == 200
        assert c.post("/me/tokens", json={}, headers=auth(ADMIN_TOKEN)).status_code == 403


def test_unexpected_errors_do_not_leak(make_settings: Callable[..., Settings]) -> None:
    app = create_app(make_settings())

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internal detail /etc/passwd")

    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/boom")
        p = problem(r, 500)
        assert "secret" not in r.text and "Traceback" not in r.text
        assert p.title == "Internal server error"


def test_cors(make_settings: Callable[..., Settings]) -> None:
    with TestClient(create_app(make_settings(cors_origins=["https://comune.example"]))) as c:
        r = c.get("/meta", headers={"Origin": "https://comune.example"})
        assert r.headers["access-control-allow-origin"] == "https://comune.example"
        r = c.get("/meta", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in r.headers


def test_bad_bundle_path_fails_at_start(make_settings: Callable[..., Settings], tmp_path) -> None:  # type: ignore[no-untyped-def]
    import pytest

    from territorio.errors import BundleError

    app = create_app(make_settings(bundle_path=tmp_path / "missing"))
    with pytest.raises(BundleError, match="territorio build"), TestClient(app):
        pass
