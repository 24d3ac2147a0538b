"""The web app's security properties (ntsec.web._security, ntsec.cli.serve; issue 6).

CSRF tokens are required on every state-changing request, the access key is required off
loopback (in-process and through the real ``ntsec serve`` command), untrusted text (SDDL,
whoami captures and the account names in them) is rendered inert, and every response carries
the security headers.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient  # conftest imported it first, quietly

from ntsec.errors import InvalidValueError
from ntsec.web import Settings, create_app
from ntsec.web._security import is_loopback

BASE = "http://127.0.0.1:8765"
SDDL = "O:BAG:SYD:(A;;FA;;;BU)"
FORM = {"token_source": "standard-user", "sddl": SDDL, "object_type": "file", "rights": "0x1"}
TEMPLATES = Path(__file__).parents[2] / "src" / "ntsec" / "web" / "templates"


def token_of(client: TestClient, path: str = "/explorer") -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert match is not None
    return match.group(1)


# ----------------------------------------------------------------------------- CSRF


@pytest.mark.parametrize("path", ["/explorer", "/sddl", "/whoami"])
def test_post_without_csrf_token_is_refused(client: TestClient, path: str) -> None:
    client.get(path)  # the browser has its cookie, but the form carries no token
    response = client.post(path, data=FORM)
    assert 403 == response.status_code
    assert "CSRF" in response.text


def test_post_with_wrong_csrf_token_is_refused(client: TestClient) -> None:
    token = token_of(client)
    wrong = ("0" if token[0] != "0" else "1") + token[1:]
    assert 403 == client.post("/explorer", data={**FORM, "csrf_token": wrong}).status_code


def test_post_with_the_page_token_is_accepted(client: TestClient) -> None:
    response = client.post("/explorer", data={**FORM, "csrf_token": token_of(client)})
    assert 200 == response.status_code
    assert 'id="status"' in response.text


def test_token_is_tied_to_the_browser_cookie(client: TestClient) -> None:
    # Another browser's token (with its own cookie) is worth nothing with this browser's cookie.
    token = token_of(client)
    with TestClient(client.app, base_url=BASE) as other:
        other.get("/explorer")
        assert 403 == other.post("/explorer", data={**FORM, "csrf_token": token}).status_code


def test_token_without_cookie_is_refused(client: TestClient) -> None:
    token = token_of(client)
    client.cookies.clear()
    assert 403 == client.post("/explorer", data={**FORM, "csrf_token": token}).status_code


def test_token_in_header_is_accepted(client: TestClient) -> None:
    response = client.post("/explorer", data=FORM, headers={"X-CSRF-Token": token_of(client)})
    assert 200 == response.status_code


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://127.0.0.1:9999"},
        {"Sec-Fetch-Site": "cross-site"},
    ],
)
def test_cross_origin_post_is_refused_even_with_token(
    client: TestClient, headers: dict[str, str]
) -> None:
    response = client.post(
        "/explorer", data={**FORM, "csrf_token": token_of(client)}, headers=headers
    )
    assert 403 == response.status_code


def test_same_origin_post_is_accepted(client: TestClient) -> None:
    headers = {"Origin": BASE, "Sec-Fetch-Site": "same-origin"}
    response = client.post(
        "/explorer", data={**FORM, "csrf_token": token_of(client)}, headers=headers
    )
    assert 200 == response.status_code


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_every_unsafe_method_needs_the_token(client: TestClient, method: str) -> None:
    client.get("/")
    assert 403 == client.request(method, "/explorer").status_code


def test_every_form_carries_the_token(client: TestClient) -> None:
    for path in ("/explorer", "/sddl", "/whoami"):
        page = client.get(path).text
        forms = page.count("<form")
        assert forms >= 1
        assert forms == page.count('name="csrf_token"')


def test_csrf_cookie_is_httponly_and_samesite_strict(client: TestClient) -> None:
    cookie = client.get("/").headers["set-cookie"]
    assert cookie.startswith("ntsec_csrf_8765=")
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie


def test_oversized_body_is_refused(client: TestClient) -> None:
    big = {**FORM, "csrf_token": token_of(client), "sddl": "D:" + "(A;;FA;;;BU)" * 200_000}
    assert 413 == client.post("/explorer", data=big).status_code


# ----------------------------------------------------------------------------- host and key


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.10", False),
        ("example.org", False),
    ],
)
def test_is_loopback(host: str, expected: bool) -> None:
    assert expected == is_loopback(host)


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8765", "10.0.0.1:8765"])
def test_loopback_server_refuses_other_host_names(host: str) -> None:
    # DNS rebinding: a hostile name pointed at 127.0.0.1 must not get the app.
    with TestClient(create_app(), base_url=BASE) as c:
        response = c.get("/", headers={"Host": host})
    assert 400 == response.status_code


@pytest.mark.parametrize("host", ["127.0.0.1:8765", "localhost:8765", "[::1]:8765", "localhost"])
def test_loopback_server_answers_loopback_names(host: str) -> None:
    with TestClient(create_app(), base_url=BASE) as c:
        assert 200 == c.get("/", headers={"Host": host}).status_code


def test_network_host_without_key_is_refused_by_the_library() -> None:
    with pytest.raises(InvalidValueError):
        create_app(Settings(host="0.0.0.0"))


KEY = "k3y-" + "x" * 40


@pytest.fixture
def keyed() -> Iterator[TestClient]:
    app = create_app(Settings(host="0.0.0.0", port=8765, access_key=KEY))
    with TestClient(app, base_url="http://192.0.2.7:8765", follow_redirects=False) as c:
        yield c


@pytest.mark.parametrize("path", ["/", "/explorer", "/static/style.css", "/processes"])
def test_access_key_is_required_off_loopback(keyed: TestClient, path: str) -> None:
    response = keyed.get(path)
    assert 403 == response.status_code
    assert "Access key required" in response.text


def test_wrong_access_key_is_refused(keyed: TestClient) -> None:
    assert 403 == keyed.get("/", params={"key": KEY + "x"}).status_code
    assert 403 == keyed.get("/").status_code


def test_access_key_becomes_a_cookie_and_leaves_the_address(keyed: TestClient) -> None:
    response = keyed.get("/sddl", params={"key": KEY, "x": "1"})
    assert 303 == response.status_code
    assert "/sddl?x=1" == response.headers["location"]
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert KEY not in cookie  # the cookie holds a MAC of the key, not the key
    assert 200 == keyed.get("/sddl").status_code
    assert 200 == keyed.get("/static/style.css").status_code


def test_access_key_redirect_stays_on_this_server(keyed: TestClient) -> None:
    response = keyed.get("http://192.0.2.7:8765//evil.example/x", params={"key": KEY})
    assert 303 == response.status_code
    assert "/evil.example/x" == response.headers["location"]


def test_keyed_server_still_needs_csrf(keyed: TestClient) -> None:
    keyed.get("/", params={"key": KEY})
    assert 403 == keyed.post("/explorer", data=FORM).status_code
    response = keyed.post("/explorer", data={**FORM, "csrf_token": token_of(keyed)})
    assert 200 == response.status_code


def test_access_key_never_reaches_the_log() -> None:
    from ntsec.cli.serve import _RedactKey

    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("10.0.0.2:5555", "GET", f"/explorer?a=1&key={KEY}&b=2", "1.1", 303),
        None,
    )
    assert _RedactKey().filter(record)
    assert KEY not in record.getMessage()
    assert "/explorer?a=1&key=...&b=2" in record.getMessage()


# ----------------------------------------------------------------------------- `ntsec serve`


@pytest.fixture
def serve_env(tmp_path: Any) -> dict[str, str]:
    """The environment of a real ``ntsec serve``: its per-user default machine is made (on
    first use, with no set-up) in a temporary data directory, never the user's own."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "XDG_DATA_HOME": str(tmp_path)}
    env.pop("NTSEC_MACHINE", None)
    return env


def _serve(env: dict[str, str], *args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "ntsec", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        match = re.match(r"ntsec serve: (http://\S+)", first)
        assert match is not None, first + proc.stderr.read() if proc.stderr else first
        yield proc, match.group(1)
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


def _get(url: str, cookie: str | None = None) -> tuple[int, dict[str, str], str]:
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, _lower(response.headers), response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, _lower(err.headers), err.read().decode()


def _lower(headers: Any) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _wait_until_serving(url: str) -> None:
    import time

    deadline = time.monotonic() + 15
    while True:
        try:
            _get(url)
            return
        except (urllib.error.URLError, ConnectionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_serve_binds_loopback_and_prints_the_address(serve_env: dict[str, str]) -> None:
    for _, url in _serve(serve_env):
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", url)
        _wait_until_serving(url)
        status, headers, body = _get(url)
        assert 200 == status
        assert "<h1>ntsec</h1>" in body
        assert "nosniff" == headers["x-content-type-options"]
        # The embedded default machine, made on first use: Winlogon's explorer.exe runs.
        status, _, body = _get(url + "processes")
        assert 200 == status
        assert "explorer.exe" in body


def test_serve_json_prints_one_line_with_the_address(serve_env: dict[str, str]) -> None:
    env = serve_env
    argv = [sys.executable, "-m", "ntsec", "serve", "--port", "0", "--json"]
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
    finally:
        proc.terminate()
        proc.communicate(timeout=10)
    assert {"url", "host", "port", "access_key"} == set(info)
    assert f"http://127.0.0.1:{info['port']}/" == info["url"]
    assert info["access_key"] is None


def test_serve_off_loopback_prints_and_enforces_an_access_key(
    serve_env: dict[str, str],
) -> None:
    for _, url in _serve(serve_env, "--host", "0.0.0.0"):
        match = re.fullmatch(r"http://[^/]+:(\d+)/\?key=([A-Za-z0-9_-]{40,})", url)
        assert match is not None, url
        port, key = match.groups()
        local = f"http://127.0.0.1:{port}/"
        _wait_until_serving(local)
        assert 403 == _get(local)[0]
        assert 403 == _get(f"{local}?key=wrong")[0]
        status, headers, _ = _get(f"{local}?key={key}")
        assert 303 == status
        cookie = headers["set-cookie"].split(";")[0]
        assert 200 == _get(local, cookie)[0]


# ----------------------------------------------------------------------------- inert output

SCRIPT = "<script>alert(1)</script>"


def test_html_in_sddl_is_inert(client: TestClient) -> None:
    data = {**FORM, "sddl": f"O:BAG:SYD:(A;;FA;;;BU){SCRIPT}", "csrf_token": token_of(client)}
    page = client.post("/explorer", data=data).text
    assert SCRIPT not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_html_in_pasted_text_cannot_close_the_textarea(client: TestClient) -> None:
    hostile = f"</textarea>{SCRIPT}"
    data = {
        "text": hostile,
        "switches": f"/all {SCRIPT}",
        "csrf_token": token_of(client, "/whoami"),
    }
    page = client.post("/whoami", data=data).text
    assert SCRIPT not in page
    assert "</textarea><script>" not in page
    assert "&lt;/textarea&gt;&lt;script&gt;" in page


#: Markup of exactly the width of the names it replaces, so whoami's columns still line up.
HOSTILE_USER = "<b>p</b>\\<i></i>"  # for remote-pc\divine
HOSTILE_GROUP = "<img src=x onerror=alert(1)>"  # for BUILTIN\Remote Desktop Users


def hostile_capture(capture: Any) -> str:
    """The standard user's capture with its user and a group renamed to markup."""
    text = capture("24_standard-user_all_medium_interactive.txt")
    assert len(HOSTILE_USER) == len("remote-pc\\divine")
    assert len(HOSTILE_GROUP) == len("BUILTIN\\Remote Desktop Users")
    return text.replace("remote-pc\\divine", HOSTILE_USER).replace(
        "BUILTIN\\Remote Desktop Users", HOSTILE_GROUP
    )


def test_html_in_account_names_is_inert(client: TestClient, capture: Any) -> None:
    text = hostile_capture(capture)
    user_sid = "S-1-5-21-2619112490-2635448554-1147358759-1002"
    data = {
        **FORM,
        "token_source": "paste",
        "whoami_text": text,
        "sddl": f"O:BAG:SYD:(A;;FA;;;{user_sid})",
        "csrf_token": token_of(client),
    }
    page = client.post("/explorer", data=data).text
    assert 'id="status"' in page  # the capture was read: its names are on the page
    for name in (HOSTILE_USER, HOSTILE_GROUP):
        assert name not in page
    assert "&lt;b&gt;p&lt;/b&gt;\\&lt;i&gt;&lt;/i&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    whoami_page = client.post(
        "/whoami",
        data={"text": text, "switches": "/all", "csrf_token": token_of(client, "/whoami")},
    ).text
    for name in (HOSTILE_USER, HOSTILE_GROUP):
        assert name not in whoami_page
    assert "&lt;img src=x onerror=alert(1)&gt;" in whoami_page


def test_templates_have_no_inline_script_or_handlers() -> None:
    # The CSP forbids inline script; the templates must not need it.
    for path in TEMPLATES.glob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert re.search(r"<script(?![^>]*\bsrc=)", text) is None, path.name
        assert re.search(r"\son[a-z]+\s*=", text) is None, path.name
        assert "|safe" not in text.replace(" ", ""), path.name
        assert "autoescape false" not in text, path.name


# ----------------------------------------------------------------------------- headers


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/", 200),
        ("GET", "/explorer", 200),
        ("GET", "/static/style.css", 200),
        ("GET", "/no-such-page", 404),
        ("POST", "/explorer", 403),
    ],
)
def test_security_headers_on_every_response(
    client: TestClient, method: str, path: str, status: int
) -> None:
    response = client.request(method, path)
    assert status == response.status_code
    h = response.headers
    csp = h["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert "DENY" == h["x-frame-options"]
    assert "nosniff" == h["x-content-type-options"]
    assert "same-origin" == h["referrer-policy"]
    assert "no-store" == h["cache-control"]
    assert h["server-timing"].startswith("app;dur=")


def test_access_key_refusal_has_security_headers(keyed: TestClient) -> None:
    h = keyed.get("/").headers
    assert "DENY" == h["x-frame-options"]
    assert "same-origin" == h["referrer-policy"]
