"""Reads about patients, and the one place that decides who may act for whom."""

from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest

from portal.patients.models import Guardianship, Patient

ACTING_SESSION_KEY = "acting_patient_id"


def patient_of_user(user) -> Patient | None:
    if not user.is_authenticated:
        return None
    return Patient.objects.filter(user=user).select_related("insurer", "clinic").first()


def patients_actable_by(user) -> QuerySet[Patient]:
    """The user's own patient record and every child under an active guardianship."""
    if not user.is_authenticated:
        return Patient.objects.none()
    return Patient.objects.filter(
        Q(user=user) | Q(guardians__guardian__user=user, guardians__ended_at__isnull=True)
    ).distinct()


def patient_get_for_user(user, patient_id: int) -> Patient:
    """Fetch a patient the user may act for, or 404 (never reveal that it exists)."""
    patient = (
        patients_actable_by(user).select_related("insurer", "clinic").filter(pk=patient_id).first()
    )
    if patient is None:
        raise Http404
    return patient


def children_of(guardian: Patient) -> QuerySet[Patient]:
    return Patient.objects.filter(
        guardians__guardian=guardian, guardians__ended_at__isnull=True
    ).order_by("birth_date")


def active_guardianships(guardian: Patient) -> QuerySet[Guardianship]:
    return (
        Guardianship.objects.filter(guardian=guardian, ended_at__isnull=True)
        .select_related("child")
        .order_by("child__birth_date")
    )


def acting_patient(request: HttpRequest) -> Patient | None:
    """The patient the cabinet currently acts for: a chosen child, else the user.

    Re-checked on every request: a guardianship that has ended since the child
    was chosen silently falls back to the user's own record.
    """
    own = patient_of_user(request.user)
    if own is None:
        return None
    chosen = request.session.get(ACTING_SESSION_KEY)
    if chosen and chosen != own.pk:
        child = (
            patients_actable_by(request.user)
            .select_related("insurer", "clinic")
            .filter(pk=chosen)
            .first()
        )
        if child is not None:
            return child
        request.session.pop(ACTING_SESSION_KEY, None)
    return own
