"""Runs the emulator (and optionally its control port) on its own event loop in a thread.

Tests start one per test on ephemeral ports; `manage.py smsc_emulator` runs one and waits.
"""

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path

from portal.smsc_emulator.control import serve_control
from portal.smsc_emulator.server import SmscEmulator


class SmscEmulatorThread:
    def __init__(
        self,
        emulator: SmscEmulator,
        host: str = "127.0.0.1",
        port: int = 0,
        control_port: int | None = None,
    ) -> None:
        self.emulator = emulator
        self.host = host
        self.port = port
        self.control_port = control_port
        self._loop = asyncio.new_event_loop()
        self._servers: list[asyncio.Server] = []
        self._ready = threading.Event()
        self._failure: OSError | None = None
        self._thread = threading.Thread(target=self._run, name="smsc-emulator", daemon=True)

    def start(self) -> "SmscEmulatorThread":
        self._thread.start()
        self._ready.wait(10)
        if self._failure is not None:
            raise self._failure
        return self

    async def _listen(self) -> None:
        smpp = await self.emulator.serve(self.host, self.port)
        self._servers.append(smpp)
        self.port = smpp.sockets[0].getsockname()[1]
        if self.control_port is not None:
            # The control API never leaves the machine, whatever host SMPP listens on.
            control = await serve_control(self.emulator, "127.0.0.1", self.control_port)
            self._servers.append(control)
            self.control_port = control.sockets[0].getsockname()[1]

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._listen())
        except OSError as error:
            self._failure = error
        self._ready.set()
        if self._failure is None:
            self._loop.run_forever()

    def stop(self) -> None:
        """Stop listening and close every connection, as a crashed SMSC would look."""

        async def shutdown() -> None:
            for server in self._servers:
                server.close()
            self.emulator.close_sessions()
            for server in self._servers:
                await server.wait_closed()

        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def wait(self) -> None:
        self._thread.join()


@contextlib.contextmanager
def running_smsc(
    *,
    system_id: str = "portal",
    password: str = "secret",
    port: int = 0,
    control_port: int | None = None,
    messages_file: Path | None = None,
) -> Iterator[SmscEmulatorThread]:
    emulator = SmscEmulator(system_id=system_id, password=password, messages_file=messages_file)
    thread = SmscEmulatorThread(emulator, port=port, control_port=control_port).start()
    try:
        yield thread
    finally:
        thread.stop()
