"""The demo of `make run` leaves two requests in «Детская поликлиника № 1»'s queue, one
accepted with a doctor and a window, and a clerk there to dispatch them."""

import pytest

from portal.demo import desk, directory, home_visits, registry, staff
from portal.home_visits import selectors, services
from portal.home_visits.models import HomeVisit
from portal.patients.models import InsuredPerson
from portal.patients.services import patient_from_registry
from tests.factories import GuardianshipFactory, PatientFactory
from tests.home_visits.conftest import valid_data


@pytest.mark.django_db
def test_the_demo_queue_and_anna_calling_for_maria(settings):
    settings.ESIA_EMULATOR_ENABLED = True
    for step in (directory, registry, staff, desk, home_visits, home_visits):  # twice: idempotent
        step.load(scale=1, log=lambda _: None)
    visits = HomeVisit.objects.filter(clinic__short_name=home_visits.CLINIC)
    assert sorted(visits.values_list("state", flat=True)) == ["assigned", "received"]
    assigned = visits.get(state="assigned")
    assert assigned.doctor is not None and assigned.window is not None
    clerk = assigned.handled_by
    assert clerk is not None and clerk.clinic.short_name == home_visits.CLINIC
    assert clerk.username == desk.CLERK[0]  # the desk's clerk is reused, not a second one
    assert home_visits.describe() == [
        f"    {desk.CLERK[0]} — регистратор ({home_visits.CLINIC}): «Вызовы на дом» в рабочем месте"
    ]
    queued = [v for _area, group in selectors.dispatcher_queue(clerk) for v in group]
    assert {v.pk for v in queued} == set(visits.values_list("pk", flat=True))

    # Мария is attached there in the registry: her mother can call the doctor.
    person = InsuredPerson.objects.get(first_name="Мария", last_name="Иванова")
    maria = patient_from_registry(person)
    anna = PatientFactory(first_name="Анна", last_name="Иванова")
    GuardianshipFactory(guardian=anna, child=maria)
    visit = services.visit_create(actor=anna.user, patient=maria, data=valid_data(), ip=None)
    assert visit.clinic.short_name == home_visits.CLINIC and visit.area == "7"
