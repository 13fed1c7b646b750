"""The caption screen's server: serves the page and the board's state to
the kiosk's browser (CaptionBoard is in captions.py).

    CaptionBoard ── wait_for_change() ──► CaptionServer (127.0.0.1 only)
                                              ├─► /events (SSE) ──► kiosk browser
                                              └─► /state  (JSON, polled as fallback)

Why this stack: the standard library's `http.server.ThreadingHTTPServer`,
Server-Sent Events and one plain HTML/CSS/JS page (`voiceassist/web/`).
The screen only needs one-way, low-rate updates (a few a second at most) to
one local browser: SSE does exactly that over plain HTTP, the browser
reconnects by itself, and it needs no WebSocket handshake, no framework, no
JavaScript library and nothing new to install or keep patched on an
unattended machine. The page uses system fonts and inline SVG only, so it
works with no network beyond loopback; a Content-Security-Policy of 'self'
makes the browser refuse anything else.

Privacy: a consultation is health information. The server binds to loopback
unless `allow_remote=True` is passed, answers only requests addressed to a
loopback host name (against DNS rebinding), writes no access log, never reads
request bodies, and logs errors without any request or caption text.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import socket
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from .captions import CaptionBoard

log = logging.getLogger("voiceassist.captions")

KEEPALIVE_S = 15.0

# The page and what it loads; nothing else is served.
_FILES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/index.html": ("index.html", "text/html; charset=utf-8"),
    "/style.css": ("style.css", "text/css; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
}

_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _web_file(name: str) -> bytes:
    return resources.files("voiceassist").joinpath("web", name).read_bytes()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address) -> None:  # noqa: D401
        # The default prints a traceback with the client address; say only what broke.
        import sys

        exc = sys.exc_info()[1]
        if not isinstance(exc, (BrokenPipeError, ConnectionResetError)):
            log.warning("caption server: %s", type(exc).__name__)


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    server_version = "voiceassist-captions"

    def version_string(self) -> str:
        return self.server_version
    protocol_version = "HTTP/1.1"
    timeout = 30  # seconds a silent keep-alive connection is kept
    # Set on the subclass made for each start(): a handler of a stopped server
    # answers nothing, even on a connection the browser kept alive.
    caption: "CaptionServer"
    stopping: threading.Event

    def log_message(self, format: str, *args: Any) -> None:  # no access log, no error echo
        pass

    def _host_ok(self) -> bool:
        if self.caption.allow_remote:
            return True
        host = self.headers.get("Host")
        if not host:
            return False
        try:
            name = urlsplit("//" + host).hostname or ""
        except ValueError:
            return False
        return _is_loopback(name)

    def _send(self, status: int, body: bytes, ctype: str, head_only: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in _SECURITY_HEADERS.items():
            self.send_header(k, v)
        self.end_headers()
        if not head_only:
            self.wfile.write(body)

    def _refuse(self, status: HTTPStatus) -> None:
        self.close_connection = True
        self._send(status, f"{status.value} {status.phrase}\n".encode(), "text/plain; charset=utf-8")

    def do_HEAD(self) -> None:
        self.do_GET(head_only=True)

    def do_GET(self, head_only: bool = False) -> None:
        if self.stopping.is_set():
            self.close_connection = True
            return
        if not self._host_ok():
            return self._refuse(HTTPStatus.FORBIDDEN)
        path = urlsplit(self.path).path
        if path == "/events" and not head_only:
            return self._events()
        if path == "/state":
            body = json.dumps(self.caption.board.snapshot(), ensure_ascii=False).encode()
            return self._send(200, body, "application/json; charset=utf-8", head_only)
        if path in _FILES:
            name, ctype = _FILES[path]
            return self._send(200, self.caption.files[name], ctype, head_only)
        return self._refuse(HTTPStatus.NOT_FOUND)

    def _not_allowed(self) -> None:
        # The body is never read: nothing a client sends ends up anywhere.
        self._refuse(HTTPStatus.METHOD_NOT_ALLOWED)

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _not_allowed

    def _events(self) -> None:
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Connection", "close")
        for k, v in _SECURITY_HEADERS.items():
            self.send_header(k, v)
        self.end_headers()
        board, stopping = self.caption.board, self.stopping
        snap = board.snapshot()
        try:
            # Reconnect after 1 s when the stream drops (the browser's default is about 3 s).
            self._event(b"retry: 1000\n" + _data(snap))
            last_sent = time.monotonic()
            while not stopping.is_set():
                # Short waits so that stop() ends the stream promptly.
                snap2 = board.wait_for_change(snap["version"], timeout=0.5)
                if snap2["version"] != snap["version"]:
                    snap = snap2
                    self._event(_data(snap))
                    last_sent = time.monotonic()
                elif time.monotonic() - last_sent >= self.caption.keepalive_s:
                    self._event(b": keep-alive\n\n")
                    last_sent = time.monotonic()
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass  # the browser went away; it reconnects by itself

    def _event(self, payload: bytes) -> None:
        self.wfile.write(payload)
        self.wfile.flush()


def _data(snapshot: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(snapshot, ensure_ascii=False).encode() + b"\n\n"


class CaptionServer:
    """Serves the caption page for one `CaptionBoard` on loopback.

    `start()` runs it in a daemon thread (port 0 picks a free port; `.url`
    then gives the address); `stop()` ends it and every open event stream.
    Routes: `/` the page, `/state` a JSON snapshot, `/events` Server-Sent
    Events (one `data:` snapshot per change, a keep-alive comment every 15 s).
    """

    def __init__(self, board: CaptionBoard, host: str = "127.0.0.1", port: int = 8765,
                 allow_remote: bool = False, keepalive_s: float = KEEPALIVE_S):
        if not allow_remote and not _is_loopback(host):
            raise ValueError(
                f"the caption server serves health information and binds to loopback only, "
                f"not {host!r}; pass allow_remote=True to serve it to other machines")
        self.board = board
        self.host = "127.0.0.1" if host == "localhost" else host.strip("[]")
        self.port = port
        self.allow_remote = allow_remote
        self.keepalive_s = keepalive_s
        self.files = {name: _web_file(name) for name, _ in _FILES.values()}
        self._stopping = threading.Event()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the caption server is not started")
        host, port = self._httpd.server_address[:2]
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{port}/"

    def start(self) -> "CaptionServer":
        if self._httpd is not None:
            return self
        self._stopping = threading.Event()
        handler = type("CaptionHandler", (_Handler,), {"caption": self, "stopping": self._stopping})
        server_class = _Server6 if ":" in self.host else _Server
        self._httpd = server_class((self.host, self.port), handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="caption-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = self._thread = None

    def __enter__(self) -> "CaptionServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
