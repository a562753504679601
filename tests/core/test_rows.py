"""`core.rows`: written-out statements give what the ORM gives, on either engine."""

import datetime

import pytest
from django.db import connection
from django.db.models.signals import post_init, post_save
from django.forms.models import model_to_dict

from portal.audit.models import AuditAction, AuditEvent
from portal.core import rows
from portal.directory.models import Doctor
from portal.scheduling.models import Slot
from tests.factories import PatientFactory, SlotFactory

pytestmark = pytest.mark.django_db

SLOT = rows.Shape(Slot, "s")
DOCTOR = rows.Shape(Doctor, "d")


def _fetch(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def test_a_shape_reads_the_same_instance_as_the_orm():
    slot = SlotFactory(held_until=datetime.datetime(2030, 1, 2, 3, 4, tzinfo=datetime.UTC))
    Doctor.objects.filter(pk=slot.doctor_id).update(is_active=False)
    row = _fetch(
        f"SELECT {SLOT.sql()}, {DOCTOR.sql()} FROM scheduling_slot s "
        "JOIN directory_doctor d ON d.id = s.doctor_id WHERE s.id = %s",
        [slot.pk],
    )
    read, doctor = SLOT.instance(row[: SLOT.width]), DOCTOR.instance(row[SLOT.width :])
    assert model_to_dict(read) == model_to_dict(Slot.objects.get(pk=slot.pk))
    assert read.held_until == datetime.datetime(2030, 1, 2, 3, 4, tzinfo=datetime.UTC)
    assert doctor.is_active is False  # a boolean, not SQLite's 0
    assert read.get_deferred_fields() == set()


def test_a_narrow_shape_gives_values_by_attribute_name_in_any_order_asked():
    slot = SlotFactory()
    glance = rows.Shape(Slot, "s", ("opens_at", "doctor", "status"))
    row = _fetch(f"SELECT {glance.sql()} FROM scheduling_slot s WHERE s.id = %s", [slot.pk])
    assert glance.values(row) == {
        "doctor_id": slot.doctor_id,
        "status": "free",
        "opens_at": slot.opens_at,
    }


def test_insert_stores_what_save_stores():
    patient = PatientFactory()
    fast = rows.insert(
        AuditEvent(action=AuditAction.APPOINTMENT_BOOKED, patient=patient, details={"a": [1]})
    )
    slow = AuditEvent.objects.create(
        action=AuditAction.APPOINTMENT_BOOKED, patient=patient, details={"a": [1]}
    )
    assert fast.pk is not None and not fast._state.adding
    stored = AuditEvent.objects.get(pk=fast.pk)
    assert stored.created_at == fast.created_at  # auto_now_add filled by the field
    keep = ("action", "patient", "details", "ip", "user")
    assert model_to_dict(stored, fields=keep) == model_to_dict(slow, fields=keep)


def test_insert_leaves_a_model_with_save_signals_to_the_orm():
    heard = []

    def receiver(sender, instance, created, **kwargs):
        heard.append((instance.pk, created))

    post_save.connect(receiver, sender=AuditEvent)
    try:
        event = rows.insert(AuditEvent(action=AuditAction.APPOINTMENT_BOOKED, details={}))
    finally:
        post_save.disconnect(receiver, sender=AuditEvent)
    assert heard == [(event.pk, True)]


def _as_django_builds(model, attnames, values):
    return model.from_db("default", attnames, values)


def test_built_gives_the_instance_from_db_gives_with_the_same_fields_deferred():
    slot = SlotFactory()
    names = ("id", "doctor_id", "starts_at", "ends_at")
    values = (slot.pk, slot.doctor_id, slot.starts_at, slot.ends_at)
    lean, django = (
        rows.built(Slot, "default", names, values),
        _as_django_builds(Slot, names, values),
    )
    assert lean.__dict__.keys() == django.__dict__.keys()
    assert (lean.pk, lean.doctor_id, lean.starts_at) == (slot.pk, slot.doctor_id, slot.starts_at)
    assert (
        lean.get_deferred_fields()
        == django.get_deferred_fields()
        == {
            "status",
            "opens_at",
            "held_for_id",
            "held_until",
        }
    )
    assert (lean._state.adding, lean._state.db) == (False, "default")
    # A deferred field is read when asked, a relation through its id, and a save
    # updates the row it came from.
    assert lean.status == "free" and lean.doctor == slot.doctor
    lean.status = Slot.Status.BLOCKED
    lean.save(update_fields=["status"])
    assert Slot.objects.get(pk=slot.pk).status == Slot.Status.BLOCKED
    assert Slot.objects.count() == 1


def test_built_leaves_a_model_that_listens_to_its_construction_to_django():
    """An ImageField, say, listens to post_init: the instance is then built by
    `Model.from_db`, in the model's column order whatever the order given."""
    slot = SlotFactory()
    heard = []

    def receiver(sender, instance, **kwargs):
        heard.append(instance.starts_at)

    post_init.connect(receiver, sender=Slot)
    try:
        built = rows.built(Slot, "default", ("starts_at", "id"), (slot.starts_at, slot.pk))
    finally:
        post_init.disconnect(receiver, sender=Slot)
    assert heard == [slot.starts_at]
    assert (built.pk, built.starts_at) == (slot.pk, slot.starts_at)


def test_built_asks_the_signals_about_each_model_while_any_listens():
    """Another model's pre_init listener leaves Slot to the quick build, its own does not."""
    from django.db.models.signals import pre_init

    from portal.directory.models import Doctor

    slot = SlotFactory()
    heard = []

    def receiver(sender, **kwargs):
        heard.append(sender)

    pre_init.connect(receiver, sender=Doctor)
    try:
        rows.built(Slot, "default", ("id",), (slot.pk,))
        assert heard == []
        pre_init.connect(receiver, sender=Slot)
        rows.built(Slot, "default", ("id",), (slot.pk,))
    finally:
        pre_init.disconnect(receiver, sender=Doctor)
        pre_init.disconnect(receiver, sender=Slot)
    assert heard == [Slot]
