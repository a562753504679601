"""A demo citizen with a portal account and no ESIA login (the demo's own guardians),
created once and found again on every later load."""

import datetime

from portal.identity.models import User
from portal.patients.models import Patient


def demo_citizen(
    username: str,
    full_name: tuple[str, str, str],
    *,
    sex: str,
    birth_date: datetime.date,
    phone: str = "",
) -> tuple[User, Patient]:
    last, first, middle = full_name
    user, created = User.objects.get_or_create(
        username=username, defaults={"last_name": last, "first_name": first}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    patient = Patient.objects.filter(user=user).first() or Patient.objects.create(
        user=user,
        last_name=last,
        first_name=first,
        middle_name=middle,
        birth_date=birth_date,
        sex=sex,
        phone=phone,
    )
    return user, patient
