"""The demo's home visits (docs/home-visits.md, «Trying it with make run»).

Two requests in «Детская поликлиника № 1»'s queue — one received, one accepted with the
district pediatrician and a time window — made by a demo guardian for two demo children,
and a clerk of that clinic to dispatch them (a clerk there is reused if another demo step
made one). Анна Иванова can then call a doctor for Мария herself.

Everything goes through the services, so the rules hold. Idempotent: a child with an
open request gets no second one.
"""

import datetime
from collections.abc import Callable

from django.conf import settings
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.demo.accounts import demo_citizen
from portal.demo.dates import born
from portal.directory.models import Clinic, Doctor
from portal.home_visits import services
from portal.home_visits.errors import HomeVisitRefused
from portal.home_visits.models import HomeVisit
from portal.identity.models import User
from portal.patients.models import Guardianship, Patient, PolicyKind
from portal.staff.models import StaffMember

CLINIC = "Детская поликлиника № 1"
GUARDIAN = "demo-home-visit-guardian"
# username, password, TOTP key (hex, 20 bytes): the clinic's dispatcher if none exists.
CLERK = ("registrator-deti", "demo-registrator-deti-2", "7172737475767778797a7172737475767778797a")
KIDS = [
    ("Вызовова", "Алиса", "F", "1", "г. Иркутск, ул. Байкальская, д. 12"),
    ("Вызовов", "Глеб", "M", "3", "г. Иркутск, ул. Лермонтова, д. 81"),
]


def _clerk(clinic: Clinic) -> User:
    existing = (
        StaffMember.objects.filter(role=StaffMember.Role.CLERK, user__clinic=clinic)
        .select_related("user")
        .first()
    )
    if existing is not None:
        return existing.user
    username, password, key = CLERK
    user, created = User.objects.get_or_create(
        username=username, defaults={"last_name": "Соколова", "first_name": "Дарья"}
    )
    if created:
        user.set_password(password)
    user.clinic = clinic
    user.save()
    StaffMember.objects.update_or_create(user=user, defaults={"role": StaffMember.Role.CLERK})
    TOTPDevice.objects.update_or_create(
        user=user, name="workspace", defaults={"key": key, "confirmed": True}
    )
    return user


def _guardian() -> tuple[User, Patient]:
    return demo_citizen(
        GUARDIAN,
        ("Вызовова", "Елена", "Сергеевна"),
        sex="F",
        birth_date=born(34, 40),
        phone="+79140000099",
    )


def _child(guardian: Patient, clinic: Clinic, n: int) -> Patient:
    last, first, sex, area, _address = KIDS[n]
    child = Patient.objects.filter(
        guardians__guardian=guardian, first_name=first, last_name=last
    ).first()
    if child is not None:
        return child
    child = Patient.objects.create(
        last_name=last,
        first_name=first,
        middle_name="Андреевна" if sex == "F" else "Андреевич",
        birth_date=born(4 + n * 3, 100),
        sex=sex,
        policy_kind=PolicyKind.UNIFIED,
        policy_number=f"780000000000{n:04d}",
        clinic=clinic,
        area=area,
    )
    Guardianship.objects.create(
        guardian=guardian,
        child=child,
        relation=Guardianship.Relation.SON if sex == "M" else Guardianship.Relation.DAUGHTER,
        source=Guardianship.Source.MANUAL,
        verified_at=timezone.now(),
        verified_how=Guardianship.Verification.CLINIC,
    )
    return child


def _request(user: User, child: Patient, n: int) -> HomeVisit | None:
    open_one = HomeVisit.objects.filter(patient=child, state__in=HomeVisit.OPEN_STATES).first()
    if open_one is not None:
        return None
    address = KIDS[n][4]
    return services.visit_create(
        actor=user,
        patient=child,
        data=services.VisitData(
            address=address,
            apartment=str(10 + n),
            entrance="1",
            floor=str(2 + n),
            intercom=f"{10 + n}К",
            phone="+7 914 000-00-99",
            symptoms=["fever", "cough"] if n == 0 else ["fever", "rash"],
            temperature="38,4" if n == 0 else "37,9",
            details="Температура со вчерашнего вечера." if n == 0 else "Сыпь на руках.",
            consent=True,
        ),
        ip=None,
    )


def load(scale: int = 1, log: Callable[[str], None] = print) -> None:
    if not settings.ESIA_EMULATOR_ENABLED:
        log("Вызовы на дом демо не созданы: только на стенде разработки.")
        return
    clinic = Clinic.objects.filter(short_name=CLINIC).first()
    if clinic is None:
        log(f"Вызовы на дом: нет «{CLINIC}», пропущено")
        return
    clerk = _clerk(clinic)
    user, guardian = _guardian()
    made = [_request(user, _child(guardian, clinic, n), n) for n in range(len(KIDS))]
    accepted = made[1]
    doctor = (
        Doctor.objects.filter(clinic=clinic, specialty__code="pediatrician", is_active=True)
        .order_by("-area")
        .first()
    )
    if accepted is not None and doctor is not None:
        try:
            services.visit_accept(
                actor=clerk,
                visit_id=accepted.pk,
                ip=None,
                doctor_id=doctor.pk,
                start=datetime.time(14, 0),
                end=datetime.time(18, 0),
            )
        except HomeVisitRefused as refused:
            log(f"Вызовы на дом: не принят ({refused.code})")
    count = sum(1 for m in made if m)
    log(f"Вызовы на дом: {count} новых в очереди «{CLINIC}», диспетчер {clerk.username}")


def describe() -> list[str]:
    """Who dispatches the demo's home visits: the clinic's clerk this step found or made."""
    clerk = (
        StaffMember.objects.filter(role=StaffMember.Role.CLERK, user__clinic__short_name=CLINIC)
        .select_related("user")
        .order_by("pk")
        .first()
    )
    if clerk is None:
        return []
    username, password, _key = CLERK
    login = f"{username} / {password}" if clerk.user.username == username else clerk.user.username
    return [f"    {login} — регистратор ({CLINIC}): «Вызовы на дом» в рабочем месте"]
