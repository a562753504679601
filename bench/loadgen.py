"""A small HTTP/1.1 load generator on asyncio streams.

Why not httpx: on a 2-core machine the load generator competes with the server for
CPU, and a bare request/response over a fresh connection costs a fraction of a full
client. gunicorn's sync workers close the connection after every response anyway.

Safety: the target host must be a loopback address, and every loop is bounded by a
request count and a wall-clock limit.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from bench.stats import Run

LOOPBACK = {"127.0.0.1"}


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    cookies: dict[str, str] = field(default_factory=dict)
    form: dict[str, str] | None = None

    def encode(self, host: str, port: int) -> bytes:
        body = urlencode(self.form).encode() if self.form is not None else b""
        lines = [
            f"{self.method} {self.path} HTTP/1.1",
            f"Host: {host}:{port}",
            "Connection: close",
            "User-Agent: portal-bench",
            # The portal runs behind a TLS-terminating proxy (BEHIND_TLS_PROXY).
            "X-Forwarded-Proto: https",
        ]
        if self.cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        if self.form is not None:
            lines.append(f"Origin: https://{host}:{port}")  # CSRF origin check over HTTPS
            lines.append("Content-Type: application/x-www-form-urlencoded")
            lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    latency: float


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    timeout: float = 30.0

    def __post_init__(self) -> None:
        if self.host not in LOOPBACK:
            raise ValueError(f"load is only ever sent to 127.0.0.1, not {self.host!r}")


def parse_head(head: bytes) -> tuple[int, dict[str, str]]:
    """Status code and lower-cased headers of a raw HTTP/1.1 response head."""
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    return status, headers


async def _exchange(target: Target, request: Request) -> tuple[int, dict[str, str], bytes]:
    reader, writer = await asyncio.open_connection(target.host, target.port)
    try:
        writer.write(request.encode(target.host, target.port))
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        status, headers = parse_head(head[:-4])
        length = headers.get("content-length")
        body = await reader.readexactly(int(length)) if length is not None else await reader.read()
        return status, headers, body
    finally:
        writer.close()


async def fetch(target: Target, request: Request) -> Response:
    """One request; raises on connection errors and on the per-request timeout."""
    started = time.perf_counter()
    status, headers, body = await asyncio.wait_for(_exchange(target, request), target.timeout)
    return Response(status, headers, body, time.perf_counter() - started)


async def closed_loop(
    target: Target,
    run: Run,
    make_request: Callable[[int], Request],
    *,
    concurrency: int,
    count: int,
    time_limit: float,
    on_response: Callable[[int, Response], Awaitable[None] | None] | None = None,
) -> Run:
    """`concurrency` clients send requests 0..count-1 back to back until done or out of time."""
    next_index = 0
    deadline = time.perf_counter() + time_limit

    async def client() -> None:
        nonlocal next_index
        while next_index < count and time.perf_counter() < deadline:
            index = next_index
            next_index += 1
            try:
                response = await fetch(target, make_request(index))
            except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError):
                run.errors += 1
                continue
            run.record(response.status, response.latency)
            if on_response is not None:
                maybe = on_response(index, response)
                if maybe is not None:
                    await maybe

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    run.duration = time.perf_counter() - started
    return run
