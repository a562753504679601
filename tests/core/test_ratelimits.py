"""Every rate limit refuses the request after its budget with a Russian 429 page
that says when to retry; showing a form is never counted."""

import pytest
from django.urls import reverse

from portal.core.ratelimits import rate_limited
from tests.factories import AppointmentFactory, PatientFactory, SlotFactory, born

pytestmark = pytest.mark.django_db

OTHER_IP = "203.0.113.9"


def assert_refused_with_retry_time(response, max_seconds: int) -> None:
    assert response.status_code == 429
    text = response.content.decode()
    assert "Слишком много запросов" in text
    assert "Повторите через" in text and "мин., после" in text
    assert 1 <= int(response["Retry-After"]) <= max_seconds


def logged_in(client, user, ip: str = "127.0.0.1"):
    client.force_login(user)
    client.defaults["REMOTE_ADDR"] = ip
    return client


def post_confirm(client, slot):
    return client.post(reverse("scheduling:booking_confirm", args=[slot.pk]), {"key": "stale"})


def test_booking_is_limited_per_user(client, settings, patient, stranger):
    settings.RATE_BOOKING_USER = "2/m"
    slot = SlotFactory()
    logged_in(client, patient)
    assert [post_confirm(client, slot).status_code for _ in range(2)] == [400, 400]
    assert_refused_with_retry_time(post_confirm(client, slot), 60)
    # Another person behind the same address is not punished for it.
    client.logout()
    assert post_confirm(logged_in(client, stranger), slot).status_code == 400


def test_booking_is_limited_per_ip_across_users(client, settings, patient, stranger):
    settings.RATE_BOOKING_IP = "2/10m"
    slot = SlotFactory()
    assert post_confirm(logged_in(client, patient), slot).status_code == 400
    assert post_confirm(logged_in(client, stranger), slot).status_code == 400
    assert_refused_with_retry_time(post_confirm(client, slot), 600)
    assert post_confirm(logged_in(client, stranger, ip=OTHER_IP), slot).status_code == 400


def test_showing_the_confirmation_page_is_not_counted(client, settings, patient):
    settings.RATE_BOOKING_USER = "1/m"
    slot = SlotFactory()
    logged_in(client, patient)
    for _ in range(3):
        assert client.get(reverse("scheduling:booking_confirm", args=[slot.pk])).status_code == 200


def test_cancelling_is_limited_per_user(client, settings, patient):
    settings.RATE_CANCEL_USER = "2/m"
    appointment = AppointmentFactory(patient=patient.patient)
    url = reverse("scheduling:appointment_cancel", args=[appointment.pk])
    logged_in(client, patient)
    assert client.post(url).status_code == 302  # cancelled
    assert client.post(url).status_code == 409  # already cancelled: a clear refusal
    assert_refused_with_retry_time(client.post(url), 60)
    # Changing address does not reset a per-user limit.
    client.defaults["REMOTE_ADDR"] = OTHER_IP
    assert client.post(url).status_code == 429


def test_cancelling_is_limited_per_ip_across_users(client, settings, patient, stranger):
    settings.RATE_CANCEL_IP = "2/10m"
    mine = AppointmentFactory(patient=patient.patient)
    theirs = AppointmentFactory(patient=stranger.patient)
    logged_in(client, patient)
    assert client.post(reverse("scheduling:appointment_cancel", args=[mine.pk])).status_code == 302
    logged_in(client, stranger)
    assert (
        client.post(reverse("scheduling:appointment_cancel", args=[theirs.pk])).status_code == 302
    )
    assert_refused_with_retry_time(
        client.post(reverse("scheduling:appointment_cancel", args=[theirs.pk])), 600
    )


def relative_guess(number: str) -> dict[str, str]:
    return {
        "last_name": "Иванова",
        "first_name": "Мария",
        "middle_name": "",
        "birth_date": born(11, 30).strftime("%d.%m.%Y"),
        "sex": "F",
        "relation": "daughter",
        "policy_series": "",
        "policy_number": number,
    }


def test_guessing_policy_numbers_is_limited_per_user(client, settings, guardian):
    settings.RATE_RELATIVE_USER = "3/h"
    logged_in(client, guardian)
    url = reverse("patients:relative_add")
    for number in ("3800000000000001", "3800000000000002", "3800000000000003"):
        assert client.post(url, relative_guess(number)).status_code == 400
    # Issue 27: the refusal keeps the typed form and says when it opens again.
    locked = client.post(url, relative_guess("3800000000000004"))
    assert locked.status_code == 429
    assert 1 <= int(locked["Retry-After"]) <= 3600
    page = locked.content.decode()
    assert "Попытки сверки с регистром закончились" in page
    assert 'value="3800000000000004"' in page
    assert client.get(url).status_code == 200  # the form itself stays reachable


def test_own_policy_entry_shares_the_guessing_budget(client, settings):
    settings.RATE_RELATIVE_USER = "2/h"
    user = PatientFactory(policy_number="", insurer=None).user
    logged_in(client, user)
    guess = {"policy_series": "", "policy_number": "3800000000000001"}
    assert client.post(reverse("patients:relative_add"), relative_guess("1")).status_code == 400
    assert client.post(reverse("patients:personal"), guess).status_code == 200
    assert_refused_with_retry_time(client.post(reverse("patients:personal"), guess), 3600)


def test_an_unknown_limit_name_fails_at_import_time():
    with pytest.raises(KeyError):
        rate_limited("no_such_limit")


def test_honest_mistakes_in_the_relatives_form_do_not_spend_the_budget(client, settings, guardian):
    """Issue 16, item 14: only failed registry matches count, not form errors."""
    settings.RATE_RELATIVE_USER = "2/h"
    logged_in(client, guardian)
    url = reverse("patients:relative_add")
    for _ in range(5):  # empty and half-filled forms: told what to fix, never locked out
        assert client.post(url, {}).status_code == 200  # an empty POST shows a blank form
        assert client.post(url, {"last_name": "Иванова"}).status_code == 400
    for number in ("3800000000000001", "3800000000000002"):
        assert client.post(url, relative_guess(number)).status_code == 400
    locked = client.post(url, relative_guess("3800000000000003"))
    assert locked.status_code == 429
    assert 1 <= int(locked["Retry-After"]) <= 3600


def test_attempts_before_the_day_opens_do_not_spend_the_booking_budget(client, settings, patient):
    """Issue 24, point 9: a patient pressing «Записаться» before 07:00 used up her budget
    and met the 429 page at the opening. Such attempts are refused (the slot is not open
    yet) without locks and without counting; at the opening the booking goes through."""
    import datetime
    import uuid

    from django.utils import timezone

    from portal.scheduling.models import Appointment, Slot

    settings.RATE_BOOKING_USER = "2/m"
    now = timezone.now()
    slot = SlotFactory(
        doctor__clinic=patient.patient.clinic, opens_at=now + datetime.timedelta(hours=1)
    )
    logged_in(client, patient)
    url = reverse("scheduling:booking_confirm", args=[slot.pk])
    early = [client.post(url, {"key": str(uuid.uuid4())}) for _ in range(5)]
    assert [r.status_code for r in early] == [409] * 5
    assert "Запись на это время ещё не открыта" in early[-1].content.decode()
    Slot.objects.filter(pk=slot.pk).update(opens_at=now - datetime.timedelta(seconds=1))
    booked = client.post(url, {"key": str(uuid.uuid4())})
    assert booked.status_code == 302, booked.content.decode()[:300]
    assert Appointment.objects.filter(slot=slot, status="booked").exists()


def _kept_for_a_draw(slot) -> None:
    """A live hold for nobody: how a fair-release draw keeps a slot (scheduling.rules)."""
    import datetime

    from django.utils import timezone

    from portal.scheduling.models import Slot

    until = timezone.now() + datetime.timedelta(hours=1)
    Slot.objects.filter(pk=slot.pk).update(held_for=None, held_until=until)


def test_attempts_on_a_slot_a_draw_keeps_do_not_spend_the_booking_budget(client, settings, patient):
    """At a fair-release opening, presses on a time the draw keeps are refused without
    locks and not counted, so the patient can still book what the draw leaves free. The
    control: the same presses on a taken time do count, and the budget runs out."""
    import uuid

    from portal.scheduling.models import Appointment

    settings.RATE_BOOKING_USER = "2/m"
    kept, free = (SlotFactory(doctor__clinic=patient.patient.clinic) for _ in range(2))
    _kept_for_a_draw(kept)
    logged_in(client, patient)

    def post(slot):
        url = reverse("scheduling:booking_confirm", args=[slot.pk])
        return client.post(url, {"key": str(uuid.uuid4())})

    refused = [post(kept) for _ in range(5)]
    assert [r.status_code for r in refused] == [409] * 5
    assert "распределяется жеребьёвкой" in refused[-1].content.decode()
    booked = post(free)
    assert booked.status_code == 302, booked.content.decode()[:300]
    assert Appointment.objects.filter(slot=free, status="booked").exists()

    other = PatientFactory(clinic=patient.patient.clinic).user
    logged_in(client, other)
    assert [post(free).status_code for _ in range(2)] == [409, 409]  # taken: counted
    assert_refused_with_retry_time(post(free), 60)
