"""The SMSC side of the SMPP 3.4 PDUs the emulator speaks.

Written here rather than borrowed from smpplib so that the client (which uses smpplib)
is tested against an independent reading of the specification: SMPP 3.4, section 3.2
(header), 4.1 (bind), 4.4 (submit_sm), 4.6 (deliver_sm), 4.11 (enquire_link),
4.3 (generic_nack), 5.3 (TLVs) and appendix B (the delivery receipt text).
"""

import struct
from dataclasses import dataclass, field

HEADER = struct.Struct(">LLLL")
MAX_PDU_LENGTH = 64 * 1024  # far above any legal PDU; a guard against garbage lengths

RESPONSE_BIT = 0x80000000
GENERIC_NACK = 0x80000000
BIND_RECEIVER = 0x00000001
BIND_TRANSMITTER = 0x00000002
SUBMIT_SM = 0x00000004
DELIVER_SM = 0x00000005
DELIVER_SM_RESP = 0x80000005
UNBIND = 0x00000006
BIND_TRANSCEIVER = 0x00000009
ENQUIRE_LINK = 0x00000015
ENQUIRE_LINK_RESP = 0x80000015
BINDS = {BIND_RECEIVER, BIND_TRANSMITTER, BIND_TRANSCEIVER}

ESME_ROK = 0x00
ESME_RINVCMDLEN = 0x02
ESME_RINVCMDID = 0x03
ESME_RINVBNDSTS = 0x04
ESME_RALYBND = 0x05
ESME_RSYSERR = 0x08
ESME_RINVDSTADR = 0x0B
ESME_RBINDFAIL = 0x0D
ESME_RTHROTTLED = 0x58

ESM_CLASS_RECEIPT = 0x04  # bits 5-2 = 0001: SMSC delivery receipt
ESM_CLASS_UDHI = 0x40

TLV_RECEIPTED_MESSAGE_ID = 0x001E
TLV_MESSAGE_PAYLOAD = 0x0424
TLV_MESSAGE_STATE = 0x0427

# SMPP 3.4 section 5.2.28: the message_state values of the receipt's final states.
MESSAGE_STATES = {"DELIVRD": 2, "EXPIRED": 3, "DELETED": 4, "UNDELIV": 5, "REJECTD": 8}


class PduError(ValueError):
    """The bytes are not a PDU we can read; the SMSC answers generic_nack."""


@dataclass(frozen=True)
class Pdu:
    command_id: int
    status: int
    sequence: int
    body: bytes = b""

    def encode(self) -> bytes:
        header = HEADER.pack(
            HEADER.size + len(self.body), self.command_id, self.status, self.sequence
        )
        return header + self.body


def response(request: Pdu, status: int = ESME_ROK, body: bytes = b"") -> Pdu:
    return Pdu(request.command_id | RESPONSE_BIT, status, request.sequence, body)


def c_string(value: str) -> bytes:
    return value.encode("latin-1") + b"\0"


class _Reader:
    """Walks a PDU body field by field; running off the end is a PduError."""

    def __init__(self, body: bytes) -> None:
        self._body = body
        self._pos = 0

    def c_string(self) -> str:
        end = self._body.find(b"\0", self._pos)
        if end < 0:
            raise PduError("unterminated C-Octet String")
        value = self._body[self._pos : end].decode("latin-1")
        self._pos = end + 1
        return value

    def byte(self) -> int:
        if self._pos >= len(self._body):
            raise PduError("body ends early")
        value = self._body[self._pos]
        self._pos += 1
        return value

    def octets(self, length: int) -> bytes:
        if self._pos + length > len(self._body):
            raise PduError("body ends early")
        value = self._body[self._pos : self._pos + length]
        self._pos += length
        return value

    def tlvs(self) -> dict[int, bytes]:
        found: dict[int, bytes] = {}
        while self._pos + 4 <= len(self._body):
            tag, length = struct.unpack_from(">HH", self._body, self._pos)
            self._pos += 4
            found[tag] = self.octets(length)
        return found


@dataclass(frozen=True)
class Bind:
    system_id: str
    password: str
    system_type: str


def parse_bind(body: bytes) -> Bind:
    reader = _Reader(body)
    return Bind(
        system_id=reader.c_string(), password=reader.c_string(), system_type=reader.c_string()
    )


@dataclass(frozen=True)
class SubmitSm:
    source_addr: str
    destination_addr: str
    esm_class: int
    registered_delivery: int
    data_coding: int
    short_message: bytes
    tlvs: dict[int, bytes] = field(default_factory=dict)
    validity_period: str = ""  # SMPP 3.4 §7.1.1 absolute time, "" = the SMSC's default


def parse_submit_sm(body: bytes) -> SubmitSm:
    reader = _Reader(body)
    reader.c_string()  # service_type
    reader.byte(), reader.byte()  # source_addr_ton, source_addr_npi
    source_addr = reader.c_string()
    reader.byte(), reader.byte()  # dest_addr_ton, dest_addr_npi
    destination_addr = reader.c_string()
    esm_class = reader.byte()
    reader.byte(), reader.byte()  # protocol_id, priority_flag
    reader.c_string()  # schedule_delivery_time
    validity_period = reader.c_string()
    registered_delivery = reader.byte()
    reader.byte()  # replace_if_present_flag
    data_coding = reader.byte()
    reader.byte()  # sm_default_msg_id
    short_message = reader.octets(reader.byte())
    tlvs = reader.tlvs()
    if not short_message and TLV_MESSAGE_PAYLOAD in tlvs:
        short_message = tlvs[TLV_MESSAGE_PAYLOAD]
    return SubmitSm(
        source_addr=source_addr,
        destination_addr=destination_addr,
        esm_class=esm_class,
        registered_delivery=registered_delivery,
        data_coding=data_coding,
        short_message=short_message,
        tlvs=tlvs,
        validity_period=validity_period,
    )


def _tlv(tag: int, value: bytes) -> bytes:
    return struct.pack(">HH", tag, len(value)) + value


def receipt_text(message_id: str, state: str, submitted: str, done: str, error: int = 0) -> str:
    """Appendix B of SMPP 3.4; dates as YYMMDDhhmm."""
    delivered = "001" if state == "DELIVRD" else "000"
    return (
        f"id:{message_id} sub:001 dlvrd:{delivered} submit date:{submitted} "
        f"done date:{done} stat:{state} err:{error:03d} text:"
    )


def deliver_receipt_body(
    *, message_id: str, state: str, handset: str, sender: str, submitted: str, done: str
) -> bytes:
    """A deliver_sm carrying a delivery receipt, from the handset back to the sender."""
    text = receipt_text(message_id, state, submitted, done).encode("ascii")
    return b"".join(
        [
            c_string(""),  # service_type
            bytes([1, 1]),  # source_addr_ton, source_addr_npi
            c_string(handset),
            bytes([5 if not sender.isdigit() else 1, 0 if not sender.isdigit() else 1]),
            c_string(sender),
            bytes([ESM_CLASS_RECEIPT, 0, 0]),  # esm_class, protocol_id, priority_flag
            c_string(""),
            c_string(""),  # schedule_delivery_time, validity_period
            bytes([0, 0, 0, 0]),  # registered_delivery, replace, data_coding, sm_default_msg_id
            bytes([len(text)]),
            text,
            _tlv(TLV_RECEIPTED_MESSAGE_ID, c_string(message_id)),
            _tlv(TLV_MESSAGE_STATE, bytes([MESSAGE_STATES.get(state, 7)])),
        ]
    )


def split_udh(short_message: bytes) -> tuple[tuple[int, int, int] | None, bytes]:
    """(reference, total, number) of a concatenated part and its payload (3GPP TS 23.040
    9.2.3.24.1 and .8: 8- and 16-bit references), or None when the UDH has no such IE."""
    if not short_message:
        return None, b""
    header_length = short_message[0]
    header, payload = short_message[1 : 1 + header_length], short_message[1 + header_length :]
    pos = 0
    while pos + 2 <= len(header):
        ie, length = header[pos], header[pos + 1]
        value = header[pos + 2 : pos + 2 + length]
        if ie == 0x00 and length == 3:
            return (value[0], value[1], value[2]), payload
        if ie == 0x08 and length == 4:
            return (value[0] << 8 | value[1], value[2], value[3]), payload
        pos += 2 + length
    return None, payload


def decode_text(data: bytes, data_coding: int) -> str:
    """UCS-2 for 0x08; the emulator reads everything else as Latin-1, enough to show it."""
    if data_coding == 0x08:
        return data.decode("utf-16-be", errors="replace")
    return data.decode("latin-1")
