"""The emulated SMSC: an asyncio TCP server, one session per ESME connection.

It behaves like an operator's SMSC where the portal notices: binds checked against one
system_id/password, a message id for every accepted submit_sm, a delivery receipt shortly
after (queued until the ESME is bound again when the connection is gone), and the faults a
real one shows — throttling, refused binds, a connection dropped mid-stream — switched on
through `SmscControls` (from Python in tests, over HTTP from `control.py`).
"""

import asyncio
import contextlib
import datetime
import logging
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from portal.smsc_emulator import pdu
from portal.smsc_emulator.store import MessageStore

logger = logging.getLogger(__name__)

SMSC_SYSTEM_ID = "SMSCEMU"
# A destination the emulator accepts: international digits, optionally with "+".
_DESTINATION = re.compile(r"^\+?\d{10,15}$")


@dataclass
class SmscControls:
    """The knobs of the emulator. Plain attributes: set them from any thread."""

    throttle_next: int = 0  # this many coming submit_sm are answered ESME_RTHROTTLED
    refuse_binds: bool = False  # every bind answered ESME_RBINDFAIL
    drop_on_next_submit: bool = False  # the next submit_sm closes the connection unanswered
    receipt_state: str = "DELIVRD"  # the final state reported in receipts
    receipt_delay: float = 0.2  # seconds between submit_sm_resp and the receipt


@dataclass
class _Receipt:
    system_id: str
    message_id: str
    state: str
    handset: str
    sender: str
    submitted: str
    attempts: int = 0


@dataclass(eq=False)  # sessions are kept in a set, by identity
class _Session:
    writer: asyncio.StreamWriter
    system_id: str | None = None
    receives: bool = False  # bound as receiver or transceiver: receipts may go here
    transmits: bool = False
    sequence: int = 0
    awaiting: dict[int, _Receipt] = field(default_factory=dict)  # deliver_sm seq → receipt

    def next_sequence(self) -> int:
        self.sequence = self.sequence % 0x7FFFFFFF + 1
        return self.sequence


def _smpp_date(moment: datetime.datetime) -> str:
    return moment.strftime("%y%m%d%H%M")


class SmscEmulator:
    def __init__(self, *, system_id: str, password: str, messages_file: Path | None = None) -> None:
        self.system_id = system_id
        self.password = password
        self.controls = SmscControls()
        self.store = MessageStore(messages_file)
        self._sessions: set[_Session] = set()
        self._undelivered: list[_Receipt] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Future[None]] = set()
        self.enquire_links_answered = 0
        self.binds_accepted = 0

    @property
    def bound_sessions(self) -> int:
        return sum(1 for s in self._sessions if s.system_id is not None)

    async def serve(self, host: str, port: int) -> asyncio.Server:
        self._loop = asyncio.get_running_loop()
        return await asyncio.start_server(self._handle, host, port)

    def drop_connections(self) -> None:
        """Close every ESME connection now (thread-safe)."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self.close_sessions)

    def close_sessions(self) -> None:
        """Close every ESME connection (on the emulator's loop)."""
        for session in list(self._sessions):
            session.writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = _Session(writer)
        self._sessions.add(session)
        try:
            while not writer.is_closing():
                request = await self._read(reader)
                if request is None:
                    break
                if not await self._dispatch(session, request):
                    break
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except pdu.PduError as error:
            logger.info("SMSC emulator: unreadable PDU (%s), closing", error)
        finally:
            self._sessions.discard(session)
            self._undelivered.extend(session.awaiting.values())
            writer.close()

    async def _read(self, reader: asyncio.StreamReader) -> pdu.Pdu | None:
        try:
            header = await reader.readexactly(pdu.HEADER.size)
        except asyncio.IncompleteReadError:
            return None
        length, command_id, status, sequence = pdu.HEADER.unpack(header)
        if not pdu.HEADER.size <= length <= pdu.MAX_PDU_LENGTH:
            raise pdu.PduError(f"command_length {length}")
        body = await reader.readexactly(length - pdu.HEADER.size)
        return pdu.Pdu(command_id, status, sequence, body)

    async def _send(self, session: _Session, message: pdu.Pdu) -> None:
        session.writer.write(message.encode())
        await session.writer.drain()

    async def _dispatch(self, session: _Session, request: pdu.Pdu) -> bool:
        """Answer one PDU; False ends the session."""
        command = request.command_id
        if command in pdu.BINDS:
            await self._bind(session, request)
        elif command == pdu.SUBMIT_SM:
            return await self._submit(session, request)
        elif command == pdu.ENQUIRE_LINK:
            self.enquire_links_answered += 1
            await self._send(session, pdu.response(request))
        elif command == pdu.UNBIND:
            await self._send(session, pdu.response(request))
            return False
        elif command == pdu.DELIVER_SM_RESP:
            self._receipt_answered(session, request)
        elif command & pdu.RESPONSE_BIT:
            pass  # enquire_link_resp and the like: nothing to do
        else:
            nack = pdu.Pdu(pdu.GENERIC_NACK, pdu.ESME_RINVCMDID, request.sequence)
            await self._send(session, nack)
        return True

    async def _bind(self, session: _Session, request: pdu.Pdu) -> None:
        if session.system_id is not None:
            await self._send(session, pdu.response(request, pdu.ESME_RALYBND))
            return
        bind = pdu.parse_bind(request.body)
        accepted = (
            not self.controls.refuse_binds
            and secrets.compare_digest(bind.system_id, self.system_id)
            and secrets.compare_digest(bind.password, self.password)
        )
        if not accepted:
            # SMPP 3.4 4.1.2: an unsuccessful bind_resp carries no body.
            await self._send(session, pdu.response(request, pdu.ESME_RBINDFAIL))
            return
        session.system_id = bind.system_id
        self.binds_accepted += 1
        session.transmits = request.command_id != pdu.BIND_RECEIVER
        session.receives = request.command_id != pdu.BIND_TRANSMITTER
        await self._send(session, pdu.response(request, body=pdu.c_string(SMSC_SYSTEM_ID)))
        if session.receives:
            self._resend_undelivered()

    async def _submit(self, session: _Session, request: pdu.Pdu) -> bool:
        if session.system_id is None or not session.transmits:
            await self._send(session, pdu.response(request, pdu.ESME_RINVBNDSTS))
            return True
        if self.controls.drop_on_next_submit:
            self.controls.drop_on_next_submit = False
            session.writer.transport.abort()
            return False
        if self.controls.throttle_next > 0:
            self.controls.throttle_next -= 1
            await self._send(session, pdu.response(request, pdu.ESME_RTHROTTLED))
            return True
        submit = pdu.parse_submit_sm(request.body)
        if not _DESTINATION.match(submit.destination_addr):
            await self._send(session, pdu.response(request, pdu.ESME_RINVDSTADR))
            return True
        message_id = secrets.token_hex(8).upper()
        self.store.add_part(session.system_id, submit, message_id)
        await self._send(session, pdu.response(request, body=pdu.c_string(message_id)))
        if submit.registered_delivery & 0x03:
            receipt = _Receipt(
                system_id=session.system_id,
                message_id=message_id,
                state=self.controls.receipt_state,
                handset=submit.destination_addr,
                sender=submit.source_addr,
                submitted=_smpp_date(datetime.datetime.now(datetime.UTC)),
            )
            asyncio.get_running_loop().call_later(
                self.controls.receipt_delay, self._deliver_soon, receipt
            )
        return True

    def _deliver_soon(self, receipt: _Receipt) -> None:
        task = asyncio.ensure_future(self._deliver(receipt))
        # The loop keeps only weak references to tasks: hold it until it is done.
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, receipt: _Receipt) -> None:
        """Send a receipt to a receiving session of its system_id, or keep it for later."""
        session = next(
            (s for s in self._sessions if s.receives and s.system_id == receipt.system_id), None
        )
        if session is None or session.writer.is_closing():
            self._undelivered.append(receipt)
            return
        receipt.attempts += 1
        body = pdu.deliver_receipt_body(
            message_id=receipt.message_id,
            state=receipt.state,
            handset=receipt.handset,
            sender=receipt.sender,
            submitted=receipt.submitted,
            done=_smpp_date(datetime.datetime.now(datetime.UTC)),
        )
        sequence = session.next_sequence()
        session.awaiting[sequence] = receipt
        self.store.set_state(receipt.message_id, receipt.state)
        # On a lost connection the session's end moves what it awaited to _undelivered.
        with contextlib.suppress(ConnectionError):
            await self._send(session, pdu.Pdu(pdu.DELIVER_SM, pdu.ESME_ROK, sequence, body))

    def _receipt_answered(self, session: _Session, answer: pdu.Pdu) -> None:
        receipt = session.awaiting.pop(answer.sequence, None)
        if receipt is None or answer.status == pdu.ESME_ROK:
            return
        # The ESME could not take it now (e.g. ESME_RX_T_APPN): try again a little later,
        # as SMSCs do, but not forever.
        if receipt.attempts < 5:
            asyncio.get_running_loop().call_later(1.0, self._deliver_soon, receipt)

    def _resend_undelivered(self) -> None:
        waiting, self._undelivered = self._undelivered, []
        for receipt in waiting:
            self._deliver_soon(receipt)
