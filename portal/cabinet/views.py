"""«Поиск»: districts, clinics, doctors and specialties by name, specialty and address,
open to everyone; for a logged-in patient (or the child acted for) the attached clinic
and the district doctor are marked by the wizard's own rules (`scheduling.rules`)."""

from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from portal.directory import selectors as directory
from portal.directory.models import Clinic, Doctor
from portal.patients.selectors import acting_patient
from portal.scheduling import rules


@dataclass(frozen=True)
class Marked:
    row: Clinic | Doctor
    mine: bool  # the attached clinic, or the district doctor


@require_GET
def search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")[:100].strip()
    found = directory.search(query)
    patient = acting_patient(request) if request.user.is_authenticated else None
    clinics = [
        Marked(c, patient is not None and rules.is_own_clinic(patient, c)) for c in found.clinics
    ]
    doctors = [
        Marked(d, patient is not None and rules.is_district_doctor(patient, d))
        for d in found.doctors
    ]
    # What is the patient's own comes first; the order is otherwise kept.
    clinics.sort(key=lambda m: not m.mine)
    doctors.sort(key=lambda m: not m.mine)
    return render(
        request,
        "cabinet/search.html",
        {
            "query": query,
            "searched": bool(directory.search_terms(query)),
            "found": found,
            "clinics": clinics,
            "doctors": doctors,
            "patient": patient,
        },
    )
