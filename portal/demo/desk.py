"""The registry desk of «Детская поликлиника № 1» (docs/workspace.md, «Trying it with make
run»): its clerk, two parents' guardianships waiting for her to see the documents, and
Мария Иванова's appointment, booked by that clerk, to find by policy, move and check in.

Development only, like the other staff (`portal.demo.staff`): known password, fixed TOTP
key. The appointment goes through the booking service, so every rule holds. Idempotent:
a second run adds nobody twice and books Мария again only if she has no coming visit.
"""

import base64
import datetime
import uuid
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.demo.dates import born
from portal.directory.models import Clinic, Doctor
from portal.identity.models import User
from portal.patients.models import Guardianship, InsuredPerson, Patient
from portal.patients.services import patient_from_registry
from portal.scheduling import services as booking
from portal.scheduling.errors import BookingRefused
from portal.scheduling.models import Appointment, Slot
from portal.staff.models import StaffMember

CLINIC = "Детская поликлиника № 1"
# username, password, last name, first name, TOTP key (hex, 20 bytes)
CLERK = ("registrator-dp1", "demo-registrator-dp1", "Лебедева", "Светлана",
         "5152535455565758595a5152535455565758595a")  # fmt: skip
# Parents without a Gosuslugi persona who added a registry child by hand (unverified):
# username, last, first, middle, the child's policy number, relation.
PARENTS = [
    ("demo-desk-parent-1", "Смирнова", "Ирина", "Олеговна", "380123456", "son"),
    ("demo-desk-parent-2", "Орлова", "Наталья", "Сергеевна", "3808080808080808", "son"),
]
MARIA_POLICY = "3802020202020212"
MARIA_SPECIALTIES = ("ent", "pediatrician")


def load(*, scale: int, log: Callable[[str], None]) -> None:
    if not settings.ESIA_EMULATOR_ENABLED:
        log("Регистратура детской поликлиники не создана: только на стенде разработки.")
        return
    clinic = Clinic.objects.filter(short_name=CLINIC).first()
    if clinic is None:
        return
    with transaction.atomic():
        clerk = _clerk(clinic)
        waiting = sum(_waiting_guardianship(*parent) for parent in PARENTS)
    booked = _maria_booked(clerk, clinic)
    log(
        f"Регистратура «{CLINIC}»: регистратор {CLERK[0]}, ждут подтверждения "
        f"представителей: {waiting}, запись Марии Ивановой: {booked or 'нет свободного времени'}"
    )


def _clerk(clinic: Clinic) -> User:
    username, password, last, first, key = CLERK
    user, created = User.objects.get_or_create(
        username=username, defaults={"last_name": last, "first_name": first}
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


def _waiting_guardianship(
    username: str, last: str, first: str, middle: str, policy: str, relation: str
) -> int:
    person = InsuredPerson.objects.filter(policy_number=policy).first()
    if person is None:
        return 0
    user, created = User.objects.get_or_create(
        username=username, defaults={"last_name": last, "first_name": first}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    parent = Patient.objects.filter(user=user).first() or Patient.objects.create(
        user=user, last_name=last, first_name=first, middle_name=middle,
        birth_date=born(34, 200), sex="F",
    )  # fmt: skip
    child = patient_from_registry(person)
    Guardianship.objects.get_or_create(
        guardian=parent,
        child=child,
        ended_at=None,
        defaults={"relation": relation, "source": Guardianship.Source.MANUAL},
    )
    return int(
        Guardianship.objects.filter(child=child, guardian=parent, verified_at__isnull=True).exists()
    )


def _maria_booked(clerk: User, clinic: Clinic) -> str:
    person = InsuredPerson.objects.filter(policy_number=MARIA_POLICY).first()
    if person is None:
        return ""
    maria = patient_from_registry(person)
    now = timezone.now()
    coming = Appointment.objects.filter(
        patient=maria, status=Appointment.Status.BOOKED, starts_at__gt=now
    ).first()
    if coming is not None:
        return coming.ticket_number
    after = now + datetime.timedelta(days=1)
    for code in MARIA_SPECIALTIES:
        doctors = Doctor.objects.filter(clinic=clinic, specialty__code=code, is_active=True)
        slots = Slot.objects.filter(
            doctor__in=doctors,
            status=Slot.Status.FREE,
            held_for__isnull=True,
            opens_at__lte=now,
            starts_at__gt=after,
        ).order_by("starts_at")[:5]
        for slot in slots:
            try:
                result = booking.appointment_book(
                    actor=clerk, patient=maria, slot_id=slot.pk, idempotency_key=uuid.uuid4()
                )
            except BookingRefused:
                continue
            return result.appointment.ticket_number
    return ""


def describe(portal_url: str = "http://127.0.0.1:8000") -> list[str]:
    username, password, last, first, key = CLERK
    return [
        f"    {username} / {password} — регистратор ({last} {first}), {CLINIC}: "
        f"представители ждут подтверждения; Мария Иванова (полис {MARIA_POLICY}) записана",
        f"      ключ TOTP (для приложения): {_base32(key)}",
    ]


def _base32(hex_key: str) -> str:
    return base64.b32encode(bytes.fromhex(hex_key)).decode().rstrip("=")
