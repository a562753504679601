"""«Кто действовал от моего имени»: the patient's own or a guardian's view of the journal."""

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render

from portal.core.http import PatientRequest
from portal.journal.rows import journal_rows
from portal.journal.selectors import audit_events_visible_to
from portal.patients.decorators import patient_or_404, patient_required
from portal.patients.selectors import patient_seen_in_full_by


@patient_required
def journal(request: PatientRequest, patient_id: int) -> HttpResponse:
    patient = patient_or_404(request, patient_id)
    visible = audit_events_visible_to(request.user, patient.pk)
    events = Paginator(visible, 50).get_page(request.GET.get("page"))
    rows = journal_rows(events, viewer=request.user, patient_id=patient.pk)
    limited = not patient_seen_in_full_by(request.user, patient.pk)
    return render(
        request,
        "journal/journal.html",
        {"patient": patient, "events": events, "rows": rows, "limited": limited},
    )
