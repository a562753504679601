"""From ESIA data to the portal's User and Patient (first and later logins)."""

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from portal.audit.models import AuditAction
from portal.audit.services import audit_record
from portal.core.digits import has_foreign_digits, is_ascii_digits
from portal.identity.esia import EsiaError, EsiaPerson
from portal.identity.models import User
from portal.identity.signals import esia_person_received
from portal.patients.models import Patient
from portal.patients.services import policy_parse
from portal.patients.validators import format_snils, snils_digits


class Level:
    CONFIRMED = "confirmed"
    STANDARD = "standard"
    SIMPLIFIED = "simplified"
    CHILD = "child"


def esia_account_level(esia: EsiaPerson) -> str:
    """Confirmed only if both the id_token and the REST data say so (docs/domain.md, «Identity»)."""
    subject = esia.claims.get("urn:esia:sbj") or {}
    level = subject.get("urn:esia:sbj:lvl")
    if level == "KD":
        return Level.CHILD
    token_trusted = subject.get("urn:esia:sbj:is_tru") is True or level == "PR"
    if token_trusted and esia.person.get("trusted") is True:
        return Level.CONFIRMED
    return Level.STANDARD if esia.person.get("rIdDoc") else Level.SIMPLIFIED


def _date(value: Any) -> datetime.date | None:
    day, _, rest = str(value).partition(".")
    month, _, year = rest.partition(".")
    if not all(is_ascii_digits(part) for part in (day, month, year)):
        return None
    try:
        return datetime.date(int(year), int(month), int(day))
    except ValueError:
        return None


def policy_from_documents(documents: list[dict[str, Any]]) -> tuple[str, str, str]:
    """(kind, series, number) of the OMS policy (`MDCL_PLCY`), or three empty strings."""
    for doc in documents:
        if doc.get("type") != "MDCL_PLCY":
            continue
        # ESIA marks the policy NOT_VERIFIED: the same rules as a typed one (control
        # digit included); one that fails them is not kept, the user can enter it.
        series, number = str(doc.get("series") or ""), str(doc.get("number") or "")
        if has_foreign_digits(series + number):
            continue
        try:
            policy = policy_parse(series, number)
        except ValidationError:
            continue
        return str(policy.kind), policy.series, policy.number
    return "", "", ""


def _snils(value: Any) -> str:
    return format_snils(str(value)) if len(snils_digits(str(value or ""))) == 11 else ""


def _contact(contacts: list[dict[str, Any]], kind: str) -> str:
    values = [c for c in contacts if c.get("type") == kind and c.get("value")]
    values.sort(key=lambda c: c.get("vrfStu") != "VERIFIED")
    return str(values[0]["value"]) if values else ""


# C0/C1 control characters (NUL included: PostgreSQL cannot store it) never belong in a
# name or a contact; they are dropped rather than refusing the person's login.
_CONTROL = {code: None for code in (*range(0x00, 0x20), *range(0x7F, 0xA0))}


def _text(value: Any, limit: int) -> str:
    """ESIA text as the portal stores it: no control characters, at most ``limit`` long."""
    return str(value if value is not None else "").translate(_CONTROL).strip()[:limit]


@dataclass
class CitizenData:
    last_name: str
    first_name: str
    middle_name: str
    birth_date: datetime.date
    sex: str
    snils: str
    email: str
    phone: str
    policy: tuple[str, str, str]
    kids: list[dict[str, Any]] = field(default_factory=list)
    # ESIA's registration (PLV) and actual (PRG) addresses as {"kind", "text"}: offered
    # on the home-visit form (docs/home-visits.md), never used to identify anyone.
    addresses: list[dict[str, str]] = field(default_factory=list)


ADDRESS_KINDS = {"PLV": "registration", "PRG": "actual"}


def esia_addresses(raw: list[dict[str, Any]]) -> list[dict[str, str]]:
    """ESIA's address elements as {"kind", "text"}: the registration and the actual one,
    in that order; anything else, or an address without text, is left out."""
    found = {}
    for element in raw:
        kind = ADDRESS_KINDS.get(str(element.get("type", "")))
        text = _text(element.get("addressStr"), 300)
        flat = _text(element.get("flat"), 10)
        if kind is None or not text or kind in found:
            continue
        found[kind] = {"kind": kind, "text": text, "flat": flat}
    return [found[kind] for kind in ("registration", "actual") if kind in found]


def _kid(raw: dict[str, Any]) -> dict[str, Any] | None:
    birth = _date(raw.get("birthDate"))
    if birth is None or raw.get("gender") not in ("M", "F"):
        return None
    docs = raw.get("documents")
    kind, series, number = policy_from_documents(
        [
            d
            for d in (docs.get("elements", []) if isinstance(docs, dict) else [])
            if isinstance(d, dict)
        ]
    )
    return {
        "id": _text(raw.get("id"), 32),
        "last_name": _text(raw.get("lastName"), 80),
        "first_name": _text(raw.get("firstName"), 80),
        "middle_name": _text(raw.get("middleName"), 80),
        "birth_date": birth.isoformat(),
        "sex": raw["gender"],
        "snils": _snils(raw.get("snils")),
        "policy_kind": kind,
        "policy_series": series,
        "policy_number": number,
    }


def citizen_data(esia: EsiaPerson) -> CitizenData:
    person = esia.person
    birth = _date(person.get("birthDate"))
    last_name = _text(person.get("lastName"), 80)
    if birth is None or person.get("gender") not in ("M", "F") or not last_name:
        raise EsiaError("data", detail="person")
    kids = [kid for kid in (_kid(raw) for raw in esia.kids) if kid is not None]
    return CitizenData(
        last_name=last_name,
        first_name=_text(person.get("firstName"), 80),
        middle_name=_text(person.get("middleName"), 80),
        birth_date=birth,
        sex=person["gender"],
        snils=_snils(person.get("snils")),
        email=_text(_contact(esia.contacts, "EML"), 254),
        phone=_text(_contact(esia.contacts, "MBT"), 20),
        policy=policy_from_documents(esia.documents),
        kids=kids,
        addresses=esia_addresses(esia.addresses),
    )


@transaction.atomic
def citizen_upsert(oid: str, data: CitizenData) -> tuple[User, Patient]:
    """Create or update the account and its patient record from ESIA.

    The policy is only overwritten when ESIA has one: a policy that came from the registry
    of insured persons stays. Insurer, clinic and area are not ours to touch (they come
    from the registry in a `user_logged_in` receiver).
    """
    user, created = User.objects.get_or_create(esia_oid=oid, defaults={"username": f"esia-{oid}"})
    # Two tabs finishing a first login at once: the user row lock makes the second wait
    # and then find the patient the first one created (SQLite serialises by itself).
    user = User.objects.select_for_update().get(pk=user.pk)
    if created:
        user.set_unusable_password()
    user.last_name, user.first_name = data.last_name[:150], data.first_name[:150]
    user.email = data.email
    user.save()
    patient = Patient.objects.filter(esia_oid=oid).first() or Patient(esia_oid=oid)
    patient.user = user
    patient.last_name, patient.first_name = data.last_name, data.first_name
    patient.middle_name = data.middle_name
    patient.birth_date, patient.sex = data.birth_date, data.sex
    patient.snils = data.snils or patient.snils
    patient.email, patient.phone = data.email, data.phone
    if data.policy[2]:
        patient.policy_kind, patient.policy_series, patient.policy_number = data.policy
    patient.esia_kids = data.kids
    patient.save()
    return user, patient


def citizen_login(*, oid: str, data: CitizenData, ip: str | None, device: str = "") -> User:
    """Write the account and patient records and the login event; returns the user.

    The view then calls django's `login()`, which rotates the session key and fires
    `user_logged_in`, whose receivers expect the patient record to exist.
    """
    with transaction.atomic():
        user, patient = citizen_upsert(oid, data)
        audit_record(
            AuditAction.LOGIN, actor=user, ip=ip, patient=patient, method="esia", device=device
        )
        # Apps above keep what they need of ESIA's data (home visits: the addresses).
        esia_person_received.send(
            sender=citizen_login, patient_id=patient.pk, addresses=data.addresses
        )
    return user
