"""The patient's «Направления» (docs/referrals.md): thin views over `selectors`.

They act for the acting patient (`patients.decorators.patient_required`), so a guardian
reads a child's referrals in the child's cabinet, and «Записаться по направлению» opens
the booking wizard for that same patient.
"""

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from portal.core.http import PatientRequest
from portal.patients.decorators import patient_required
from portal.patients.selectors import patient_seen_in_full_by
from portal.referrals import selectors


@require_GET
@patient_required
def referral_list(request: PatientRequest) -> HttpResponse:
    patient = request.acting_patient
    rows = selectors.referral_rows(selectors.referrals_visible(request.user, patient))
    return render(
        request,
        "referrals/referral_list.html",
        {
            "patient": patient,
            "rows": rows,
            "limited": not patient_seen_in_full_by(request.user, patient.pk),
        },
    )


@require_GET
@patient_required
def referral_book(request: PatientRequest, referral_id: int) -> HttpResponse:
    """«Записаться по направлению»: the clinics the referral allows, each opening the
    wizard at the specialty, and the nearest free time."""
    referral = selectors.referral_get_visible(request.user, referral_id)
    patient = referral.patient
    state = selectors.referral_rows([referral])[0].state
    # The wizard books for the acting patient: a child's referral asks to switch first.
    other = patient.pk != request.acting_patient.pk
    clinics = (
        selectors.clinics_for_referral(referral, patient) if state == "active" and not other else []
    )
    return render(
        request,
        "referrals/referral_book.html",
        {
            "patient": patient,
            "referral": referral,
            "state": state,
            "clinics": clinics,
            "switch_needed": other,
        },
    )
