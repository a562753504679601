"""`core.compiled`: a read compiled once answers exactly as the ORM does, on both engines."""

import datetime

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from portal.core.compiled import CompiledQuery, padded, queries_falling_back
from portal.scheduling.models import Slot
from portal.scheduling.selectors import bookable_q
from tests.factories import DoctorFactory, SlotFactory

pytestmark = pytest.mark.django_db

NOW = datetime.datetime.now(datetime.UTC).replace(microsecond=123456)


def _free_of(doctor_id: int, now: datetime.datetime):
    return (
        Slot.objects.filter(bookable_q(now), doctor_id=doctor_id)
        .order_by("starts_at", "pk")
        .values_list("pk", "starts_at", "ends_at", "status")
    )


def _of_status(statuses: tuple[str, ...], doctor_id: int):
    return (
        Slot.objects.filter(status__in=statuses, doctor_id=doctor_id)
        .order_by("pk")
        .values_list("pk", "status")
    )


@pytest.fixture
def slots(home_clinic):
    doctors = [DoctorFactory(clinic=home_clinic) for _ in range(3)]
    made = []
    for n, doctor in enumerate(doctors):
        for hours in (-5, 2, 30, 50 + n):
            made.append(
                SlotFactory(
                    doctor=doctor,
                    starts_at=NOW + datetime.timedelta(hours=hours),
                    ends_at=NOW + datetime.timedelta(hours=hours, minutes=20),
                )
            )
    return doctors, made


def test_it_answers_as_the_orm_does_for_every_argument(slots):
    doctors, _ = slots
    free = CompiledQuery(_free_of)
    for doctor in doctors:
        for now in (NOW, NOW + datetime.timedelta(hours=10), NOW + datetime.timedelta(days=3)):
            assert free.rows(doctor.pk, now) == list(_free_of(doctor.pk, now))


def test_datetimes_come_back_aware_as_from_the_orm(slots):
    doctors, _ = slots
    rows = CompiledQuery(_free_of).rows(doctors[0].pk, NOW)
    assert rows and all(row[1].tzinfo is not None for row in rows)


def test_a_tuple_argument_is_an_in_of_its_length(slots):
    doctors, _ = slots

    def of_doctors(ids: tuple[int, ...], now: datetime.datetime):
        return (
            Slot.objects.filter(bookable_q(now), doctor_id__in=ids)
            .order_by("pk")
            .values_list("pk", "doctor_id")
        )

    query = CompiledQuery(of_doctors)
    for ids in [(doctors[0].pk,), (doctors[0].pk, doctors[2].pk), tuple(d.pk for d in doctors)]:
        assert query.rows(ids, NOW) == list(of_doctors(ids, NOW))
    assert query.rows((), NOW) == []  # the ORM's own answer for an empty IN


def test_the_second_run_sends_one_statement_and_builds_no_query(slots, monkeypatch):
    doctors, _ = slots
    built = []

    def counted(doctor_id: int, now: datetime.datetime):
        built.append(doctor_id)
        return _free_of(doctor_id, now)

    query = CompiledQuery(counted)
    query.rows(doctors[0].pk, NOW)
    built.clear()
    expected = list(_free_of(doctors[1].pk, NOW))
    with CaptureQueriesContext(connection) as captured:
        assert query.rows(doctors[1].pk, NOW) == expected
    assert built == []
    assert len(captured.captured_queries) == 1


def test_a_value_computed_from_an_argument_falls_back_to_the_orm(slots):
    doctors, _ = slots

    def shifted(doctor_id: int):
        # The argument does not reach the SQL as itself: no plan, the ORM every time.
        return Slot.objects.filter(doctor_id=doctor_id + 1).values_list("pk")

    query = CompiledQuery(shifted)
    for doctor in doctors:
        assert query.rows(doctor.pk - 1) == list(shifted(doctor.pk - 1))


@pytest.mark.usefixtures("slots")
def test_a_value_folded_into_the_sql_falls_back_to_the_orm():

    def first(count: int):
        return Slot.objects.order_by("pk").values_list("pk")[:count]

    query = CompiledQuery(first)
    assert query.rows(2) == list(first(2))
    assert query.rows(5) == list(first(5))


def test_expressions_and_constants_of_the_query_are_kept(slots):
    doctors, _ = slots

    def longer_than(doctor_id: int, status: str):
        return (
            Slot.objects.filter(doctor_id=doctor_id, status=status, ends_at__gt=F("starts_at"))
            .order_by("pk")
            .values_list("pk", "status")
        )

    query = CompiledQuery(longer_than)
    for doctor in doctors:
        for status in ("free", "booked"):
            assert query.rows(doctor.pk, status) == list(longer_than(doctor.pk, status))


def test_arguments_it_cannot_stand_in_for_run_through_the_orm(slots):
    doctors, _ = slots
    query = CompiledQuery(_free_of)
    naive = NOW.replace(tzinfo=None)
    with pytest.warns(RuntimeWarning):  # Django's own warning for a naive datetime
        assert query.rows(doctors[0].pk, naive) == list(_free_of(doctors[0].pk, naive))


def test_a_choices_member_is_placed_as_a_string_and_answers_as_the_orm_does(slots):
    """A TextChoices member is a str of its enum's type: it gets the plan a str gets, and
    the read does not go through the ORM (the nearest-time ranking passes Clinic.Kind
    members; docs/performance.md, «The nearest-time ranking runs compiled»)."""
    doctors, _ = slots

    query = CompiledQuery(_of_status)
    for statuses in [(Slot.Status.FREE,), (Slot.Status.BOOKED, Slot.Status.FREE)]:
        assert query.rows(statuses, doctors[0].pk) == list(_of_status(statuses, doctors[0].pk))
    assert query.rows(("free",), doctors[0].pk) == list(_of_status(("free",), doctors[0].pk))
    assert [plan is not None for plan in query._plans.values()] == [True, True]
    assert query.name not in queries_falling_back()


def test_an_argument_it_takes_no_stand_in_for_is_named_as_falling_back(slots):
    """None and an empty tuple go to the ORM as expected; a bool is a caller's slip: the
    read still answers as the ORM does, and `queries_falling_back` names it."""
    doctors, _ = slots

    def of_doctor(statuses: tuple[str, ...], doctor_id: int, active: bool):
        return Slot.objects.filter(
            status__in=statuses, doctor_id=doctor_id, doctor__is_active=active
        ).values_list("pk")

    query = CompiledQuery(of_doctor)
    assert query.rows((), doctors[0].pk, 1) == []
    assert query.name not in queries_falling_back()
    statuses = ("free", "booked")
    assert query.rows(statuses, doctors[0].pk, True) == list(
        of_doctor(statuses, doctors[0].pk, True)
    )
    assert query.name in queries_falling_back()


def test_dates_are_placed_as_the_orm_prepares_them(slots):
    doctors, _ = slots

    def from_day(doctor_id: int, day: datetime.date):
        return (
            Slot.objects.filter(doctor_id=doctor_id, starts_at__date__gte=day)
            .order_by("pk")
            .values_list("pk")
        )

    query = CompiledQuery(from_day)
    for days in (-1, 0, 1, 2, 3):
        day = (NOW + datetime.timedelta(days=days)).date()
        assert query.rows(doctors[0].pk, day) == list(from_day(doctors[0].pk, day))


def test_a_tuple_of_strings_is_an_in_too(slots):
    doctors, _ = slots

    query = CompiledQuery(_of_status)
    for statuses in [("free",), ("booked",), ("free", "booked"), ("blocked", "free")]:
        assert query.rows(statuses, doctors[1].pk) == list(_of_status(statuses, doctors[1].pk))


def test_padded_ids_keep_the_set_and_the_first_and_come_in_few_lengths():
    assert padded([]) == ()
    assert padded([7]) == (7,)
    assert padded([7, 8, 9]) == (7, 8, 9, 9)
    assert {len(padded(list(range(1, n + 1)))) for n in range(1, 21)} == {1, 2, 4, 8, 16, 32}
    assert set(padded([3, 1, 2])) == {1, 2, 3} and padded([3, 1, 2])[0] == 3


# Prepared statements are PostgreSQL's: deselected from the SQLite run (the CI ledger
# counts a test skipped on one engine as dropped).
on_postgresql = pytest.mark.postgres_only


def _prepared_runs(sql_start: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(sum(generic_plans + custom_plans), 0) FROM pg_prepared_statements"
            " WHERE statement LIKE %s",
            [sql_start + "%"],
        )
        return int(cursor.fetchone()[0])


@on_postgresql
def test_on_postgresql_the_read_is_prepared_once_and_then_only_executed(slots):
    """Planning cost PostgreSQL more than the read itself (docs/performance.md): the SQL
    is prepared on the server the first time a connection sends it, and the statement
    log still shows each run with its values."""
    doctors, _ = slots
    query = CompiledQuery(_free_of)
    query.rows(doctors[0].pk, NOW)
    start = 'SELECT "scheduling_slot"."id"'
    runs = _prepared_runs(start)
    assert runs >= 1
    expected = [list(_free_of(doctor.pk, NOW)) for doctor in doctors]
    with CaptureQueriesContext(connection) as captured:
        assert [query.rows(doctor.pk, NOW) for doctor in doctors] == expected
    assert _prepared_runs(start) == runs + len(doctors)
    logged = [q["sql"] for q in captured.captured_queries]
    assert all(f'"doctor_id" = {d.pk}' in sql for d, sql in zip(doctors, logged, strict=True))


@on_postgresql
def test_a_rolled_back_transaction_does_not_lose_the_prepared_read(slots):
    """psycopg forgets its prepared statements on a rollback (the server may have dropped
    what they name) and prepares them again: the next read still answers."""
    from django.db import DatabaseError, transaction

    doctors, _ = slots
    query = CompiledQuery(_free_of)
    query.rows(doctors[0].pk, NOW)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT 1 / 0")
    assert query.rows(doctors[1].pk, NOW) == list(_free_of(doctors[1].pk, NOW))
