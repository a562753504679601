"""Thin views of the booking wizard and «Мои записи». Rules live in rules.py/services.py."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from portal.audit.devices import request_device
from portal.core.dates import day_from_url
from portal.core.dbrouter import replica_reads_view
from portal.core.http import PatientRequest, client_ip
from portal.core.ratelimits import rate_limited
from portal.directory import selectors as directory
from portal.directory.models import Clinic, Specialty
from portal.patients.decorators import patient_required
from portal.patients.models import Patient
from portal.referrals.selectors import referral_backing, referrals_fitting
from portal.scheduling import documents, move_selectors, rules, selectors, services
from portal.scheduling.errors import BookingRefused, refusal_text
from portal.scheduling.forms import ATTACHED, BookingConfirmForm, NearestForm
from portal.scheduling.models import Appointment

DISTRICTS_PER_PAGE = 12


def _text(
    code: str | None, patient: Patient | None = None, request: PatientRequest | None = None
) -> str | None:
    """The refusal's text; with the patient, naming their own clinic where it helps, and
    with the request, only what its user may know of the patient's other appointments."""
    if not code:
        return None
    if patient is not None and request is not None:
        code = selectors.refusal_told(code, conflicts_hidden=_conflicts_hidden(request, patient))
    clinic = patient.clinic if patient is not None and patient.clinic_id else None
    return refusal_text(code, own_clinic=clinic.short_name if clinic else "")


def _conflicts_hidden(request: PatientRequest, patient: Patient) -> bool:
    """`selectors.conflicts_hidden_from`, asked once per request and patient (a page may
    show a refusal per specialty)."""
    memo: dict[int, bool] = request.__dict__.setdefault("_conflicts_hidden", {})
    if patient.pk not in memo:
        memo[patient.pk] = selectors.conflicts_hidden_from(request.user, patient)
    return memo[patient.pk]


def _refusal(
    request: PatientRequest,
    *,
    clinic: Clinic | None = None,
    specialty: Specialty | None = None,
    active: list[Appointment] | None = None,
) -> str | None:
    """The page's first reason, from the one rule the booking service applies too."""
    patient = request.acting_patient
    code = rules.booking_refusal(
        patient, request.user.pk, clinic=clinic, specialty=specialty, active=active
    )
    if code is None:
        return None
    # A list asks per row (32 clinics of a city), mostly with the same few reasons: each
    # reason's words are put together once per request and patient.
    texts: dict[tuple[str, int], str | None] = request.__dict__.setdefault("_refusal_texts", {})
    if (code, patient.pk) not in texts:
        texts[(code, patient.pk)] = _text(code, patient, request)
    return texts[(code, patient.pk)]


@require_GET
@replica_reads_view
@patient_required
def booking_start(request: PatientRequest) -> HttpResponse:
    page = Paginator(directory.districts_list(), DISTRICTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request, "scheduling/booking_start.html", {"page": page, "refusal": _refusal(request)}
    )


@require_GET
@replica_reads_view
@patient_required
def booking_district(request: PatientRequest, district_id: int) -> HttpResponse:
    district = directory.district_get(district_id)
    patient = request.acting_patient
    clinics = [
        (clinic, _refusal(request, clinic=clinic), rules.is_own_clinic(patient, clinic))
        for clinic in directory.clinics_list_in_district(district)
    ]
    # Her own clinic first, then those she may book, then the rest (issue 27: a child's
    # cabinet listed eight adults-only clinics before her own); natural order within each.
    clinics.sort(key=lambda row: (not row[2], row[1] is not None))
    refusal = _refusal(request)
    return render(
        request,
        "scheduling/booking_district.html",
        {
            "district": district,
            "clinics": clinics,
            "refusal": refusal,
            # What the kept list differs by: each row's answer of the rules, and the page's.
            "rows_key": (refusal, [(c.pk, reason, own) for c, reason, own in clinics]),
        },
    )


@require_GET
@replica_reads_view
@patient_required
def booking_clinic(request: PatientRequest, clinic_id: int) -> HttpResponse:
    clinic = directory.clinic_get(clinic_id)
    offered = directory.specialties_list_at_clinic(clinic)
    active = selectors.appointments_list_active_for(request.acting_patient, offered)
    # Where the one-per-specialty rule refuses, the page links to the appointment it
    # counts, instead of letting the patient find out at the last click.
    booked = {a.specialty_id: a for a in active if a.starts_at > timezone.now()}
    specialties = [
        (
            specialty,
            _refusal(request, clinic=clinic, specialty=specialty, active=active),
            booked.get(specialty.pk),
        )
        for specialty in offered
    ]
    refusal = _refusal(request, clinic=clinic)
    return render(
        request,
        "scheduling/booking_clinic.html",
        {
            "clinic": clinic,
            "specialties": specialties,
            "own_clinic": rules.is_own_clinic(request.acting_patient, clinic),
            "refusal": refusal,
            # The kept list differs by each row's answer and the appointment it links to.
            "rows_key": (
                refusal,
                [(s.pk, reason, b and (b.pk, b.starts_at)) for s, reason, b in specialties],
            ),
        },
    )


@require_GET
@replica_reads_view
@patient_required
def booking_doctors(request: PatientRequest, clinic_id: int, specialty_id: int) -> HttpResponse:
    clinic = directory.clinic_get(clinic_id)
    specialty = directory.specialty_get(specialty_id)
    active = selectors.appointments_list_active_for(request.acting_patient, [specialty])
    doctors = selectors.doctors_list_with_nearest(clinic, specialty)
    district_ids = {
        row.doctor.pk
        for row in doctors
        if rules.is_district_doctor(request.acting_patient, row.doctor)
    }
    doctors.sort(key=lambda row: row.doctor.pk not in district_ids)  # the участковый first
    refusal = _refusal(request, clinic=clinic, specialty=specialty, active=active)
    return render(
        request,
        "scheduling/booking_doctors.html",
        {
            "clinic": clinic,
            "specialty": specialty,
            "doctors": doctors,
            "district_doctor_ids": district_ids,
            "refusal": refusal,
            # The kept table differs by the free times read now and the marks.
            "rows_key": (
                bool(refusal),
                [(r.doctor.pk, r.nearest, r.doctor.pk in district_ids) for r in doctors],
            ),
        },
    )


@require_GET
@replica_reads_view
@patient_required
def booking_days(request: PatientRequest, doctor_id: int) -> HttpResponse:
    doctor = directory.doctor_get(doctor_id)
    active = selectors.appointments_list_active_for(request.acting_patient, [doctor.specialty])
    days = selectors.days_list_free(doctor)
    refusal = _refusal(request, clinic=doctor.clinic, specialty=doctor.specialty, active=active)
    return render(
        request,
        "scheduling/booking_days.html",
        # The kept list differs by the days read now (rows_key).
        {"doctor": doctor, "days": days, "refusal": refusal, "rows_key": (bool(refusal), days)},
    )


@require_GET
@replica_reads_view
@patient_required
def booking_times(request: PatientRequest, doctor_id: int, day: str) -> HttpResponse:
    doctor = directory.doctor_get(doctor_id)
    chosen = day_from_url(day)
    if chosen is None:
        raise Http404
    active = selectors.appointments_list_active_for(request.acting_patient, [doctor.specialty])
    # A time that overlaps another of the patient's appointments would be refused: not offered.
    slots = [
        s for s in selectors.slots_list_free_on(doctor, chosen) if not rules.overlaps(s, active)
    ]
    refusal = _refusal(request, clinic=doctor.clinic, specialty=doctor.specialty, active=active)
    return render(
        request,
        "scheduling/booking_times.html",
        {
            "doctor": doctor,
            "day": chosen,
            "slots": slots,
            "refusal": refusal,
            # The kept list differs by the times read now (rows_key).
            "rows_key": (bool(refusal), [(slot.pk, slot.starts_at) for slot in slots]),
        },
    )


def _refused_before_locks(request: PatientRequest, slot_id: int) -> bool:
    """A submission for a slot that opens later, or that a fair-release draw keeps:
    refused without locks by the booking service, so it does not spend the patient's
    booking budget — neither before the day opens nor at the opening, when what the draw
    leaves becomes free a moment later (docs/security.md, «Rate limits»).

    The one lock-free read of the slot a POST costs: kept on the request, the booking
    service answers its early refusal from it (`booking.slot_glance`), and a refused
    POST's page is drawn from it."""
    if request.method != "POST":
        return False
    glance = request.__dict__["_slot_glance"] = services.slot_glance(slot_id)
    if glance is None:
        return False
    now = timezone.now()
    return glance.opens_later(now) or glance.kept_for_draw(now)


@require_http_methods(["GET", "POST"])
@patient_required
@rate_limited("booking_user", "booking_ip", free_when=_refused_before_locks)
def booking_confirm(request: PatientRequest, slot_id: int) -> HttpResponse:
    patient = request.acting_patient
    # A POST's lock-free read of the slot (`_refused_before_locks`); None for a GET.
    glance = request.__dict__.get("_slot_glance")
    error = None
    status = 200
    if request.method != "POST":
        form = BookingConfirmForm.fresh()
    else:
        # No fresh form (a new key) unless the page is shown again.
        form = BookingConfirmForm(request.POST)
        if form.is_valid():
            try:
                # The service reads the slot under its lock (an unknown id is refused
                # like a taken one); a page shown again is drawn from the glance.
                result = services.appointment_book(
                    actor=request.user,
                    patient=patient,
                    slot_id=slot_id,
                    idempotency_key=form.cleaned_data["key"],
                    ip=client_ip(request),
                    device=request_device(request),
                    referral_id=form.cleaned_data.get("referral"),
                    glance=glance,
                )
            except BookingRefused as refused:
                error, status = _text(refused.code, patient), 409
                form = BookingConfirmForm.fresh()
            else:
                if result.created:
                    messages.success(request, _("Вы записаны на приём. Талон ниже."))
                return redirect(
                    "scheduling:appointment_ticket", appointment_id=result.appointment.pk
                )
        else:
            status = 400
    if request.method != "POST":
        now = timezone.now()
        read = selectors.slot_get_for_confirm(request.user, patient, slot_id, now)
        if read.mine:
            # Back after booking: this is her own booking, not a time someone else took.
            messages.info(request, _("Вы уже записаны на это время. Ваш талон ниже."))
            return redirect("scheduling:appointment_ticket", appointment_id=read.mine)
        slot = read.slot
        error = _text(
            rules.slot_booking_refusal(patient, request.user.pk, slot, active=read.active, now=now),
            patient,
            request,
        )
    elif glance is not None:
        # A POST's page, refused or asked again, is drawn from its glance, not a second read.
        slot = selectors.slot_with_doctor(glance.as_slot())
    else:
        slot = selectors.slot_get_for_booking(slot_id)
    # Which referral the booking will use, or the patient's choice when several fit.
    fitting = referrals_fitting(patient, slot.doctor.specialty, slot.doctor.clinic_id)
    return render(
        request,
        "scheduling/booking_confirm.html",
        {
            "slot": slot,
            "doctor": slot.doctor,
            "patient": patient,
            "form": form,
            "error": error,
            "referrals": fitting,
        },
        status=status,
    )


@require_GET
@replica_reads_view
@patient_required
def booking_nearest(request: PatientRequest) -> HttpResponse:
    form = NearestForm(request.GET or None, patient=request.acting_patient)
    answer = None
    if form.is_bound and not form.is_valid():
        form.describe_errors()
    if form.is_bound and form.is_valid():
        place = form.cleaned_data["place"]
        answer = selectors.slots_list_nearest_for_patient(
            request.acting_patient,
            request.user.pk,
            form.cleaned_data["specialty"],
            district=None if place == ATTACHED else directory.district_get(int(place)),
        )
    slots = answer.slots if answer else None
    patient = request.acting_patient
    # «Терапевт участковый» says which doctor serves her участок (issue 27).
    district_ids = {s.doctor_id for s in slots or [] if rules.is_district_doctor(patient, s.doctor)}
    narrowed_to = answer.narrowed_to if answer else None
    refusal = _text(answer.refusal, patient, request) if answer else _refusal(request)
    return render(
        request,
        "scheduling/booking_nearest.html",
        {
            "form": form,
            "form_key": form.markup_key(),
            "slots": slots,
            "district_doctor_ids": district_ids,
            "narrowed_to": narrowed_to,
            "refusal": refusal,
            # The kept table differs by the times read now and the marks (rows_key).
            "rows_key": (
                bool(refusal),
                narrowed_to and narrowed_to.pk,
                [(s.pk, s.starts_at, s.doctor_id, s.doctor_id in district_ids) for s in slots]
                if slots is not None
                else None,
            ),
        },
    )


@require_GET
@patient_required
def appointment_list(request: PatientRequest) -> HttpResponse:
    lists = selectors.appointments_list_for_user(request.user)
    # The waitlist's offers notice comes from its own template tag (waitlist_offers), with
    # the count read along with the lists when they had a row to carry it.
    return render(
        request,
        "scheduling/appointment_list.html",
        {"upcoming": lists.upcoming, "history": lists.history, "along": lists.along},
    )


@require_GET
@patient_required
def appointment_ticket(request: PatientRequest, appointment_id: int) -> HttpResponse:
    appointment = selectors.appointment_get_for_user(request.user, appointment_id)
    return render(
        request,
        "scheduling/appointment_ticket.html",
        {
            "appointment": appointment,
            "qr_svg": documents.ticket_qr_svg(appointment),
            # The referral it was booked by, for the registry desk (docs/referrals.md).
            "referral": referral_backing(appointment.pk),
            "bring": documents.documents_to_bring(appointment),
        },
    )


@require_http_methods(["GET", "POST"])
@patient_required
@rate_limited("cancel_user", "cancel_ip")
def appointment_cancel_view(request: PatientRequest, appointment_id: int) -> HttpResponse:
    appointment = selectors.appointment_get_for_user(request.user, appointment_id)
    error = None
    if request.method == "POST":
        try:
            services.appointment_cancel(
                actor=request.user,
                appointment=appointment,
                ip=client_ip(request),
                device=request_device(request),
            )
        except BookingRefused as refused:
            error = refused.message
        else:
            messages.success(request, _("Запись отменена. Это время снова доступно для записи."))
            return redirect("scheduling:appointment_list")
    return render(
        request,
        "scheduling/appointment_cancel.html",
        {"appointment": appointment, "error": error},
        status=409 if error else 200,
    )


@require_GET
@patient_required
def appointment_ics(request: PatientRequest, appointment_id: int) -> HttpResponse:
    appointment = selectors.appointment_get_for_user(request.user, appointment_id)
    body = documents.ticket_ics(appointment)
    method = "CANCEL" if b"METHOD:CANCEL" in body else "PUBLISH"
    response = HttpResponse(body, content_type=f"text/calendar; charset=utf-8; method={method}")
    # RFC 6266 (with filename* when it is not plain ASCII), as browsers read it.
    response["Content-Disposition"] = content_disposition_header(
        True, f"talon-{appointment.ticket_number}.ics"
    )
    return response


# --- «Перенести» ---------------------------------------------------------------------


@require_GET
@patient_required
def appointment_reschedule_view(request: PatientRequest, appointment_id: int) -> HttpResponse:
    """Step 1 of a move: the free times of the same doctor and of colleagues."""
    appointment = selectors.appointment_get_for_user(request.user, appointment_id)
    refusal = _text(rules.move_refusal(appointment, timezone.now()))
    return render(
        request,
        "scheduling/appointment_reschedule.html",
        {
            "appointment": appointment,
            "refusal": refusal,
            "doctors": [] if refusal else move_selectors.slots_list_for_reschedule(appointment),
        },
        status=409 if refusal else 200,
    )


@require_http_methods(["GET", "POST"])
@patient_required
@rate_limited("booking_user", "booking_ip")
def appointment_reschedule_confirm(
    request: PatientRequest, appointment_id: int, slot_id: int
) -> HttpResponse:
    """Step 2: the old time and the new one side by side; «Перенести» moves in one step."""
    appointment = selectors.appointment_get_for_user(request.user, appointment_id)
    slot = selectors.slot_get_for_booking(slot_id)
    form = BookingConfirmForm.fresh()
    error = None
    status = 200
    if request.method == "POST":
        form = BookingConfirmForm(request.POST)
        if form.is_valid():
            try:
                result = services.appointment_reschedule(
                    actor=request.user,
                    appointment=appointment,
                    new_slot_id=slot.pk,
                    idempotency_key=form.cleaned_data["key"],
                    ip=client_ip(request),
                    device=request_device(request),
                )
            except BookingRefused as refused:
                error, status = refused.message, 409
                form = BookingConfirmForm.fresh()
            else:
                if result.created:
                    messages.success(
                        request, _("Запись перенесена. Прежнее время отменено. Новый талон ниже.")
                    )
                return redirect(
                    "scheduling:appointment_ticket", appointment_id=result.appointment.pk
                )
        else:
            status = 400
    else:
        now = timezone.now()
        patient = appointment.patient
        active = selectors.appointments_list_active(patient, now)
        error = _text(
            rules.reschedule_refusal(
                patient, request.user.pk, appointment, slot, active=active, now=now
            ),
            patient,
            request,
        )
    return render(
        request,
        "scheduling/appointment_reschedule_confirm.html",
        {"appointment": appointment, "slot": slot, "form": form, "error": error},
        status=status,
    )
