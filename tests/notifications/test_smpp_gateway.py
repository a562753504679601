"""SmppGateway against the SMSC emulator over real TCP (ephemeral ports)."""

import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from portal.notifications.smpp.client import SmppGateway, normalize_destination
from portal.notifications.smpp.errors import SmppRejected, SmppThrottled, SmppUnavailable
from portal.smsc_emulator import pdu
from portal.smsc_emulator.runner import SmscEmulatorThread, running_smsc

ANNA = "+7 (914) 555-01-01"
ANNA_DIGITS = "79145550101"
# 200 characters, mostly Cyrillic: UCS-2 parts of 67 characters at most, so three.
REMINDER = (
    "Напоминаем: завтра, 3 декабря, в 09:20 приём у врача-педиатра Сидоровой М. И., "
    "Городская поликлиника № 1, ул. Ленина, 5, кабинет 214, талон № 12-0345. "
    "Отменить запись: https://portal.example.ru/my/ — ждём вас!"
)[:200].ljust(200, "!")


@pytest.fixture
def smsc() -> Iterator[SmscEmulatorThread]:
    with running_smsc(system_id="portal", password="secret") as emulator:
        yield emulator


class Receipts:
    def __init__(self) -> None:
        self.got: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def __call__(self, message_id: str, state: str) -> None:
        with self.lock:
            self.got.append((message_id, state))


@pytest.fixture
def receipts() -> Receipts:
    return Receipts()


@pytest.fixture
def make_gateway(
    smsc: SmscEmulatorThread, receipts: Receipts
) -> Iterator[Callable[..., SmppGateway]]:
    made: list[SmppGateway] = []

    def make(**overrides: object) -> SmppGateway:
        options: dict[str, object] = {
            "host": "127.0.0.1",
            "port": smsc.port,
            "system_id": "portal",
            "password": "secret",
            "source_addr": "Portal38",
            "on_receipt": receipts,
            "timeout": 2.0,
        } | overrides
        gateway = SmppGateway(**options)  # type: ignore[arg-type]
        made.append(gateway)
        return gateway

    yield make
    for gateway in made:
        gateway.close()


@pytest.fixture
def gateway(make_gateway: Callable[..., SmppGateway]) -> SmppGateway:
    return make_gateway()


def wait_until(condition: Callable[[], bool], gateway: SmppGateway, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        gateway.poll(0.05)  # returns at once when not connected: do not spin
        time.sleep(0.01)


def test_binds_with_the_right_password(gateway, smsc):
    gateway.connect()
    assert gateway.connected and smsc.emulator.bound_sessions == 1


def test_a_wrong_password_is_refused_with_bind_fail(make_gateway, smsc):
    with pytest.raises(SmppUnavailable) as refused:
        make_gateway(password="wrong").connect()
    assert refused.value.status == pdu.ESME_RBINDFAIL
    assert smsc.emulator.bound_sessions == 0


def test_a_long_cyrillic_text_arrives_whole_from_ucs2_parts(gateway, smsc):
    ids = gateway.submit(ANNA, REMINDER)

    assert len(REMINDER) == 200
    assert len(ids) == 3 and len(set(ids)) == 3
    [received] = smsc.emulator.store.messages()
    assert received.text == REMINDER
    assert received.parts == 3 and received.data_coding == 0x08
    assert received.destination == ANNA_DIGITS and received.source == "Portal38"
    assert received.message_ids == ids


def test_a_short_text_is_one_part(gateway, smsc):
    [message_id] = gateway.submit(ANNA, "Запись подтверждена")
    assert smsc.emulator.store.messages()[0].message_ids == [message_id]


def test_delivery_receipts_reach_the_callback(gateway, receipts):
    ids = gateway.submit(ANNA, REMINDER)
    wait_until(lambda: len(receipts.got) == 3, gateway)
    assert sorted(receipts.got) == sorted((message_id, "DELIVRD") for message_id in ids)


def test_an_undelivered_receipt_says_so(gateway, smsc, receipts):
    smsc.emulator.controls.receipt_state = "UNDELIV"
    [message_id] = gateway.submit(ANNA, "Запись отменена")
    wait_until(lambda: bool(receipts.got), gateway)
    assert receipts.got == [(message_id, "UNDELIV")]


def test_a_failing_callback_gets_the_receipt_again(make_gateway, smsc):
    calls: list[str] = []

    def flaky(message_id: str, state: str) -> None:
        calls.append(message_id)
        if len(calls) == 1:
            raise RuntimeError("database is down")

    gateway = make_gateway(on_receipt=flaky)
    [message_id] = gateway.submit(ANNA, "Запись подтверждена")
    wait_until(lambda: len(calls) == 2, gateway)
    assert calls == [message_id, message_id]


def test_receipts_sent_while_disconnected_arrive_after_reconnecting(gateway, smsc, receipts):
    smsc.emulator.controls.receipt_delay = 0.3
    [message_id] = gateway.submit(ANNA, "Запись подтверждена")
    smsc.emulator.drop_connections()
    time.sleep(0.6)  # the receipt falls due while nobody is bound
    assert receipts.got == []
    gateway.submit(ANNA, "Второе сообщение")  # reconnects; the SMSC hands the receipt over
    wait_until(lambda: (message_id, "DELIVRD") in receipts.got, gateway)


def test_throttling_raises_and_a_later_retry_succeeds(gateway, smsc):
    smsc.emulator.controls.throttle_next = 1
    with pytest.raises(SmppThrottled) as throttled:
        gateway.submit(ANNA, "Запись подтверждена")
    assert throttled.value.status == pdu.ESME_RTHROTTLED and throttled.value.accepted == []
    assert smsc.emulator.store.messages() == []

    [message_id] = gateway.submit(ANNA, "Запись подтверждена")
    assert smsc.emulator.store.messages()[0].message_ids == [message_id]


def test_throttled_in_the_middle_of_a_long_text_tells_which_parts_were_accepted(gateway, smsc):
    first_part_only = 1
    gateway.submit(ANNA, "разогрев")  # bound; now let one part through, then throttle
    original = smsc.emulator._submit
    seen = 0

    async def throttle_after_first(session, request):
        nonlocal seen
        seen += 1
        if seen > first_part_only:
            smsc.emulator.controls.throttle_next = 1
        return await original(session, request)

    smsc.emulator._submit = throttle_after_first
    with pytest.raises(SmppThrottled) as throttled:
        gateway.submit(ANNA, REMINDER)
    assert len(throttled.value.accepted) == first_part_only


def test_a_connection_dropped_while_idle_is_reopened_for_the_next_submit(gateway, smsc):
    gateway.submit(ANNA, "Первое")
    smsc.emulator.drop_connections()
    wait_until(lambda: smsc.emulator.bound_sessions == 0, gateway)

    [message_id] = gateway.submit(ANNA, "Второе")
    assert smsc.emulator.store.messages()[-1].message_ids == [message_id]
    assert smsc.emulator.store.messages()[-1].text == "Второе"


def test_a_connection_dropped_mid_submit_fails_that_submit_and_the_next_works(gateway, smsc):
    gateway.submit(ANNA, "Первое")
    smsc.emulator.controls.drop_on_next_submit = True
    with pytest.raises(SmppUnavailable):
        gateway.submit(ANNA, "Оборвано")

    gateway.submit(ANNA, "После обрыва")
    assert [m.text for m in smsc.emulator.store.messages()] == ["Первое", "После обрыва"]


def test_refused_binds_make_the_smsc_unavailable_until_they_are_allowed(gateway, smsc):
    smsc.emulator.controls.refuse_binds = True
    with pytest.raises(SmppUnavailable):
        gateway.submit(ANNA, "Запись подтверждена")
    smsc.emulator.controls.refuse_binds = False
    assert len(gateway.submit(ANNA, "Запись подтверждена")) == 1


def test_the_smsc_down_is_unavailable_at_once(make_gateway, smsc):
    smsc.stop()
    gateway = make_gateway(timeout=2.0)
    started = time.monotonic()
    with pytest.raises(SmppUnavailable):
        gateway.submit(ANNA, "Запись подтверждена")
    assert time.monotonic() - started < 2.0


def test_a_silent_smsc_is_unavailable_within_the_timeout(make_gateway):
    """It accepts TCP and then says nothing: the bind must not wait forever."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        gateway = make_gateway(port=silent.getsockname()[1], timeout=0.5)
        started = time.monotonic()
        with pytest.raises(SmppUnavailable):
            gateway.submit(ANNA, "Запись подтверждена")
        assert time.monotonic() - started < 3.0


def test_an_smsc_that_goes_silent_after_binding_does_not_stall_a_submit(make_gateway, smsc):
    gateway = make_gateway(timeout=1.0)
    gateway.connect()
    original = smsc.emulator._submit

    async def never_answer(session, request):
        return True

    smsc.emulator._submit = never_answer
    started = time.monotonic()
    with pytest.raises(SmppUnavailable):
        gateway.submit(ANNA, "Запись подтверждена")
    assert time.monotonic() - started < 4.0  # the 1 s timeout, with room for a loaded machine
    smsc.emulator._submit = original
    assert len(gateway.submit(ANNA, "Запись подтверждена")) == 1


def test_enquire_link_is_answered(gateway, smsc):
    gateway.enquire_link()
    assert smsc.emulator.enquire_links_answered == 1


def test_the_keepalive_thread_sends_enquire_link_and_reconnects(make_gateway, smsc, receipts):
    gateway = make_gateway(enquire_link_interval=0.2)
    gateway.connect()
    gateway.start()
    deadline = time.monotonic() + 5
    while smsc.emulator.enquire_links_answered < 2:
        assert time.monotonic() < deadline
        time.sleep(0.05)

    smsc.emulator.drop_connections()
    deadline = time.monotonic() + 5
    while smsc.emulator.binds_accepted < 2 or not gateway.connected:
        assert time.monotonic() < deadline, "the keep-alive thread did not reconnect"
        time.sleep(0.05)


def test_the_keepalive_thread_reads_receipts_without_a_submit(make_gateway, receipts):
    gateway = make_gateway(enquire_link_interval=0.5)
    [message_id] = gateway.submit(ANNA, "Запись подтверждена")
    gateway.start()
    deadline = time.monotonic() + 5
    while not receipts.got:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert receipts.got == [(message_id, "DELIVRD")]


def test_a_bad_number_is_rejected_before_anything_is_sent(gateway, smsc):
    with pytest.raises(SmppRejected) as rejected:
        gateway.submit("12345", "Запись подтверждена")
    assert rejected.value.status == pdu.ESME_RINVDSTADR
    assert smsc.emulator.store.messages() == []


@pytest.mark.parametrize(
    ("number", "digits"),
    [
        ("+7 (914) 555-01-01", "79145550101"),
        ("8 914 555 01 01", "79145550101"),
        ("79145550101", "79145550101"),
    ],
)
def test_numbers_are_sent_as_international_digits(number, digits):
    assert normalize_destination(number) == digits


def test_settings_configure_the_gateway(settings, smsc):
    settings.SMPP_HOST, settings.SMPP_PORT = "127.0.0.1", smsc.port
    settings.SMPP_SYSTEM_ID, settings.SMPP_PASSWORD = "portal", "secret"
    with SmppGateway.from_settings() as gateway:
        assert len(gateway.submit(ANNA, "Запись подтверждена")) == 1
    assert smsc.emulator.store.messages()[0].source == settings.SMPP_SOURCE_ADDR
