"""Benchmark of the WPT API: start the server on 127.0.0.1 and drive it with wrk.

Usage::

    python bench/api.py --bundle data/torino [--workers 2] [--connections 32] [--duration 15]
        [--iso-connections 1,8,32] [--iso-minutes 15] [--cases detail,bbox,...]

Prints requests/s and p50/p95/p99 latency for: municipality detail, services in a
bbox, nearest services (travel time from a point), isochrones and offer search.

Isochrone origins vary, so the server's isochrone cache is not a trick: the
reference points of the municipalities inside network coverage plus random
points inside coverage (seeded), shuffled and cycled through by wrk (one path
per request). Two isochrone cases: ``iso-mixed`` (all of those origins: mostly
fresh computations) and ``iso-refs`` (reference points only: the real pattern
of many requests from the same municipality, mostly cache hits). Each wrk
run reports the share of cache hits (``X-Cache`` header).

Needs ``wrk`` (Debian package ``wrk``); falls back to a bounded async httpx
client otherwise. Not a test: figures depend on the machine.
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
local threads = {}
local counter = 1
setup = function(thread)
  thread:set("id", counter)
  table.insert(threads, thread)
  counter = counter + 1
end
init = function(args)
  hits = 0
  seen = 0
  i = (id - 1) * 7919
end
request = function()
  if #paths == 0 then return wrk.format(nil) end
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
response = function(status, headers, body)
  seen = seen + 1
  if headers["X-Cache"] == "hit" or headers["x-cache"] == "hit" then hits = hits + 1 end
end
done = function(summary, latency, requests)
  local h, n = 0, 0
  for _, t in ipairs(threads) do h = h + t:get("hits"); n = n + t:get("seen") end
  io.write(string.format("RESULT %d %.3f %d %d %d %d %d %d %d\\n", summary.requests,
    summary.duration / 1e6, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), summary.errors.status, summary.errors.timeout, h, n))
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


def seed_offers(base: str, token: str, points: list[tuple[float, float]], n: int) -> int:
    """Publish ``n`` offers at the first ``n`` points (cycled); return how many were stored."""
    admin = {"Authorization": f"Bearer {token}"}
    org = httpx.post(f"{base}/organisations", json={"name": "Bench coop", "role": "cooperative"},
                     headers=admin).json()  # fmt: skip
    acc = httpx.post(f"{base}/organisations/{org['id']}/accounts",
                     json={"email": "bench@coop.it", "display_name": "Bench"},
                     headers=admin).json()  # fmt: skip
    h = {"Authorization": f"Bearer {acc['token']['token']}"}
    cats = ["childcare", "elderly_care", "transport", "health", "training", "leisure"]
    done = 0
    with httpx.Client(base_url=base, headers=h) as c:
        for i in range(n):
            lon, lat = points[i % len(points)]
            body = {
                "title": f"Offerta {i}",
                "category": cats[i % len(cats)],
                "provider": "Bench coop",
                "lon": lon,
                "lat": lat,
            }
            r = c.post("/offers", json=body)
            if r.status_code != 201:
                print("offer seed failed:", r.status_code, r.text[:200])
                return done
            done += 1
    return done


def server_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) used so far by the server and its worker processes.

    Read from ``/proc`` (Linux); 0 elsewhere. CPU per request is steadier than
    req/s on a shared machine: other processes slow the server down without
    adding to its CPU time.
    """
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total = 0.0
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            todo += [int(c) for c in Path(f"/proc/{p}/task/{p}/children").read_text().split()]
        except (OSError, ValueError, IndexError):
            continue
    return total


def _lua_paths(paths: list[str]) -> str:
    quoted = ",\n".join(json.dumps(p) for p in paths)
    return f"paths = {{\n{quoted}\n}}\n"


def run_wrk(
    url: str, connections: int, duration: int, threads: int, paths: list[str] | None = None
) -> dict[str, float]:
    """Run wrk on ``url`` (or cycle through ``paths`` on its host); parse the results."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(_lua_paths(paths or []))
        fh.write(LUA)
        script = fh.name
    threads = max(1, min(threads, connections))
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", "30s",
         "-s", script, url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    os.unlink(script)
    line = next(x for x in out.splitlines() if x.startswith("RESULT"))
    n, secs, p50, p95, p99, bad, timeouts, hits, seen = line.split()[1:]
    return {
        "requests": int(n),
        "rps": int(n) / float(secs),
        "p50_ms": int(p50) / 1000,
        "p95_ms": int(p95) / 1000,
        "p99_ms": int(p99) / 1000,
        "non_2xx": int(bad),
        "timeouts": int(timeouts),
        "cache_hit_share": int(hits) / max(1, int(seen)),
    }


async def _client_load(
    url: str, connections: int, duration: int, paths: list[str] | None = None
) -> dict[str, float]:
    lat: list[float] = []
    bad = 0
    hits = 0
    base = url.split("/", 3)
    root = "/".join(base[:3])
    counter = 0
    stop = time.perf_counter() + duration
    limits = httpx.Limits(max_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=30) as c:

        async def worker() -> None:
            nonlocal bad
            nonlocal hits, counter
            while time.perf_counter() < stop:
                target = url
                if paths:
                    counter += 1
                    target = root + paths[counter % len(paths)]
                t0 = time.perf_counter()
                r = await c.get(target)
                lat.append(time.perf_counter() - t0)
                bad += r.status_code >= 400
                hits += r.headers.get("x-cache") == "hit"

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
        "cache_hit_share": hits / max(1, len(lat)),
    }


def coverage_points(
    bundle: Path, *, n_random: int, seed: int
) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """Reference points of the municipalities in coverage, and random points in coverage.

    Points are kept only when the network covers them (the same snapping as
    the server) and they lie inside the territory, so every request is a real
    computation, not a 422.
    """
    import numpy as np
    import shapely

    from territorio.accessibility.network import network_from_bundle
    from territorio.api.app import _access_config
    from territorio.bundle import Bundle

    b = Bundle(bundle)
    cfg = _access_config(b.manifest)
    net = network_from_bundle(b, max_snap_m=cfg.max_snap_m, off_network_kmh=cfg.off_network_kmh)
    m = b.layer("municipalities")
    lon = m["ref_lon"].to_numpy(float)
    lat = m["ref_lat"].to_numpy(float)
    area = m.union_all()
    ok = net.snap(lon, lat).covered
    refs = list(zip(lon[ok], lat[ok], strict=True))
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = (float(v) for v in b.layer("road_nodes").total_bounds)
    rand: list[tuple[float, float]] = []
    while len(rand) < n_random:
        px = rng.uniform(x0, x1, 4 * n_random)
        py = rng.uniform(y0, y1, 4 * n_random)
        keep = net.snap(px, py).covered & shapely.contains_xy(area, px, py)
        rand += list(zip(px[keep], py[keep], strict=True))
    return refs, rand[:n_random]


def iso_paths(
    refs: list[tuple[float, float]], rand: list[tuple[float, float]], *, seed: int, minutes: str
) -> tuple[list[str], list[str]]:
    """Isochrone paths: reference points only, and reference plus random points (shuffled)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    contours = "".join(f"&minutes={m}" for m in minutes.split(","))

    def path(p: tuple[float, float]) -> str:
        return f"/isochrones?lon={p[0]:.6f}&lat={p[1]:.6f}{contours}"

    mixed = [path(p) for p in refs + rand]
    order = rng.permutation(len(mixed))
    ref_paths = [path(p) for p in refs]
    return [ref_paths[i] for i in rng.permutation(len(ref_paths))], [mixed[i] for i in order]


def random_paths(
    points: list[tuple[float, float]], codes: list[str], *, seed: int
) -> dict[str, list[str]]:
    """Randomised request paths of the other cases (one path per wrk request, cycled)."""
    import numpy as np

    rng = np.random.default_rng(seed + 1)
    cats = ["pharmacy", "primary_care", "primary_school", "post_office", "library", "pt_stop"]
    pts = [points[i] for i in rng.permutation(len(points))]
    return {
        "detail": [f"/municipalities/{codes[i]}" for i in rng.permutation(len(codes))],
        "bbox": [
            f"/services?bbox={x - 0.02:.5f},{y - 0.02:.5f},{x + 0.02:.5f},{y + 0.02:.5f}&limit=100"
            for x, y in pts
        ],
        "nearest": [
            f"/nearest?lon={x:.6f}&lat={y:.6f}&category={cats[i % len(cats)]}&k=3&max_minutes=15"
            for i, (x, y) in enumerate(pts)
        ],
        "offers-time": [
            f"/offers?from_lon={x:.6f}&from_lat={y:.6f}&max_minutes=15&limit=20" for x, y in pts
        ],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bundle", type=Path, default=ROOT / "data" / "torino")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument(
        "--iso-connections",
        default="1,8,32",
        help="comma-separated connection counts for the isochrone cases",
    )
    ap.add_argument("--duration", type=int, default=15)
    ap.add_argument("--wrk-threads", type=int, default=1)
    ap.add_argument("--random-origins", type=int, default=2000)
    ap.add_argument(
        "--settle", type=float, default=8.0, help="seconds to wait for the other workers"
    )
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--iso-minutes", default="15", help="isochrone contours, e.g. 15 or 10,20,30")
    ap.add_argument(
        "--cases",
        default="detail,bbox,nearest,iso-mixed,iso-refs,offers,offers-time",
        help="comma-separated cases to run",
    )
    ap.add_argument("--offers", type=int, default=505, help="offers published before the runs")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    args = ap.parse_args()
    wanted = set(args.cases.split(","))
    ref_pts, rand_pts = coverage_points(args.bundle, n_random=args.random_origins, seed=args.seed)
    refs, mixed = iso_paths(ref_pts, rand_pts, seed=args.seed, minutes=args.iso_minutes)
    print(
        f"origins: {len(refs)} reference points in coverage, "
        f"{len(mixed) - len(refs)} random points in coverage (seed {args.seed})",
        flush=True,
    )
    tmp = Path(tempfile.mkdtemp(prefix="wpt-bench-"))
    token = "bench-admin-token-0123456789"
    port = free_port()
    t0 = time.perf_counter()
    proc = start_server(args.bundle, f"sqlite:///{tmp / 'bench.db'}", port, args.workers, token)
    if args.workers > 1:
        # /meta answered from the first worker up; let the others finish their warm-up
        time.sleep(args.settle)
    print(f"server ready in {time.perf_counter() - t0:.1f} s ({args.workers} worker(s))")
    base = f"http://127.0.0.1:{port}"
    try:
        codes = [m["pro_com_t"] for m in httpx.get(f"{base}/municipalities?limit=1000").json()[
            "items"]]  # fmt: skip
        rnd = random_paths(rand_pts, codes, seed=args.seed)
        # offers where the origins are: random points in coverage (not the bench origins)
        n_offers = seed_offers(base, token, rand_pts[::-1], args.offers)
        print(f"{n_offers} offers published", flush=True)
        cases: list[tuple[str, str, str, list[str] | None, list[int]]] = [
            ("detail", "municipality detail (random comune)", base + rnd["detail"][0],
             rnd["detail"], [args.connections]),
            ("bbox", "services in a bbox (random)", base + rnd["bbox"][0], rnd["bbox"],
             [args.connections]),
            ("nearest", "nearest 3 (random origin, category)", base + rnd["nearest"][0],
             rnd["nearest"], [args.connections]),
            ("iso-mixed", f"isochrone {args.iso_minutes}', varied origins", base + mixed[0], mixed,
             [int(c) for c in args.iso_connections.split(",")]),
            ("iso-refs", f"isochrone {args.iso_minutes}', reference points", base + refs[0], refs,
             [int(c) for c in args.iso_connections.split(",")]),
            ("offers", "offer search", f"{base}/offers?category=childcare&q=offerta&limit=20",
             None, [args.connections]),
            ("offers-time", "offers within 15 min (random origin)", base + rnd["offers-time"][0],
             rnd["offers-time"], [args.connections]),
        ]  # fmt: skip
        use_wrk = shutil.which("wrk") is not None
        results = {}
        for key, name, url, paths, conns in cases:
            if key not in wanted:
                continue
            httpx.get(url, timeout=60).raise_for_status()
            done = 0
            for c in conns:
                # each run starts where the previous one stopped: the mixed origins
                # are not replayed into the cache filled by the previous run
                order = paths[done % len(paths) :] + paths[: done % len(paths)] if paths else None
                cpu0 = server_cpu_s(proc.pid)
                if use_wrk:
                    res = run_wrk(url, c, args.duration, args.wrk_threads, order)
                else:
                    res = asyncio.run(_client_load(url, c, args.duration, order))
                res["cpu_ms_per_request"] = (
                    1000 * (server_cpu_s(proc.pid) - cpu0) / max(1, int(res["requests"]))
                )
                done += int(res["requests"]) + 16
                results[f"{key}@{c}"] = res
                hit = (
                    f"  cache hits {100 * res['cache_hit_share']:5.1f}%"
                    if key.startswith("iso")
                    else ""
                )
                print(
                    f"{name:38s} c={c:<3d} {res['rps']:8.1f} req/s  p50 {res['p50_ms']:7.1f} ms"
                    f"  p95 {res['p95_ms']:7.1f} ms  p99 {res['p99_ms']:7.1f} ms  "
                    f"errors {res['non_2xx'] + res['timeouts']}  "
                    f"CPU {res['cpu_ms_per_request']:5.2f} ms/req{hit}",
                    flush=True,
                )
        print(
            f"(load generator: {'wrk' if use_wrk else 'httpx'}, {args.duration} s per case, "
            f"{args.workers} server worker(s), {os.cpu_count()} CPUs)"
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
