"""Demo staff of the clinic workspace: a clerk and a head of «Городская поликлиника № 1»
(where the demo's adult personas are attached) and the regional operator.

Known passwords and FIXED TOTP secrets, so `make run` can print them and
`manage.py totp_code <username>` can show the current code. Development only: the step
refuses to run with the ESIA emulator off (the marker of a development or test stand).
"""

import base64
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.directory.models import Clinic
from portal.identity.models import User
from portal.staff.models import StaffMember

DEMO_CLINIC = "Городская поликлиника № 1"

# username, password, role, last name, first name, TOTP key (hex, 20 bytes)
STAFF = [
    ("registrator", "demo-registrator-2", StaffMember.Role.CLERK, "Кузнецова", "Ольга",
     "3132333435363738393031323334353637383930"),
    ("zaveduyushchiy", "demo-zaveduyushchiy-2", StaffMember.Role.HEAD, "Морозов", "Игорь",
     "4142434445464748494a4142434445464748494a"),
    ("operator", "demo-operator-2", StaffMember.Role.OPERATOR, "Белова", "Татьяна",
     "6162636465666768696a6162636465666768696a"),
]  # fmt: skip


def load(*, scale: int, log: Callable[[str], None]) -> None:
    if not settings.ESIA_EMULATOR_ENABLED:
        log("Сотрудники демо не созданы: только на стенде разработки (эмулятор ЕСИА включён).")
        return
    clinic = Clinic.objects.filter(short_name=DEMO_CLINIC).first()
    with transaction.atomic():
        for username, password, role, last, first, key in STAFF:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={"last_name": last, "first_name": first, "is_staff": False},
            )
            if created:
                user.set_password(password)
            user.clinic = None if role == StaffMember.Role.OPERATOR else clinic
            user.save()
            StaffMember.objects.update_or_create(user=user, defaults={"role": role})
            TOTPDevice.objects.update_or_create(
                user=user, name="workspace", defaults={"key": key, "confirmed": True}
            )
    log(f"Сотрудники демо: {len(STAFF)} (регистратор, заведующий, оператор)")


def describe(portal_url: str = "http://127.0.0.1:8000") -> list[str]:
    """Lines for `demo_personas`: who to log in as (at ``portal_url``), and how to get the code."""
    lines = [f"  Сотрудники ({portal_url.rstrip('/')}/workspace/login/):"]
    titles = dict(StaffMember.Role.choices)
    for username, password, role, last, first, key in STAFF:
        where = "все организации региона" if role == StaffMember.Role.OPERATOR else DEMO_CLINIC
        lines.append(f"    {username} / {password} — {titles[role]} ({last} {first}), {where}")
        lines.append(f"      ключ TOTP (для приложения): {_base32(key)}")
    lines.append("    Код второго фактора: uv run python manage.py totp_code <имя пользователя>")
    return lines


def _base32(hex_key: str) -> str:
    return base64.b32encode(bytes.fromhex(hex_key)).decode().rstrip("=")
