"""SMS over SMPP 3.4 with smpplib: one transceiver session to the operator's SMSC.

`SmppGateway.submit()` sends a text in UCS-2 (Cyrillic needs it), split into UDH
concatenated parts when longer than 70 characters, and returns the SMSC's message id of
every part. Delivery receipts (deliver_sm) arrive on the same connection, at any time; each
is passed to `on_receipt(message_id, state)`. All socket work happens under one lock, from
the caller's thread during `submit()`/`poll()` or from the keep-alive thread (`start()`),
which sends enquire_link on an idle link, reads receipts and reconnects after a drop.

Every socket operation is bounded by `timeout`: a dead or silent SMSC ends in
`SmppUnavailable`, never in a stalled worker. See docs/notifications.md, "SMS over SMPP".
"""

import contextlib
import datetime
import logging
import re
import select
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

import smpplib.client
import smpplib.consts
import smpplib.exceptions
import smpplib.gsm
import smpplib.smpp
from django.conf import settings

from portal.notifications.smpp.errors import (
    SmppError,
    SmppRejected,
    SmppThrottled,
    SmppUnavailable,
)

logger = logging.getLogger(__name__)

ReceiptCallback = Callable[[str, str], None]

# smpplib logs every PDU in hex at DEBUG (texts and numbers: personal data); keep it
# under one name that the logging configuration can silence.
WIRE_LOGGER = "portal.notifications.smpp.wire"
UCS2 = smpplib.consts.SMPP_ENCODING_ISO10646  # data_coding 0x08
ESM_CLASS_TYPE_MASK = 0x3C
ESM_CLASS_RECEIPT = 0x04  # SMPP 3.4 5.2.12: SMSC delivery receipt
# SMPP 3.4 5.2.28 message_state, for a receipt that only carries the TLV.
MESSAGE_STATES = {
    1: "ENROUTE",
    2: "DELIVRD",
    3: "EXPIRED",
    4: "DELETED",
    5: "UNDELIV",
    6: "ACCEPTD",
    7: "UNKNOWN",
    8: "REJECTD",
}
_RECEIPT_ID = re.compile(rb"\bid:(\S+)")
_RECEIPT_STATE = re.compile(rb"\bstat:(\w+)")
_DESTINATION = re.compile(r"^\d{10,15}$")
_RECONNECT_BACKOFF_MAX = 60.0


def normalize_destination(number: str) -> str:
    """E.164 digits without "+": "+7 (914) 000-00-00" and "8 914 000 00 00" give 79140000000.

    Raises SmppRejected (ESME_RINVDSTADR) for anything that cannot be a mobile number.
    """
    digits = re.sub(r"[\s()\-.]", "", number).removeprefix("+")
    if len(digits) == 11 and digits.startswith("8"):
        digits = "7" + digits[1:]  # the Russian trunk prefix
    if not _DESTINATION.match(digits):
        raise SmppRejected("not a mobile number", status=smpplib.consts.SMPP_ESME_RINVDSTADR)
    return digits


def parse_receipt(pdu: Any) -> tuple[str, str] | None:
    """(message id, final state) of a deliver_sm that is a delivery receipt, else None.

    The TLVs receipted_message_id / message_state are preferred; many SMSCs send only the
    text of SMPP 3.4 appendix B ("id:… sub:… dlvrd:… … stat:DELIVRD err:…").
    """
    if (pdu.esm_class or 0) & ESM_CLASS_TYPE_MASK != ESM_CLASS_RECEIPT:
        return None
    text: bytes = pdu.short_message or b""
    message_id = _as_text(pdu.receipted_message_id)
    if not message_id:
        found = _RECEIPT_ID.search(text)
        message_id = found.group(1).decode("latin-1") if found else ""
    state_found = _RECEIPT_STATE.search(text)
    if state_found:
        state = state_found.group(1).decode("latin-1").upper()
    else:
        state = MESSAGE_STATES.get(pdu.message_state or 7, "UNKNOWN")
    return (message_id, state) if message_id else None


def _submit_sm(fields: dict[str, Any]) -> Callable[[Any], Any]:
    def send(client: Any) -> Any:
        return client.send_message(**fields)

    return send


def _send_enquire_link(client: Any) -> Any:
    request = smpplib.smpp.make_pdu("enquire_link", client=client)
    client.send_pdu(request)
    return request


def _as_text(value: bytes | str | None) -> str:
    if isinstance(value, bytes):
        return value.rstrip(b"\0").decode("latin-1")
    return value or ""


class SmppGateway:
    def __init__(
        self,
        *,
        host: str,
        port: int,
        system_id: str,
        password: str,
        source_addr: str,
        on_receipt: ReceiptCallback | None = None,
        timeout: float = 10.0,
        enquire_link_interval: float = 30.0,
    ) -> None:
        self.host = host
        self.port = port
        self.system_id = system_id
        self.password = password
        self.source_addr = source_addr
        self.on_receipt = on_receipt
        self.timeout = timeout
        self.enquire_link_interval = enquire_link_interval
        self._client: Any = None  # smpplib.client.Client while bound
        self._lock = threading.RLock()
        self._last_activity = 0.0
        self._keepalive: threading.Thread | None = None
        self._stopping = threading.Event()

    @classmethod
    def from_settings(cls, on_receipt: ReceiptCallback | None = None) -> Self:
        return cls(
            host=settings.SMPP_HOST,
            port=settings.SMPP_PORT,
            system_id=settings.SMPP_SYSTEM_ID,
            password=settings.SMPP_PASSWORD,
            source_addr=settings.SMPP_SOURCE_ADDR,
            on_receipt=on_receipt,
            timeout=float(settings.SMPP_TIMEOUT_SECONDS),
            enquire_link_interval=float(settings.SMPP_ENQUIRE_LINK_SECONDS),
        )

    # -- lifecycle -------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._client is not None

    def connect(self) -> None:
        """Connect and bind as a transceiver, unless already bound. Raises SmppUnavailable."""
        with self._lock:
            if self._client is not None:
                return
            client = smpplib.client.Client(
                self.host,
                self.port,
                timeout=self.timeout,
                logger_name=WIRE_LOGGER,
                allow_unknown_opt_params=True,
            )
            try:
                client.connect()
                client.bind_transceiver(system_id=self.system_id, password=self.password)
            except smpplib.exceptions.PDUError as error:
                status = error.args[1] if len(error.args) > 1 else None
                self._close_quietly(client)
                raise SmppUnavailable("bind refused", status=status) from error
            except (smpplib.exceptions.ConnectionError, OSError) as error:
                self._close_quietly(client)
                raise SmppUnavailable(
                    f"cannot reach the SMSC at {self.host}:{self.port}"
                ) from error
            self._client = client
            self._last_activity = time.monotonic()
            logger.info("SMPP: bound to %s:%s as %s", self.host, self.port, self.system_id)

    def close(self) -> None:
        """Stop the keep-alive thread, unbind politely and disconnect."""
        self._stopping.set()
        if self._keepalive is not None:
            self._keepalive.join(self.timeout + 2)
            self._keepalive = None
        with self._lock:
            client, self._client = self._client, None
            if client is None:
                return
            with contextlib.suppress(
                smpplib.exceptions.PDUError, smpplib.exceptions.ConnectionError, OSError
            ):
                client.unbind()
            self._close_quietly(client)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def start(self) -> None:
        """Keep the session alive in a daemon thread: enquire_link when idle, receipts read
        as they come, reconnection with backoff after a drop."""
        if self._keepalive is not None:
            return
        self._stopping.clear()
        self._keepalive = threading.Thread(
            target=self._keep_alive, name="smpp-keepalive", daemon=True
        )
        self._keepalive.start()

    def _keep_alive(self) -> None:
        backoff = 1.0
        tick = min(1.0, self.enquire_link_interval / 2)
        while not self._stopping.wait(tick):
            try:
                if not self.connected:
                    self.connect()
                self.poll()
                backoff = 1.0
            except SmppError as error:
                logger.warning("SMPP: %s; trying again in %.0f s", error, backoff)
                if self._stopping.wait(backoff):
                    return
                backoff = min(backoff * 2, _RECONNECT_BACKOFF_MAX)
            except Exception:
                # A bug must not end the keep-alive silently: log it, drop the session.
                logger.exception("SMPP: keep-alive failed; reconnecting")
                with self._lock:
                    self._drop()

    # -- sending ---------------------------------------------------------------------

    def submit(
        self, destination: str, text: str, valid_until: datetime.datetime | None = None
    ) -> list[str]:
        """Send one SMS; returns the SMSC message id of each part, in order. ``valid_until``:
        the SMSC drops it undelivered after that moment (a reminder after its visit).

        Raises SmppThrottled (back off), SmppRejected (do not retry) or SmppUnavailable.
        """
        number = normalize_destination(destination)
        parts, coding, esm_class = smpplib.gsm.make_parts(text, encoding=UCS2)
        alphanumeric = not self.source_addr.isdigit()
        fields: dict[str, Any] = {
            "source_addr_ton": smpplib.consts.SMPP_TON_ALNUM
            if alphanumeric
            else smpplib.consts.SMPP_TON_INTL,
            "source_addr_npi": smpplib.consts.SMPP_NPI_UNK
            if alphanumeric
            else smpplib.consts.SMPP_NPI_ISDN,
            "source_addr": self.source_addr,
            "dest_addr_ton": smpplib.consts.SMPP_TON_INTL,
            "dest_addr_npi": smpplib.consts.SMPP_NPI_ISDN,
            "destination_addr": number,
            "data_coding": coding,
            "esm_class": esm_class,
            "registered_delivery": 1,  # ask for the final delivery receipt
        }
        if valid_until is not None:
            fields["validity_period"] = smpp_absolute_time(valid_until)
        accepted: list[str] = []
        with self._lock:
            self._drain()  # notices a connection the SMSC closed while we were idle
            self.connect()
            for part in parts:
                response = self._request(_submit_sm(fields | {"short_message": part}), accepted)
                self._check_status(response, accepted)
                accepted.append(_as_text(response.message_id))
        return accepted

    def enquire_link(self) -> None:
        """One keep-alive round trip; raises SmppUnavailable when the SMSC does not answer."""
        with self._lock:
            self.connect()
            response = self._request(_send_enquire_link, [])
            self._check_status(response, [])

    def poll(self, wait: float = 0.0) -> None:
        """Handle whatever the SMSC sent (receipts, enquire_link), waiting up to `wait`
        seconds for the first PDU; send enquire_link if the link has been idle too long."""
        with self._lock:
            if self._client is None:
                return
            self._drain(wait)
            if (
                self._client is not None
                and time.monotonic() - self._last_activity >= self.enquire_link_interval
            ):
                self.enquire_link()

    # -- the wire --------------------------------------------------------------------

    def _request(self, send: Callable[[Any], Any], accepted: list[str]) -> Any:
        """Send one request and read until its response, handling what comes between.

        `send` returns the PDU it sent; the response is matched by its sequence number.
        The whole exchange is bounded by `timeout`.
        """
        client = self._client
        deadline = time.monotonic() + self.timeout
        try:
            sequence = send(client).sequence
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError
                client._socket.settimeout(remaining)
                pdu = client.read_pdu()
                self._last_activity = time.monotonic()
                if pdu.sequence == sequence and (
                    pdu.command.endswith("_resp") or pdu.command == "generic_nack"
                ):
                    return pdu
                self._handle_incoming(pdu)
        except (
            smpplib.exceptions.ConnectionError,
            smpplib.exceptions.PDUError,
            smpplib.exceptions.UnknownCommandError,
            OSError,  # socket.timeout is TimeoutError, an OSError
        ) as error:
            self._drop()
            raise SmppUnavailable("connection to the SMSC lost", accepted=accepted) from error
        finally:
            if self._client is not None:
                self._client._socket.settimeout(self.timeout)

    def _check_status(self, response: Any, accepted: list[str]) -> None:
        status = int(response.status)
        if status == smpplib.consts.SMPP_ESME_ROK:
            return
        description = smpplib.consts.DESCRIPTIONS.get(status, "unknown status")
        if status == smpplib.consts.SMPP_ESME_RTHROTTLED:
            raise SmppThrottled(description, status=status, accepted=accepted)
        if status in {
            smpplib.consts.SMPP_ESME_RSYSERR,
            smpplib.consts.SMPP_ESME_RMSGQFUL,
            smpplib.consts.SMPP_ESME_RX_T_APPN,
        }:
            raise SmppUnavailable(description, status=status, accepted=accepted)
        raise SmppRejected(description, status=status, accepted=accepted)

    def _drain(self, wait: float = 0.0) -> None:
        """Read every PDU already waiting on the socket (the first one up to `wait` s)."""
        while self._client is not None:
            try:
                readable, _, _ = select.select([self._client._socket], [], [], wait)
                if not readable:
                    return
                self._client._socket.settimeout(self.timeout)
                pdu = self._client.read_pdu()
                self._last_activity = time.monotonic()
                self._handle_incoming(pdu)
            except (
                smpplib.exceptions.ConnectionError,
                smpplib.exceptions.PDUError,
                smpplib.exceptions.UnknownCommandError,
                OSError,
                ValueError,  # select on a socket smpplib has already closed
            ):
                logger.info("SMPP: the SMSC closed the connection; will reconnect")
                self._drop()
                return
            wait = 0.0

    def _handle_incoming(self, pdu: Any) -> None:
        """PDUs the SMSC starts: receipts, enquire_link, unbind."""
        client = self._client
        if pdu.command == "deliver_sm":
            status = self._receipt(pdu)
            answer = smpplib.smpp.make_pdu("deliver_sm_resp", client=client, status=status)
            answer.sequence = pdu.sequence
            client.send_pdu(answer)
        elif pdu.command == "enquire_link":
            answer = smpplib.smpp.make_pdu("enquire_link_resp", client=client)
            answer.sequence = pdu.sequence
            client.send_pdu(answer)
        elif pdu.command == "unbind":
            answer = smpplib.smpp.make_pdu("unbind_resp", client=client)
            answer.sequence = pdu.sequence
            client.send_pdu(answer)
            self._drop()
        # Late or unexpected responses (an enquire_link_resp after a timeout) are ignored.

    def _receipt(self, pdu: Any) -> int:
        """Pass a receipt on; the command_status to answer the SMSC with."""
        receipt = parse_receipt(pdu)
        if receipt is None:
            logger.info("SMPP: ignored an incoming message that is not a receipt")
            return int(smpplib.consts.SMPP_ESME_ROK)
        if self.on_receipt is not None:
            try:
                self.on_receipt(*receipt)
            except Exception:
                # Temporary application error: the SMSC keeps the receipt and resends it.
                logger.exception("SMPP: the receipt callback failed; the SMSC will resend")
                return int(smpplib.consts.SMPP_ESME_RX_T_APPN)
        return int(smpplib.consts.SMPP_ESME_ROK)

    def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            self._close_quietly(client)

    @staticmethod
    def _close_quietly(client: Any) -> None:
        # smpplib warns when a bound session is closed; here that is the point.
        client.state = smpplib.consts.SMPP_CLIENT_STATE_OPEN
        with contextlib.suppress(OSError):
            client.disconnect()


def smpp_absolute_time(moment: datetime.datetime) -> str:
    """SMPP 3.4 §7.1.1 absolute time in UTC: YYMMDDhhmmss, tenths, quarter-hours from UTC
    (00) and "+"."""
    utc = moment.astimezone(datetime.UTC)
    return utc.strftime("%y%m%d%H%M%S") + "000+"
