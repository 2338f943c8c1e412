"""Benchmark of the WPT API: start the server on 127.0.0.1 and drive it with wrk.

Usage::

    python bench/api.py --bundle data/torino [--workers 1] [--connections 32] [--duration 15]

Prints requests/s and p50/p95/p99 latency for: municipality detail, services in a
bbox, nearest services (travel time from a point) and offer search. Needs ``wrk``
(Debian package ``wrk``); falls back to a bounded async httpx client otherwise.
Not a test: figures depend on the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]

LUA = """
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %.3f %d %d %d %d %d\\n", summary.requests,
    summary.duration / 1e6, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), summary.errors.status, summary.errors.timeout))
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(bundle: Path, db: str, port: int, workers: int, token: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "TERRITORIO_BUNDLE_PATH": str(bundle),
        "TERRITORIO_DATABASE_URL": db,
        "TERRITORIO_ADMIN_TOKEN": token,
        "TERRITORIO_WRITE_RATE_LIMIT": "100000",
    }
    code = (
        "import sys; from territorio.api import Settings, serve; "
        f"serve(Settings(), host='127.0.0.1', port={port}, workers={workers})"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(f"{base}/meta", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise SystemExit("server exited during start-up")
        time.sleep(0.2)
    proc.terminate()
    raise SystemExit("server did not start in 120 s")


def seed_offers(base: str, token: str, lon: float, lat: float, n: int = 200) -> None:
    admin = {"Authorization": f"Bearer {token}"}
    org = httpx.post(f"{base}/organisations", json={"name": "Bench coop", "role": "cooperative"},
                     headers=admin).json()  # fmt: skip
    acc = httpx.post(f"{base}/organisations/{org['id']}/accounts",
                     json={"email": "bench@coop.it", "display_name": "Bench"},
                     headers=admin).json()  # fmt: skip
    h = {"Authorization": f"Bearer {acc['token']['token']}"}
    cats = ["childcare", "elderly_care", "transport", "health", "training", "leisure"]
    with httpx.Client(base_url=base, headers=h) as c:
        for i in range(n):
            body = {
                "title": f"Offerta {i}",
                "category": cats[i % len(cats)],
                "provider": "Bench coop",
                "lon": lon + ((i % 20) - 10) * 0.004,
                "lat": lat + ((i // 20) - 5) * 0.004,
            }
            r = c.post("/offers", json=body)
            if r.status_code != 201:
                print("offer seed failed:", r.status_code, r.text[:200])
                return


def run_wrk(url: str, connections: int, duration: int, threads: int) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(LUA)
        script = fh.name
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "-s", script, url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    os.unlink(script)
    line = next(x for x in out.splitlines() if x.startswith("RESULT"))
    n, secs, p50, p95, p99, bad, timeouts = line.split()[1:]
    return {
        "requests": int(n),
        "rps": int(n) / float(secs),
        "p50_ms": int(p50) / 1000,
        "p95_ms": int(p95) / 1000,
        "p99_ms": int(p99) / 1000,
        "non_2xx": int(bad),
        "timeouts": int(timeouts),
    }


async def _client_load(url: str, connections: int, duration: int) -> dict[str, float]:
    lat: list[float] = []
    bad = 0
    stop = time.perf_counter() + duration
    limits = httpx.Limits(max_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=30) as c:

        async def worker() -> None:
            nonlocal bad
            while time.perf_counter() < stop:
                t0 = time.perf_counter()
                r = await c.get(url)
                lat.append(time.perf_counter() - t0)
                bad += r.status_code >= 400

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        secs = time.perf_counter() - t0
    q = statistics.quantiles(lat, n=100)
    return {
        "requests": len(lat),
        "rps": len(lat) / secs,
        "p50_ms": q[49] * 1000,
        "p95_ms": q[94] * 1000,
        "p99_ms": q[98] * 1000,
        "non_2xx": bad,
        "timeouts": 0,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bundle", type=Path, default=ROOT / "data" / "torino")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--duration", type=int, default=15)
    ap.add_argument("--wrk-threads", type=int, default=1)
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="wpt-bench-"))
    token = "bench-admin-token-0123456789"
    port = free_port()
    proc = start_server(args.bundle, f"sqlite:///{tmp / 'bench.db'}", port, args.workers, token)
    base = f"http://127.0.0.1:{port}"
    try:
        torino = httpx.get(f"{base}/municipalities/001272").json()
        lon, lat = torino["ref_lon"], torino["ref_lat"]
        seed_offers(base, token, lon, lat)
        # warm the caches and the lazily built road network
        httpx.get(f"{base}/nearest", params={"lon": lon, "lat": lat, "category": "pharmacy"},
                  timeout=120)  # fmt: skip
        cases = {
            "municipality detail": f"{base}/municipalities/{torino['pro_com_t']}",
            "services in a bbox": f"{base}/services?bbox={lon - 0.02},{lat - 0.02},"
            f"{lon + 0.02},{lat + 0.02}&limit=100",
            "nearest 3 pharmacies (travel time)": f"{base}/nearest?lon={lon + 0.01}&lat={lat}"
            "&category=pharmacy&k=3&max_minutes=15",
            "isochrone 15 min": f"{base}/isochrones?lon={lon + 0.01}&lat={lat}&minutes=15",
            "offer search": f"{base}/offers?category=childcare&q=offerta&limit=20",
            "offers within 15 min": f"{base}/offers?from_lon={lon}&from_lat={lat}"
            "&max_minutes=15&limit=20",
        }
        use_wrk = shutil.which("wrk") is not None
        results = {}
        for name, url in cases.items():
            httpx.get(url, timeout=60).raise_for_status()
            if use_wrk:
                res = run_wrk(url, args.connections, args.duration, args.wrk_threads)
            else:
                res = asyncio.run(_client_load(url, args.connections, args.duration))
            results[name] = res
            print(
                f"{name:38s} {res['rps']:8.1f} req/s  p50 {res['p50_ms']:7.1f} ms  "
                f"p95 {res['p95_ms']:7.1f} ms  p99 {res['p99_ms']:7.1f} ms  "
                f"errors {res['non_2xx'] + res['timeouts']}",
                flush=True,
            )
        print(
            f"(load generator: {'wrk' if use_wrk else 'httpx'}, {args.connections} connections, "
            f"{args.duration} s per case, {args.workers} server worker(s), "
            f"{os.cpu_count()} CPUs)"
        )
        if args.json:
            print(json.dumps(results, indent=2))
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
