"""The caption screen: what the kiosk's screen shows while a consultation runs.

    consultation ──► CaptionBoard (thread-safe state, version counter)
                          │  wait_for_change()
                          ▼
                     CaptionServer (127.0.0.1 only) ──► /events (SSE) ──► kiosk browser
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
`CaptionBoard.reset()` drops everything of the previous person.
"""

from __future__ import annotations

import collections
import ipaddress
import json
import logging
import secrets
import socket
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from .session.ports import Caption

log = logging.getLogger(__name__)

KINDS = ("say", "question", "instruction")
SAID_KEPT = 3  # sentences kept in `said`
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


class CaptionBoard:
    """What the screen shows, safe to update from any thread.

    Every change bumps `version` and wakes `wait_for_change`. States:
    "idle" (the welcome screen), "consulting", "outcome".

    - `assistant(text, "question")` sets the question shown in large print.
      A new question (a different text) clears `heard`, and drops from
      `said` what came before the previous question, so what is on screen is
      about this question. `said` keeps the last few sentences spoken, the
      question included (the page does not show it twice); the question
      given both by the kiosk (kind "question") and by the session's
      captions (kind "say") is kept once.
    - `heard(text)` drops a trailing confidence ("yes (0.93)" and
      "no (0.88, while I was speaking)" show as "yes", "no"): a public
      screen shows the word only.
    - `assistant(text, "instruction")` is an emergency instruction spoken
      before the outcome (more questions may follow): it is kept in `alert`
      and shown as the emergency banner until `reset()`.
    - `hint` (constructor), e.g. "You can say repeat, help, go back, or
      stop", is shown at the foot of the screen while consulting.
    - `status` is about the machine (microphone, speech output, a setting
      the kiosk cannot start with), not the person, so it survives
      `reset()`; `status(None)` clears it. On the welcome screen it takes the
      place of the idle text (nobody is invited to speak to a kiosk that
      cannot hear), with `detail` in small print for the operator.
    - `emergency` ("In an emergency, call 999.") is shown on the welcome
      screen, also when the kiosk is out of order.
    """

    def __init__(self, idle_text: str = "Say “hello” to start.", hint: str | None = None,
                 said_kept: int = SAID_KEPT, emergency: str | None = None):
        self.idle_text = idle_text
        self.emergency = emergency
        self.hint = hint  # shown at the foot of the screen during a consultation
        self._cond = threading.Condition()
        self._said: collections.deque[str] = collections.deque(maxlen=said_kept)
        self._id = secrets.token_hex(4)  # lets the page tell a new board (server restart) apart
        self._version = 0
        self._status: str | None = None
        self._detail: str | None = None
        self._clear()

    def _clear(self) -> None:
        self._state = "idle"
        self._question: str | None = None
        self._heard: str | None = None
        self._alert: str | None = None
        self._outcome: dict[str, Any] | None = None
        self._said.clear()

    def _changed(self) -> None:
        self._version += 1
        self._cond.notify_all()

    @property
    def version(self) -> int:
        with self._cond:
            return self._version

    # -- updates ----------------------------------------------------------------

    def reset(self) -> None:
        """A new person: back to the welcome screen, nothing of the last one kept."""
        with self._cond:
            self._clear()
            self._changed()

    def assistant(self, text: str, kind: str = "say") -> None:
        if kind not in KINDS:
            raise ValueError(f"caption kind must be one of {', '.join(KINDS)}, not {kind!r}")
        text = _clean(text)
        with self._cond:
            if self._state == "idle":
                self._state = "consulting"
            if kind == "question":
                if text != self._question:
                    self._heard = None
                    self._drop_said_through(self._question)
                self._question = text
            elif kind == "instruction":
                self._alert = text
            repeat = kind == "say" and text == self._question and text in self._said
            if not repeat and (not self._said or self._said[-1] != text):
                self._said.append(text)
            self._changed()

    def _drop_said_through(self, question: str | None) -> None:
        """Keep only what was said after the previous question."""
        items = list(self._said)
        if question in items:
            last = len(items) - 1 - items[::-1].index(question)
            self._said.clear()
            self._said.extend(items[last + 1:])

    def heard(self, text: str) -> None:
        with self._cond:
            if self._state == "idle":
                self._state = "consulting"
            self._heard = _clean(text)
            self._changed()

    def status(self, text: str | None, detail: str | None = None) -> None:
        with self._cond:
            self._status = _clean(text) if text else None
            self._detail = _clean(detail) if text and detail else None
            self._changed()

    def welcome(self, idle_text: str, emergency: str | None) -> None:
        """Set what the welcome screen says (once the prompts are loaded)."""
        with self._cond:
            self.idle_text, self.emergency = _clean(idle_text), _clean(emergency) if emergency else None
            self._changed()

    def outcome(self, level: str, instruction: str, sentences: list[str], emergency: bool) -> None:
        with self._cond:
            self._state = "outcome"
            self._question = None
            self._heard = None
            self._said.clear()  # from now on: what is said after the outcome (an offer, goodbye)
            self._outcome = {
                "level": str(level),
                "instruction": _clean(instruction),
                "sentences": [_clean(s) for s in sentences],
                "emergency": bool(emergency),
            }
            if emergency:
                self._alert = None  # the outcome's banner replaces it
            self._changed()

    # -- reading ----------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        with self._cond:
            return self._snapshot()

    def _snapshot(self) -> dict[str, Any]:
        return {
            "board": self._id,
            "version": self._version,
            "state": self._state,
            "idle_text": self.idle_text,
            "emergency": self.emergency,
            "hint": self.hint,
            "question": self._question,
            "heard": self._heard,
            "said": list(self._said),
            "alert": self._alert,
            "status": self._status,
            "detail": self._detail,
            "outcome": None if self._outcome is None else {
                **self._outcome, "sentences": list(self._outcome["sentences"])},
        }

    def wait_for_change(self, version: int, timeout: float | None = None) -> dict[str, Any]:
        """The snapshot as soon as the version differs from `version`, or the
        current one when `timeout` seconds pass first."""
        with self._cond:
            self._cond.wait_for(lambda: self._version != version, timeout)
            return self._snapshot()


def _clean(text: str) -> str:
    return " ".join(str(text).split())


def board_captions(board: CaptionBoard) -> Callable[[Caption], None]:
    """The session's captions (session/ports.py, Caption) onto the board.

    "assistant" -> `board.assistant`, as the question when the sentence asks
    one of the triage's questions (not a read-back or the offer), "heard" ->
    `board.heard` (the phrase only: no confidence on a public screen),
    "status" -> `board.status`. Anything else is ignored: a caption must
    never stop a consultation.
    """

    def captions(caption: Caption) -> None:
        if caption.who == "assistant":
            board.assistant(caption.text, "question" if caption.asks in ("yes_no", "choice") else "say")
        elif caption.who == "heard":
            board.heard(caption.text)
        elif caption.who == "status":
            board.status(caption.text)
        else:
            log.debug("caption from unknown source %r ignored", caption.who)

    return captions


# -- the server -------------------------------------------------------------------


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
