"""The ticket's QR code, decoded by a real decoder (zbar's zbarimg), holds the ASCII
workspace address of the ticket: a window scanner needs no ECI marker to read it."""

import os
import shutil
import subprocess

import pytest
from django.test import override_settings

from portal.scheduling.documents import ticket_qr
from tests.factories import AppointmentFactory

ZBARIMG = shutil.which("zbarimg")


@pytest.fixture
def zbarimg() -> str:
    if ZBARIMG is None:
        if os.environ.get("CI"):
            pytest.fail("zbarimg is missing: .ci/run installs zbar-tools")
        pytest.skip("zbarimg (Debian's zbar-tools) is not installed")
    return ZBARIMG


def _decoded(zbarimg: str, appointment, tmp_path) -> str:
    image = tmp_path / "ticket.png"
    ticket_qr(appointment).save(str(image), kind="png", scale=4, border=4)
    result = subprocess.run(
        [zbarimg, "--raw", "-q", str(image)], capture_output=True, check=True, timeout=30
    )
    return result.stdout.decode("ascii").strip()


@pytest.mark.django_db
@override_settings(NOTIFICATIONS_PORTAL_URL="https://portal.example.ru")
def test_the_qr_code_decodes_to_the_ascii_ticket_address(zbarimg, tmp_path):
    appointment = AppointmentFactory(ticket_number="123456789012")
    assert _decoded(zbarimg, appointment, tmp_path) == (
        "https://portal.example.ru/workspace/ticket/123456789012/"
    )


@pytest.mark.django_db
@override_settings(NOTIFICATIONS_PORTAL_URL="https://portal.example.ru")
def test_an_old_cyrillic_code_is_carried_as_its_latin_look_alikes(zbarimg, tmp_path):
    appointment = AppointmentFactory(ticket_number="4К7Н0ТРЕ2С")
    assert _decoded(zbarimg, appointment, tmp_path) == (
        "https://portal.example.ru/workspace/ticket/4K7H0TPE2C/"
    )
