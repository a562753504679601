"""A slow ESIA for tests: a proxy in front of the emulator that delays or drips answers.

Per person (the oid in the code or the REST path) it answers at once, after a fixed
delay per call ("slow"), or byte by byte with a pause between bytes ("drip": a server
that keeps a connection alive without ever finishing). The login pages of ESIA
itself (what the browser sees) are always fast.
"""

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import httpx

from portal.identity import jwt

FORWARDED_HEADERS = ("authorization", "accept", "content-type")


@dataclass
class Behaviour:
    modes: dict[str, str] = field(default_factory=dict)  # oid -> "slow" | "drip"
    path_modes: dict[str, str] = field(default_factory=dict)  # path ending -> mode, first
    delay: float = 8.0  # seconds per call, "slow"
    drip: float = 4.0  # seconds between bytes, "drip"
    calls: list[tuple[str, str, float]] = field(default_factory=list)  # (mode, path, at)
    # (path, body) -> body: what a tampering ESIA (or a man in the middle) answers instead.
    rewrite: Callable[[str, bytes], bytes] | None = None
    # Set when the test ends: a call still waiting must not reach the emulator afterwards,
    # when the settings it checks against are no longer the test's (its error would
    # surface in whichever test runs then, through Django's request-exception signal).
    closed: threading.Event = field(default_factory=threading.Event)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    upstream: str
    behaviour: Behaviour


def _oid_of(method: str, path: str, body: bytes) -> str:
    if method == "POST" and path.startswith("/aas/oauth2/v3/te"):
        code = parse_qs(body.decode()).get("code", [""])[0]
        try:
            return str(jwt.unverified_parts(code)[1].get("urn:esia:sbj_id", ""))
        except jwt.TokenError:
            return ""
    if path.startswith("/rs/prns/"):
        return path.split("/")[3].split("?")[0]
    return ""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self._forward()

    def do_POST(self) -> None:
        self._forward()

    def _forward(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        behaviour = self.server.behaviour
        path = self.path.split("?")[0]
        mode = next(
            (m for end, m in behaviour.path_modes.items() if path.endswith(end)),
            behaviour.modes.get(_oid_of(self.command, self.path, body), "fast"),
        )
        behaviour.calls.append((mode, path, time.monotonic()))
        if mode == "slow" and behaviour.closed.wait(behaviour.delay):
            return
        if behaviour.closed.is_set():
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() in FORWARDED_HEADERS}
        answer = httpx.request(
            self.command, self.server.upstream + self.path, headers=headers, content=body,
            timeout=30,
        )  # fmt: skip
        content = answer.content
        if behaviour.rewrite is not None:
            content = behaviour.rewrite(path, content)
        head = [f"HTTP/1.1 {answer.status_code} {answer.reason_phrase}"]
        for name in ("content-type", "location"):
            if name in answer.headers:
                head.append(f"{name}: {answer.headers[name]}")
        head.append(f"content-length: {len(content)}")
        raw = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + content
        try:
            if mode == "drip":
                for byte in raw:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    if behaviour.closed.wait(behaviour.drip):
                        return
            else:
                self.wfile.write(raw)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the portal gave up: exactly what it should do


def slow_esia(upstream: str) -> Iterator[tuple[str, Behaviour]]:
    """Serve the proxy on an ephemeral port; yields its URL and its behaviour."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.upstream = upstream
    server.behaviour = Behaviour()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", server.behaviour
    finally:
        server.behaviour.closed.set()
        server.shutdown()
        server.server_close()
