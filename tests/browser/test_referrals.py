"""The referral journey (docs/referrals.md): a clerk issues Мария a referral on a doctor's
behalf, her mother books the specialist by it, cancels, and books again with the same
referral. Every page on the way is checked with axe-core."""

import datetime

import pytest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.directory.models import Specialty
from portal.patients.models import InsuredPerson
from portal.referrals.models import Referral
from portal.scheduling.models import Appointment
from tests.factories import DoctorFactory, InsuranceCompanyFactory, SlotFactory, SpecialtyFactory
from tests.workspace.conftest import current_code

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def neurology(home_clinic, child):
    specialty = SpecialtyFactory(
        code="pediatric-neurologist",
        name="Детский невролог",
        access=Specialty.Access.REFERRAL,
        age_group="children",
    )
    doctor = DoctorFactory(clinic=home_clinic, specialty=specialty, last_name="Нервина")
    day = timezone.localdate() + datetime.timedelta(days=2)
    slots = []
    for hour in (9, 10):
        starts = timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))
        slots.append(
            SlotFactory(
                doctor=doctor, starts_at=starts, ends_at=starts + datetime.timedelta(minutes=20)
            )
        )
    InsuredPerson.objects.create(
        policy_kind="E",
        policy_number=child.policy_number,
        policy_series=child.policy_series,
        last_name=child.last_name,
        first_name=child.first_name,
        birth_date=child.birth_date,
        sex=child.sex,
        insurer=InsuranceCompanyFactory(),
        clinic=home_clinic,
    )
    return doctor, slots


def _staff_login(page, live_server, clerk, assert_accessible):
    page.goto(f"{live_server.url}/workspace/login/")
    assert_accessible(page)
    page.get_by_label("Имя пользователя").fill("clerk")
    page.get_by_label("Пароль").fill("clerk-password-1")
    page.get_by_role("button", name="Продолжить").click()
    page.get_by_role("heading", name="Подключите приложение-аутентификатор").wait_for()
    device = TOTPDevice.objects.get(user=clerk)
    page.get_by_label("Код из приложения").fill(current_code(device))
    page.get_by_role("button", name="Войти").click()
    page.get_by_role("heading", name="Рабочее место", exact=True).wait_for()


def _book(page, live_server, slot, assert_accessible):
    page.goto(f"{live_server.url}/referrals/")
    assert_accessible(page)
    page.get_by_role("link", name="Записаться по направлению").first.click()
    assert_accessible(page)
    page.goto(f"{live_server.url}/booking/slot/{slot.pk}/")
    assert "Запись по направлению №" in page.content()
    assert_accessible(page)
    page.get_by_role("button", name="Записаться").click()
    page.get_by_text("Вы записаны на приём").wait_for()


def test_a_clerk_issues_a_referral_and_the_mother_books_cancels_and_books_again(
    live_server, page, assert_accessible, login_as, act_for, clerk, guardian, child, neurology
):
    _doctor, (first, second) = neurology
    _staff_login(page, live_server, clerk, assert_accessible)
    page.get_by_role("link", name="Направления", exact=True).click()
    assert_accessible(page)
    page.get_by_role("link", name="Выдать направление").click()
    assert_accessible(page)
    page.get_by_label("Номер полиса ОМС пациента").fill(child.policy_number)
    page.get_by_label("К специалисту").select_option(label="Детский невролог")
    page.get_by_label("Выдал врач").select_option(index=1)
    page.get_by_role("button", name="Выдать направление").click()
    page.get_by_text("выдано").first.wait_for()
    referral = Referral.objects.get(patient=child)
    assert referral.number in page.content()
    assert_accessible(page)

    page.context.clear_cookies()
    login_as(guardian)
    act_for(child)
    _book(page, live_server, first, assert_accessible)
    appointment = Appointment.objects.get(patient=child, status="booked")
    referral.refresh_from_db()
    assert referral.appointment_id == appointment.pk

    page.goto(f"{live_server.url}/appointments/{appointment.pk}/cancel/")
    page.get_by_role("button", name="Да, отменить запись").click()
    page.goto(f"{live_server.url}/referrals/")
    assert "Действует" in page.content()

    _book(page, live_server, second, assert_accessible)
    referral.refresh_from_db()
    assert referral.status == "used" and referral.appointment.slot_id == second.pk
