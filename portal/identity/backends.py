"""The session's user and their patient record in one read (docs/performance.md, issue 25).

Every patient page needs both: Django's ModelBackend reads the user, then the page read
the patient by the user's id, two statements and two ORM compilations on every request.
`UserAndPatientBackend` reads them in one statement compiled once (`core.compiled`: the
patient and their insurance company by LEFT JOINs; the attached clinic comes from the
directory's cache, `patients.selectors.own_patient`) with one more fact, whether the
patient acts for any child (an EXISTS over active guardianships), so a page of a parent
without children needs no other read to know whom the user may act for
(`patients.selectors.actable_by`). The facts are the request's own: a new user object is
read on every request, exactly like ModelBackend's.

It only loads users; it never authenticates anyone. The ESIA login names it
(`SESSION_BACKEND`); staff log in by password through ModelBackend, and sessions stored
under ModelBackend's path before this backend existed keep working through it.
"""

from functools import cache
from typing import Any

from django.contrib.auth.backends import BaseBackend
from django.db import router
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest

from portal.core.compiled import CompiledQuery
from portal.core.rows import built
from portal.identity.models import User
from portal.patients.models import Guardianship, InsuranceCompany, Patient
from portal.patients.selectors import user_facts_remember

SESSION_BACKEND = "portal.identity.backends.UserAndPatientBackend"


@cache
def _columns() -> tuple[list[str], list[str], list[str]]:
    user = [f.attname for f in User._meta.concrete_fields]
    patient = [f.attname for f in Patient._meta.concrete_fields]
    insurer = [f.attname for f in InsuranceCompany._meta.concrete_fields]
    return user, patient, insurer


def _user_with_patient(user_id: int) -> "QuerySet[User, tuple[Any, ...]]":
    user, patient, insurer = _columns()
    wards = Guardianship.objects.filter(guardian_id=OuterRef("patient__id"), ended_at__isnull=True)
    return (
        User.objects.filter(pk=user_id)
        .annotate(has_wards=Exists(wards))
        .values_list(
            *user,
            *(f"patient__{name}" for name in patient),
            *(f"patient__insurer__{name}" for name in insurer),
            "has_wards",
        )
    )


# The first statement of every logged-in request: it also checks the connection.
_READ = CompiledQuery(_user_with_patient, health_check=True)


class UserAndPatientBackend(BaseBackend):
    def authenticate(self, request: HttpRequest | None, **credentials: Any) -> None:
        return None  # loads sessions' users only; logins go through ESIA or ModelBackend

    def get_user(self, user_id: int) -> User | None:
        rows = _READ.rows(int(user_id))
        if not rows:
            return None
        user_columns, patient_columns, insurer_columns = _columns()
        row = rows[0]
        db = router.db_for_read(User)
        user = built(User, db, user_columns, row[: len(user_columns)])
        if not user.is_active:  # as ModelBackend.user_can_authenticate
            return None
        at = len(user_columns)
        values = row[at : at + len(patient_columns)]
        patient = built(Patient, db, patient_columns, values) if values[0] is not None else None
        at += len(patient_columns)
        insurer = row[at : at + len(insurer_columns)]
        if patient is not None and insurer[0] is not None:
            company = built(InsuranceCompany, db, insurer_columns, insurer)
            Patient._meta.get_field("insurer").set_cached_value(patient, company)
        user_facts_remember(user, patient, has_wards=bool(row[-1]))
        return user
