"""The SMSC emulator: its protocol answers, its control API, and that production refuses it."""

import json
import os
import re
import select
import socket
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from django.core.management import CommandError

from portal.notifications.smpp.client import SmppGateway
from portal.notifications.smpp.errors import SmppThrottled, SmppUnavailable
from portal.smsc_emulator import pdu
from portal.smsc_emulator.management.commands.smsc_emulator import refuse_outside_development
from portal.smsc_emulator.runner import SmscEmulatorThread, running_smsc
from portal.smsc_emulator.store import MessageStore

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def smsc(tmp_path: Path) -> Iterator[SmscEmulatorThread]:
    with running_smsc(
        system_id="portal", password="secret", control_port=0, messages_file=tmp_path / "sms.json"
    ) as emulator:
        yield emulator


def _gateway(smsc: SmscEmulatorThread, **overrides: object) -> SmppGateway:
    options: dict[str, object] = {
        "host": "127.0.0.1",
        "port": smsc.port,
        "system_id": "portal",
        "password": "secret",
        "source_addr": "Portal38",
        "timeout": 2.0,
    } | overrides
    return SmppGateway(**options)  # type: ignore[arg-type]


def _control(smsc: SmscEmulatorThread, method: str, path: str) -> httpx.Response:
    return httpx.request(method, f"http://127.0.0.1:{smsc.control_port}{path}", timeout=5)


# -- raw SMPP --------------------------------------------------------------------------


class RawEsme:
    """Hand-made PDUs, to see what the emulator answers to what a client library never sends."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=3)
        self.sequence = 0

    def send(self, command_id: int, body: bytes = b"") -> int:
        self.sequence += 1
        self.sock.sendall(pdu.Pdu(command_id, 0, self.sequence, body).encode())
        return self.sequence

    def read(self) -> pdu.Pdu:
        header = self._exactly(16)
        length, command_id, status, sequence = struct.unpack(">LLLL", header)
        return pdu.Pdu(command_id, status, sequence, self._exactly(length - 16))

    def _exactly(self, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = self.sock.recv(size - len(data))
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        return data

    def bind(self, password: str = "secret") -> pdu.Pdu:
        body = pdu.c_string("portal") + pdu.c_string(password) + pdu.c_string("")
        self.send(pdu.BIND_TRANSCEIVER, body + bytes([0x34, 0, 0]) + pdu.c_string(""))
        return self.read()


def _submit_body(destination: str, message: bytes, esm_class: int = 0) -> bytes:
    return b"".join(
        [
            pdu.c_string(""),
            bytes([5, 0]),
            pdu.c_string("Portal38"),
            bytes([1, 1]),
            pdu.c_string(destination),
            bytes([esm_class, 0, 0]),
            pdu.c_string(""),
            pdu.c_string(""),
            bytes([1, 0, 0x08, 0, len(message)]),
            message,
        ]
    )


@pytest.fixture
def esme(smsc: SmscEmulatorThread) -> Iterator[RawEsme]:
    raw = RawEsme(smsc.port)
    yield raw
    raw.sock.close()


def test_submit_before_bind_is_refused_with_invalid_bind_status(esme):
    esme.send(pdu.SUBMIT_SM, _submit_body("79145550101", "Привет".encode("utf-16-be")))
    assert esme.read().status == pdu.ESME_RINVBNDSTS


def test_a_second_bind_on_one_connection_is_refused(esme):
    assert esme.bind().status == pdu.ESME_ROK
    assert esme.bind().status == pdu.ESME_RALYBND


def test_a_failed_bind_answer_has_no_body(esme):
    refused = esme.bind(password="nope")
    assert refused.command_id == pdu.BIND_TRANSCEIVER | pdu.RESPONSE_BIT
    assert refused.status == pdu.ESME_RBINDFAIL and refused.body == b""


def test_an_unknown_command_gets_generic_nack(esme):
    sequence = esme.send(0x00000099)
    answer = esme.read()
    assert (answer.command_id, answer.status, answer.sequence) == (
        pdu.GENERIC_NACK,
        pdu.ESME_RINVCMDID,
        sequence,
    )


def test_an_invalid_destination_is_refused(esme, smsc):
    esme.bind()
    esme.send(pdu.SUBMIT_SM, _submit_body("12345", "Привет".encode("utf-16-be")))
    assert esme.read().status == pdu.ESME_RINVDSTADR
    assert smsc.emulator.store.messages() == []


def test_the_receipt_is_a_deliver_sm_with_the_standard_text(esme):
    esme.bind()
    esme.send(pdu.SUBMIT_SM, _submit_body("79145550101", "Привет".encode("utf-16-be")))
    message_id = esme.read().body.rstrip(b"\0").decode()
    receipt = esme.read()
    assert receipt.command_id == pdu.DELIVER_SM
    text = receipt.body.decode("latin-1")
    assert re.search(rf"id:{message_id} sub:001 dlvrd:001 submit date:\d{{10}} ", text)
    assert re.search(r"done date:\d{10} stat:DELIVRD err:000", text)


def test_unbind_is_answered_and_the_connection_closed(esme):
    esme.bind()
    esme.send(pdu.UNBIND)
    assert esme.read().command_id == pdu.UNBIND | pdu.RESPONSE_BIT
    with pytest.raises(ConnectionError):
        esme.read()


def test_a_garbage_length_closes_the_connection(esme):
    esme.sock.sendall(struct.pack(">LLLL", 3, 0, 0, 1))
    with pytest.raises(ConnectionError):
        esme.read()


def test_parts_are_reassembled_in_any_order_with_a_16_bit_reference():
    store = MessageStore()
    text = "Ваш ребёнок записан к врачу"
    halves = [text[:14].encode("utf-16-be"), text[14:].encode("utf-16-be")]
    for number in (2, 1):
        udh = bytes([6, 0x08, 4, 0x01, 0x02, 2, number])
        submit = pdu.parse_submit_sm(
            _submit_body("79145550101", udh + halves[number - 1], esm_class=pdu.ESM_CLASS_UDHI)
        )
        store.add_part("portal", submit, f"ID{number}")
    [message] = store.messages()
    assert message.text == text and message.message_ids == ["ID1", "ID2"]


# -- control API and the messages file ------------------------------------------------


def test_the_control_api_lists_messages_newest_first_and_the_file_follows(smsc, tmp_path):
    with _gateway(smsc) as gateway:
        gateway.submit("+79145550101", "Первое")
        gateway.submit("+79145550102", "Второе")
    listed = _control(smsc, "GET", "/messages").json()["messages"]
    assert [m["text"] for m in listed] == ["Второе", "Первое"]
    assert listed[0]["destination"] == "79145550102" and listed[0]["parts"] == 1
    kept = json.loads((tmp_path / "sms.json").read_text())
    assert [m["text"] for m in kept["messages"]] == ["Второе", "Первое"]

    assert _control(smsc, "DELETE", "/messages").status_code == 200
    assert _control(smsc, "GET", "/messages").json() == {"messages": []}


def test_a_restarted_emulator_still_lists_what_it_received(tmp_path):
    kept = tmp_path / "sms.json"
    with running_smsc(password="secret", messages_file=kept) as first, _gateway(first) as gateway:
        gateway.submit("+79145550101", "До перезапуска")
    with running_smsc(password="secret", messages_file=kept) as second:
        with _gateway(second) as gateway:
            gateway.submit("+79145550101", "После перезапуска")
        texts = [m.text for m in second.emulator.store.messages()]
    assert texts == ["До перезапуска", "После перезапуска"]


def test_the_control_api_throttles_and_refuses_binds(smsc):
    assert _control(smsc, "POST", "/throttle?count=1").json()["throttle_next"] == 1
    with _gateway(smsc) as gateway:
        with pytest.raises(SmppThrottled):
            gateway.submit("+79145550101", "Первое")
        assert len(gateway.submit("+79145550101", "Первое")) == 1

    _control(smsc, "POST", "/refuse-binds?on=1")
    with pytest.raises(SmppUnavailable), _gateway(smsc) as refused:
        refused.connect()
    _control(smsc, "POST", "/refuse-binds?on=0")
    assert _control(smsc, "GET", "/state").json()["refuse_binds"] is False


def test_the_control_api_drops_connections_and_sets_receipt_states(smsc):
    with _gateway(smsc) as gateway:
        gateway.connect()
        assert _control(smsc, "GET", "/state").json()["bound_sessions"] == 1
        _control(smsc, "POST", "/drop")
        gateway.poll(1.0)
        assert not gateway.connected
    assert _control(smsc, "POST", "/receipt-state?state=EXPIRED").json()["receipt_state"] == (
        "EXPIRED"
    )
    assert _control(smsc, "POST", "/receipt-state?state=LOST").status_code == 400
    assert _control(smsc, "GET", "/nothing").status_code == 404


# -- never in production ----------------------------------------------------------------


def _run(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    clean = {"PATH": os.environ["PATH"], "SECRET_KEY": "x" * 50} | env
    return subprocess.run(
        args, cwd=ROOT, env=clean, capture_output=True, text=True, check=False, timeout=60
    )


def _installed_apps(**env: str) -> subprocess.CompletedProcess[str]:
    code = (
        "import django; django.setup(); "
        "from django.conf import settings as s; print(s.INSTALLED_APPS)"
    )
    return _run([sys.executable, "-c", code], DJANGO_SETTINGS_MODULE="portal.settings", **env)


def test_the_emulator_cannot_be_switched_on_in_production(tmp_path):
    data = {"PORTAL_DATA_DIR": str(tmp_path)}
    production = _installed_apps(DEBUG="0", **data)
    assert production.returncode == 0 and "smsc_emulator" not in production.stdout
    forced = _installed_apps(DEBUG="0", SMSC_EMULATOR_ENABLED="1", **data)
    assert forced.returncode != 0
    assert "SMSC_EMULATOR_ON_TEST_STAND_NOT_PRODUCTION" in forced.stderr
    stand = _installed_apps(
        DEBUG="0",
        SMSC_EMULATOR_ENABLED="1",
        SMSC_EMULATOR_ON_TEST_STAND_NOT_PRODUCTION="1",
        **data,
    )
    assert stand.returncode == 0 and "smsc_emulator" in stand.stdout


def test_manage_py_has_no_emulator_command_in_production(tmp_path):
    result = _run(
        [sys.executable, "manage.py", "smsc_emulator", "--port", "0"],
        DEBUG="0",
        PORTAL_DATA_DIR=str(tmp_path),
    )
    assert result.returncode != 0 and "Unknown command" in result.stderr


def test_the_command_refuses_when_debug_is_off_even_if_installed(settings):
    settings.DEBUG = False
    settings.SMSC_EMULATOR_ON_TEST_STAND_NOT_PRODUCTION = False
    with pytest.raises(CommandError, match="DEBUG"):
        refuse_outside_development()


def test_manage_py_smsc_emulator_serves_smpp_and_control(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "manage.py", "smsc_emulator", "--port", "0", "--control-port", "0"],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], "DEBUG": "1", "PORTAL_DATA_DIR": str(tmp_path)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 30)
        assert ready, "the emulator printed no banner"
        banner = process.stdout.readline()
        smpp_port, control_port = map(
            int, re.search(r"smpp://127\.0\.0\.1:(\d+).*http://127\.0\.0\.1:(\d+)", banner).groups()
        )
        with SmppGateway(
            host="127.0.0.1",
            port=smpp_port,
            system_id="portal",
            password="portal",
            source_addr="Portal38",
            timeout=5,
        ) as gateway:
            gateway.submit("+79145550101", "Запись подтверждена")
        listed = httpx.get(f"http://127.0.0.1:{control_port}/messages", timeout=5).json()
        assert listed["messages"][0]["text"] == "Запись подтверждена"
        kept = json.loads((tmp_path / "smsc-emulator" / "messages.json").read_text())
        assert kept["messages"][0]["text"] == "Запись подтверждена"
    finally:
        process.terminate()
        process.wait(10)
