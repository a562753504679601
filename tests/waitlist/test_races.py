"""Real races of offers on PostgreSQL: threads, one connection each (docs/waitlist.md).

Each protection has a control that switches it off and shows the race is real.
"""

import threading
from collections import Counter
from functools import partial

import pytest
from django.db import connection
from django.utils import timezone

from portal.scheduling import rules
from portal.scheduling import services as booking
from portal.scheduling.models import Appointment, Slot
from portal.waitlist import selectors, services
from portal.waitlist.models import Offer, WaitlistEntry
from tests.factories import AppointmentFactory, ChildFactory, GuardianshipFactory, PatientFactory
from tests.races import run_at_once

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("real row locks need PostgreSQL")


def second_guardian(child):
    other = PatientFactory(last_name="Иванов", first_name="Иван", sex="M", clinic=child.clinic)
    GuardianshipFactory(guardian=other, child=child)
    return other.user


def test_two_guardians_taking_one_offer_at_once_book_it_once(
    guardian, child, doctor, make_slot, join
):
    slot = make_slot()
    father = second_guardian(child)
    join(guardian, child, doctor)
    offer = Offer.objects.get()

    outcomes = run_at_once(
        [
            lambda: services.offer_take(actor=guardian, offer=Offer.objects.get(pk=offer.pk)).pk,
            lambda: services.offer_take(actor=father, offer=Offer.objects.get(pk=offer.pk)).pk,
        ]
    )

    booked = Appointment.objects.get(slot=slot, status="booked")
    # Both clicks end on the one appointment: the second guardian's is answered with it.
    assert outcomes == [booked.pk, booked.pk]
    assert Offer.objects.get().status == Offer.Status.TAKEN


def test_one_freed_slot_matched_twice_at_once_is_offered_once(
    patient, guardian, child, doctor, make_slot, join
):
    join(guardian, child, doctor)
    join(patient, patient.patient, doctor)
    slot = make_slot()  # freed after both joined: nobody has it yet

    outcomes = run_at_once([lambda: services.slot_freed(slot.pk)] * 4)

    assert Offer.objects.filter(slot=slot, status="offered").count() == 1
    assert sum(1 for o in outcomes if isinstance(o, Offer)) == 1
    assert not [o for o in outcomes if isinstance(o, str)]


def test_control_without_the_hold_check_and_the_constraint_one_slot_is_offered_twice(
    monkeypatch, patient, guardian, child, doctor, make_slot, join
):
    """Protection off: slot_hold ignores someone else's hold, matching pauses until both
    calls have picked their entry, and the partial unique index is dropped. Two offers
    of one slot prove the race is real."""
    join(guardian, child, doctor)
    join(patient, patient.patient, doctor)
    slot = make_slot()
    picked = threading.Barrier(2)
    real_match = selectors.entries_matching_slot
    calls = Counter[int]()
    lock = threading.Lock()

    def match_split(found_slot, **kwargs):
        rows = real_match(found_slot, **kwargs)
        with lock:
            calls[threading.get_ident()] += 1
            first_call = calls[threading.get_ident()] == 1
            # Each thread takes a different entry, as two matchers would a moment apart.
            index = len([t for t in calls if calls[t] >= 1]) - 1 if first_call else 0
        if first_call:
            picked.wait(timeout=10)
            return rows[index : index + 1]
        return []

    monkeypatch.setattr(rules, "is_held_for_other", lambda *args: False)
    monkeypatch.setattr(selectors, "entries_matching_slot", match_split)
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX offer_live_slot_unique")
    try:
        run_at_once([lambda: services.slot_freed(slot.pk)] * 2)
        assert Offer.objects.filter(slot=slot, status="offered").count() == 2
    finally:
        Offer.objects.all().delete()
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE UNIQUE INDEX offer_live_slot_unique ON waitlist_offer (slot_id) "
                "WHERE status = 'offered'"
            )


def test_an_offer_expiring_while_it_is_being_accepted_goes_to_the_next(
    monkeypatch, patient, guardian, child, doctor, make_slot, join
):
    """The click passed the expiry check; then the offer lapsed and the sweep gave the
    slot to the next in line. The booking service refuses the late click: the slot is
    the next patient's now."""
    slot = make_slot()
    join(guardian, child, doctor)
    join(patient, patient.patient, doctor)
    offer = Offer.objects.get()
    reached, go = threading.Event(), threading.Event()
    real_book = booking.appointment_book

    def book_late(**kwargs):
        reached.set()
        go.wait(timeout=10)
        return real_book(**kwargs)

    monkeypatch.setattr(booking, "appointment_book", book_late)
    result: list[object] = []
    taker = threading.Thread(
        target=lambda: result.extend(
            run_at_once([lambda: services.offer_take(actor=guardian, offer=offer)])
        )
    )
    taker.start()
    assert reached.wait(timeout=10)
    lapsed = timezone.now()
    Offer.objects.filter(pk=offer.pk).update(expires_at=lapsed)
    Slot.objects.filter(pk=slot.pk).update(held_until=lapsed)
    assert services.offers_expire() == 1
    go.set()
    taker.join(timeout=30)

    assert result == ["offer_expired"]
    assert not Appointment.objects.filter(slot=slot).exists()
    nxt = Offer.objects.get(status="offered")
    assert nxt.patient_id == patient.patient.pk
    assert Slot.objects.get(pk=slot.pk).held_for_id == patient.patient.pk


def test_a_cancellation_while_an_offer_is_out_goes_to_the_next_entry_once(
    patient, guardian, child, stranger, doctor, make_slot, join
):
    """Child's offer is out; at the same moment the child declines it and a stranger
    cancels another time. Each slot goes to one entry, and no entry gets two."""
    first = make_slot(days=2)
    join(guardian, child, doctor)
    join(patient, patient.patient, doctor)
    third = PatientFactory(clinic=doctor.clinic, email="third@example.ru")
    join(third.user, third, doctor)
    offer = Offer.objects.get()
    assert offer.slot_id == first.pk
    second = make_slot(days=3, status="booked")
    booked = AppointmentFactory(slot=second, patient=stranger.patient)

    def cancel():
        booking.appointment_cancel(actor=stranger, appointment=booked)
        return services.slot_freed(second.pk)  # what the on-commit hook does

    run_at_once([lambda: services.offer_decline(actor=guardian, offer=offer), cancel])

    live = list(Offer.objects.filter(status="offered"))
    # Each slot to one entry, no entry with two; the declined time never back to the child
    # (who keeps the place in line, so may get the other time if it came after).
    assert sorted(o.slot_id for o in live) == sorted([first.pk, second.pk])
    assert len({o.patient_id for o in live}) == 2
    assert next(o for o in live if o.slot_id == first.pk).patient_id != child.pk
    for entry in WaitlistEntry.objects.all():
        assert entry.offers.filter(status="offered").count() <= 1


def test_a_guardians_offers_for_two_children_are_each_their_own(
    guardian, child, doctor, make_slot, join
):
    brother = ChildFactory(first_name="Пётр", sex="M", clinic=child.clinic)
    GuardianshipFactory(guardian=guardian.patient, child=brother, relation="son")
    join(guardian, child, doctor)
    join(guardian, brother, doctor)
    slots = [make_slot(days=2), make_slot(days=3)]

    run_at_once([partial(services.slot_freed, s.pk) for s in slots])

    offers = list(Offer.objects.filter(status="offered"))
    assert sorted(o.patient_id for o in offers) == sorted([child.pk, brother.pk])

    def take(offer):
        return services.offer_take(actor=guardian, offer=offer).patient_id

    taken = run_at_once([partial(take, o) for o in offers])
    assert sorted(taken) == sorted([child.pk, brother.pk])
    assert Appointment.objects.filter(status="booked").count() == 2
