"""`core.reads_together`: several reads in one statement give what each read alone gives,
typed and in its order, on SQLite and PostgreSQL, compiled like any narrow read."""

import datetime

import pytest
from django.db import connection
from django.db.models import Count, F
from django.test.utils import CaptureQueriesContext

from portal.core.compiled import CompiledQuery, queries_falling_back
from portal.core.reads_together import Part, apart, together
from portal.directory.models import Doctor
from portal.scheduling.models import Slot
from tests.factories import DoctorFactory, SlotFactory

pytestmark = pytest.mark.django_db


def _parts(doctor_id: int) -> tuple[Part, Part, Part]:
    names = Part(
        Doctor.objects.filter(pk=doctor_id),
        {"last_name": F("last_name"), "id": F("id")},
    )
    times = Part(
        Slot.objects.filter(doctor_id=doctor_id),
        {"starts_at": F("starts_at"), "status": F("status")},
        order=("starts_at",),
    )
    counted = Part(Slot.objects.filter(doctor_id=doctor_id).values("doctor_id"), {"n": Count("pk")})
    return names, times, counted


_TOGETHER = CompiledQuery(lambda doctor_id: together(*_parts(doctor_id)))


def test_three_reads_in_one_statement_give_what_each_gives_alone():
    doctor = DoctorFactory(last_name="Зорина")
    soon = datetime.datetime.now(datetime.UTC).replace(microsecond=0) + datetime.timedelta(days=2)
    # Written latest first: the part's own order must put them back.
    for hours in (3, 1, 2):
        start = soon + datetime.timedelta(hours=hours)
        SlotFactory(doctor=doctor, starts_at=start, ends_at=start + datetime.timedelta(minutes=20))
    alone = [list(part.queryset.values_list(*part.columns)) for part in _parts(doctor.pk)[:2]]
    alone[1].sort()

    with CaptureQueriesContext(connection) as sent:
        rows = _TOGETHER.rows(doctor.pk)
    names, times, counted = apart(rows, 2, 2, 1)

    assert len(sent) == 1
    assert names == [("Зорина", doctor.pk)] == alone[0]
    assert times == alone[1]
    assert all(isinstance(start, datetime.datetime) and start.tzinfo for start, _ in times)
    assert counted == [(3,)]
    assert queries_falling_back() == []


def test_a_part_without_rows_comes_back_empty():
    doctor = DoctorFactory()
    names, times, counted = apart(_TOGETHER.rows(doctor.pk), 2, 2, 1)
    assert len(names) == 1 and times == [] and counted == []
    assert apart(_TOGETHER.rows(987_654_321), 2, 2, 1) == [[], [], []]
