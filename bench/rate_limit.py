"""Random-bearer burst against the write rate limit, with 1 and with 2 workers.

Usage::

    python bench/rate_limit.py --bundle data/torino [--workers 1,2] [--requests 2000]
        [--concurrency 32] [--limit 60] [--window 3600]

Starts ``territorio serve --workers N`` on a free port for each N, sends
``--requests`` ``POST /planning/sites`` with a new random bearer token and a
random ``X-Forwarded-For`` each (the attack of issue 11: before, 311 of 311
went through), while a reader measures municipality detail requests/s; then
stops the server with SIGTERM and checks every worker is gone. Prints how
many requests the rate limiter admitted (must be at most the limit per
window), how many of those were computed (200) or refused by the busy gate
(503), and the reader's throughput alone and during the burst. Not a test: figures depend on
the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(bundle: Path, workers: int, limit: int, window: float, db: str) -> tuple[Any, int]:
    port = free_port()
    env = {
        **os.environ,
        "TERRITORIO_WRITE_RATE_LIMIT": str(limit),
        "TERRITORIO_WRITE_RATE_WINDOW_S": str(window),
        "TERRITORIO_DATABASE_URL": db,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "territorio.cli", "serve", "--bundle", str(bundle),
         "--port", str(port), "--workers", str(workers)],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    for _ in range(1200):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/meta", timeout=1).status_code == 200:
                time.sleep(3 if workers > 1 else 0)  # let every worker finish warming up
                return proc, port
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise SystemExit("server exited during start-up")
        time.sleep(0.25)
    os.killpg(proc.pid, signal.SIGKILL)
    raise SystemExit("server did not start in 300 s")


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in path.read_text().split()] if path.is_file() else []


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def reader(base: str, code: str, stop: Any, out: Any) -> None:
    """Municipality detail requests in a loop (its own process) until ``stop`` is set."""
    n = 0
    t0 = time.perf_counter()
    with httpx.Client(base_url=base, timeout=60) as client:
        while not stop.is_set():
            n += client.get(f"/municipalities/{code}").status_code == 200
    out.put(n / (time.perf_counter() - t0))


def read_rate(base: str, code: str, *, seconds: float | None, readers: int = 4) -> Any:
    """Start ``readers`` reader processes; return a function stopping them -> total req/s."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    stop, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=reader, args=(base, code, stop, out)) for _ in range(readers)]
    for p in procs:
        p.start()

    def finish() -> float:
        stop.set()
        rate = sum(out.get(timeout=120) for _ in procs)
        for p in procs:
            p.join(30)
        return round(rate, 1)

    if seconds is not None:
        time.sleep(seconds)
        return finish()
    return finish


async def burst(base: str, body: dict[str, Any], n: int, concurrency: int,
                window: float) -> dict[str, Any]:  # fmt: skip
    codes: Counter[int] = Counter()
    per_window: Counter[int] = Counter()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(n):
        queue.put_nowait(i)

    async def attacker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            i = queue.get_nowait()
            headers = {
                "Authorization": f"Bearer wpt_{secrets.token_hex(12)}",
                "X-Forwarded-For": f"198.51.{i // 250 % 250}.{i % 250}",
            }
            sent = time.time()  # the server counts a request in the window it arrives in
            try:
                r = await client.post("/planning/sites", json=body, headers=headers)
                codes[r.status_code] += 1
                if r.status_code != 429:  # admitted by the rate limiter
                    per_window[int(sent // window)] += 1
            except httpx.HTTPError:
                codes[-1] += 1

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:
        t0, w0 = time.perf_counter(), int(time.time() // window)
        await asyncio.gather(*(attacker(client) for _ in range(concurrency)))
        elapsed, w1 = time.perf_counter() - t0, int(time.time() // window)
    # by client send time: only indicative when the burst spans windows (a saturated
    # server reads a request later than it was sent); exact within one window
    return {"codes": dict(sorted(codes.items())), "seconds": round(elapsed, 1),
            "windows_spanned": w1 - w0 + 1,
            "admitted_per_window": [per_window[k] for k in sorted(per_window)]}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bundle", type=Path, default=ROOT / "data" / "torino")
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--limit", type=int, default=60)
    # one window longer than the burst: "at most the limit per window" is then exact
    ap.add_argument("--window", type=float, default=3600.0)
    ap.add_argument("--codes", default="", help="ISTAT codes of the siting scope (default: 3)")
    args = ap.parse_args()
    for workers in [int(w) for w in args.workers.split(",")]:
        with tempfile.TemporaryDirectory() as tmp:
            proc, port = start(
                args.bundle, workers, args.limit, args.window, f"sqlite:///{tmp}/bench.db"
            )
            base = f"http://127.0.0.1:{port}"
            try:
                codes = [c for c in args.codes.split(",") if c]
                if not codes:
                    items = httpx.get(f"{base}/municipalities", params={"limit": 3}).json()
                    codes = [m["pro_com_t"] for m in items["items"]]
                body = {"municipalities": codes, "categories": ["pharmacy"], "k": 1}
                pids = children(proc.pid)
                idle = read_rate(base, codes[0], seconds=5.0)
                finish = read_rate(base, codes[0], seconds=None)
                out = asyncio.run(burst(base, body, args.requests, args.concurrency, args.window))
                out["detail_rps_idle"] = idle
                out["detail_rps_during"] = finish()
            finally:
                os.kill(proc.pid, signal.SIGTERM)
                rc = proc.wait(60)
            time.sleep(1)
            # past the rate limiter: computed (200) or refused by the busy gate (503)
            admitted = sum(v for k, v in out["codes"].items() if k not in (429, -1))
            out.update(
                workers=workers,
                limit=args.limit,
                window_s=args.window,
                admitted=admitted,
                computed=out["codes"].get(200, 0),
                exit_code=rc,
                workers_left=[p for p in pids if alive(p)],
            )
            print(json.dumps(out))


if __name__ == "__main__":
    main()
