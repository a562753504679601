"""Referrals from a clinic's own information system: a CSV file, one referral a row
(docs/referrals.md, «Import»).

Every row goes through `services.referral_issue` — the same checks as the workspace's
form — inside one transaction: a bad row is reported with its line number and nothing of
the file is written. Rows are keyed by their number: a number already known is skipped,
so re-running the same export adds nothing twice.
"""

import csv
import datetime
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

from django.db import transaction

from portal.core.errors import Refused
from portal.directory.models import Clinic, Doctor, Specialty
from portal.patients.models import InsuredPerson
from portal.patients.services import patient_for_insured_person
from portal.referrals.models import Referral
from portal.referrals.services import referral_issue

COLUMNS = [
    "number",
    "policy_number",
    "specialty",
    "clinic",
    "doctor",
    "issued_on",
    "valid_until",
    "reason",
]
REQUIRED = {"number", "policy_number", "specialty", "issued_on"}


@dataclass
class ImportResult:
    created: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)


class RowError(Exception):
    pass


def _date(value: str, name: str) -> datetime.date | None:
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise RowError(f"{name}: ожидается дата ГГГГ-ММ-ДД, получено «{value[:20]}»") from None


def _row(issuer: Clinic, row: dict[str, str]) -> None:
    person = InsuredPerson.objects.filter(policy_number=row["policy_number"], clinic=issuer).first()
    if person is None:
        raise RowError("пациент с этим полисом не прикреплён к поликлинике-отправителю")
    specialty = Specialty.objects.filter(code=row["specialty"]).first()
    if specialty is None:
        raise RowError(f"нет специальности с кодом «{row['specialty'][:40]}»")
    clinic = doctor = None
    if row.get("clinic"):
        clinic = Clinic.objects.filter(pk=_int(row["clinic"], "clinic")).first()
        if clinic is None:
            raise RowError("нет такой поликлиники (clinic)")
    if row.get("doctor"):
        doctor = Doctor.objects.filter(pk=_int(row["doctor"], "doctor")).first()
        if doctor is None:
            raise RowError("нет такого врача (doctor)")
    issued_on = _date(row["issued_on"], "issued_on")
    referral_issue(
        actor=None,
        patient=patient_for_insured_person(person),
        specialty=specialty,
        issuer_clinic=issuer,
        clinic=clinic,
        doctor=doctor,
        valid_until=_date(row.get("valid_until", ""), "valid_until"),
        reason=row.get("reason", ""),
        number=row["number"],
        issued_on=issued_on,
    )


def _int(value: str, name: str) -> int:
    if not value.isdigit():
        raise RowError(f"{name}: ожидается число")
    return int(value)


def _rows(stream: IO[str]) -> Iterator[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(stream, delimiter=";")
    missing = REQUIRED - set(reader.fieldnames or [])
    if missing:
        raise RowError(f"в файле нет столбцов: {', '.join(sorted(missing))}")
    for line, raw in enumerate(reader, start=2):
        yield line, {k: (v or "").strip() for k, v in raw.items() if k}


def referrals_import(stream: IO[str], issuer: Clinic) -> ImportResult:
    """Import ``stream`` as referrals issued by ``issuer``; all or nothing."""
    result = ImportResult()
    try:
        with transaction.atomic():
            for line, row in _rows(stream):
                if Referral.objects.filter(number=row.get("number", "")).exists():
                    result.skipped += 1
                    continue
                try:
                    with transaction.atomic():
                        _row(issuer, row)
                    result.created += 1
                except (RowError, Refused) as problem:
                    text = problem.message if isinstance(problem, Refused) else str(problem)
                    result.errors.append(f"строка {line}: {text}")
            if result.errors:
                raise RowError("rollback")
    except RowError as problem:
        if not result.errors:
            result.errors.append(str(problem))
        result.created = 0
    return result
