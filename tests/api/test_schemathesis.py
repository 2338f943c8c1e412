"""Property-based runs of schemathesis against the OpenAPI spec.

In process: no 5xx. On a live server with ``--checks all`` (the CLI, every
phase): the document tells the truth (see ``schemathesis.toml`` beside this
file for the 422s the schema cannot express).
"""

from __future__ import annotations

import re
import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from territorio.api import Settings, create_app
from tests.web.support import serve

from .conftest import ADMIN_TOKEN, TestClient, make_plan

CONFIG = Path(__file__).with_name("schemathesis.toml")
#: Failures allowed under ``--checks all``: ST201 only for ``limit`` above its
#: ``maximum``, which OGC API - Features asks to clamp, not to reject; ST204 and
#: ST205 (undeclared methods, OPTIONS) are outside this API's contract.
ALLOWED = {"ST201", "ST204", "ST205"}

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


def test_checks_all_find_the_document_truthful(
    make_settings: Callable[..., Settings], tmp_path: Path, bundle_path: Path
) -> None:
    exe = Path(sys.executable).with_name("schemathesis")
    if not exe.is_file():
        pytest.skip(f"the schemathesis command is not next to {sys.executable}")
    app = create_app(
        make_settings(write_rate_limit=100_000, plan_path=make_plan(tmp_path / "plan", bundle_path))
    )
    with serve(app) as base:
        import httpx

        admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        org = httpx.post(
            f"{base}/organisations", json={"name": "Coop", "role": "cooperative"}, headers=admin
        ).json()
        token = httpx.post(
            f"{base}/organisations/{org['id']}/accounts",
            json={"email": "a@coop.it", "display_name": "A"},
            headers=admin,
        ).json()["token"]["token"]
        run = subprocess.run(
            [str(exe), "--no-color", "--config-file", str(CONFIG), "run",
             f"{base}/openapi.json", "--checks", "all", "-n", str(MAX_EXAMPLES),
             "--seed", "1", "-H", f"Authorization: Bearer {token}"],
            capture_output=True, text=True, timeout=900, cwd=tmp_path,
        )  # fmt: skip
    out = run.stdout
    tested = re.search(r"Tested: (\d+)", out)
    assert tested is not None and int(tested[1]) >= 25, out[-3000:]
    found = dict(re.findall(r"❌ (ST\d{3}) [^:\n]*: (\d+)", out))
    # before: ST103 (400 undeclared), ST202 (valid requests rejected), ST203 and ST401
    # (public GET /offers declared as needing a bearer); ST101 server errors, ST108
    # response schema violations
    bad = {k: v for k, v in found.items() if k not in ALLOWED}
    assert not bad, (bad, out[-6000:])
    components = re.findall(r"Invalid component: (.*)", out)
    assert all("`limit`" in c and "greater than maximum" in c for c in components), components


def test_public_reads_and_unreadable_bodies_are_declared(
    make_settings: Callable[..., Settings],
) -> None:
    with TestClient(create_app(make_settings())) as client:
        spec = client.get("/openapi.json").json()
        # public searches answer without a token: the empty requirement says so
        assert {} in spec["paths"]["/offers"]["get"]["security"]
        assert {} in spec["paths"]["/offers/{offer_id}"]["get"]["security"]
        assert {} not in spec["paths"]["/offers"]["post"]["security"]
        assert client.get("/offers").status_code == 200
        # a JSON body that is not UTF-8: a declared 400 problem naming the body
        declared = spec["paths"]["/organisations"]["post"]["responses"]["400"]
        assert "application/problem+json" in declared["content"]
        r = client.post(
            "/organisations",
            content=b'{"name": "Caf\xe8"}',
            headers={
                "Authorization": f"Bearer {ADMIN_TOKEN}",
                "Content-Type": "application/json; charset=latin-1",
            },
        )
        assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json"
        p = r.json()
        assert p["title"] == "Bad request" and p["type"].endswith("/problems/bad-request")
        assert p["errors"] == [{"field": "body", "reason": "not readable as UTF-8 JSON"}]
        assert client.get("/problems/bad-request").status_code == 200
