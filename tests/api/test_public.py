"""The public, read-only directory and free time: valid R4, search parameters, paging."""

import datetime

import pytest
from django.utils import timezone

from portal.api.public import SLOT_WINDOWS
from tests.api.conftest import FHIR
from tests.factories import (
    ClinicFactory,
    DistrictFactory,
    DoctorFactory,
    SlotFactory,
    SpecialtyFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def region(db):
    """Two districts, a pediatrician and a surgeon with slots in various states."""
    shelekhov = DistrictFactory(name="Шелеховский район")
    irkutsk = DistrictFactory(name="г. Иркутск")
    kids = ClinicFactory(district=irkutsk, short_name="Детская поликлиника № 1", kind="children")
    far = ClinicFactory(district=shelekhov, short_name="Шелеховская РБ")
    pediatrician = SpecialtyFactory(
        code="pediatrician", name="Педиатр участковый", access="attachment", age_group="children"
    )
    surgeon = SpecialtyFactory(code="surgeon", name="Хирург", access="direct", age_group="adults")
    doc = DoctorFactory(
        clinic=kids, specialty=pediatrician, last_name="Белова", room="12", area="3"
    )
    other = DoctorFactory(clinic=far, specialty=surgeon, last_name="Орлов")
    now = timezone.now().replace(second=0, microsecond=0)
    slots = {
        "free": SlotFactory(doctor=doc, starts_at=now + datetime.timedelta(days=2)),
        "free_later": SlotFactory(
            doctor=doc,
            starts_at=now + datetime.timedelta(days=5),
            opens_at=now - datetime.timedelta(days=1),
        ),
        "booked": SlotFactory(
            doctor=doc, starts_at=now + datetime.timedelta(days=3), status="booked"
        ),
        "closed": SlotFactory(
            doctor=doc,
            starts_at=now + datetime.timedelta(days=9),
            opens_at=now + datetime.timedelta(days=1),
        ),
        "far": SlotFactory(doctor=other, starts_at=now + datetime.timedelta(days=2)),
    }
    return {"kids": kids, "far": far, "doc": doc, "other": other, "slots": slots}


def _ids(response) -> list[str]:
    return [e["resource"]["id"] for e in response.body.get("entry", [])]


def test_metadata_is_a_valid_r4_capability_statement_without_a_token(fhir):
    response = fhir().get("metadata")
    assert response.status_code == 200 and response.body["fhirVersion"] == "4.0.1"
    types = {r["type"] for r in response.body["rest"][0]["resource"]}
    assert types >= {"Organization", "Slot", "Appointment", "Patient", "RelatedPerson"}


def test_every_directory_resource_reads_and_validates(fhir, region):
    doc, kids = region["doc"], region["kids"]
    client = fhir()
    for path in (
        f"Organization/{kids.pk}",
        f"Location/{kids.pk}",
        f"Practitioner/{doc.pk}",
        f"PractitionerRole/{doc.pk}",
        f"HealthcareService/{kids.pk}-{doc.specialty_id}",
        f"Schedule/{doc.pk}",
        f"Slot/{region['slots']['free'].pk}",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
    service = client.get(f"HealthcareService/{kids.pk}-{doc.specialty_id}").body
    characteristic = {c["coding"][0]["code"] for c in service["characteristic"]}
    assert characteristic == {"attachment", "children"}
    role = client.get(f"PractitionerRole/{doc.pk}").body
    assert role["specialty"][0]["coding"][0]["code"] == "pediatrician"
    assert role["organization"]["reference"] == f"Organization/{kids.pk}"


def test_an_unknown_id_is_a_404_operation_outcome(fhir, region):
    for path in ("Slot/999999", "Organization/abc", "HealthcareService/1-x", "Nonsense/1"):
        response = fhir().get(path)
        assert response.status_code == 404, path
        assert response.body["resourceType"] == "OperationOutcome"


def test_free_slots_of_a_specialty_are_only_those_the_booking_would_accept(fhir, region):
    slots = region["slots"]
    response = fhir().get("Slot", {"specialty": "pediatrician", "status": "free"})
    assert _ids(response) == [str(slots["free"].pk), str(slots["free_later"].pk)]
    assert all(e["resource"]["status"] == "free" for e in response.body["entry"])
    closed = fhir().get(f"Slot/{slots['closed'].pk}").body
    assert closed["status"] == "busy-unavailable" and closed["comment"].startswith(
        "Запись откроется"
    )
    assert fhir().get(f"Slot/{slots['booked'].pk}").body["status"] == "busy"


def test_slots_by_organization_district_and_start_range(fhir, region):
    slots = region["slots"]
    by_org = fhir().get("Slot", {"organization": f"Organization/{region['far'].pk}"})
    assert _ids(by_org) == [str(slots["far"].pk)]
    by_district = fhir().get("Slot", {"district": "Шелеховский район", "status": "free"})
    assert _ids(by_district) == [str(slots["far"].pk)]
    day = timezone.localtime(slots["free_later"].starts_at).date()
    ranged = fhir().get(
        "Slot", {"specialty": "pediatrician", "start": [f"ge{day}", f"le{day}"], "status": "free"}
    )
    assert _ids(ranged) == [str(slots["free_later"].pk)]
    by_system = fhir().get("Slot", {"service-type": f"{FHIR}/CodeSystem/specialty|surgeon"})
    assert _ids(by_system) == [str(slots["far"].pk)]


def test_bundles_are_paged_with_next_links_and_a_capped_count(fhir, region, settings):
    settings.API_PAGE_MAX = 2
    first = fhir().get("Slot", {"_count": "500"})
    assert len(first.body["entry"]) == 2
    links = {link["relation"]: link["url"] for link in first.body["link"]}
    assert "_count=2" in links["next"] and "_offset=2" in links["next"]
    seen = _ids(first)
    url = links["next"]
    while url:
        page = fhir().get(url.split("/fhir/", 1)[1].split("?")[0], _query(url))
        seen += _ids(page)
        url = {lk["relation"]: lk["url"] for lk in page.body["link"]}.get("next")
    assert sorted(seen) == sorted(str(s.pk) for s in region["slots"].values())


def _query(url):
    from urllib.parse import parse_qs, urlsplit

    return {k: v for k, v in parse_qs(urlsplit(url).query).items()}


def test_hostile_search_values_are_400_not_500(fhir, region):
    for params in (
        {"start": "ge2026-13-45"},
        {"start": "zz2026-01-01"},
        {"_count": "-1"},
        {"_offset": "9" * 30},
        {"organization": "Organization/../../etc"},
        {"status": "maybe"},
        {"start": "x" * 500},
    ):
        response = fhir().get("Slot", params)
        assert response.status_code == 400, params
        assert response.body["resourceType"] == "OperationOutcome"


def test_directory_searches_by_district_and_specialty(fhir, region):
    orgs = fhir().get("Organization", {"district": "г. Иркутск"})
    assert _ids(orgs) == [str(region["kids"].pk)]
    services = fhir().get("HealthcareService", {"specialty": "surgeon"})
    assert _ids(services) == [f"{region['far'].pk}-{region['other'].specialty_id}"]
    roles = fhir().get("PractitionerRole", {"organization": str(region["kids"].pk)})
    assert _ids(roles) == [str(region["doc"].pk)]
    schedules = fhir().get("Schedule", {"actor": f"PractitionerRole/{region['other'].pk}"})
    assert _ids(schedules) == [str(region["other"].pk)]


def test_writes_to_public_resources_are_405(fhir, region, client):
    response = client.post("/fhir/Slot", "{}", content_type="application/fhir+json")
    assert response.status_code == 405
    assert client.delete(f"/fhir/Slot/{region['slots']['free'].pk}").status_code == 405


def test_openapi_and_smart_configuration_are_served(client):
    spec = client.get("/fhir/openapi.json").json()
    assert spec["openapi"].startswith("3.") and "/Slot" in spec["paths"]
    smart = client.get("/fhir/.well-known/smart-configuration").json()
    assert smart["code_challenge_methods_supported"] == ["S256"]


def test_a_page_of_slots_or_services_costs_the_same_queries_however_long(
    fhir, region, django_assert_max_num_queries
):
    for n in range(30):
        SlotFactory(
            doctor=region["doc"], starts_at=timezone.now() + datetime.timedelta(days=1, hours=n)
        )
    # A page of slots is read through widening windows of time (public.EarliestFirst):
    # at most one statement per window, however long the page.
    with django_assert_max_num_queries(2 + len(SLOT_WINDOWS)):
        assert len(fhir().get("Slot", {"_count": "30"}).body["entry"]) == 30
    with django_assert_max_num_queries(4):
        fhir().get("HealthcareService")


@pytest.mark.parametrize("count", ["1", "2", "3", "7"])
def test_pages_of_slots_are_the_start_order_whatever_the_windows(fhir, region, count):
    """Slots from an hour to a hundred days ahead, paged: the same order as one sort."""
    now = timezone.now().replace(second=0, microsecond=0)
    for hours in (1, 5, 7, 20, 30, 24 * 6, 24 * 8, 24 * 30, 24 * 40, 24 * 100):
        SlotFactory(doctor=region["other"], starts_at=now + datetime.timedelta(hours=hours))
    everything = _ids(fhir().get("Slot", {"status": "free", "_count": "100"}))
    assert len(everything) == 13  # and the region's three
    paged: list[str] = []
    params = {"status": "free", "_count": count}
    for offset in range(0, 13, int(count)):
        paged += _ids(fhir().get("Slot", {**params, "_offset": str(offset)}))
    assert paged == everything
