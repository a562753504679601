"""A new registry export re-attaches patients at once, not at their next login."""

import datetime
import uuid

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from portal.directory.models import Specialty
from portal.patients.validators import enp_control_digit
from portal.scheduling.errors import BookingRefused
from portal.scheduling.services import appointment_book
from tests.factories import (
    ChildFactory,
    ClinicFactory,
    DoctorFactory,
    GuardianshipFactory,
    PatientFactory,
    SlotFactory,
    SpecialtyFactory,
)

pytestmark = pytest.mark.django_db

HEADER = (
    "policy_kind;policy_series;policy_number;last_name;first_name;middle_name;"
    "birth_date;sex;insurer_code;insurer_name;clinic;area\n"
)


def _enp(body: str) -> str:
    return body + str(enp_control_digit(body))


ADULT_ENP = _enp("380101010101012")
CHILD_ENP = _enp("380202020202021")


def _row(patient, clinic, area) -> str:
    return (
        f"3;;{patient.policy_number};{patient.last_name};{patient.first_name};"
        f"{patient.middle_name};{patient.birth_date:%Y-%m-%d};{patient.sex};38001;СОГАЗ-Мед;"
        f"{clinic.short_name};{area}\n"
    )


def _import(tmp_path, body: str) -> None:
    path = tmp_path / "registry.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    call_command("import_insured", str(path))


@pytest.fixture
def family(db):
    old = ClinicFactory(short_name="Старая поликлиника")
    new = ClinicFactory(short_name="Новая поликлиника")
    mother = PatientFactory(policy_number=ADULT_ENP, clinic=old, area="1")
    today = timezone.localdate()
    child = ChildFactory(
        policy_number=CHILD_ENP, clinic=old, area="1", birth_date=today.replace(year=today.year - 6)
    )
    GuardianshipFactory(guardian=mother, child=child)
    return mother, child, old, new


def _attachment_only_slot(clinic):
    therapist = SpecialtyFactory(
        code="therapist-local", access=Specialty.Access.ATTACHMENT, name="Терапевт участковый"
    )
    return SlotFactory(doctor=DoctorFactory(clinic=clinic, specialty=therapist))


def test_a_reattached_adult_and_child_get_the_new_clinic_without_logging_in(tmp_path, family):
    mother, child, _, new = family
    _import(tmp_path, _row(mother, new, "7") + _row(child, new, "8"))
    mother.refresh_from_db()
    child.refresh_from_db()
    assert (mother.clinic, mother.area) == (new, "7")
    assert (child.clinic, child.area) == (new, "8")


def test_the_attachment_only_rule_follows_the_new_clinic(tmp_path, family):
    mother, _, old, new = family
    at_old, at_new = _attachment_only_slot(old), _attachment_only_slot(new)
    _import(tmp_path, _row(mother, new, "7"))
    mother.refresh_from_db()
    with pytest.raises(BookingRefused) as refused:
        appointment_book(
            actor=mother.user, patient=mother, slot_id=at_old.pk, idempotency_key=uuid.uuid4()
        )
    assert refused.value.code == "attachment_only"
    booked = appointment_book(
        actor=mother.user, patient=mother, slot_id=at_new.pk, idempotency_key=uuid.uuid4()
    )
    assert booked.appointment.slot == at_new


def test_an_adult_whose_name_no_longer_matches_keeps_the_old_attachment(tmp_path, family):
    mother, _, old, new = family
    row = _row(mother, new, "7").replace(f";{mother.last_name};", ";Другая;")
    _import(tmp_path, row)
    mother.refresh_from_db()
    assert mother.clinic == old


def test_a_failed_import_reattaches_nobody(tmp_path, family):
    mother, _, old, new = family
    bad = ";;123;Плохая;Строка;;2000-01-01;M;38001;;;\n"
    with pytest.raises(CommandError):
        _import(tmp_path, _row(mother, new, "7") + bad)
    mother.refresh_from_db()
    assert mother.clinic == old


def test_a_child_record_takes_the_registrys_corrected_name(tmp_path, family):
    _, child, _, new = family
    row = _row(child, new, "8").replace(f";{child.middle_name};", ";Игоревна;")
    _import(tmp_path, row)
    child.refresh_from_db()
    assert (child.middle_name, child.clinic) == ("Игоревна", new)
    assert child.birth_date < timezone.localdate() - datetime.timedelta(days=365 * 5)
