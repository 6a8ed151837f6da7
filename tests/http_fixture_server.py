"""A real threaded HTTP server on 127.0.0.1 for connector tests, with fixtures and faults.

Usage::

    with FixtureServer(fault_routes()) as server:
        fetch_url(server.url("/article"), policy=...)

Route bodies may contain ``{base}``, replaced by the server's base URL when served. The server records
each request path (`hits`), the request headers (`headers_seen`) and, per path, the peak number of
requests in their `delay` at once (`max_concurrent`; counted before the response starts, so a client
that starts a new request as soon as it has read a response is never over-counted).
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

HTTP_FIXTURES = Path(__file__).parent / "fixtures" / "connectors" / "http"
ARABIC_TEXT = "قالت وزارة الخارجية المصرية في بيان اليوم إن الاجتماع سيعقد في القاهرة الأسبوع المقبل."


@dataclass
class Route:
    """What the server answers for one path."""

    status: int = 200
    body: bytes = b""
    content_type: str | None = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drip_interval: float | None = None
    send_length: bool = True


def fixture_bytes(name: str) -> bytes:
    return (HTTP_FIXTURES / name).read_bytes()


def redirect(location: str, status: int = 302) -> Route:
    return Route(status=status, content_type=None, headers={"Location": location})


def fault_routes() -> dict[str, Route]:
    """Every fixture and fault the connector tests use."""
    cp1256_html = f"<html><body><p>{ARABIC_TEXT}</p></body></html>".encode("cp1256")
    cp1256_meta = f'<html><head><meta charset="windows-1256"></head><body><p>{ARABIC_TEXT}</p></body></html>'
    return {
        "/article": Route(body=fixture_bytes("article.html")),
        "/plain": Route(body=b"Plain text article.\n", content_type="text/plain; charset=utf-8"),
        "/missing": Route(status=404, body=b"not here"),
        "/gone": Route(status=410, body=b"gone"),
        "/error": Route(status=500, body=b"boom"),
        "/unavailable": Route(status=503, body=b"later", headers={"Retry-After": "7"}),
        "/throttled": Route(status=429, body=b"slow down"),
        "/slow": Route(body=b"<p>late</p>", delay=3.0),
        "/slow-ok": Route(body=b"<html><body><p>worth the wait</p></body></html>", delay=0.2),
        "/drip": Route(body=b"<p>" + b"x" * 60 + b"</p>", drip_interval=0.05, send_length=False),
        "/loop-a": redirect("/loop-b"),
        "/loop-b": redirect("/loop-a"),
        "/hop/1": redirect("/hop/2", 301),
        "/hop/2": redirect("/hop/3", 307),
        "/hop/3": redirect("/article", 308),
        "/no-location": Route(status=302, content_type=None),
        "/huge-declared": Route(body=b"<p>" + b"x" * 2_000_000 + b"</p>"),
        "/huge-streamed": Route(body=b"<p>" + b"x" * 2_000_000 + b"</p>", send_length=False),
        "/image.png": Route(body=b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64), content_type="image/png"),
        "/binary-as-html": Route(body=b"\x00\x01\x02\x03" * 64),
        "/empty": Route(body=b""),
        "/rss.xml": Route(body=fixture_bytes("rss.xml"), content_type="application/rss+xml"),
        "/atom.xml": Route(body=fixture_bytes("atom.xml"), content_type="application/atom+xml"),
        "/to-metadata": redirect("http://169.254.169.254/latest/meta-data/"),
        "/to-private": redirect("http://10.1.2.3/internal"),
        "/to-ftp": redirect("ftp://127.0.0.1/file"),
        "/cp1256-header": Route(body=cp1256_html, content_type="text/html; charset=windows-1256"),
        "/cp1256-meta": Route(body=cp1256_meta.encode("cp1256"), content_type="text/html"),
        "/cp1256-undeclared": Route(body=cp1256_html, content_type="text/html"),
        "/no-content-type": Route(body=b"Just words, no header.\n", content_type=None),
    }


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        state = self.server.fixture
        path = self.path.split("?", 1)[0]
        route = state.routes.get(path) or Route(status=404, body=b"no such fixture route")
        state.enter(path, dict(self.headers.items()))
        try:
            time.sleep(route.delay)
        finally:
            state.leave(path)
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self._respond(route, state)

    def _respond(self, route: Route, state: FixtureServer) -> None:
        body = route.body.replace(b"{base}", state.base_url.encode())
        self.send_response(route.status)
        if route.content_type:
            self.send_header("Content-Type", route.content_type)
        for name, value in route.headers.items():
            self.send_header(name, value)
        if route.send_length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if route.drip_interval is None:
            self.wfile.write(body)
            return
        for offset in range(0, len(body), 4):
            self.wfile.write(body[offset : offset + 4])
            self.wfile.flush()
            time.sleep(route.drip_interval)

    def log_message(self, format: str, *args: Any) -> None:
        return


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    fixture: FixtureServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        return


class FixtureServer:
    """Threaded HTTP server on 127.0.0.1 with an ephemeral port; a context manager."""

    def __init__(self, routes: dict[str, Route] | None = None) -> None:
        self.routes: dict[str, Route] = dict(routes or {})
        self.hits: list[str] = []
        self.headers_seen: list[dict[str, str]] = []
        self.max_concurrent: dict[str, int] = {}
        self._active: dict[str, int] = {}
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fixture = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def enter(self, path: str, headers: dict[str, str]) -> None:
        with self._lock:
            self.hits.append(path)
            self.headers_seen.append(headers)
            self._active[path] = self._active.get(path, 0) + 1
            self.max_concurrent[path] = max(self.max_concurrent.get(path, 0), self._active[path])

    def leave(self, path: str) -> None:
        with self._lock:
            self._active[path] -= 1

    def start(self) -> FixtureServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FixtureServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def loopback_policy():
    """A fast FetchPolicy that may fetch from this test server on 127.0.0.1 (and nothing else private)."""
    from wirecopy.connectors.http import FetchPolicy

    return FetchPolicy(
        connect_timeout=2.0,
        read_timeout=0.5,
        total_timeout=5.0,
        max_bytes=1_000_000,
        max_redirects=3,
        min_delay_per_host=0.0,
        max_concurrency_per_host=8,
        allowed_private_networks=("127.0.0.1/32",),
    )
