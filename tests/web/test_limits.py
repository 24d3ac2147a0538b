"""The web app under hostile load (issue 10, items 1 and 7): size limits with honest answers,
library work off the event loop, loopback Host names, safe error text.

* A text field over ``MAX_FIELD`` is refused with 413 and a message naming the field, its size
  and the limit (checked before the CSRF check reads the form, so it is never reported as a
  CSRF failure); a body over ``MAX_BODY`` is refused with 413 whether it declares its length
  or streams without one.
* A slow request (a parser made to block) does not hold up other requests: a static file is
  served while it waits.
* A server bound to any loopback address answers to that address in ``Host``.
* Error messages escape control characters and cut huge echoed values.
"""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient  # conftest imported it first, quietly

from ntsec.web import Settings, _views, create_app
from ntsec.web._security import MAX_BODY, MAX_FIELD

BASE = "http://127.0.0.1:8765"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def token_of(client: TestClient, path: str = "/sddl") -> str:
    match = _CSRF.search(client.get(path).text)
    assert match is not None
    return match.group(1)


# ----------------------------------------------------------------------------- sizes


@pytest.mark.parametrize("multipart", [False, True], ids=["urlencoded", "multipart"])
def test_a_large_field_gets_an_honest_413(client: TestClient, multipart: bool) -> None:
    text = "D:" + "(A;;FA;;;WD)" * (MAX_FIELD // 12 + 1)
    size = len(text.encode())
    assert MAX_FIELD < size < MAX_BODY
    form = {"csrf_token": token_of(client), "text": text, "input_format": "sddl"}
    if multipart:
        response = client.post("/sddl", files={k: (None, v) for k, v in form.items()})
    else:
        response = client.post("/sddl", data=form)
    assert 413 == response.status_code
    assert "CSRF" not in response.text
    assert f"The field text is {size} bytes; the limit is {MAX_FIELD} bytes." in response.text


def test_a_field_at_the_limit_is_read(client: TestClient) -> None:
    text = "D:" + " " * (MAX_FIELD - 2)
    response = client.post(
        "/sddl", data={"csrf_token": token_of(client), "text": text, "input_format": "sddl"}
    )
    assert 200 == response.status_code


def test_a_large_field_is_refused_even_without_a_csrf_token(client: TestClient) -> None:
    client.get("/sddl")
    response = client.post("/sddl", data={"text": "x" * (MAX_FIELD + 1)})
    assert 413 == response.status_code
    assert f"The field text is {MAX_FIELD + 1} bytes" in response.text


def test_a_declared_large_body_is_refused(client: TestClient) -> None:
    token = token_of(client)
    body = f"csrf_token={token}&text=".encode() + b"x" * MAX_BODY
    response = client.post(
        "/sddl", content=body, headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert 413 == response.status_code
    assert f"The request body is {len(body)} bytes; the limit is {MAX_BODY} bytes." in (
        response.text)


def test_a_streamed_large_body_is_refused(client: TestClient) -> None:
    # No Content-Length: the body arrives in chunks and the limit is enforced while reading.
    token = token_of(client)
    sent = []

    def chunks() -> Iterator[bytes]:
        yield f"csrf_token={token}&text=".encode()
        for _ in range(2 * MAX_BODY // 65536):
            sent.append(1)
            yield b"x" * 65536

    response = client.post(
        "/sddl", content=chunks(), headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert 413 == response.status_code
    assert f"The request body is more than {MAX_BODY} bytes" in response.text


def test_too_many_file_uploads_are_refused(client: TestClient) -> None:
    files = [("upload", (f"sd{n}.txt", b"D:", "text/plain")) for n in range(5)]
    response = client.post("/sddl", data={"csrf_token": token_of(client)}, files=files)
    assert 400 == response.status_code
    assert "Maximum number of files is 4" in response.text


# ----------------------------------------------------------------------------- event loop


def test_a_slow_request_does_not_block_a_static_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDDL decoder is made to block until released; while it blocks, a static file must
    be served. On the event loop the block would stop the loop, the static request could not
    even start, and the slow request would finish first."""
    entered = threading.Event()
    release = threading.Event()
    real = _views.view_sddl

    def slow(**kwargs: Any) -> Any:
        entered.set()
        release.wait(timeout=10)
        return real(**kwargs)

    monkeypatch.setattr(_views, "view_sddl", slow)
    app = create_app()
    finished: list[str] = []

    async def scenario() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as ac:
            page = await ac.get("/sddl")
            match = _CSRF.search(page.text)
            assert match is not None
            form = {"csrf_token": match.group(1), "text": "D:", "input_format": "sddl"}

            async def slow_post() -> None:
                response = await ac.post("/sddl", data=form)
                assert 200 == response.status_code
                finished.append("slow")

            task = asyncio.create_task(slow_post())
            while not entered.is_set():  # the decoder has started (and is blocking)
                await asyncio.sleep(0.01)
            static = await ac.get("/static/style.css")
            assert 200 == static.status_code
            finished.append("static")
            release.set()
            await task

    # In a thread of its own: the browser tests' Playwright keeps an event loop running in
    # this one, and asyncio.run() refuses to start a second.
    failures: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(scenario())
        except BaseException as exc:  # handed to the test's thread below
            failures.append(exc)

    runner = threading.Thread(target=run)
    runner.start()
    runner.join(timeout=60)
    release.set()
    if failures:
        raise failures[0]
    assert ["static", "slow"] == finished


# ----------------------------------------------------------------------------- Host


@pytest.mark.parametrize(
    ("bound", "host", "status"),
    [
        ("127.0.0.2", "127.0.0.2:8765", 200),
        ("127.0.0.2", "127.0.0.1:8765", 200),
        ("127.0.0.1", "127.255.0.9:8765", 200),
        ("::1", "[::1]:8765", 200),
        ("127.0.0.2", "localhost:8765", 200),
        ("127.0.0.2", "evil.example:8765", 400),
        ("127.0.0.2", "127.0.0.2.evil.example:8765", 400),
        ("127.0.0.2", "10.0.0.1:8765", 400),
    ],
)
def test_any_loopback_address_is_a_good_host(bound: str, host: str, status: int) -> None:
    with TestClient(create_app(Settings(host=bound)), base_url=BASE) as c:
        assert status == c.get("/", headers={"host": host}).status_code


def test_a_real_server_on_127_0_0_2_answers() -> None:
    import uvicorn

    try:
        sock = socket.create_server(("127.0.0.2", 0))
    except OSError:
        pytest.skip("127.0.0.2 is not a local address here")
    port = sock.getsockname()[1]
    app = create_app(Settings(host="127.0.0.2", port=port))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        response = httpx.get(f"http://127.0.0.2:{port}/sddl", timeout=10)
        assert 200 == response.status_code
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


# ----------------------------------------------------------------------------- error text


def test_error_text_escapes_control_characters_and_cuts_long_values(
    client: TestClient,
) -> None:
    text = "D:(A;;FA;;;" + "\x1b[2J" + "Z" * 100_000 + ")"
    response = client.post(
        "/sddl", data={"csrf_token": token_of(client), "text": text, "input_format": "sddl"}
    )
    assert 400 == response.status_code
    error = re.search(r'<pre class="error"[^>]*id="error-text">(.*?)</pre>', response.text, re.S)
    assert error is not None
    shown = error.group(1)
    assert "\x1b" not in shown
    assert "\\x1b[2J" in shown
    assert len(shown) < 1000
