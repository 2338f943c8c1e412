"""The write rate limiter, shared by every worker process, and the client key it counts.

Counters live in a small SQLite file (one row per client and window), so
``territorio serve --workers N`` enforces one limit, not N: each worker
opens the same file and one ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``
counts a request atomically across processes. Clients are keyed by the
verified account when the request carries a valid token, else by the
client address, where ``X-Forwarded-For`` is believed only from configured
proxies (:func:`client_address`).
"""

from __future__ import annotations

import ipaddress
import math
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

__all__ = ["RateLimiter", "client_address", "parse_networks"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_SCHEMA = """
CREATE TABLE IF NOT EXISTS hits (
    key TEXT NOT NULL,
    win INTEGER NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (key, win)
) WITHOUT ROWID
"""
_HIT = (
    "INSERT INTO hits (key, win, n) VALUES (?, ?, 1) "
    "ON CONFLICT (key, win) DO UPDATE SET n = n + 1 RETURNING n"
)


class RateLimiter:
    """Fixed-window request counters per client in a SQLite file shared by processes.

    Windows are aligned on the wall clock (``floor(time / window_s)``), so
    every process agrees on them; at most ``limit`` requests of a client
    pass per window, however many workers share ``path``.

    Parameters
    ----------
    limit
        Requests allowed per window.
    window_s
        Window length in seconds.
    path
        The SQLite file (created if missing). Every worker of one server
        must be given the same file.
    """

    def __init__(self, *, limit: int, window_s: float, path: str | Path) -> None:
        self.limit = limit
        self.window_s = window_s
        self.path = Path(path)
        self._local = threading.local()
        self._last_purge = -1
        self._conn()  # create the table now: a bad path fails at start-up

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=10.0, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=OFF")  # counters, not records: speed first
            conn.execute(_SCHEMA)
            self._local.conn = conn
        return conn

    def hit(self, key: str, *, now: float | None = None) -> int:
        """Count a request of ``key``; return 0 if allowed, else the seconds to wait."""
        t = time.time() if now is None else now
        win = math.floor(t / self.window_s)
        conn = self._conn()
        (n,) = conn.execute(_HIT, (key, win)).fetchone()
        if win != self._last_purge:  # forget the windows that have ended, once per window
            self._last_purge = win
            conn.execute("DELETE FROM hits WHERE win < ?", (win,))
        if n > self.limit:
            return max(1, math.ceil((win + 1) * self.window_s - t))
        return 0

    def count(self, key: str, *, now: float | None = None) -> int:
        """Return the requests counted for ``key`` in the current window."""
        t = time.time() if now is None else now
        row = (
            self._conn()
            .execute(
                "SELECT n FROM hits WHERE key = ? AND win = ?",
                (key, math.floor(t / self.window_s)),
            )
            .fetchone()
        )
        return int(row[0]) if row else 0


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    """Parse addresses or CIDR blocks (``10.0.0.0/8``, ``::1``), raising ValueError."""
    return tuple(ipaddress.ip_network(v.strip(), strict=False) for v in values if v.strip())


def _trusted(addr: str, proxies: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return False
    return any(ip in net for net in proxies)


def client_address(peer: str | None, forwarded_for: str | None, proxies: Sequence[Network]) -> str:
    """Return the address a request comes from, for rate limiting.

    The TCP peer, unless it is a trusted proxy: then the right-most
    ``X-Forwarded-For`` entry that is not itself a trusted proxy (entries
    further left were written by the client and prove nothing). IPv6
    clients are keyed by their /64, the block one subscriber gets.

    Parameters
    ----------
    peer
        The TCP peer address (``scope["client"][0]``), None when unknown.
    forwarded_for
        The ``X-Forwarded-For`` header, if any.
    proxies
        Trusted proxy networks (``TERRITORIO_TRUSTED_PROXIES``); empty: the
        header is never believed.
    """
    addr = peer or "unknown"
    if forwarded_for and proxies and _trusted(addr, proxies):
        hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
        while hops and _trusted(hops[-1], proxies):
            hops.pop()
        if hops:
            addr = hops[-1]
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return addr[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)
