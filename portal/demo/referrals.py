"""The demo's referrals (docs/referrals.md, «Trying it with make run»).

Мария (Анна's daughter, «Детская поликлиника № 1») holds an active referral to «Детский
невролог»; Анна one to «Кардиолог» and one that expired last week. A clerk of «Детская
поликлиника № 1» issues more — the one another demo step made there, if any, else
`referrals-registrator` (development stands only, like `demo.staff`).

The records are the ones the logins will use: Мария's is the one account-less record of
her policy (`patients.services.patient_from_registry`, which «Добавить родственника»
finds again), Анна's the one her ESIA login finds by its oid. Referrals go through
`referrals.services.referral_issue`, so the rules hold. Idempotent by number.
"""

import datetime
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.demo.personas import birth_date, kid_by_key, persona_by_key
from portal.demo.registry import _policy_of
from portal.directory.models import Clinic, Doctor, Specialty
from portal.identity.models import User
from portal.patients.models import InsuredPerson, Patient
from portal.patients.services import patient_from_registry
from portal.referrals.models import Referral
from portal.referrals.services import referral_issue
from portal.staff.models import StaffMember

CHILDREN_CLINIC = "Детская поликлиника № 1"
CLERK = ("referrals-registrator", "demo-referrals-2", "Лебедева", "Светлана")
CLERK_TOTP = "5152535455565758595a5152535455565758595a"


def _insured(person: dict[str, object]) -> InsuredPerson | None:
    _kind, series, number = _policy_of(person)
    return InsuredPerson.objects.filter(policy_series=series, policy_number=number).first()


def _anna() -> Patient | None:
    """Анна's record as her first ESIA login makes it (the login finds it by the oid)."""
    person = persona_by_key("anna")
    oid = str(person["oid"])
    patient = Patient.objects.filter(esia_oid=oid).first()
    if patient is not None:
        return patient
    insured = _insured(person)
    if insured is None:
        return None
    user, created = User.objects.get_or_create(
        esia_oid=oid,
        defaults={
            "username": f"esia-{oid}",
            "last_name": person["lastName"],
            "first_name": person["firstName"],
        },
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return Patient.objects.create(
        user=user,
        esia_oid=oid,
        last_name=str(person["lastName"]),
        first_name=str(person["firstName"]),
        middle_name=str(person.get("middleName", "")),
        birth_date=birth_date(person),
        sex=str(person["gender"]),
        policy_kind=insured.policy_kind,
        policy_series=insured.policy_series,
        policy_number=insured.policy_number,
        insurer=insured.insurer,
        clinic=insured.clinic,
        area=insured.area,
    )


def _maria() -> Patient | None:
    insured = _insured(kid_by_key("maria"))
    return patient_from_registry(insured) if insured is not None else None


def _issue(patient: Patient, code: str, number: str, *, days_ago: int = 0, valid: int = 30) -> None:
    if Referral.objects.filter(number=number).exists() or patient.clinic is None:
        return
    specialty = Specialty.objects.filter(code=code).first()
    doctor = Doctor.objects.filter(clinic=patient.clinic, is_active=True).order_by("pk").first()
    if specialty is None:
        return
    issued = timezone.localdate() - datetime.timedelta(days=days_ago)
    until = issued + datetime.timedelta(days=valid)
    if until < timezone.localdate():
        # An expired one cannot be issued through the service (it refuses a past date):
        # the demo writes it as it would stand after its days ran out.
        Referral.objects.create(
            number=number,
            patient=patient,
            specialty=specialty,
            issuer_clinic=patient.clinic,
            issuer_doctor=doctor,
            issued_on=issued,
            valid_until=until,
            reason="Контроль давления",
        )
        return
    referral_issue(
        actor=None,
        patient=patient,
        specialty=specialty,
        issuer_clinic=patient.clinic,
        doctor=doctor,
        valid_until=until,
        reason="Консультация специалиста",
        number=number,
        issued_on=issued,
    )


def _clerk(log: Callable[[str], None]) -> None:
    clinic = Clinic.objects.filter(short_name=CHILDREN_CLINIC).first()
    if clinic is None or not settings.ESIA_EMULATOR_ENABLED:
        return
    existing = StaffMember.objects.filter(user__clinic=clinic, role=StaffMember.Role.CLERK).exclude(
        user__username=CLERK[0]
    )
    if existing.exists():
        return  # another demo step made a clerk there: it issues referrals too
    username, password, last, first = CLERK
    user, created = User.objects.get_or_create(
        username=username, defaults={"last_name": last, "first_name": first, "clinic": clinic}
    )
    if created:
        user.set_password(password)
        user.save()
    StaffMember.objects.update_or_create(user=user, defaults={"role": StaffMember.Role.CLERK})
    TOTPDevice.objects.update_or_create(
        user=user, name="workspace", defaults={"key": CLERK_TOTP, "confirmed": True}
    )
    log(f"Регистратор для направлений: {username} / {password} ({CHILDREN_CLINIC})")


def load(*, scale: int, log: Callable[[str], None]) -> None:
    with transaction.atomic():
        maria, anna = _maria(), _anna()
        if maria is not None:
            _issue(maria, "pediatric-neurologist", "DEMO-0001")
        if anna is not None:
            _issue(anna, "cardiologist", "DEMO-0002", days_ago=2)
            _issue(anna, "cardiologist", "DEMO-0003", days_ago=40)
        _clerk(log)
    log("Направления демо: Мария — к детскому неврологу, Анна — к кардиологу (и одно истёкшее)")


def describe() -> list[str]:
    """Lines for `demo_personas`."""
    username, password, _last, _first = CLERK
    return [
        f"  Направления: регистратор {CHILDREN_CLINIC} — {username} / {password} "
        "(если другой шаг демо не создал там регистратора)",
    ]
