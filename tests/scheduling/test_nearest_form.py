"""«Ближайшее свободное время»: the form's markup kept per directory generation is the
markup each patient would get drawn anew."""

import pytest
from django.urls import reverse

from tests.scheduling.conftest import specialty

pytestmark = pytest.mark.django_db

URL = reverse("scheduling:booking_nearest")


def _form(page: str) -> str:
    start = page.index('<form method="get"')
    return page[start : page.index("</form>", start)]


def _specialties(page: str) -> str:
    start = page.index('<select name="specialty"')
    return page[start : page.index("</select>", start)]


def _act_for(client, user, patient):
    client.force_login(user)
    client.post(reverse("patients:acting_switch"), {"patient": patient.pk})


def test_a_child_is_offered_the_childrens_specialties_after_an_adults_form_was_kept(
    client, patient, guardian, child, home_clinic
):
    pediatrician = specialty("Педиатр", "direct", "children")
    therapist = specialty("Терапевт", "direct", "adults")
    place = str(home_clinic.district_id)
    client.force_login(patient)
    adult = _form(client.get(URL).content.decode())
    assert "Терапевт" in adult and "Педиатр" not in adult
    _act_for(client, guardian, child)
    kid = _form(client.get(URL).content.decode())
    assert "Педиатр" in kid and "Терапевт" not in kid
    chosen = client.get(URL, {"specialty": pediatrician.pk, "place": place}).content.decode()
    assert f'<option value="{pediatrician.pk}" selected>' in _specialties(chosen)
    client.force_login(patient)
    again = client.get(URL, {"specialty": therapist.pk, "place": place}).content.decode()
    assert f'<option value="{therapist.pk}" selected>' in _specialties(again)
    assert "Педиатр" not in _form(again)


def test_a_form_with_errors_is_never_served_from_what_was_kept(client, patient, home_clinic):
    therapist = specialty("Терапевт", "direct", "adults")
    place = str(home_clinic.district_id)
    client.force_login(patient)
    valid = client.get(URL, {"specialty": therapist.pk, "place": place}).content.decode()
    assert "errorlist" not in _form(valid)
    wrong = client.get(URL, {"specialty": therapist.pk, "place": "999999"}).content.decode()
    assert "Выберите район или свою поликлинику из списка." in _form(wrong)
    assert 'aria-invalid="true"' in _form(wrong)
    valid_again = client.get(URL, {"specialty": therapist.pk, "place": place}).content.decode()
    assert _form(valid_again) == _form(valid)


def test_a_choice_spelled_otherwise_is_drawn_from_what_was_sent(client, patient, home_clinic):
    """«06» is the specialty 6 for the search, but the form is not the kept one of «6»."""
    therapist = specialty("Терапевт", "direct", "adults")
    place = str(home_clinic.district_id)
    client.force_login(patient)
    canonical = client.get(URL, {"specialty": therapist.pk, "place": place}).content.decode()
    padded = client.get(URL, {"specialty": f"0{therapist.pk}", "place": place}).content.decode()
    assert f'<option value="{therapist.pk}" selected>' in _specialties(canonical)
    assert f'<option value="{therapist.pk}" selected>' not in _specialties(padded)


def test_a_specialty_added_is_offered_on_the_next_page(client, patient):
    client.force_login(patient)
    assert "Гастроэнтеролог" not in _form(client.get(URL).content.decode())
    specialty("Гастроэнтеролог", "direct", "all")
    assert "Гастроэнтеролог" in _form(client.get(URL).content.decode())
