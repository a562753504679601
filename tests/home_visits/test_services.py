"""The services of a home visit: who asks for whom, the states, the clinic's side, the
audit and the notifications (docs/home-visits.md)."""

import datetime

import pytest

from portal.audit.models import AuditEvent
from portal.home_visits import services
from portal.home_visits.errors import HomeVisitRefused
from portal.home_visits.models import HomeVisit
from portal.notifications.models import Message
from tests.factories import DoctorFactory, GuardianshipFactory, PatientFactory
from tests.home_visits.conftest import valid_data

pytestmark = pytest.mark.django_db

T = datetime.time


def create(actor, patient, **changes):
    return services.visit_create(actor=actor, patient=patient, data=valid_data(**changes), ip=None)


def refusal(call) -> str:
    with pytest.raises(HomeVisitRefused) as caught:
        call()
    return caught.value.code


def test_a_guardian_calls_a_doctor_for_the_child(guardian, child):
    visit = create(guardian, child)
    assert visit.state == "received"
    assert visit.clinic_id == child.clinic_id and visit.area == "5"
    assert visit.applicant == guardian
    assert visit.phone == "+79141234567"
    assert str(visit.temperature) == "38.5"
    event = AuditEvent.objects.get(action="home_visit.requested")
    assert event.patient == child and event.user == guardian


def test_every_verified_guardian_hears_of_every_change(guardian, child, clerk, district_doctor):
    father = PatientFactory(last_name="Иванов", first_name="Иван", sex="M", phone="+79140000000")
    GuardianshipFactory(guardian=father, child=child)
    mother = guardian.patient
    mother.email = "anna@example.org"
    mother.save()
    visit = create(guardian, child)
    kinds = set(Message.objects.filter(recipient=father.pk).values_list("kind", flat=True))
    assert kinds == {"home_visit_received"}
    services.visit_accept(
        actor=clerk,
        visit_id=visit.pk,
        ip=None,
        doctor_id=district_doctor.pk,
        start=T(10),
        end=T(14),
    )
    for recipient in (mother, father):
        message = Message.objects.filter(recipient=recipient, kind="home_visit_assigned").first()
        assert message is not None
        assert "с 10:00 до 14:00" in message.text
    email = Message.objects.get(recipient=mother, kind="home_visit_assigned")
    assert "Педиатрова" in email.text  # the e-mail names the doctor; an SMS does not


def test_one_open_request_per_patient(guardian, child):
    create(guardian, child)
    assert refusal(lambda: create(guardian, child)) == "already_open"


def test_a_new_request_after_the_last_was_cancelled(guardian, child):
    visit = create(guardian, child)
    services.visit_cancel_by_applicant(actor=guardian, visit_id=visit.pk, ip=None)
    assert create(guardian, child).state == "received"


def test_red_flags_stop_the_request_before_anything_is_written(guardian, child):
    assert refusal(lambda: create(guardian, child, red_flags=["convulsions"])) == "red_flag"
    assert not HomeVisit.objects.exists()


def test_a_patient_without_attachment_is_refused(patient):
    record = patient.patient
    record.clinic = None
    record.save()
    assert refusal(lambda: create(patient, record)) == "no_clinic"


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("address", "<script>alert(1)</script>", "address_bad"),
        ("address", "ул", "address_bad"),
        ("address", "д" * 301, "address_bad"),
        ("address", "ул. Ленина\x00, 5", "address_bad"),
        ("intercom", "1' OR 1=1 --", "field_bad"),
        ("intercom", "9" * 21, "field_bad"),
        ("entrance", "<b>", "field_bad"),
        ("floor", "1" * 11, "field_bad"),
        ("phone", "+7 (914) 12", "phone_bad"),
        ("phone", "+7 ٩١٤ ١٢٣ ٤٥ ٦٧", "phone_bad"),
        ("details", "x" * 1001, "details_bad"),
        ("details", "\x1b[31m", "details_bad"),
        ("temperature", "жар", "temperature_bad"),
        ("symptoms", ["fever", "plague"], "symptom_unknown"),
        ("consent", False, "consent_required"),
    ],
)
def test_hostile_input_is_refused_with_its_reason(guardian, child, field, value, code):
    assert refusal(lambda: create(guardian, child, **{field: value})) == code
    assert not HomeVisit.objects.exists()


def test_no_complaint_at_all_is_refused(guardian, child):
    assert refusal(lambda: create(guardian, child, symptoms=[], details="  ")) == (
        "symptoms_required"
    )


def test_the_clerk_accepts_and_assigns_then_marks_visited(guardian, child, clerk, other_doctor):
    visit = create(guardian, child)
    services.visit_accept(actor=clerk, visit_id=visit.pk, ip=None)
    visit.refresh_from_db()
    assert visit.state == "accepted" and visit.handled_by == clerk
    services.visit_assign(
        actor=clerk, visit_id=visit.pk, ip=None, doctor_id=other_doctor.pk, start=T(9), end=T(12)
    )
    services.visit_mark_visited(actor=clerk, visit_id=visit.pk, ip=None)
    visit.refresh_from_db()
    assert visit.state == "visited" and visit.doctor == other_doctor
    actions = set(AuditEvent.objects.filter(user=clerk).values_list("action", flat=True))
    assert {"home_visit.accepted", "home_visit.assigned", "home_visit.visited"} <= actions


def test_a_second_clerk_is_told_who_took_it(guardian, child, clerk, head):
    visit = create(guardian, child)
    services.visit_accept(actor=clerk, visit_id=visit.pk, ip=None)
    with pytest.raises(HomeVisitRefused) as caught:
        services.visit_accept(actor=head, visit_id=visit.pk, ip=None)
    assert caught.value.code == "taken"
    assert clerk.get_full_name() in caught.value.message


def test_another_clinics_clerk_may_not_touch_it(guardian, child, other_clerk):
    visit = create(guardian, child)
    assert refusal(
        lambda: services.visit_accept(actor=other_clerk, visit_id=visit.pk, ip=None)
    ) == ("not_yours")


def test_a_doctor_of_another_clinic_cannot_be_assigned(guardian, child, clerk):
    visit = create(guardian, child)
    stranger_doctor = DoctorFactory()
    code = refusal(
        lambda: services.visit_accept(
            actor=clerk,
            visit_id=visit.pk,
            ip=None,
            doctor_id=stranger_doctor.pk,
            start=T(10),
            end=T(12),
        )
    )
    assert code == "doctor_unknown"
    visit.refresh_from_db()
    assert visit.state == "received"


def test_the_clinic_cancels_with_a_reason_that_reaches_the_family(guardian, child, clerk):
    guardian.patient.email = "anna@example.org"
    guardian.patient.save()
    visit = create(guardian, child)
    assert refusal(
        lambda: services.visit_cancel_by_clinic(actor=clerk, visit_id=visit.pk, ip=None, reason=" ")
    ) == ("reason_required")
    services.visit_cancel_by_clinic(
        actor=clerk, visit_id=visit.pk, ip=None, reason="Пациент госпитализирован"
    )
    visit.refresh_from_db()
    assert visit.cancelled_by == "clinic"
    message = Message.objects.get(recipient=guardian.patient, kind="home_visit_cancelled")
    assert "Пациент госпитализирован" in message.text


def test_the_applicant_may_not_cancel_once_the_doctor_is_on_the_way(
    guardian, child, clerk, district_doctor
):
    visit = create(guardian, child)
    services.visit_accept(
        actor=clerk,
        visit_id=visit.pk,
        ip=None,
        doctor_id=district_doctor.pk,
        start=T(8),
        end=T(9),
    )
    HomeVisit.objects.filter(pk=visit.pk).update(
        day=datetime.date.today() - datetime.timedelta(days=1)
    )
    code = refusal(
        lambda: services.visit_cancel_by_applicant(actor=guardian, visit_id=visit.pk, ip=None)
    )
    assert code == "doctor_on_way"


def test_the_applicant_cancels_before_the_window(guardian, child, clerk, district_doctor):
    visit = create(guardian, child)
    services.visit_accept(
        actor=clerk,
        visit_id=visit.pk,
        ip=None,
        doctor_id=district_doctor.pk,
        start=T(20),
        end=T(21),
    )
    HomeVisit.objects.filter(pk=visit.pk).update(
        day=datetime.date.today() + datetime.timedelta(days=1)
    )
    services.visit_cancel_by_applicant(actor=guardian, visit_id=visit.pk, ip=None, reason="Лучше")
    visit.refresh_from_db()
    assert visit.state == "cancelled" and visit.cancelled_by == "applicant"
    assert (
        refusal(lambda: services.visit_accept(actor=clerk, visit_id=visit.pk, ip=None))
        == "not_open"
    )
