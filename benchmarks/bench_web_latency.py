"""Static-file latency of the web app while one slow request is being answered (issue 10,
item 1).

Starts ``ntsec serve``'s app under uvicorn on a free loopback port, posts one large SDDL
descriptor (``"(A;;FA;;;WD)" * N + "("``: an unterminated ACE after N good ones, a slow shape
for the parser) to /sddl, and fetches /static/style.css every 50 ms until the post returns.
Before the library work ran off the event loop, no static fetch was answered until the post
finished.

    python benchmarks/bench_web_latency.py [N]      # N = 40000 (a 480 KB field) by default
"""

from __future__ import annotations

import re
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn

from ntsec.web import Settings, create_app


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 40_000
    sock = socket.create_server(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    with tempfile.TemporaryDirectory() as tmp:
        # No machine: the SDDL page needs none, and the user's own default stays untouched.
        app = create_app(Settings(port=port, machine_path=Path(tmp) / "none.db"))
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.01)
        base = f"http://127.0.0.1:{port}"
        try:
            _measure(base, n)
        finally:
            server.should_exit = True
            thread.join(timeout=10)


def _measure(base: str, n: int) -> None:
    client = httpx.Client(base_url=base, timeout=600)
    page = client.get("/sddl").text
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match is not None
    text = "D:" + "(A;;FA;;;WD)" * n + "("
    slow: dict[str, float] = {}

    def post() -> None:
        started = time.perf_counter()
        client.post("/sddl", data={"csrf_token": match.group(1), "text": text,
                                   "input_format": "sddl"})
        slow["seconds"] = time.perf_counter() - started

    worker = threading.Thread(target=post)
    worker.start()
    time.sleep(0.3)
    latencies = []
    while worker.is_alive():
        started = time.perf_counter()
        httpx.get(base + "/static/style.css", timeout=600)
        latencies.append(time.perf_counter() - started)
        time.sleep(0.05)
    worker.join()
    latencies.sort()
    if not latencies:
        print(f"field {len(text)} bytes: the post took {slow['seconds']:.2f} s (too fast to "
              "measure beside it; raise N)")
        return
    print(f"field {len(text)} bytes: the post took {slow['seconds']:.2f} s; "
          f"{len(latencies)} static fetches meanwhile, median "
          f"{latencies[len(latencies) // 2] * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms")


if __name__ == "__main__":
    main()
