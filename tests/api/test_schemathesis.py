"""Property-based run of schemathesis against the OpenAPI spec, in process: no 5xx."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from territorio.api import Settings, create_app

from .conftest import ADMIN_TOKEN, TestClient, make_plan

#: Examples per operation: enough to exercise every parameter, bounded for CI (2 cores).
MAX_EXAMPLES = 25


def test_no_server_errors(
    make_settings: Callable[..., Settings], tmp_path: Path, bundle_path: Path
) -> None:
    with warnings.catch_warnings():
        # schemathesis imports hypothesis-jsonschema and friends, some of which warn on import
        warnings.simplefilter("ignore")
        import schemathesis

    # A high write limit: schemathesis sends many POSTs from one client.
    app = create_app(
        make_settings(write_rate_limit=100_000, plan_path=make_plan(tmp_path / "plan", bundle_path))
    )
    with TestClient(app) as client:  # runs the lifespan: bundle loaded, database migrated
        admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        org = client.post(
            "/organisations", json={"name": "Coop", "role": "cooperative"}, headers=admin
        ).json()
        acc = client.post(
            f"/organisations/{org['id']}/accounts",
            json={"email": "a@coop.it", "display_name": "A"},
            headers=admin,
        ).json()
        token = acc["token"]["token"]
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        failures: list[str] = []
        statuses: dict[str, set[int]] = {}
        ops = [r.ok() for r in schema.get_all_operations()]
        assert len(ops) >= 25
        for op in ops:
            strategy = op.as_strategy()

            @settings(
                max_examples=MAX_EXAMPLES,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=strategy, with_token=st.booleans())
            def run(case, with_token: bool) -> None:  # type: ignore[no-untyped-def]
                headers = {"Authorization": f"Bearer {token}"} if with_token else None
                resp = case.call(headers=headers)
                statuses.setdefault(f"{case.method} {case.path}", set()).add(resp.status_code)
                if resp.status_code >= 500:
                    failures.append(f"{case.method} {case.formatted_path} -> {resp.status_code}")

            run()
        assert not failures, failures[:10]
        # the planning computations were exercised, and not only rejected
        assert 200 in statuses["POST /planning/sites"], statuses["POST /planning/sites"]
        assert 422 in statuses["POST /planning/scenarios"]


@pytest.mark.parametrize("path", ["/openapi.json"])
def test_spec_is_valid_openapi(make_settings: Callable[..., Settings], path: str) -> None:
    with TestClient(create_app(make_settings())) as client:
        spec = client.get(path).json()
    assert spec["openapi"].startswith("3.")
    # every operation documents at least one response and has a summary
    for p, item in spec["paths"].items():
        for method, op in item.items():
            assert op.get("summary"), f"{method} {p}"
            assert op.get("responses"), f"{method} {p}"
