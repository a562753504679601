"""The clinic's side: a clerk issues a referral for a patient of the clinic, lists the
clinic's referrals, cancels one issued in error; every staff persona × every page."""

import uuid

import pytest
from django.test import Client
from django.urls import reverse

from portal.patients.models import InsuredPerson
from portal.referrals.models import Referral
from portal.scheduling.services import appointment_book
from tests.factories import InsuranceCompanyFactory
from tests.referrals.conftest import days_from_today
from tests.workspace.conftest import verified_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def registry_child(child):
    """Мария in the registry of insured persons, attached to the guardian's clinic."""
    return InsuredPerson.objects.create(
        policy_kind="E",
        policy_number=child.policy_number,
        policy_series=child.policy_series,
        last_name=child.last_name,
        first_name=child.first_name,
        birth_date=child.birth_date,
        sex=child.sex,
        insurer=InsuranceCompanyFactory(),
        clinic=child.clinic,
    )


def issue_form(neurologist, policy, **extra):
    data = {
        "policy": policy,
        "specialty": neurologist.specialty_id,
        "doctor": neurologist.pk,
        "reason": "Головные боли",
    }
    data.update(extra)
    return data


def test_a_clerk_issues_a_referral_the_parent_then_sees(
    clerk, guardian, child, registry_child, neurologist
):
    browser = verified_client(clerk)
    response = browser.post(
        reverse("referrals:issue"), issue_form(neurologist, registry_child.policy_number)
    )
    assert response.status_code == 302
    referral = Referral.objects.get()
    assert (referral.patient, referral.issuer_clinic, referral.issuer_doctor) == (
        child,
        clerk.clinic,
        neurologist,
    )
    assert referral.valid_until == days_from_today(30)
    listed = browser.get(reverse("referrals:clinic_list")).content.decode()
    assert referral.number in listed


def test_issuing_refuses_clearly_a_patient_of_another_clinic_and_a_bad_date(
    clerk, other_clerk, registry_child, neurologist
):
    browser = verified_client(other_clerk)
    response = browser.get(reverse("referrals:issue"))
    assert response.status_code == 200
    elsewhere = browser.post(
        reverse("referrals:issue"),
        {**issue_form(neurologist, registry_child.policy_number), "doctor": ""},
    )
    assert elsewhere.status_code == 400  # the other clinic's doctor is not a choice
    mine = verified_client(clerk)
    past = mine.post(
        reverse("referrals:issue"),
        issue_form(neurologist, registry_child.policy_number, valid_until=days_from_today(-1)),
    )
    assert past.status_code == 409
    assert "раньше сегодняшнего дня" in past.content.decode()
    unknown = mine.post(reverse("referrals:issue"), issue_form(neurologist, "1234567890123456"))
    assert unknown.status_code == 409
    assert "Пациент не найден" in unknown.content.decode()
    assert not Referral.objects.exists()


def test_a_direct_specialty_needs_no_referral_and_is_refused(clerk, registry_child, neurologist):
    from tests.factories import SpecialtyFactory

    direct = SpecialtyFactory(code="therapist", access="direct")
    response = verified_client(clerk).post(
        reverse("referrals:issue"),
        {**issue_form(neurologist, registry_child.policy_number), "specialty": direct.pk},
    )
    assert response.status_code == 400
    assert not Referral.objects.exists()


def test_cancelling_one_issued_in_error_keeps_a_booked_appointment_flagged(
    clerk, guardian, child, neuro_slot, make_referral
):
    referral = make_referral(child)
    appointment = appointment_book(
        actor=guardian, patient=child, slot_id=neuro_slot.pk, idempotency_key=uuid.uuid4()
    ).appointment
    browser = verified_client(clerk)
    response = browser.post(
        reverse("referrals:cancel", args=[referral.pk]), {"reason": "Выдано по ошибке"}
    )
    assert response.status_code == 302
    referral.refresh_from_db()
    appointment.refresh_from_db()
    assert referral.status == "cancelled" and appointment.status == "booked"
    listed = browser.get(reverse("referrals:clinic_list")).content.decode()
    assert "Отменённые направления с действующей записью" in listed


def test_another_clinics_clerk_cannot_cancel_and_sees_none(other_clerk, child, make_referral):
    referral = make_referral(child)
    browser = verified_client(other_clerk)
    response = browser.post(reverse("referrals:cancel", args=[referral.pk]), {"reason": "Чужое"})
    assert response.status_code == 404
    assert Referral.objects.get(pk=referral.pk).status == "active"
    assert referral.number not in browser.get(reverse("referrals:clinic_list")).content.decode()


def test_a_cancel_without_a_reason_changes_nothing(clerk, child, make_referral):
    referral = make_referral(child)
    verified_client(clerk).post(reverse("referrals:cancel", args=[referral.pk]), {"reason": ""})
    assert Referral.objects.get(pk=referral.pk).status == "active"


# --- every page × every persona -----------------------------------------------------

COLUMNS = (
    "anonymous",
    "patient",
    "guardian",
    "stranger",
    "clerk",
    "other_clerk",
    "head",
    "operator",
)
LOGIN = 302
MATRIX = {
    #                      anon   patient guard. strang. clerk  other  head   oper.
    "referrals:clinic_list": {"GET": (LOGIN, 403, 403, 403, 200, 200, 200, 200)},
    # The operator has no clinic of their own to issue from: told so.
    "referrals:issue": {"GET": (LOGIN, 403, 403, 403, 200, 200, 200, 403),
                        "POST": (LOGIN, 403, 403, 403, 400, 400, 400, 403)},
    # Мария's referral: her clinic's staff and the operator cancel it (the first wins,
    # the others are told it is cancelled already), the other clinic's clerk gets 404.
    "referrals:cancel": {"POST": (LOGIN, 403, 403, 403, 302, 404, 409, 409)},
}  # fmt: skip


def test_every_clinic_page_gives_each_persona_the_expected_status(
    patient, guardian, stranger, clerk, other_clerk, head, operator, child, make_referral
):
    referral = make_referral(child)
    citizens = {"patient": patient, "guardian": guardian, "stranger": stranger}
    staff = {"clerk": clerk, "other_clerk": other_clerk, "head": head, "operator": operator}
    mismatches = []
    for persona in COLUMNS:
        if persona in staff:
            browser = verified_client(staff[persona])
        else:
            browser = Client()
            if persona in citizens:
                browser.force_login(citizens[persona])
        for name, methods in MATRIX.items():
            args = [referral.pk] if name == "referrals:cancel" else []
            url = reverse(name, args=args)
            for method, row in methods.items():
                expected = row[COLUMNS.index(persona)]
                if method == "GET":
                    response = browser.get(url)
                else:
                    response = browser.post(url, {"reason": "Выдано по ошибке"})
                if response.status_code != expected:
                    mismatches.append(f"{method} {url} as {persona}: {response.status_code}")
    assert not mismatches, "\n".join(mismatches)


def test_the_workspace_header_links_to_the_referrals(clerk):
    page = verified_client(clerk).get(reverse("workspace:home")).content.decode()
    assert reverse("referrals:clinic_list") in page
