"""`manage.py referrals_import`: a clinic's information system's referrals, with the
workspace's checks, all or nothing."""

import pytest
from django.core.management import CommandError, call_command

from portal.patients.models import InsuredPerson
from portal.referrals.models import Referral
from tests.factories import InsuranceCompanyFactory
from tests.referrals.conftest import days_from_today

pytestmark = pytest.mark.django_db
HEADER = "number;policy_number;specialty;clinic;doctor;issued_on;valid_until;reason\n"


@pytest.fixture
def insured(patient):
    own = patient.patient
    return InsuredPerson.objects.create(
        policy_kind="E",
        policy_number=own.policy_number,
        last_name=own.last_name,
        first_name=own.first_name,
        birth_date=own.birth_date,
        sex=own.sex,
        insurer=InsuranceCompanyFactory(),
        clinic=own.clinic,
    )


def run(tmp_path, text, clinic):
    path = tmp_path / "referrals.csv"
    path.write_text(HEADER + text, encoding="utf-8")
    call_command("referrals_import", str(path), clinic=clinic.pk)


def test_an_import_issues_referrals_the_patient_can_book_by(
    tmp_path, patient, insured, neuro, home_clinic
):
    issued = days_from_today(-3).isoformat()
    run(tmp_path, f"MIS-1;{insured.policy_number};{neuro.code};;;{issued};;Мигрень\n", home_clinic)
    referral = Referral.objects.get(number="MIS-1")
    assert referral.patient == patient.patient and referral.entered_by is None
    assert referral.valid_until == days_from_today(27)  # the default counted from issuing
    run(tmp_path, f"MIS-1;{insured.policy_number};{neuro.code};;;{issued};;\n", home_clinic)
    assert Referral.objects.count() == 1  # a re-run adds nothing twice


def test_one_bad_row_writes_nothing_and_names_its_line(
    tmp_path, insured, neuro, home_clinic, capsys
):
    today = days_from_today(0).isoformat()
    rows = (
        f"MIS-2;{insured.policy_number};{neuro.code};;;{today};;\n"
        f"MIS-3;0000000000000000;{neuro.code};;;{today};;\n"
        f"MIS-4;{insured.policy_number};therapist-x;;;{today};;\n"
    )
    with pytest.raises(CommandError):
        run(tmp_path, rows, home_clinic)
    errors = capsys.readouterr().err
    assert "строка 3" in errors and "строка 4" in errors
    assert not Referral.objects.exists()
