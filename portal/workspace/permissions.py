"""What the clinic workspace may see of patients, appointments and guardianships.

Built on the staff scope (`portal.staff.permissions.clinic_scope_for`, docs/workspace.md):

- `staff_may_see_patient(user, patient)`: a patient is visible only with an appointment
  or an attachment at a clinic of the scope;
- `appointment_get_for_staff` / `guardianship_get_for_staff`: fetch by id inside the
  scope, so another clinic's id is a 404 and reveals nothing.
"""

from django.db.models import Q, QuerySet
from django.http import Http404

from portal.patients.models import Guardianship, Patient
from portal.scheduling.models import Appointment
from portal.staff.permissions import AnyUser, clinic_scope_for


def staff_may_see_patient(user: AnyUser, patient: Patient) -> bool:
    scope = clinic_scope_for(user)
    if patient.clinic_id is not None and scope.filter(pk=patient.clinic_id).exists():
        return True
    return Appointment.objects.filter(patient=patient, slot__doctor__clinic__in=scope).exists()


def patients_visible_to(user: AnyUser) -> QuerySet[Patient]:
    """The same rule as `staff_may_see_patient`, as a query (for searches and lists)."""
    scope = clinic_scope_for(user)
    return Patient.objects.filter(
        Q(clinic__in=scope) | Q(appointments__slot__doctor__clinic__in=scope)
    ).distinct()


def appointment_get_for_staff(user: AnyUser, appointment_id: int) -> Appointment:
    appointment = (
        Appointment.objects.select_related("patient", "slot__doctor__clinic")
        .filter(pk=appointment_id, slot__doctor__clinic__in=clinic_scope_for(user))
        .first()
    )
    if appointment is None:
        raise Http404
    return appointment


def guardianships_in_scope(user: AnyUser) -> QuerySet[Guardianship]:
    """Active guardianships of children attached to a clinic of the user's scope."""
    return Guardianship.objects.filter(
        ended_at__isnull=True, child__clinic__in=clinic_scope_for(user)
    )


def guardianship_get_for_staff(user: AnyUser, guardianship_id: int) -> Guardianship:
    guardianship = (
        guardianships_in_scope(user)
        .select_related("child__clinic", "guardian")
        .filter(pk=guardianship_id)
        .first()
    )
    if guardianship is None:
        raise Http404
    return guardianship


def patient_get_for_staff(user: AnyUser, patient_id: int) -> Patient:
    """A patient the staff member may see (`staff_may_see_patient`); anyone else is a 404,
    so the card of another clinic's patient reveals nothing, not even that it exists."""
    patient = Patient.objects.select_related("clinic", "insurer").filter(pk=patient_id).first()
    if patient is None or not staff_may_see_patient(user, patient):
        raise Http404
    return patient
