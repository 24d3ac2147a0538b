"""Fixtures for the web app's tests: an in-process client, a real server, a real browser.

The browser is Debian's ``chromium`` driven by Python Playwright (docs/design.md "Testing the web
app in a real browser"): found with ``shutil.which``, never downloaded. Without it the browser
tests are skipped with the reason, except in CI (``CI`` set), where a missing browser fails them.

Screenshots: the browser tests always take them (a page that cannot be drawn fails), but write
them over the tracked ``docs/screenshots/*.png`` only on request, so running the tests leaves
the checkout clean::

    NTSEC_WRITE_SCREENSHOTS=1 python -m pytest tests/web/test_browser*.py

Otherwise they go to pytest's temporary directory.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import socket
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("starlette", reason="the web app needs the web extra")

with warnings.catch_warnings():
    # Starlette 1.x asks for the httpx2 package and warns, once, at import time when only httpx
    # is installed; the client works the same with either.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

from ntsec.web import Settings, create_app

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "docs" / "screenshots"
VECTORS = REPO / "tests" / "vectors"
#: The address the in-process client pretends to talk to (the Host check accepts it).
BASE_URL = "http://127.0.0.1:8765"
#: A laptop screen.
VIEWPORT = {"width": 1366, "height": 768}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _capture(name: str) -> str:
    return (VECTORS / "whoami" / name).read_text(encoding="utf-8")


def _csrf_token(client: TestClient, path: str) -> str:
    match = _CSRF.search(client.get(path).text)
    assert match is not None
    return match.group(1)


@pytest.fixture
def capture() -> Callable[[str], str]:
    """Read a Windows whoami capture from tests/vectors/whoami."""
    return _capture


@pytest.fixture(scope="session")
def _default_machine_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("default-machine") / "machine.db"


@pytest.fixture(scope="module", autouse=True)
def _default_machine_elsewhere(_default_machine_dir: Path) -> Iterator[None]:
    """Apps made without ``machine_path`` serve the per-user default machine (found by
    ``ntsec.ui.machine.default_machine_path``); in tests it lives in a temporary directory,
    never in the user's own data directory. Module scope: set up before the module-scoped
    servers, and undone after each module, so tests outside tests/web see the real function."""
    from ntsec.ui import machine as _machine

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_machine, "default_machine_path", lambda: _default_machine_dir)
        yield


@pytest.fixture
def machine_path(tmp_path: Path) -> Path:
    """A fresh simulated machine (the built-in workstation scenario) for one test."""
    from ntsec.system.machine import Machine

    path = tmp_path / "machine.db"
    Machine.create(path).close()
    return path


@pytest.fixture
def machine_app(machine_path: Path) -> Any:
    return create_app(Settings(machine_path=machine_path))


@pytest.fixture
def machine_client(machine_app: Any) -> Iterator[TestClient]:
    """An in-process client of an app serving a fresh machine."""
    with TestClient(machine_app, base_url=BASE_URL) as c:
        yield c
    machine_app.state.machine.machine.close()


@pytest.fixture
def machine_server(machine_path: Path) -> Iterator[LiveServer]:
    """A real server over a fresh machine, for the browser."""
    with LiveServer(Settings(machine_path=machine_path)) as server:
        yield server
    server.app.state.machine.machine.close()


@pytest.fixture
def machineless_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A real server given a --machine path with no machine there."""
    with LiveServer(Settings(machine_path=tmp_path / "missing.db")) as server:
        yield server


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app(), base_url=BASE_URL) as c:
        yield c


@pytest.fixture
def csrf_token(client: TestClient) -> Callable[[str], str]:
    """The CSRF token a page gives ``client`` (whose cookie jar keeps the matching cookie)."""
    return lambda path="/explorer": _csrf_token(client, path)


@pytest.fixture
def post_form(client: TestClient) -> Callable[[str, dict[str, str]], Any]:
    """Submit a form as the page does: with the page's CSRF token."""

    def post(path: str, data: dict[str, str]) -> Any:
        return client.post(path, data={"csrf_token": _csrf_token(client, path), **data})

    return post


# ----------------------------------------------------------------------------- real server


class LiveServer:
    """uvicorn serving the app on a free loopback port, in a thread."""

    def __init__(self, settings: Settings | None = None) -> None:
        import uvicorn

        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        base = settings or Settings()
        self.app = create_app(dataclasses.replace(base, port=self.port))
        config = uvicorn.Config(self.app, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                message = "the server did not start within 10 s"
                raise RuntimeError(message)
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


@pytest.fixture(scope="module")
def live_server() -> Iterator[LiveServer]:
    with LiveServer() as server:
        yield server


# ----------------------------------------------------------------------------- browser


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must run the browser tests: .ci/run installs chromium)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        _unavailable("no chromium on PATH (Debian: apt-get install chromium)")
    assert path is not None
    return path


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Python Playwright is not installed (pip install playwright)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context and page at laptop size; fails the test on page errors, console
    errors (a Content-Security-Policy violation is one) and any dialog (alert from injected
    script)."""
    context = browser.new_context(viewport=VIEWPORT)
    p = context.new_page()
    p.set_default_timeout(10_000)
    problems: list[str] = []
    p.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    p.on(
        "console",
        lambda msg: (
            problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None
        ),
    )

    def on_dialog(dialog: Any) -> None:
        problems.append(f"dialog: {dialog.message}")
        dialog.dismiss()

    p.on("dialog", on_dialog)
    yield p
    context.close()
    assert [] == problems


#: Set to 1 to write the screenshots into docs/screenshots (README shows them).
WRITE_SCREENSHOTS = "NTSEC_WRITE_SCREENSHOTS"


@pytest.fixture
def screenshot(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Any, str], Path]:
    """Save a full-page PNG of a page as <name>.png: in docs/screenshots when
    ``NTSEC_WRITE_SCREENSHOTS=1``, else in a temporary directory."""
    if os.environ.get(WRITE_SCREENSHOTS) == "1":
        where = SCREENSHOTS
    else:
        where = tmp_path_factory.getbasetemp() / "screenshots"
    where.mkdir(parents=True, exist_ok=True)

    def take(page: Any, name: str) -> Path:
        path = where / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 0
        return path

    return take
