from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from portal.directory import selectors

DISTRICTS_PER_PAGE = 12
# «Как добраться»: a plain link to a public map with the address as its query; no map
# script is loaded by the portal (its Content-Security-Policy allows none).
MAP_URL = "https://yandex.ru/maps/"


@require_GET
def district_list(request: HttpRequest) -> HttpResponse:
    paginator = Paginator(selectors.districts_list(), DISTRICTS_PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    return render(request, "directory/district_list.html", {"page": page})


@require_GET
def district_detail(request: HttpRequest, district_id: int) -> HttpResponse:
    district = selectors.district_get(district_id)
    clinics = selectors.clinics_list_in_district(district)
    return render(
        request, "directory/district_detail.html", {"district": district, "clinics": clinics}
    )


@require_GET
def clinic_detail(request: HttpRequest, clinic_id: int) -> HttpResponse:
    clinic = selectors.clinic_get(clinic_id)
    return render(
        request,
        "directory/clinic_detail.html",
        {
            "clinic": clinic,
            "specialties": selectors.specialties_list_at_clinic(clinic),
            "doctors": selectors.doctors_list_at_clinic(clinic),
            "map_url": MAP_URL,
        },
    )
