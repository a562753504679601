"""Loading the registry of insured persons from the territorial fund's CSV export.

The file is read row by row (never whole into memory) and written in batches
inside one transaction. Every bad row is reported with its line number; if
there is any, the transaction is rolled back so the registry is never left
half-updated. Rows are keyed by (series, number): re-running updates them, and
the patients holding an imported policy get its insurer, clinic and area in the
same transaction (a re-attached patient books at the new clinic at once).
Columns are documented in docs/operations.md, "Registry of insured persons".
"""

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import IO

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from portal.directory.models import Clinic
from portal.patients.models import InsuranceCompany, InsuredPerson, Sex
from portal.patients.services import patients_refresh_from_registry, policy_parse

COLUMNS = [
    "policy_kind",
    "policy_series",
    "policy_number",
    "last_name",
    "first_name",
    "middle_name",
    "birth_date",
    "sex",
    "insurer_code",
    "insurer_name",
    "clinic",
    "area",
]
REQUIRED_COLUMNS = {"policy_number", "last_name", "first_name", "birth_date", "sex", "insurer_code"}
BATCH = 2000
SEX_VALUES = {"M": Sex.MALE, "М": Sex.MALE, "F": Sex.FEMALE, "Ж": Sex.FEMALE}
UPDATE_FIELDS = [
    "policy_kind",
    "last_name",
    "first_name",
    "middle_name",
    "birth_date",
    "sex",
    "insurer",
    "clinic",
    "area",
    "updated_at",
]


class ImportFailed(Exception):
    """The file had bad rows; nothing was written."""

    def __init__(self, errors: list[tuple[int, str]]):
        super().__init__(f"{len(errors)} bad rows")
        self.errors = errors


@dataclass
class ImportResult:
    rows: int = 0
    insurers_created: int = 0
    patients_refreshed: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


def _parse_date(value: str) -> date:
    for fmt in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return datetime.strptime(value, fmt).date()  # noqa: DTZ007 - a date, no time
        except ValueError:
            continue
    raise ValueError(value)


class _Resolver:
    """Insurers and clinics by the names the file uses, looked up once."""

    def __init__(self) -> None:
        self.insurers = {i.code: i for i in InsuranceCompany.objects.all()}
        self.clinics: dict[str, int | None] = {}
        for pk, name in Clinic.objects.values_list("pk", "short_name"):
            # None marks a name shared by two clinics: the row must not guess.
            self.clinics[name] = None if name in self.clinics else pk
        self.created = 0

    def insurer(self, code: str, name: str) -> InsuranceCompany | str:
        # Too long for the columns: a clear reason instead of a database error.
        if len(code) > 20:
            return "код СМО (insurer_code) длиннее 20 символов"
        if len(name) > 200:
            return "наименование СМО (insurer_name) длиннее 200 символов"
        known = self.insurers.get(code)
        if known is not None:
            if name and name != known.name:
                known.name = name
                known.save(update_fields=["name"])
            return known
        if not name:
            return f"неизвестный код СМО «{code}»: укажите и её наименование (insurer_name)"
        created = InsuranceCompany.objects.create(code=code, name=name)
        self.insurers[code] = created
        self.created += 1
        return created

    def clinic(self, name: str) -> int | str | None:
        if not name:
            return None
        if name not in self.clinics:
            return f"неизвестная медицинская организация «{name}»"
        pk = self.clinics[name]
        if pk is None:
            return f"название «{name}» носят несколько организаций: уточните его на портале"
        return pk


def _row_to_person(
    row: dict[str, str], resolver: _Resolver, today: date
) -> InsuredPerson | list[str]:
    """One CSV row as a registry record, or the list of reasons it is bad."""
    reasons: list[str] = []
    values = {k: (v or "").strip() for k, v in row.items() if k is not None}
    # PostgreSQL refuses NUL in text: reject the row here, not with a crash at the INSERT.
    with_nul = sorted(k for k, v in values.items() if "\x00" in v)
    if with_nul:
        return [f"недопустимый символ NUL в поле {', '.join(with_nul)}"]
    if None in row:
        reasons.append("лишние значения в строке: проверьте разделитель и кавычки")
    try:
        policy = policy_parse(values.get("policy_series", ""), values.get("policy_number", ""))
    except ValidationError as exc:
        policy = None
        reasons.extend(f"полис: {m}" for m in exc.messages)
    kind = values.get("policy_kind", "")
    if policy is not None and kind and kind != policy.kind:
        reasons.append(
            f"вид полиса «{kind}» не подходит к номеру (по номеру это вид «{policy.kind}»)"
        )
    for column, title in (("last_name", "фамилия"), ("first_name", "имя")):
        if not values.get(column):
            reasons.append(f"не заполнено поле {column} ({title})")
    for column in ("last_name", "first_name", "middle_name"):
        if len(values.get(column, "")) > 80:
            reasons.append(f"поле {column} длиннее 80 символов")
    birth: date | None = None
    try:
        birth = _parse_date(values.get("birth_date", ""))
    except ValueError:
        reasons.append("дата рождения не в формате ГГГГ-ММ-ДД или ДД.ММ.ГГГГ")
    if birth is not None and birth > today:
        reasons.append("дата рождения в будущем")
    sex = SEX_VALUES.get(values.get("sex", "").upper())
    if sex is None:
        reasons.append("пол должен быть M или F (М или Ж)")
    insurer = None
    if not values.get("insurer_code"):
        reasons.append("не заполнено поле insurer_code (код СМО)")
    else:
        found = resolver.insurer(values["insurer_code"], values.get("insurer_name", ""))
        if isinstance(found, str):
            reasons.append(found)
        else:
            insurer = found
    clinic = resolver.clinic(values.get("clinic", ""))
    if isinstance(clinic, str):
        reasons.append(clinic)
        clinic = None
    if len(values.get("area", "")) > 20:
        reasons.append("номер участка длиннее 20 символов")
    if reasons or policy is None or birth is None or sex is None or insurer is None:
        return reasons
    return InsuredPerson(
        policy_kind=policy.kind,
        policy_series=policy.series,
        policy_number=policy.number,
        last_name=values["last_name"],
        first_name=values["first_name"],
        middle_name=values.get("middle_name", ""),
        birth_date=birth,
        sex=sex,
        insurer=insurer,
        clinic_id=clinic,
        area=values.get("area", ""),
    )


def _rows(handle: IO[str]) -> Iterator[tuple[int, dict[str, str]]]:
    first = handle.readline()
    delimiter = ";" if first.count(";") > first.count(",") else ","
    header = [h.strip() for h in next(csv.reader([first], delimiter=delimiter), [])]
    missing = REQUIRED_COLUMNS - set(header)
    unknown = set(header) - set(COLUMNS)
    if missing or unknown:
        problems = []
        if missing:
            problems.append("нет столбцов: " + ", ".join(sorted(missing)))
        if unknown:
            problems.append("неизвестные столбцы: " + ", ".join(sorted(unknown)))
        raise ImportFailed([(1, "заголовок: " + "; ".join(problems))])
    reader = csv.DictReader(handle, fieldnames=header, delimiter=delimiter)
    for row in reader:
        # line_num counts physical lines read after the header line we consumed.
        yield reader.line_num + 1, row


def registry_import(
    handle: IO[str], *, progress: Callable[[int], None] | None = None
) -> ImportResult:
    """Import the whole file or nothing; raises ImportFailed listing every bad row."""
    result = ImportResult()
    today = timezone.localdate()
    seen: dict[tuple[str, str], int] = {}
    with transaction.atomic():
        resolver = _Resolver()
        batch: list[InsuredPerson] = []
        for line, row in _rows(handle):
            person = _row_to_person(row, resolver, today)
            if isinstance(person, list):
                result.errors.extend((line, reason) for reason in person)
                continue
            key = (person.policy_series, person.policy_number)
            if key in seen:
                result.errors.append((line, f"этот полис уже был в строке {seen[key]}"))
                continue
            seen[key] = line
            result.rows += 1
            # After the first bad row only checking continues: nothing will be kept.
            if not result.errors:
                batch.append(person)
                if len(batch) >= BATCH:
                    result.patients_refreshed += _write(batch)
                    batch = []
                    if progress:
                        progress(result.rows)
        if result.errors:
            raise ImportFailed(result.errors)
        result.patients_refreshed += _write(batch)
        result.insurers_created = resolver.created
    return result


def _write(batch: list[InsuredPerson]) -> int:
    """Upsert the rows, then refresh the patients copying them (same transaction)."""
    if not batch:
        return 0
    InsuredPerson.objects.bulk_create(
        batch,
        update_conflicts=True,
        unique_fields=["policy_series", "policy_number"],
        update_fields=UPDATE_FIELDS,
    )
    return patients_refresh_from_registry(batch)
