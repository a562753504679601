"""The benchmark's data: the region (built once), bench patients with sessions, slot sets.

Everything here runs in the harness process with Django set up on bench.settings and
touches only the benchmark database. Bench users are named ``bench-NNNN``; their
appointments are deleted (and the slots freed) between phases so every run starts
from the same state.
"""

import datetime
import json
import random
import subprocess
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from portal.demo.dates import born
from portal.directory.models import Clinic, District, Doctor, Specialty
from portal.identity.models import User
from portal.patients.models import Patient, PolicyKind
from portal.patients.validators import enp_control_digit
from portal.scheduling.models import Appointment, Slot

ROOT = Path(__file__).resolve().parent.parent
BENCH_PREFIX = "bench-"
# Every bench patient can be told by e-mail and SMS, as most patients can (issue 25): a
# booking's figures include the notifications it writes. Nothing is delivered: no worker
# runs beside the bench's server, and the rows are deleted with the bench's appointments.
BENCH_EMAIL = "bench@example.ru"
BENCH_PHONE = "+79140000000"
RUSH_SPECIALTY = "surgeon"  # direct booking, adults: anyone of our patients may take it
SUSTAINED_SPECIALTY = "ophthalmologist"
# What every bench patient holds while the pages are measured (`appointments_hold`): not the
# wizard's specialty, which one booking a specialty would refuse.
HELD_SPECIALTY = "dentist"
RUSH_DISTRICT = "г. Иркутск"
Log = Callable[[str], None]


def dataset_ensure(scale: int, marker: Path, env: dict[str, str], log: Log) -> bool:
    """Migrate and load the region at ``scale`` unless it was built today.

    The demo loader is idempotent and generates slots relative to today, so a dataset
    from an earlier day is topped up (new days added) rather than rebuilt.
    Returns True when the loader ran.
    """
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--verbosity", "0"], cwd=ROOT, env=env, check=True)
    today = timezone.localdate().isoformat()
    wanted = {"scale": scale, "built_on": today, "database": settings.DATABASES["default"]["NAME"]}
    built = False
    if marker.exists() and json.loads(marker.read_text()) == wanted and Slot.objects.exists():
        log(f"dataset: scale {scale} already built today, skipping load_demo")
    else:
        log(f"dataset: manage.py load_demo --scale {scale} (takes minutes the first time)")
        subprocess.run([*manage, "load_demo", "--scale", str(scale)], cwd=ROOT, env=env, check=True)
        marker.write_text(json.dumps(wanted))
        built = True
    # Fresh planner statistics, as autovacuum would have them a minute after a bulk load:
    # without them PostgreSQL plans for the empty tables the migrations created.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return built


def dataset_facts() -> dict[str, int]:
    return {
        "districts": District.objects.count(),
        "clinics": Clinic.objects.count(),
        "doctors": Doctor.objects.count(),
        "slots": Slot.objects.count(),
        "insured": _insured_count(),
    }


def _insured_count() -> int:
    from portal.patients.models import InsuredPerson

    return InsuredPerson.objects.count()


@dataclass(frozen=True)
class BenchPatient:
    user_id: int
    patient_id: int
    session_key: str


def _bench_policy(n: int) -> str:
    """A unified policy number (ЕНП) of its own for bench patient ``n``: no policy, no booking."""
    body = f"3899{n:011d}"
    return body + str(enp_control_digit(body))


def bench_patients(count: int) -> list[BenchPatient]:
    """``count`` adult citizens with a policy, attached to an adult clinic, each with a
    fresh session."""
    clinic = Clinic.objects.filter(district__name=RUSH_DISTRICT, kind=Clinic.Kind.ADULT).first()
    existing = {u.username: u for u in User.objects.filter(username__startswith=BENCH_PREFIX)}
    with transaction.atomic():
        for n in range(count):
            name = f"{BENCH_PREFIX}{n:04d}"
            if name in existing:
                continue
            user = User.objects.create(username=name, esia_oid=f"bench{n}")
            user.set_unusable_password()
            user.save(update_fields=["password"])
            Patient.objects.create(
                user=user,
                esia_oid=f"bench{n}",
                last_name="Нагрузочный",
                first_name="Тест",
                middle_name=f"№{n}",
                # Adults of 30 and over, whatever the year the benchmark runs in.
                birth_date=born(30, n),
                sex="M",
                clinic=clinic,
                policy_kind=PolicyKind.UNIFIED,
                policy_number=_bench_policy(n),
                email=BENCH_EMAIL,
                phone=BENCH_PHONE,
            )
            existing[name] = user
        # Patients made by a run before contacts were given get them now.
        Patient.objects.filter(user__username__startswith=BENCH_PREFIX).exclude(
            email=BENCH_EMAIL, phone=BENCH_PHONE
        ).update(email=BENCH_EMAIL, phone=BENCH_PHONE)
        # Patients made before the policy rule get theirs now.
        unpoliced = Patient.objects.filter(
            user__username__startswith=BENCH_PREFIX, policy_number=""
        ).values_list("pk", "user__username")
        for pk, username in unpoliced:
            n = int(username.removeprefix(BENCH_PREFIX))
            Patient.objects.filter(pk=pk).update(
                policy_kind=PolicyKind.UNIFIED, policy_number=_bench_policy(n)
            )
    users = [existing[f"{BENCH_PREFIX}{n:04d}"] for n in range(count)]
    patient_ids = dict(Patient.objects.filter(user__in=users).values_list("user_id", "pk"))
    # The backend the ESIA login stores: it loads the user with their patient in one read.
    from portal.identity.backends import SESSION_BACKEND as backend

    result = []
    for user in users:
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = backend
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.save()
        result.append(BenchPatient(user.pk, patient_ids[user.pk], str(session.session_key)))
    return result


def bench_reset() -> int:
    """Delete the bench users' appointments and free their slots; returns how many.

    The fair rush's ballots go first: a winning request PROTECTs its appointment, and a
    reset after the rush (or a run after one that died) used to end in ProtectedError.
    """
    release_reset()
    outbox_clear()  # messages PROTECT the appointment they are about
    rows = Appointment.objects.filter(booked_by__username__startswith=BENCH_PREFIX)
    slot_ids = list(rows.values_list("slot_id", flat=True))
    with transaction.atomic():
        deleted = rows.delete()[0]
        Slot.objects.filter(pk__in=slot_ids, status=Slot.Status.BOOKED).update(
            status=Slot.Status.FREE
        )
    return deleted


def outbox_clear() -> None:
    """The bench patients' notifications and the tasks that would send them."""
    from django_tasks_db.models import DBTaskResult

    from portal.notifications.models import Event, Message

    Event.objects.filter(appointment__booked_by__username__startswith=BENCH_PREFIX).delete()
    Message.objects.filter(recipient__user__username__startswith=BENCH_PREFIX).delete()
    DBTaskResult.objects.filter(task_path__startswith="portal.notifications.").delete()


def _adult_doctors(specialty_code: str, district: District | None = None) -> QuerySet[Doctor]:
    doctors = Doctor.objects.filter(specialty__code=specialty_code, is_active=True).exclude(
        clinic__kind=Clinic.Kind.CHILDREN
    )
    if district is not None:
        doctors = doctors.filter(clinic__district=district)
    return doctors


def sustained_slots(count: int, seed: int = 7) -> list[int]:
    """``count`` distinct bookable slots of one direct-booking specialty across the region."""
    return bookable_slots(count, SUSTAINED_SPECIALTY, seed)


def bookable_slots(count: int, specialty_code: str, seed: int = 7) -> list[int]:
    """``count`` distinct bookable slots of ``specialty_code`` across the region."""
    now = timezone.now()
    candidates = list(
        Slot.objects.filter(
            doctor__in=_adult_doctors(specialty_code),
            status=Slot.Status.FREE,
            opens_at__lte=now,
            starts_at__gt=now + datetime.timedelta(hours=2),
        ).values_list("pk", flat=True)[: count * 4]
    )
    if len(candidates) < count:
        raise RuntimeError(f"only {len(candidates)} bookable slots of {specialty_code}")
    return random.Random(seed).sample(candidates, count)


def appointments_hold(patients: list[BenchPatient], specialty_code: str = HELD_SPECIALTY) -> int:
    """One appointment of ``specialty_code`` for every patient, booked by the booking
    service as a patient books: what most patients who open their pages hold. «Мои записи»
    and the cabinet then show it, and a search or confirmation of another specialty is the
    full page, not the one-per-specialty refusal. Removed by `bench_reset`."""
    from portal.scheduling.booking import appointment_book

    slots = bookable_slots(len(patients), specialty_code, seed=13)
    people = Patient.objects.select_related("user").in_bulk([p.patient_id for p in patients])
    for bench_patient, slot_id in zip(patients, slots, strict=True):
        patient = people[bench_patient.patient_id]
        assert patient.user is not None  # bench patients are adults with an account
        appointment_book(
            actor=patient.user, patient=patient, slot_id=slot_id, idempotency_key=uuid.uuid4()
        )
    outbox_clear()  # no worker runs beside the bench: its notifications are not measured
    return len(slots)


@dataclass(frozen=True)
class Rush:
    specialty_id: int
    district_id: int
    slot_ids: list[int]
    opens_at: datetime.datetime


def rush_prepare(slots: int, opens_in: float) -> Rush:
    """Close every free slot of the rush (specialty, district) except ``slots`` chosen ones,
    which open ``opens_in`` seconds from now: the 07:00 moment, with real contention."""
    district = District.objects.get(name=RUSH_DISTRICT)
    specialty = Specialty.objects.get(code=RUSH_SPECIALTY)
    doctors = list(_adult_doctors(RUSH_SPECIALTY, district).values_list("pk", flat=True))
    start = timezone.now() + datetime.timedelta(days=1)
    per_doctor: dict[int, list[int]] = {}
    for slot_id, doctor_id in (
        Slot.objects.filter(doctor_id__in=doctors, starts_at__gt=start)
        .exclude(status=Slot.Status.BOOKED)
        .order_by("starts_at")
        .values_list("pk", "doctor_id")
    ):
        per_doctor.setdefault(doctor_id, []).append(slot_id)
    chosen: list[int] = []
    # Round-robin over the doctors: the nearest-slot list shows one slot per doctor.
    for depth in range(max((len(v) for v in per_doctor.values()), default=0)):
        for doctor_id in doctors:
            ids = per_doctor.get(doctor_id, [])
            if depth < len(ids) and len(chosen) < slots:
                chosen.append(ids[depth])
    if len(chosen) < slots:
        raise RuntimeError(f"only {len(chosen)} slots available for the rush")
    opens_at = timezone.now() + datetime.timedelta(seconds=opens_in)
    far = timezone.now() + datetime.timedelta(days=365)
    with transaction.atomic():
        Slot.objects.filter(doctor_id__in=doctors, status=Slot.Status.FREE).update(opens_at=far)
        Slot.objects.filter(pk__in=chosen).update(status=Slot.Status.FREE, opens_at=opens_at)
    return Rush(specialty.pk, district.pk, chosen, opens_at)


@dataclass(frozen=True)
class RushCheck:
    booked_slots: int
    active_appointments: int
    double_booked_slots: int
    patients_with_two: int


def rush_check(rush: Rush) -> RushCheck:
    """What the database says after the rush: the authority on double bookings."""
    from django.db.models import Count

    active = Appointment.objects.filter(slot_id__in=rush.slot_ids, status=Appointment.Status.BOOKED)
    return RushCheck(
        booked_slots=Slot.objects.filter(pk__in=rush.slot_ids, status=Slot.Status.BOOKED).count(),
        active_appointments=active.count(),
        double_booked_slots=active.values("slot_id")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .count(),
        patients_with_two=active.values("patient_id")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .count(),
    )


@dataclass(frozen=True)
class WizardPath:
    """Ids for one walk through the wizard, chosen among the sustained specialty's slots."""

    district_id: int
    clinic_id: int
    specialty_id: int
    doctor_id: int
    day: str
    slot_id: int


def wizard_path() -> WizardPath:
    now = timezone.now()
    district = District.objects.get(name=RUSH_DISTRICT)
    slot = (
        Slot.objects.filter(
            doctor__in=_adult_doctors(SUSTAINED_SPECIALTY, district),
            status=Slot.Status.FREE,
            opens_at__lte=now,
            starts_at__gt=now + datetime.timedelta(days=2),
        )
        .select_related("doctor")
        .order_by("starts_at")
        .first()
    )
    if slot is None:
        raise RuntimeError("no bookable slot for the wizard pages")
    return WizardPath(
        district_id=district.pk,
        clinic_id=slot.doctor.clinic_id,
        specialty_id=slot.doctor.specialty_id,
        doctor_id=slot.doctor_id,
        day=timezone.localtime(slot.starts_at).date().isoformat(),
        slot_id=slot.pk,
    )


# --- the fair release (issue 14, bench/rush.py) --------------------------------------


def release_reset() -> None:
    """Remove the bench's ballots (requests, draws, their queued tasks) and any draw
    reservation of its slots."""
    from django_tasks_db.models import DBTaskResult

    from portal.release.models import Ballot, BallotRequest, Draw
    from portal.waitlist.models import Offer, WaitlistEntry

    with transaction.atomic():
        # A loser's waitlist entry would hold the next run's slots for them.
        mine = {"patient__user__username__startswith": BENCH_PREFIX}
        Offer.objects.filter(**mine).delete()
        WaitlistEntry.objects.filter(**mine).delete()
        Slot.objects.filter(held_for__user__username__startswith=BENCH_PREFIX).update(
            held_for=None, held_until=None
        )
        ballots = Ballot.objects.filter(specialty__code=RUSH_SPECIALTY)
        # A follow-up a killed run left queued would wake for the next run's draws' ids.
        DBTaskResult.objects.filter(task_path__startswith="portal.release.").delete()
        Draw.objects.filter(ballot__in=ballots).delete()
        BallotRequest.objects.filter(ballot__in=ballots).delete()
        ballots.delete()
        Slot.objects.filter(
            doctor__specialty__code=RUSH_SPECIALTY, held_for__isnull=True, held_until__isnull=False
        ).update(held_until=None)


def release_prepare(rush: "Rush") -> dict[int, int]:
    """A ballot for each clinic and day the rush's slots fall on (their opening is the
    rush's moment, so each ballot holds exactly its chosen slots). Returns slot → ballot."""
    from zoneinfo import ZoneInfo

    from portal.release.services import ballot_open

    tz = ZoneInfo(settings.TIME_ZONE)
    groups: dict[tuple[int, datetime.date], list[int]] = {}
    for pk, clinic_id, starts_at in Slot.objects.filter(pk__in=rush.slot_ids).values_list(
        "pk", "doctor__clinic_id", "starts_at"
    ):
        groups.setdefault((clinic_id, starts_at.astimezone(tz).date()), []).append(pk)
    slot_ballot: dict[int, int] = {}
    for (clinic_id, day), ids in groups.items():
        ballot = ballot_open(clinic_id=clinic_id, specialty_id=rush.specialty_id, day=day)
        for pk in ids:
            slot_ballot[pk] = ballot.pk
    return slot_ballot


def release_outcomes(patients: list[BenchPatient], group: Callable[[int], str]) -> dict[str, int]:
    """«aggressive won» → count over the rush's requests, refusals by code: shows whether
    one group loses for a reason other than its place in the draw."""
    from portal.release.models import BallotRequest

    index = {p.patient_id: n for n, p in enumerate(patients)}
    rows = BallotRequest.objects.filter(ballot__specialty__code=RUSH_SPECIALTY).values_list(
        "patient_id", "status", "refusal"
    )
    counts: dict[str, int] = {}
    for patient_id, status, refusal in rows:
        if patient_id in index:
            key = f"{group(index[patient_id])} {status}{' ' + refusal if refusal else ''}"
            counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))


def release_winners(patients: list[BenchPatient]) -> list[int]:
    """Indexes of the bench patients who hold an appointment on a rush slot after the draw."""
    from portal.release.models import BallotRequest

    index = {p.patient_id: n for n, p in enumerate(patients)}
    won = BallotRequest.objects.filter(
        status=BallotRequest.Status.WON, ballot__specialty__code=RUSH_SPECIALTY
    ).values_list("patient_id", flat=True)
    return [index[pk] for pk in won if pk in index]
