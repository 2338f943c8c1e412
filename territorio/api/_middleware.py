"""One pure-ASGI middleware: Host trust, control characters, rate limit, body size, provenance.

In order, for every HTTP request:

1. a ``Host`` header naming no host this server answers to is dropped, so
   the links and problem ``type`` URIs built from the request use the
   server's own address, never a name an attacker chose;
2. a control character (NUL included) in the path, in a query parameter or
   in a string of a JSON body is a 422 naming the field, on every database
   (PostgreSQL cannot store NUL; SQLite's ``LIKE`` lets ``%00`` match all);
3. writes and computations (POST, PUT, PATCH, DELETE) are counted per client
   by the shared :class:`~territorio.api._ratelimit.RateLimiter` (429);
4. bodies are bounded (413) and data responses tagged ``X-Territorio-Data``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Sequence
from typing import Any
from urllib.parse import parse_qsl

import anyio.to_thread
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from territorio.api._ratelimit import Network, RateLimiter, client_address
from territorio.api.errors import problem_body

__all__ = ["WptMiddleware", "control_character_field"]

_WRITE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_NO_HEADER = ("/docs", "/redoc", "/openapi.json")
#: Any C0 control character or DEL: never valid in a path or a query parameter.
_CONTROL_QUERY = re.compile(r"[\x00-\x1f\x7f]")
#: In body strings tab, line feed and carriage return are text (descriptions).
_CONTROL_BODY = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _walk(value: Any, where: str) -> str | None:
    if isinstance(value, str):
        return where if _CONTROL_BODY.search(value) else None
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(k, str) and _CONTROL_BODY.search(k):
                return f"{where}.{k.encode('unicode_escape').decode()}"
            found = _walk(v, f"{where}.{k}")
            if found:
                return found
    if isinstance(value, list):
        for i, v in enumerate(value):
            found = _walk(v, f"{where}.{i}")
            if found:
                return found
    return None


def control_character_field(path: str, query: bytes, body: bytes | None) -> str | None:
    """Return the first field holding a control character (``"query.q"``, ``"body.title"``).

    ``body`` is parsed as JSON when it is JSON; a body that is not is left
    to the request validation (it reports the parse error itself).
    """
    if _CONTROL_QUERY.search(path):
        return "path"
    if query:
        pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True, encoding="utf-8")
        for k, v in pairs:
            if _CONTROL_QUERY.search(k):
                return "query"
            if _CONTROL_QUERY.search(v):
                return f"query.{k}"
    if body:
        try:
            doc = json.loads(body)
        except ValueError:
            return None
        return _walk(doc, "body")
    return None


def _host_name(value: str) -> str:
    """Return the host part of a ``Host`` header (``[::1]:8000`` -> ``::1``), lower case."""
    v = value.strip().lower()
    if v.startswith("["):
        return v[1 : v.find("]")] if "]" in v else v
    return v.rsplit(":", 1)[0] if v.count(":") == 1 else v


class WptMiddleware:
    """Trust known hosts; refuse control characters, too many writes, large bodies; tag data.

    Parameters
    ----------
    app
        The wrapped ASGI app.
    max_body_bytes
        Largest accepted request body.
    limiter
        Rate limiter for write requests, shared by the workers.
    header
        Callable returning the ``X-Territorio-Data`` value (None: no header).
    account_key
        Callable returning the rate-limit key of a bearer token when it is a
        valid token of an active account (``"account:<id>"``), else None; it
        runs in a worker thread (it may query the database).
    trusted_proxies
        Networks whose ``X-Forwarded-For`` is believed.
    allowed_hosts
        Host names the server answers to besides its own address (the
        public URL's host included); other ``Host`` headers are dropped.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        limiter: RateLimiter,
        header: Callable[[], str | None] | None,
        account_key: Callable[[str], str | None] | None = None,
        trusted_proxies: Sequence[Network] = (),
        allowed_hosts: Collection[str] = (),
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.limiter = limiter
        self.header = header
        self.account_key = account_key
        self.trusted_proxies = tuple(trusted_proxies)
        self.allowed_hosts = frozenset(h.lower() for h in allowed_hosts)

    async def _reject(
        self,
        scope: Scope,
        send: Send,
        status: int,
        title: str,
        detail: str,
        extra: list[Any],
        *,
        errors: list[dict[str, str]] | None = None,
    ) -> None:
        doc = problem_body(Request(scope), status, title, detail)
        if errors is not None:
            doc["errors"] = errors
        body = json.dumps(doc).encode()
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

    def _trusted_host(self, scope: Scope) -> Scope:
        """Return ``scope`` without its ``Host`` header when it names an unknown host."""
        raw = [(k, v) for k, v in scope.get("headers") or [] if k == b"host"]
        if not raw:
            return scope
        name = _host_name(raw[0][1].decode("latin-1"))
        server = scope.get("server")
        own = _host_name(str(server[0])) if server else None
        if name in self.allowed_hosts or name == own:
            return scope
        headers = [(k, v) for k, v in scope["headers"] if k != b"host"]
        return {**scope, "headers": headers}

    def rate_key(self, scope: Scope, headers: dict[bytes, bytes]) -> str:
        """Return the client a write is counted against.

        The verified account when the request carries a valid token (so an
        organisation's tokens share one budget), else the client address
        (``X-Forwarded-For`` believed only from trusted proxies): a random
        or revoked bearer buys no fresh budget.
        """
        auth = headers.get(b"authorization", b"").decode("latin-1")
        scheme, _, token = auth.partition(" ")
        if self.account_key is not None and scheme.lower() == "bearer" and token.strip():
            key = self.account_key(token.strip())
            if key is not None:
                return key
        peer = scope.get("client")
        xff = headers.get(b"x-forwarded-for")
        addr = client_address(
            peer[0] if peer else None,
            xff.decode("latin-1") if xff else None,
            self.trusted_proxies,
        )
        return "ip:" + addr

    def _count(self, scope: Scope, headers: dict[bytes, bytes]) -> int:
        return self.limiter.hit(self.rate_key(scope, headers))

    async def _invalid(self, scope: Scope, send: Send, field: str) -> None:
        reason = (
            "control characters (such as NUL, \\u0000) are not allowed; remove them "
            "/ caratteri di controllo non ammessi"
        )
        await self._reject(
            scope,
            send,
            422,
            "Invalid request",
            f"the request is not valid: {field}: {reason}",
            [],
            errors=[{"field": field, "reason": reason}],
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI call."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope = self._trusted_host(scope)
        path: str = scope.get("path", "")
        method: str = scope.get("method", "GET")
        query: bytes = scope.get("query_string", b"")
        headers = dict(scope.get("headers") or [])
        if method in _WRITE:
            wait = await anyio.to_thread.run_sync(self._count, scope, headers)
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
        body: bytes | None = None
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

        bad = control_character_field(path, query, body)
        if bad is not None:
            await self._invalid(scope, send, bad)
            return

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
