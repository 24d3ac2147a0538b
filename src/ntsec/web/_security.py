"""The web app's protections, in one ASGI middleware that wraps every request.

The app runs on a person's own computer and shows (and, with the simulated machine, changes)
security state, so it defends against the attacks a local web server meets:

* **Other web pages in the same browser.** A page from anywhere can make the browser send a
  form to ``http://127.0.0.1:8765``. Every state-changing request (any method but GET, HEAD,
  OPTIONS) therefore needs a CSRF token: a random per-browser value in a ``SameSite=Strict``,
  ``HttpOnly`` cookie, and, in a form field (``csrf_token``) or the ``X-CSRF-Token`` header, an
  HMAC of that value under a secret that lives only in this server process (a "signed
  double-submit" token: a page elsewhere can neither read the cookie nor compute the HMAC). A
  present ``Origin`` header must name this server, and ``Sec-Fetch-Site: cross-site`` is refused
  (OWASP CSRF Prevention Cheat Sheet, "Verifying Origin With Standard Headers").
* **DNS rebinding.** A hostile name that resolves to 127.0.0.1 would make the browser treat the
  app as that name's origin; on loopback only loopback addresses (127.0.0.0/8, ``[::1]``) and
  ``localhost`` are accepted in ``Host``.
* **Oversized input.** A request body is read up to 2 MiB and each form field up to 512 KiB;
  more is refused with 413 and a message naming the field, its size and the limit, before the
  CSRF check reads the form (so a large field is never reported as a CSRF failure).
* **Other people on the network.** Bound anywhere but loopback, every request needs the access
  key printed at start (as Jupyter does): ``?key=...`` once, exchanged for an ``HttpOnly``,
  ``SameSite=Strict`` cookie holding an HMAC of the key, and redirected to the same address
  without the key so it does not stay in the address bar or history.
* **Injected markup.** Templates autoescape everything (``_app.py``); on top, the Content
  Security Policy allows scripts, styles and images from this server only and no inline script,
  so markup that slipped through could not run. Frames are refused (clickjacking), MIME
  sniffing is off, no Referer leaves the app (``same-origin``: ``no-referrer`` would also make
  browsers send ``Origin: null`` on the app's own forms), and pages (which may hold pasted
  tokens) are not cached.

Every response also carries ``Server-Timing: app;dur=<ms>``, the server's time for the page.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import ipaddress
import secrets
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from ntsec.errors import printable

__all__ = [
    "CSRF_FIELD",
    "CSRF_HEADER",
    "KEY_PARAMETER",
    "LOOPBACK_HOSTS",
    "MAX_BODY",
    "MAX_FIELD",
    "SECURITY_HEADERS",
    "SecurityMiddleware",
    "SecurityPolicy",
    "is_loopback",
    "new_access_key",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
KEY_PARAMETER = "key"
#: Host names a loopback-bound server answers to, besides every other address in 127.0.0.0/8
#: (anything else is DNS rebinding); :func:`is_loopback` decides.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Largest request body accepted.
MAX_BODY = 2 * 1024 * 1024
#: Largest form field: a binary descriptor at the 64 KiB-per-ACL limit (MS-DTYP 2.4.5: AclSize
#: is 16 bits) is about 131 KB, 262 KB as hex; whoami /all output is a few KB.
MAX_FIELD = 512 * 1024
_MAX_FIELDS = 100
_MAX_FILES = 4

#: Sent with every response (OWASP Secure Headers Project recommendations).
SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    (
        "content-security-policy",
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
    ("permissions-policy", "camera=(), microphone=(), geolocation=(), usb=()"),
    ("cache-control", "no-store"),
)


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and addresses in 127.0.0.0/8 and ::1."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _loopback_address(name: str) -> bool:
    """True for an IP address literal in 127.0.0.0/8 or ``[::1]`` (never for a DNS name)."""
    try:
        return ipaddress.ip_address(name.removeprefix("[").removesuffix("]")).is_loopback
    except ValueError:
        return False


def new_access_key() -> str:
    """A fresh access key: 32 random bytes, URL-safe (as ``secrets`` recommends for tokens)."""
    return secrets.token_urlsafe(32)


@dataclass(frozen=True, slots=True)
class SecurityPolicy:
    """What the middleware enforces for one server.

    ``access_key`` None means no key is asked for (loopback). ``allowed_hosts`` is the set of
    names accepted in ``Host`` besides loopback IP addresses; None accepts any ``Host`` header
    (a server reachable under names we cannot know, which the access key protects instead).
    ``cookie_suffix`` keeps the cookies of servers on different ports of the same host apart
    (cookies do not isolate by port, RFC 6265 section 8.5).
    """

    access_key: str | None = None
    allowed_hosts: frozenset[str] | None = LOOPBACK_HOSTS
    cookie_suffix: str = ""
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)

    @property
    def csrf_cookie(self) -> str:
        return f"ntsec_csrf{self.cookie_suffix}"

    @property
    def key_cookie(self) -> str:
        return f"ntsec_key{self.cookie_suffix}"

    def _mac(self, purpose: str, value: str) -> str:
        msg = f"{purpose}\x00{value}".encode()
        return hmac.new(self.secret, msg, hashlib.sha256).hexdigest()

    def csrf_token(self, cookie_value: str) -> str:
        """The form token that goes with a CSRF cookie value."""
        return self._mac("csrf", cookie_value)

    def key_cookie_value(self) -> str:
        """What the key cookie holds once the key was shown: a MAC, never the key itself."""
        assert self.access_key is not None
        return self._mac("access-key", self.access_key)


def _cookies(headers: Headers) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    for value in headers.getlist("cookie"):
        try:
            jar.load(value)
        except Exception:  # noqa: S112 - a malformed Cookie header is simply ignored
            continue
    return {name: morsel.value for name, morsel in jar.items()}


def _set_cookie(name: str, value: str) -> tuple[bytes, bytes]:
    # Path=/ so every page sees it; no Secure flag: the app speaks plain HTTP (loopback, or
    # behind the access key; ``ntsec serve`` suggests an SSH tunnel when off loopback).
    text = f"{name}={value}; Path=/; HttpOnly; SameSite=Strict"
    return (b"set-cookie", text.encode("latin-1"))


def _page(status: int, title: str, message: str) -> HTMLResponse:
    """A minimal self-contained page for refusals (no template, nothing from the request)."""
    body = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{title}</title><link rel=stylesheet href=/static/style.css></head>"
        f'<body><main class="refusal"><h1>{title}</h1><p>{message}</p></main></body></html>'
    )
    return HTMLResponse(body, status_code=status)


class SecurityMiddleware:
    """Host check, access key, CSRF, security headers and timing, around the whole app."""

    def __init__(self, app: ASGIApp, policy: SecurityPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = Headers(scope=scope)
        cookies = _cookies(headers)
        extra: list[tuple[bytes, bytes]] = []

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                raw = list(message.get("headers", []))
                present = {k.lower() for k, _ in raw}
                for name, value in SECURITY_HEADERS:
                    if name.encode() not in present:
                        raw.append((name.encode(), value.encode()))
                elapsed = (time.perf_counter() - started) * 1000
                raw.append((b"server-timing", f"app;dur={elapsed:.1f}".encode()))
                raw.extend(extra)
                message["headers"] = raw
            await send(message)

        refusal = self._check_host(headers)
        if refusal is None and self.policy.access_key is not None:
            refusal = self._check_key(scope, cookies)
        if refusal is not None:
            await refusal(scope, receive, send_with_headers)
            return

        csrf_cookie = cookies.get(self.policy.csrf_cookie, "")
        if len(csrf_cookie) < 32:
            csrf_cookie = secrets.token_urlsafe(32)
            extra.append(_set_cookie(self.policy.csrf_cookie, csrf_cookie))
        expected = self.policy.csrf_token(csrf_cookie)
        scope.setdefault("state", {})["csrf_token"] = expected

        if scope["method"] not in _SAFE_METHODS:
            # Sizes first (an honest 413), then the CSRF check, which reads the form.
            body, refusal = await self._read_body(headers, receive)
            form: dict[str, str] = {}
            if refusal is None:
                form, refusal = await _read_form(scope, body)
            if refusal is None:
                refusal = self._check_csrf(scope, headers, form, cookies, expected)
            if refusal is not None:
                await refusal(scope, receive, send_with_headers)
                return
            receive = _replay(body, receive)
        await self.app(scope, receive, send_with_headers)

    # ------------------------------------------------------------------ checks

    def _check_host(self, headers: Headers) -> Response | None:
        allowed = self.policy.allowed_hosts
        if allowed is None:
            return None
        host = headers.get("host", "")
        # Strip the port: "[::1]:8765" -> "[::1]", "127.0.0.1:8765" -> "127.0.0.1".
        name = host[: host.find("]") + 1] if host.startswith("[") else host.partition(":")[0]
        # A loopback IP address cannot be rebound (no DNS involved), so any of them is fine:
        # the server may be bound to 127.0.0.2 or [::1]. Names other than localhost are not.
        if name.lower() not in allowed and not _loopback_address(name):
            return _page(
                400,
                "Unknown host name",
                "This server answers only to a loopback address (127.0.0.1, [::1] or "
                "localhost).",
            )
        return None

    def _check_key(self, scope: Scope, cookies: dict[str, str]) -> Response | None:
        key = self.policy.access_key
        assert key is not None
        wanted = self.policy.key_cookie_value()
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        offered = [v for k, v in query if k == KEY_PARAMETER]
        if offered:
            if not hmac.compare_digest(offered[-1].encode(), key.encode()):
                return _page(403, "Wrong access key", "Open the address the server printed.")
            # The key was right: remember it in a cookie and drop it from the address.
            rest = urlencode([(k, v) for k, v in query if k != KEY_PARAMETER])
            # "//host/..." would be a protocol-relative Location pointing elsewhere.
            path = "/" + scope.get("path", "/").lstrip("/")
            target = path + (f"?{rest}" if rest else "")
            response = RedirectResponse(target, status_code=303)
            response.raw_headers.append(_set_cookie(self.policy.key_cookie, wanted))
            return response
        if hmac.compare_digest(cookies.get(self.policy.key_cookie, "").encode(), wanted.encode()):
            return None
        return _page(
            403,
            "Access key required",
            "This server is reachable from the network, so it asks for the access key it "
            "printed when it started: open the full address it printed, with ?key=...",
        )

    async def _read_body(self, headers: Headers, receive: Receive) -> tuple[bytes, Response | None]:
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
            return b"", _too_large(f"The request body is {int(declared)} bytes")
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY:
                # Streamed without a length (or longer than it said): stop reading here.
                return b"", _too_large(f"The request body is more than {MAX_BODY} bytes")
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks), None

    def _check_csrf(
        self,
        scope: Scope,
        headers: Headers,
        form: dict[str, str],
        cookies: dict[str, str],
        expected: str,
    ) -> Response | None:
        refused = _page(
            403,
            "Request refused (CSRF check)",
            "The form did not come from this app's own page. Reload the page and try again.",
        )
        if headers.get("sec-fetch-site", "") == "cross-site":
            return refused
        origin = headers.get("origin")
        if origin is not None:
            own = f"{scope.get('scheme', 'http')}://{headers.get('host', '')}"
            if origin.lower() != own.lower():
                return refused
        if self.policy.csrf_cookie not in cookies:
            # No cookie means the token in the form cannot be one this browser was given.
            return refused
        offered = headers.get(CSRF_HEADER)
        if offered is None:
            offered = form.get(CSRF_FIELD)
        if offered is None or not hmac.compare_digest(offered.encode(), expected.encode()):
            return refused
        return None


def _too_large(what: str) -> HTMLResponse:
    return _page(413, "Too large", f"{html.escape(what)}; the limit is {MAX_BODY} bytes.")


async def _read_form(scope: Scope, body: bytes) -> tuple[dict[str, str], Response | None]:
    """The text fields of a form body (url-encoded or multipart), each checked against
    :data:`MAX_FIELD`; a body of another type has no fields (the CSRF header must be used).
    Uploaded files (a few: the paste forms take a file) are bounded by :data:`MAX_BODY` only."""
    content_type = Headers(scope=scope).get("content-type", "").partition(";")[0].strip().lower()
    if content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return {}, None
    request = Request(scope, receive=_replay(body, _no_more))
    try:
        # max_part_size: the body limit already bounds every part; the field limit below
        # gives the honest message.
        form = await request.form(
            max_files=_MAX_FILES, max_fields=_MAX_FIELDS, max_part_size=MAX_BODY
        )
    except HTTPException as exc:
        return {}, _page(400, "Unreadable form", html.escape(str(exc.detail)))
    fields: dict[str, str] = {}
    try:
        for name, value in form.multi_items():
            if not isinstance(value, str):
                continue
            size = len(value.encode("utf-8", "surrogatepass"))
            if size > MAX_FIELD:
                shown = html.escape(printable(name, 60))
                message = f"The field {shown} is {size} bytes; the limit is {MAX_FIELD} bytes."
                return {}, _page(413, "Field too large", message)
            fields.setdefault(name, value)
    finally:
        await form.close()
    return fields, None


async def _no_more() -> Message:
    return {"type": "http.disconnect"}


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands out the already-read body once, then defers to the real one."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
