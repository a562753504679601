"""Who on the clinic side may act, and on which clinics: the one place that decides.

Below the domain (docs/architecture.md): the booking service, the guardianships and the
fair release ask here, and the clinic workspace builds its patient and appointment
scopes (`portal.workspace.permissions`) on `clinic_scope_for`.

- `staff_member_of(user)`: the role, or None for anyone who is not staff;
- `clinic_scope_for(user)`: the clinics the user may see and change (a clerk's or a
  head's own clinic, every clinic for the regional operator, none for anyone else);
- `doctor_get_for_staff`: fetch by id inside the scope, so another clinic's id is a 404
  and reveals nothing.
"""

from typing import TYPE_CHECKING, TypeAlias, TypeGuard

from django.db.models import QuerySet
from django.http import Http404

from portal.directory.models import Clinic, Doctor
from portal.staff.models import StaffMember

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from portal.identity.models import User

# Whoever a request or a service names: an account, an anonymous visitor, or nobody.
AnyUser: TypeAlias = "User | AnonymousUser | None"


def _is_account(user: AnyUser) -> TypeGuard["User"]:
    """An authenticated, active account (anonymous visitors and None are not)."""
    return user is not None and user.is_authenticated and user.is_active


def _is_role_less_clinic_staff(user: AnyUser, clinic_id: int) -> bool:
    """An admin account with ``is_staff`` and a clinic (the clerks of the Django admin's
    «Отменить от имени поликлиники», made before roles existed) counts for its own clinic."""
    return (
        _is_account(user) and user.is_staff and not user.is_citizen and user.clinic_id == clinic_id
    )


def staff_member_of(user: AnyUser) -> StaffMember | None:
    """The staff role of an active, non-citizen account; None for everyone else."""
    if not _is_account(user) or user.is_citizen:
        return None
    try:
        return StaffMember.objects.select_related("user__clinic").get(user=user)
    except StaffMember.DoesNotExist:
        return None


def staff_login_allowed(user: AnyUser) -> bool:
    """Who may pass the staff login (password, then TOTP): a workspace role, or an admin
    account of the Django admin (``is_staff``), which has no login of its own."""
    if staff_member_of(user) is not None:
        return True
    return _is_account(user) and user.is_staff and not user.is_citizen


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
    """Whether ``user`` may change ``clinic_id``'s bookings (the clinic cancel, absences):
    a workspace role whose scope has the clinic, or a role-less admin clerk of it."""
    if clinic_id is None:
        return False
    if clinic_scope_for(user).filter(pk=clinic_id).exists():
        return True
    return _is_role_less_clinic_staff(user, clinic_id)


def doctors_in_scope(user: AnyUser) -> QuerySet[Doctor]:
    return Doctor.objects.filter(clinic__in=clinic_scope_for(user))


def doctor_get_for_staff(user: AnyUser, doctor_id: int) -> Doctor:
    doctor = (
        doctors_in_scope(user).select_related("clinic", "specialty").filter(pk=doctor_id).first()
    )
    if doctor is None:
        raise Http404
    return doctor


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
    if child_clinic_id is None or not _is_account(user):
        return False
    member = staff_member_of(user)
    if member is not None:
        return not member.is_operator and member.clinic_id == child_clinic_id
    return _is_role_less_clinic_staff(user, child_clinic_id)
