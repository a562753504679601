"""Model rows -> FHIR R4 resources (plain dicts; the tests validate them with fhir.resources).

Ids: Organization, Location = clinic; Practitioner, PractitionerRole, Schedule = the
doctor's position (one row per doctor at a clinic in a specialty); HealthcareService =
"<clinic>-<specialty>"; Slot, Appointment, Patient = their rows; RelatedPerson = the
guardianship.
"""

import datetime
import hashlib
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from portal.api import codes
from portal.api.queries import (
    Appointment,
    Clinic,
    Doctor,
    Guardianship,
    Patient,
    Referral,
    Slot,
    Specialty,
    referral_state,
    today,
)

Resource = dict[str, Any]


def instant(moment: datetime.datetime) -> str:
    """Local regional time with its offset: what a person in Irkutsk reads as the time."""
    return timezone.localtime(moment).isoformat(timespec="seconds")


def ref(kind: str, pk: int | str, display: str | None = None) -> dict[str, str]:
    reference = {"reference": f"{kind}/{pk}"}
    if display:
        reference["display"] = display
    return reference


def _telecom(phone: str) -> list[dict[str, str]]:
    return [{"system": "phone", "value": phone, "use": "work"}] if phone else []


def organization(clinic: Clinic) -> Resource:
    resource: Resource = {
        "resourceType": "Organization",
        "id": str(clinic.pk),
        "identifier": [{"system": codes.naming("clinic"), "value": str(clinic.pk)}],
        "active": True,
        "type": [
            {"coding": [{"system": codes.ORGANIZATION_TYPE_SYSTEM, "code": "prov"}]},
            {
                "coding": [
                    {
                        "system": codes.system("clinic-kind"),
                        "code": clinic.kind,
                        "display": clinic.get_kind_display(),
                    }
                ]
            },
        ],
        "name": clinic.full_name,
        "alias": [clinic.short_name],
        "address": [{"text": clinic.address, "district": clinic.district.name}],
    }
    if clinic.phone:
        resource["telecom"] = _telecom(clinic.phone)
    return resource


def location(clinic: Clinic) -> Resource:
    resource: Resource = {
        "resourceType": "Location",
        "id": str(clinic.pk),
        "status": "active",
        "name": clinic.short_name,
        "mode": "instance",
        "address": {"text": clinic.address, "district": clinic.district.name},
        "managingOrganization": ref("Organization", clinic.pk, clinic.short_name),
    }
    if clinic.phone:
        resource["telecom"] = _telecom(clinic.phone)
    return resource


def _human_name(last: str, first: str, middle: str) -> dict[str, Any]:
    return {
        "use": "official",
        "text": " ".join(p for p in (last, first, middle) if p),
        "family": last,
        "given": [p for p in (first, middle) if p],
    }


def practitioner(doctor: Doctor) -> Resource:
    return {
        "resourceType": "Practitioner",
        "id": str(doctor.pk),
        "active": doctor.is_active,
        "name": [_human_name(doctor.last_name, doctor.first_name, doctor.middle_name)],
    }


def healthcare_service_id(clinic_id: int, specialty_id: int) -> str:
    return f"{clinic_id}-{specialty_id}"


def practitioner_role(doctor: Doctor) -> Resource:
    resource: Resource = {
        "resourceType": "PractitionerRole",
        "id": str(doctor.pk),
        "active": doctor.is_active,
        "practitioner": ref("Practitioner", doctor.pk, doctor.full_name),
        "organization": ref("Organization", doctor.clinic_id, doctor.clinic.short_name),
        "location": [ref("Location", doctor.clinic_id)],
        "specialty": [codes.specialty_concept(doctor.specialty)],
        "healthcareService": [
            ref("HealthcareService", healthcare_service_id(doctor.clinic_id, doctor.specialty_id))
        ],
    }
    extensions = [
        {"url": codes.extension_url(name), "valueString": value}
        for name, value in (("room", doctor.room), ("area", doctor.area))
        if value
    ]
    if extensions:
        resource["extension"] = extensions
    return resource


def healthcare_service(clinic: Clinic, specialty: Specialty) -> Resource:
    return {
        "resourceType": "HealthcareService",
        "id": healthcare_service_id(clinic.pk, specialty.pk),
        "active": True,
        "providedBy": ref("Organization", clinic.pk, clinic.short_name),
        "location": [ref("Location", clinic.pk)],
        "specialty": [codes.specialty_concept(specialty)],
        "type": [codes.specialty_concept(specialty)],
        "name": f"{specialty.name} — {clinic.short_name}",
        "characteristic": [codes.access_concept(specialty), codes.age_group_concept(specialty)],
        "appointmentRequired": True,
    }


def schedule(doctor: Doctor) -> Resource:
    return {
        "resourceType": "Schedule",
        "id": str(doctor.pk),
        "active": doctor.is_active,
        "serviceType": [codes.specialty_concept(doctor.specialty)],
        "specialty": [codes.specialty_concept(doctor.specialty)],
        "actor": [
            ref("PractitionerRole", doctor.pk, doctor.full_name),
            ref("Location", doctor.clinic_id, doctor.clinic.short_name),
        ],
    }


def slot_status(slot: Slot, now: datetime.datetime) -> str:
    """free only when the booking would not refuse it for the slot's own sake."""
    if slot.status == "booked":
        return "busy"
    if slot.status == "blocked" or slot.starts_at <= now or slot.opens_at > now:
        return "busy-unavailable"
    return "free"


def slot(row: Slot, now: datetime.datetime) -> Resource:
    doctor = row.doctor
    resource: Resource = {
        "resourceType": "Slot",
        "id": str(row.pk),
        "schedule": ref("Schedule", doctor.pk),
        "serviceType": [codes.specialty_concept(doctor.specialty)],
        "specialty": [codes.specialty_concept(doctor.specialty)],
        "status": slot_status(row, now),
        "start": instant(row.starts_at),
        "end": instant(row.ends_at),
    }
    if row.status == "free" and row.opens_at > now:
        resource["comment"] = _("Запись откроется %(when)s") % {
            "when": f"{timezone.localtime(row.opens_at):%d.%m.%Y %H:%M}"
        }
    return resource


GENDER = {"M": "male", "F": "female"}


def patient(row: Patient, *, in_full: bool = True) -> Resource:
    """``in_full`` False (an unverified guardian, `patients.selectors.Sight`): what the
    guardian typed in and the registry answered, not the family's contacts."""
    resource: Resource = {
        "resourceType": "Patient",
        "id": str(row.pk),
        "active": True,
        "name": [_human_name(row.last_name, row.first_name, row.middle_name)],
        "gender": GENDER.get(row.sex, "unknown"),
        "birthDate": row.birth_date.isoformat(),
    }
    if row.policy_number:
        number = f"{row.policy_series} {row.policy_number}".strip()
        resource["identifier"] = [{"system": codes.naming("oms-policy"), "value": number}]
    if row.clinic_id:
        resource["generalPractitioner"] = [ref("Organization", row.clinic_id)]
    telecom = []
    if row.phone and in_full:
        telecom.append({"system": "phone", "value": row.phone, "use": "mobile"})
    if row.email and in_full:
        telecom.append({"system": "email", "value": row.email})
    if telecom:
        resource["telecom"] = telecom
    return resource


def related_person(guardianship: Guardianship) -> Resource:
    """The guardian as the child's parent (v3 RoleCode PRN)."""
    guardian = guardianship.guardian
    return {
        "resourceType": "RelatedPerson",
        "id": str(guardianship.pk),
        "active": guardianship.ended_at is None,
        "patient": ref("Patient", guardianship.child_id),
        "relationship": [
            {
                "coding": [{"system": codes.RELATED_ROLE_SYSTEM, "code": "PRN"}],
                "text": _("законный представитель"),
            }
        ],
        "name": [_human_name(guardian.last_name, guardian.first_name, guardian.middle_name)],
        "gender": GENDER.get(guardian.sex, "unknown"),
        "birthDate": guardian.birth_date.isoformat(),
    }


APPOINTMENT_STATUS = {
    "booked": "booked",
    "cancelled_patient": "cancelled",
    "cancelled_clinic": "cancelled",
    "attended": "fulfilled",
    "no_show": "noshow",
}


def appointment(row: Appointment) -> Resource:
    doctor = row.slot.doctor
    resource: Resource = {
        "resourceType": "Appointment",
        "id": str(row.pk),
        "identifier": [{"system": codes.naming("ticket"), "value": row.ticket_number}],
        "status": APPOINTMENT_STATUS.get(row.status, "booked"),
        "serviceType": [codes.specialty_concept(row.specialty)],
        "specialty": [codes.specialty_concept(row.specialty)],
        "start": instant(row.starts_at),
        "end": instant(row.ends_at),
        "created": instant(row.created_at),
        "slot": [ref("Slot", row.slot_id)],
        "participant": [
            {"actor": ref("Patient", row.patient_id, row.patient.short_name), "status": "accepted"},
            {"actor": ref("PractitionerRole", doctor.pk, doctor.full_name), "status": "accepted"},
            {
                "actor": ref("Location", doctor.clinic_id, doctor.clinic.short_name),
                "status": "accepted",
            },
        ],
    }
    if (referral_id := _referral_of(row)) is not None:
        resource["basedOn"] = [ref("ServiceRequest", referral_id)]
    if row.status == "cancelled_clinic":
        resource["cancelationReason"] = {"text": row.cancel_reason or _("Отменена поликлиникой")}
    elif row.status == "cancelled_patient":
        resource["cancelationReason"] = {"text": row.cancel_reason or _("Отменена пациентом")}
    resource["meta"] = {"versionId": appointment_version(row), "lastUpdated": _changed(row)}
    return resource


def appointment_version(row: Appointment) -> str:
    """The version of what the resource shows: it changes whenever a field a client sees
    does (FHIR `meta.versionId`, the HTTP ETag). Derived from the row's state, so no write
    path can forget to bump it."""
    state = f"{row.status}|{row.slot_id}|{row.cancelled_at}|{row.arrived_at}|{row.cancel_reason}"
    return hashlib.sha256(state.encode()).hexdigest()[:16]


def _changed(row: Appointment) -> str:
    moments = [row.created_at, row.cancelled_at, row.arrived_at]
    return instant(max(moment for moment in moments if moment is not None))


def _referral_of(row: Appointment) -> int | None:
    """The referral that backs the appointment: annotated by the search (one query for
    the page), else looked up for the one read."""
    if hasattr(row, "referral_pk"):
        value = row.referral_pk
        return value if isinstance(value, int) else None
    return Referral.objects.filter(appointment_id=row.pk).values_list("pk", flat=True).first()


# The referral's state (`referrals.rules.referral_state`) as ServiceRequest.status: used is
# completed; expired is revoked (its authorization ended); cancelled by the clinic was
# issued in error (the only reason a clinic cancels one, docs/referrals.md).
SERVICE_REQUEST_STATUS = {
    "active": "active",
    "used": "completed",
    "expired": "revoked",
    "cancelled": "entered-in-error",
}


def service_request(row: Referral) -> Resource:
    state = referral_state(row, today())
    requester = (
        ref("PractitionerRole", row.issuer_doctor.pk, row.issuer_doctor.full_name)
        if row.issuer_doctor is not None
        else ref("Organization", row.issuer_clinic_id, row.issuer_clinic.short_name)
    )
    resource: Resource = {
        "resourceType": "ServiceRequest",
        "id": str(row.pk),
        "identifier": [{"system": codes.naming("referral"), "value": row.number}],
        "status": SERVICE_REQUEST_STATUS[state],
        "intent": "order",
        "code": codes.specialty_concept(row.specialty),
        "subject": ref("Patient", row.patient_id),
        "occurrencePeriod": {
            "start": row.issued_on.isoformat(),
            "end": row.valid_until.isoformat(),
        },
        "authoredOn": row.issued_on.isoformat(),
        "requester": requester,
        "performerType": codes.specialty_concept(row.specialty),
    }
    if row.clinic is not None:
        resource["performer"] = [ref("Organization", row.clinic.pk, row.clinic.short_name)]
    if row.reason:
        resource["reasonCode"] = [{"text": row.reason}]
    if state == "expired":
        resource["note"] = [{"text": _("Срок действия направления истёк")}]
    elif state == "cancelled" and row.cancel_reason:
        resource["note"] = [{"text": row.cancel_reason}]
    return resource
