"""Links and problem types are never built from an untrusted Host header."""

from __future__ import annotations

import json
from collections.abc import Callable

from fastapi.testclient import TestClient

from territorio.api import Settings, create_app

EVIL = {"Host": "evil.example"}


def test_an_unknown_host_never_appears_in_links_or_problem_types(
    make_settings: Callable[..., Settings],
) -> None:
    with TestClient(create_app(make_settings())) as c:
        for path in ("/", "/ogc", "/ogc/collections", "/ogc/collections/municipalities/items",
                     "/municipalities", "/municipalities/999999", "/offers"):  # fmt: skip
            r = c.get(path, headers=EVIL)
            assert "evil.example" not in r.text, (path, r.text[:300])
        p = c.get("/municipalities/999999", headers=EVIL).json()
        assert p["type"] == "http://testserver/problems/not-found"  # the server's own address
        # a request without a Host header at all gets the server's address too
        body = json.dumps(c.get("/ogc", headers={"Host": ""}).json())
        assert "http://testserver/ogc" in body


def test_allowed_hosts_and_public_url_are_trusted(make_settings: Callable[..., Settings]) -> None:
    s = make_settings(allowed_hosts=["wpt.comune.example"])
    with TestClient(create_app(s)) as c:
        links = c.get("/ogc", headers={"Host": "wpt.comune.example:8443"}).text
        assert "http://wpt.comune.example:8443/ogc" in links
        assert "evil.example" not in c.get("/ogc", headers=EVIL).text
    s = make_settings(public_url="https://wpt.cittametropolitana.example/api")
    with TestClient(create_app(s)) as c:
        p = c.get("/municipalities/999999", headers=EVIL).json()
        assert p["type"] == "https://wpt.cittametropolitana.example/api/problems/not-found"
        assert "https://wpt.cittametropolitana.example/api/ogc" in c.get("/ogc", headers=EVIL).text
