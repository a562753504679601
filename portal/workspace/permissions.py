"""Who on the clinic side may see and change what: the one place that decides.

Every workspace view and service asks here (docs/workspace.md):

- `staff_member_of(user)`: the role, or None for anyone who is not staff;
- `clinic_scope_for(user)`: the clinics the user may see and change (a clerk's or a
  head's own clinic, every clinic for the regional operator, none for anyone else);
- `staff_may_see_patient(user, patient)`: a patient is visible only with an appointment
  or an attachment at a clinic of the scope;
- `doctor_get_for_staff` / `appointment_get_for_staff`: fetch by id inside the scope, so
  another clinic's id is a 404 and reveals nothing.
"""

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet
from django.http import Http404

from portal.directory.models import Clinic, Doctor
from portal.identity.models import User
from portal.patients.models import Guardianship, Patient
from portal.scheduling.models import Appointment
from portal.workspace.models import StaffMember

AnyUser = User | AnonymousUser | None


def staff_member_of(user: AnyUser) -> StaffMember | None:
    """The staff role of an active, non-citizen account; None for everyone else."""
    if not isinstance(user, User) or not user.is_active or user.is_citizen:
        return None
    try:
        return StaffMember.objects.select_related("user__clinic").get(user=user)
    except StaffMember.DoesNotExist:
        return None


def clinic_scope_for(user: AnyUser) -> QuerySet[Clinic]:
    member = staff_member_of(user)
    if member is None:
        return Clinic.objects.none()
    if member.is_operator:
        return Clinic.objects.all()
    if member.clinic_id is None:
        return Clinic.objects.none()
    return Clinic.objects.filter(pk=member.clinic_id)


def staff_may_manage_clinic(user: AnyUser, clinic_id: int | None) -> bool:
    """Whether ``user`` may change ``clinic_id``'s bookings (the clinic cancel, absences).

    Besides the workspace's roles, an admin account with ``is_staff`` and a clinic (the
    clerks of the Django admin's «Отменить от имени поликлиники», made before roles
    existed) counts for its own clinic.
    """
    if clinic_id is None:
        return False
    if clinic_scope_for(user).filter(pk=clinic_id).exists():
        return True
    return (
        isinstance(user, User)
        and user.is_active
        and user.is_staff
        and not user.is_citizen
        and user.clinic_id == clinic_id
    )


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


def doctors_in_scope(user: AnyUser) -> QuerySet[Doctor]:
    return Doctor.objects.filter(clinic__in=clinic_scope_for(user))


def doctor_get_for_staff(user: AnyUser, doctor_id: int) -> Doctor:
    doctor = (
        doctors_in_scope(user).select_related("clinic", "specialty").filter(pk=doctor_id).first()
    )
    if doctor is None:
        raise Http404
    return doctor


def appointment_get_for_staff(user: AnyUser, appointment_id: int) -> Appointment:
    appointment = (
        Appointment.objects.select_related("patient", "slot__doctor__clinic")
        .filter(pk=appointment_id, slot__doctor__clinic__in=clinic_scope_for(user))
        .first()
    )
    if appointment is None:
        raise Http404
    return appointment


def is_staff_account(user_id: int | None) -> bool:
    """Whether this account books as a clinic (by phone) rather than as a citizen."""
    return user_id is not None and StaffMember.objects.filter(user_id=user_id).exists()


def staff_may_see_dashboard(user: AnyUser) -> bool:
    """The clinic's figures are for its head and the regional operator, not for clerks."""
    member = staff_member_of(user)
    return member is not None and member.role in (
        StaffMember.Role.HEAD,
        StaffMember.Role.OPERATOR,
    )


def staff_may_edit_directory(user: AnyUser) -> bool:
    """Districts, clinics, specialties and doctors are the regional operator's."""
    member = staff_member_of(user)
    return member is not None and member.is_operator


def staff_may_confirm_guardianship(user: AnyUser, child_clinic_id: int | None) -> bool:
    """A guardianship is confirmed by the child's own clinic, whose registry sees the
    documents: its clerk or head (and, as for the clinic cancel, the admin's role-less
    clerks of that clinic). The regional operator sees the list but does not confirm:
    nobody at the region's desk sees the birth certificate."""
    if child_clinic_id is None or not isinstance(user, User):
        return False
    member = staff_member_of(user)
    if member is not None:
        return not member.is_operator and member.clinic_id == child_clinic_id
    return (
        user.is_active
        and user.is_staff
        and not user.is_citizen
        and (user.clinic_id == child_clinic_id)
    )


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
