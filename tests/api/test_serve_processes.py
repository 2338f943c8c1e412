"""``territorio serve`` as a real process: clean shutdown, one rate limit for all workers.

Each test starts the command on a free port with the small test bundle, and
always stops it (SIGKILL of the whole process group as a last resort).
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx
import pytest

from .conftest import _free_port

LIMIT = 10


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    if not path.is_file():
        pytest.skip("needs Linux /proc to find the worker processes")
    return [int(c) for c in path.read_text().split()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    try:  # a zombie (exited, not yet reaped by init) is not running
        return stat.read_text().split(") ", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _port_is_free(port: int) -> bool:
    # no SO_REUSEPORT here: the bind fails while any socket still listens on the port
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@contextmanager
def _serve(
    bundle: Path, tmp_path: Path, *, workers: int
) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    port = _free_port()
    env = {
        **os.environ,
        "TERRITORIO_WARM_UP": "false",
        "TERRITORIO_WRITE_RATE_LIMIT": str(LIMIT),
        "TERRITORIO_WRITE_RATE_WINDOW_S": "3600",
        "TERRITORIO_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
    }
    env.pop("TERRITORIO_RATE_LIMIT_PATH", None)
    log = tmp_path / f"serve-{port}.log"
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "territorio.cli", "serve", "--bundle", str(bundle),
             "--port", str(port), "--workers", str(workers)],
            env=env, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                tail = log.read_text(errors="replace")[-2000:]
                pytest.fail(f"territorio serve exited with {proc.returncode}: {tail}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/meta", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("territorio serve did not answer within 120 s")
            time.sleep(0.3)
        if workers > 1:  # every worker up: each answers once it has loaded the bundle
            time.sleep(2)
        yield proc, port
    finally:
        # the whole group (parent and any worker left), also after a failed assertion
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_every_worker_and_frees_the_port(
    bundle_path: Path, tmp_path: Path, sig: signal.Signals
) -> None:
    with _serve(bundle_path, tmp_path, workers=2) as (proc, port):
        workers = _children(proc.pid)
        assert len(workers) >= 2, workers
        assert not _port_is_free(port)
        os.kill(proc.pid, sig)  # the parent only, as a service manager does
        assert proc.wait(30) == 0
        deadline = time.monotonic() + 15
        while any(_alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert [w for w in workers if _alive(w)] == [], "workers outlived the server"
        assert _port_is_free(port)


def test_workers_stop_when_the_parent_is_killed(bundle_path: Path, tmp_path: Path) -> None:
    # SIGKILL cannot be caught: the workers ask the kernel for a signal when their
    # parent dies (PR_SET_PDEATHSIG), so none keeps the port.
    if not sys.platform.startswith("linux"):
        pytest.skip("parent-death signal is Linux-only")
    with _serve(bundle_path, tmp_path, workers=2) as (proc, port):
        workers = _children(proc.pid)
        assert len(workers) >= 2, workers
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(30) == -signal.SIGKILL
        deadline = time.monotonic() + 20
        while any(_alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert [w for w in workers if _alive(w)] == []
        assert _port_is_free(port)


@pytest.mark.parametrize("workers", [1, 2])
def test_random_bearer_burst_gets_at_most_the_limit_through(
    bundle_path: Path, tmp_path: Path, workers: int
) -> None:
    # New connection per request: SO_REUSEPORT spreads them over the workers.
    # Random bearer and random X-Forwarded-For per request (from 127.0.0.1,
    # which uvicorn trusts by default): neither may buy a fresh budget.
    with _serve(bundle_path, tmp_path, workers=workers) as (_, port):
        codes = []
        for i in range(4 * LIMIT):
            headers = {
                "Authorization": f"Bearer wpt_{secrets.token_hex(8)}",
                "X-Forwarded-For": f"198.51.100.{i % 250}",
            }
            with httpx.Client(base_url=f"http://127.0.0.1:{port}") as c:
                codes.append(c.post("/offers", json={}, headers=headers).status_code)
        through = [c for c in codes if c != 429]
        assert len(through) == LIMIT, codes
        assert set(through) == {401}  # random tokens authenticate no one
