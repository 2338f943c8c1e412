"""One pure-ASGI middleware: body-size limit, write rate limit, provenance header."""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
from collections import OrderedDict
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from territorio.api.errors import problem_body

__all__ = ["RateLimiter", "WptMiddleware"]

_WRITE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_NO_HEADER = ("/docs", "/redoc", "/openapi.json")


class RateLimiter:
    """Fixed-window counters per client, with bounded memory.

    Parameters
    ----------
    limit
        Requests allowed per window.
    window_s
        Window length in seconds.
    max_clients
        Clients remembered; the least recently seen are forgotten first.
    """

    def __init__(self, *, limit: int, window_s: float, max_clients: int) -> None:
        self.limit = limit
        self.window_s = window_s
        self.max_clients = max_clients
        self._counts: OrderedDict[str, tuple[float, int]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._counts)

    def hit(self, key: str, *, now: float | None = None) -> int:
        """Count a request; return 0 if allowed, else the seconds to wait."""
        t = time.monotonic() if now is None else now
        with self._lock:
            start, n = self._counts.pop(key, (t, 0))
            if t - start >= self.window_s:
                start, n = t, 0
            n += 1
            self._counts[key] = (start, n)
            while len(self._counts) > self.max_clients:
                self._counts.popitem(last=False)
            if n > self.limit:
                return max(1, math.ceil(self.window_s - (t - start)))
            return 0


class WptMiddleware:
    """Limit body size (413), rate-limit writes (429), tag data responses.

    Parameters
    ----------
    app
        The wrapped ASGI app.
    max_body_bytes
        Largest accepted request body.
    limiter
        Rate limiter for write requests.
    header
        Callable returning the ``X-Territorio-Data`` value (None: no header).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        limiter: RateLimiter,
        header: Any,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.limiter = limiter
        self.header = header

    async def _reject(
        self,
        scope: Scope,
        send: Send,
        status: int,
        title: str,
        detail: str,
        extra: list[Any],
    ) -> None:
        body = json.dumps(problem_body(Request(scope), status, title, detail)).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"content-length", str(len(body)).encode()),
                    *extra,
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI call."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        method: str = scope.get("method", "GET")
        headers = dict(scope.get("headers") or [])
        if method in _WRITE:
            auth = headers.get(b"authorization")
            if auth:
                key = "t:" + hashlib.sha256(auth).hexdigest()[:24]
            else:
                client = scope.get("client")
                key = "ip:" + (client[0] if client else "unknown")
            wait = self.limiter.hit(key)
            if wait:
                await self._reject(
                    scope,
                    send,
                    429,
                    "Too many requests",
                    f"more than {self.limiter.limit} write requests in "
                    f"{self.limiter.window_s:g} s from this client; retry in {wait} s",
                    [(b"retry-after", str(wait).encode())],
                )
                return
        declared = headers.get(b"content-length")
        too_large = f"request body larger than {self.max_body_bytes} bytes; send less data"
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                size = 0
            if size > self.max_body_bytes:
                await self._reject(scope, send, 413, "Request body too large", too_large, [])
                return
        if method in _WRITE:
            # Read the (small) body up front so chunked uploads are bounded too.
            chunks: list[bytes] = []
            total = 0
            more = True
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                chunk = message.get("body", b"")
                total += len(chunk)
                if total > self.max_body_bytes:
                    await self._reject(scope, send, 413, "Request body too large", too_large, [])
                    return
                chunks.append(chunk)
                more = message.get("more_body", False)
            body = b"".join(chunks)
            sent = False

            async def replay() -> Message:
                nonlocal sent
                if not sent:
                    sent = True
                    return {"type": "http.request", "body": body, "more_body": False}
                return await receive()

            receive = replay

        tag = self.header() if self.header is not None else None
        if tag is None or path.startswith(_NO_HEADER):
            await self.app(scope, receive, send)
            return
        value = tag.encode("latin-1", "replace")

        async def send_tagged(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] < 400:
                message = {
                    **message,
                    "headers": [*message.get("headers", []), (b"x-territorio-data", value)],
                }
            await send(message)

        await self.app(scope, receive, send_tagged)
