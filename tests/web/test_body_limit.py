"""The request-body limit of the web app's security middleware, for bodies that arrive in pieces
without a ``Content-Length`` (chunked transfer coding, RFC 9112 section 7.1), which only the
counting loop can stop. A declared oversized ``Content-Length`` is tested in test_security.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

from starlette.testclient import TestClient

from ntsec.web import _security
from ntsec.web._security import SecurityMiddleware, SecurityPolicy

#: The limit (named MAX_BODY once the web hardening lands, _MAX_BODY before).
_MAX_BODY: int = vars(_security).get("MAX_BODY") or vars(_security)["_MAX_BODY"]

CHUNK = 64 * 1024
COOKIE = "c" * 43  # the middleware accepts a CSRF cookie of 32 characters or more


def drive(total: int, *, declare: bool = False) -> tuple[int, bytes | None, int]:
    """POST ``total`` bytes through the middleware in CHUNK-sized ``http.request`` messages.
    Returns (status sent, body the app received or None if it was not called, messages read)."""
    policy = SecurityPolicy()
    seen: list[bytes] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        seen.append(body)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    sizes = [CHUNK] * (total // CHUNK) + ([total % CHUNK] if total % CHUNK else [])
    pulled = 0

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        if pulled >= len(sizes):
            return {"type": "http.disconnect"}
        pulled += 1
        return {"type": "http.request", "body": b"x" * sizes[pulled - 1],
                "more_body": pulled < len(sizes)}

    sent: list[dict[str, Any]] = []

    async def send(message: Any) -> None:
        sent.append(message)

    headers = [(b"host", b"127.0.0.1:8765"),
               (b"cookie", f"{policy.csrf_cookie}={COOKIE}".encode()),
               (b"x-csrf-token", policy.csrf_token(COOKIE).encode())]
    if declare:
        headers.append((b"content-length", str(total).encode()))
    scope = {"type": "http", "method": "POST", "path": "/explorer", "scheme": "http",
             "query_string": b"", "headers": headers}
    asyncio.run(SecurityMiddleware(app, policy)(scope, receive, send))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    return status, (seen[0] if seen else None), pulled


def test_streamed_body_over_the_limit_is_refused_before_the_app() -> None:
    status, body, pulled = drive(_MAX_BODY + 1)
    assert 413 == status
    assert body is None
    # Reading stopped at the piece that crossed the limit: nothing after it was buffered.
    assert pulled == _MAX_BODY // CHUNK + 1


def test_streamed_body_at_the_limit_reaches_the_app_whole() -> None:
    status, body, _ = drive(_MAX_BODY)
    assert 200 == status
    assert body == b"x" * _MAX_BODY


def test_declared_oversized_length_is_refused_without_reading() -> None:
    status, body, pulled = drive(_MAX_BODY + 1, declare=True)
    assert (413, None, 0) == (status, body, pulled)


def test_chunked_upload_through_the_app_is_refused(client: TestClient) -> None:
    def pieces() -> Iterator[bytes]:
        for _ in range(_MAX_BODY // CHUNK + 1):
            yield b"sddl=" + b"A" * (CHUNK - 5)

    response = client.post("/explorer", content=pieces(),
                           headers={"content-type": "application/x-www-form-urlencoded"})
    assert 413 == response.status_code
