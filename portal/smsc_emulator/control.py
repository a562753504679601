"""The emulator's control port: a tiny HTTP/1.1 API on 127.0.0.1 (JSON in, JSON out).

    GET    /messages                 every message received, newest first
    DELETE /messages                 forget them
    GET    /state                    the knobs, bound sessions, receipts waiting
    POST   /throttle?count=N         answer the next N submit_sm with ESME_RTHROTTLED
    POST   /refuse-binds?on=1|0      answer binds with ESME_RBINDFAIL (or stop doing so)
    POST   /drop                     close every ESME connection now
    POST   /drop-next-submit         close the connection on the next submit_sm, unanswered
    POST   /receipt-state?state=S    final state of coming receipts (DELIVRD, UNDELIV, ...)

Hand-written on asyncio streams because it is a handful of fixed routes for development;
it is never reachable from another machine (127.0.0.1 only).
"""

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

from portal.smsc_emulator.pdu import MESSAGE_STATES
from portal.smsc_emulator.server import SmscEmulator

MAX_REQUEST_HEAD = 16 * 1024


class BadRequest(ValueError):
    pass


def _route(emulator: SmscEmulator, method: str, path: str, query: dict[str, str]) -> Any:
    controls = emulator.controls
    if (method, path) == ("GET", "/messages"):
        return emulator.store.as_json()
    if (method, path) == ("DELETE", "/messages"):
        emulator.store.clear()
        return {"ok": True}
    if (method, path) == ("GET", "/state"):
        return asdict(controls) | {"bound_sessions": emulator.bound_sessions}
    if (method, path) == ("POST", "/throttle"):
        try:
            controls.throttle_next = max(0, int(query.get("count", "1")))
        except ValueError as error:
            raise BadRequest("count must be an integer") from error
    elif (method, path) == ("POST", "/refuse-binds"):
        controls.refuse_binds = query.get("on", "1") not in {"0", "false", "no", "off"}
    elif (method, path) == ("POST", "/drop"):
        emulator.drop_connections()
    elif (method, path) == ("POST", "/drop-next-submit"):
        controls.drop_on_next_submit = True
    elif (method, path) == ("POST", "/receipt-state"):
        state = query.get("state", "")
        if state not in MESSAGE_STATES:
            raise BadRequest(f"state must be one of {sorted(MESSAGE_STATES)}")
        controls.receipt_state = state
    else:
        raise LookupError(path)
    return asdict(controls)


async def _answer(writer: asyncio.StreamWriter, status: HTTPStatus, payload: Any) -> None:
    body = json.dumps(payload, ensure_ascii=False).encode()
    head = (
        f"HTTP/1.1 {status.value} {status.phrase}\r\n"
        "Content-Type: application/json; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    writer.write(head.encode("latin-1") + body)
    await writer.drain()


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def control_handler(emulator: SmscEmulator) -> Handler:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            if len(head) > MAX_REQUEST_HEAD:
                raise BadRequest("request too large")
            method, target, _version = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ", 2)
            url = urlsplit(target)
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            try:
                payload = _route(emulator, method, url.path.rstrip("/") or "/", query)
            except LookupError:
                await _answer(writer, HTTPStatus.NOT_FOUND, {"error": "no such route"})
            except BadRequest as error:
                await _answer(writer, HTTPStatus.BAD_REQUEST, {"error": str(error)})
            else:
                await _answer(writer, HTTPStatus.OK, payload)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            await _answer(writer, HTTPStatus.BAD_REQUEST, {"error": "bad request"})
        except ConnectionError:
            pass
        finally:
            writer.close()

    return handle


async def serve_control(emulator: SmscEmulator, host: str, port: int) -> asyncio.Server:
    return await asyncio.start_server(control_handler(emulator), host, port)
