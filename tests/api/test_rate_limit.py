"""The write rate limit holds: keyed by verified account or client address, shared by workers."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from territorio.api import Settings, create_app
from territorio.api._ratelimit import RateLimiter, client_address, parse_networks

from .conftest import ADMIN_TOKEN
from .support import auth, problem

SITING = {"municipalities": ["001002", "001003"], "categories": ["pharmacy"], "k": 1}


def test_counters_are_shared_by_every_limiter_on_the_file(tmp_path: Path) -> None:
    # two workers = two limiters on the same file: one budget, not two
    a = RateLimiter(limit=3, window_s=60, path=tmp_path / "rl.sqlite")
    b = RateLimiter(limit=3, window_s=60, path=tmp_path / "rl.sqlite")
    t = 600.0  # window 10 = [600, 660)
    assert [a.hit("ip:1", now=t), b.hit("ip:1", now=t + 1), a.hit("ip:1", now=t + 2)] == [0, 0, 0]
    # 4th request at t+3: retry when the window ends, 57 s later
    assert b.hit("ip:1", now=t + 3) == 57
    assert a.hit("ip:2", now=t + 3) == 0  # another client, its own budget
    assert a.count("ip:1", now=t + 4) == 4
    # a new window opens at 660; the ended windows are purged
    assert a.hit("ip:1", now=660.0) == 0
    assert b.count("ip:1", now=600.0) == 0


def test_client_address_believes_forwarded_for_only_from_trusted_proxies() -> None:
    proxies = parse_networks(["10.0.0.0/8"])
    # a direct client cannot choose its key with the header
    assert client_address("127.0.0.1", "1.2.3.4", ()) == "127.0.0.1"
    assert client_address("203.0.113.9", "1.2.3.4", proxies) == "203.0.113.9"
    # through a trusted proxy: the right-most entry that is not a proxy
    assert client_address("10.0.0.2", "6.6.6.6, 198.51.100.7", proxies) == "198.51.100.7"
    assert client_address("10.0.0.2", "198.51.100.7, 10.1.1.1", proxies) == "198.51.100.7"
    # IPv6 clients are keyed by their /64
    assert client_address("2001:db8:1:2:aaaa::1", None, ()) == "2001:db8:1:2::/64"
    assert client_address("2001:db8:1:2:bbbb::9", None, ()) == "2001:db8:1:2::/64"
    assert client_address("::ffff:192.0.2.1", None, ()) == "192.0.2.1"


def test_random_bearers_do_not_buy_fresh_budgets(make_settings: Callable[..., Settings]) -> None:
    # The public computation never authenticates: before, each random bearer was a new client.
    with TestClient(create_app(make_settings(write_rate_limit=3))) as c:
        codes = [
            c.post(
                "/planning/sites",
                json=SITING,
                headers={**auth(f"wpt_{secrets.token_hex(8)}"), "X-Forwarded-For": f"10.9.8.{i}"},
            ).status_code
            for i in range(6)
        ]
        assert codes[:3] == [200, 200, 200], codes
        assert codes[3:] == [429, 429, 429]
        # the bootstrap administrator is a verified account: its own budget
        assert c.get("/me", headers=auth(ADMIN_TOKEN)).status_code == 200
        assert c.post("/planning/sites", json=SITING, headers=auth(ADMIN_TOKEN)).status_code == 200


def test_an_accounts_tokens_share_one_budget(make_settings: Callable[..., Settings]) -> None:
    admin = auth(ADMIN_TOKEN)
    with TestClient(create_app(make_settings(write_rate_limit=4))) as c:
        org = c.post("/organisations", json={"name": "Coop", "role": "cooperative"}, headers=admin)
        acc = c.post(
            f"/organisations/{org.json()['id']}/accounts",
            json={"email": "a@coop.it", "display_name": "A"},
            headers=admin,
        ).json()
        first = acc["token"]["token"]  # admin budget used: 2 of 4
        second = c.post("/me/tokens", json={"label": "2"}, headers=auth(first)).json()["token"]
        # account budget: 1 used; three more between its two tokens, then 429
        got = [
            c.post("/me/tokens", json={}, headers=auth(t)).status_code
            for t in (first, second, first, second)
        ]
        assert got == [201, 201, 201, 429]
        p = problem(c.post("/me/tokens", json={}, headers=auth(first)), 429)
        assert "4 write requests" in (p.detail or "")
        # an anonymous client at the same address still has its own budget
        assert c.post("/offers", json={}).status_code == 401
