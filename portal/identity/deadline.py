"""One deadline for a whole conversation with ESIA, enforced on every socket operation.

httpx's timeouts are per operation: a read timeout of 10 s is never reached by a server
that sends one byte every 4 s, so a login could hold a gunicorn worker for as long as
the server likes. Here every connect, read and write of the sockets is given at most
the time left until one absolute moment, so the total of all calls of a login (token
exchange, person, each child's documents, while reading headers or the body) cannot
pass it (docs/security.md, "A slow ESIA").
"""

import ssl
import time
import typing

import httpcore
import httpx


class Deadline:
    """An absolute moment on the monotonic clock."""

    def __init__(self, seconds: float) -> None:
        self.ends = time.monotonic() + seconds

    def remaining(self) -> float:
        return self.ends - time.monotonic()

    def expired(self) -> bool:
        return self.remaining() <= 0

    def clip(self, timeout: float | None) -> float:
        """``timeout`` shortened to what is left; past the deadline nothing may wait."""
        left = self.remaining()
        if left <= 0:
            raise httpcore.ReadTimeout("ESIA login deadline passed")
        return left if timeout is None else min(timeout, left)

    def timeout(self, connect_at_most: float, wait_at_most: float) -> httpx.Timeout:
        """httpx's per-operation timeouts for one call, none beyond the deadline.

        They bound each single wait; the sockets (below) bound their sum.
        """
        left = max(self.remaining(), 0.001)
        each = min(left, wait_at_most)
        return httpx.Timeout(each, connect=min(each, connect_at_most))


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream, deadline: Deadline) -> None:
        self._inner = inner
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._deadline.clip(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        try:
            self._inner.write(buffer, self._deadline.clip(timeout))
        except httpcore.ReadTimeout as exc:
            raise httpcore.WriteTimeout(str(exc)) from exc

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        inner = self._inner.start_tls(ssl_context, server_hostname, self._deadline.clip(timeout))
        return _DeadlineStream(inner, self._deadline)

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self, deadline: Deadline) -> None:
        self._deadline = deadline
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            clipped = self._deadline.clip(timeout)
        except httpcore.ReadTimeout as exc:
            raise httpcore.ConnectTimeout(str(exc)) from exc
        stream = self._inner.connect_tcp(host, port, clipped, local_address, socket_options)
        return _DeadlineStream(stream, self._deadline)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore.NetworkStream:  # pragma: no cover - ESIA is reached over TCP
        stream = self._inner.connect_unix_socket(path, self._deadline.clip(timeout), socket_options)
        return _DeadlineStream(stream, self._deadline)

    def sleep(self, seconds: float) -> None:  # pragma: no cover - no retries configured
        time.sleep(min(seconds, max(self._deadline.remaining(), 0)))


class DeadlineTransport(httpx.HTTPTransport):
    """httpx's own transport with its connection pool on the deadline's sockets.

    httpx has no public switch for httpcore's network backend, so the pool it builds
    is replaced by an identical one that uses ours (httpx and httpcore are pinned).
    """

    def __init__(self, deadline: Deadline, ssl_context: ssl.SSLContext) -> None:
        super().__init__(verify=ssl_context)
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context, network_backend=_DeadlineBackend(deadline)
        )
