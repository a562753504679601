"""Issue 27, point 8: «№» is never split from its number on a page (docs/accessibility.md,
«Typography»). The stored names keep their ordinary space; pages show a no-break one."""

import pytest
from django.test import Client

from portal.core.typography import join_numero, join_numero_html
from tests.factories import ClinicFactory, DistrictFactory, DoctorFactory

NBSP = "\u00a0"


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("Детская поликлиника № 1", f"Детская поликлиника №{NBSP}1"),
        ("Талон №  12-0345", f"Талон №{NBSP}12-0345"),  # two spaces become one
        ("участок №\n5", f"участок №{NBSP}5"),
        ("№123 и №\u00a07", "№123 и №\u00a07"),  # already joined: as is
        ("№ 2, № 11", f"№{NBSP}2, №{NBSP}11"),
        ("Номер без знака 5", "Номер без знака 5"),
    ],
)
def test_the_sign_is_joined_to_what_follows_it(typed, shown):
    assert join_numero(typed) == shown


def test_a_page_joins_text_but_never_an_attribute_a_textarea_or_a_script():
    html = (
        '<p title="№ 1">Поликлиника № 1</p>'
        '<input name="short_name" value="Поликлиника № 1">'
        "<textarea>Поликлиника № 2</textarea><script>var s = '№ 3';</script>"
        "<td>№ </td><td>№ <b>4</b></td>"
    )
    assert join_numero_html(html) == (
        f'<p title="№ 1">Поликлиника №{NBSP}1</p>'
        '<input name="short_name" value="Поликлиника № 1">'
        "<textarea>Поликлиника № 2</textarea><script>var s = '№ 3';</script>"
        "<td>№ </td><td>№ <b>4</b></td>"
    )


@pytest.mark.django_db
def test_a_district_page_shows_each_clinic_with_its_number_joined(client: Client):
    district = DistrictFactory(name="г. Иркутск")
    for name in ("Детская поликлиника № 1", "Детская поликлиника № 11"):
        ClinicFactory(district=district, short_name=name)
    html = client.get(f"/districts/{district.pk}/").content.decode()
    assert f"Детская поликлиника №{NBSP}1<" in html
    assert f"Детская поликлиника №{NBSP}11<" in html
    assert "№ 1" not in html and "№ 11" not in html


@pytest.mark.django_db
def test_search_results_and_the_clinic_page_join_it_too(client: Client):
    clinic = ClinicFactory(short_name="Детская поликлиника № 5", full_name="ОГБУЗ «ДП № 5»")
    DoctorFactory(clinic=clinic, area="7")
    found = client.get("/search/", {"q": "детская"})
    page = client.get(f"/clinics/{clinic.pk}/")
    for response in (found, page):
        html = response.content.decode()
        assert f"Детская поликлиника №{NBSP}5" in html
        assert "№ 5" not in html
        # The length the browser is told is the length of what it is sent.
        assert int(response["Content-Length"]) == len(response.content)


@pytest.mark.django_db
def test_the_stored_name_and_the_api_keep_the_ordinary_space(client: Client):
    clinic = ClinicFactory(short_name="ГП № 3", full_name="Городская поликлиника № 3")
    client.get(f"/clinics/{clinic.pk}/")
    clinic.refresh_from_db()
    assert clinic.full_name == "Городская поликлиника № 3"
    # What other systems read is the data, not a page.
    organization = client.get(f"/fhir/Organization/{clinic.pk}")
    assert organization.json()["name"] == "Городская поликлиника № 3"


def test_a_page_that_cannot_be_read_as_its_charset_is_sent_as_it_was():
    from django.http import HttpRequest, HttpResponse

    from portal.core.middleware import NumeroJoinMiddleware

    def answer(content: bytes) -> HttpResponse:
        return NumeroJoinMiddleware(lambda request: HttpResponse(content))(HttpRequest())

    broken = "№ 1".encode() + b"\xff"
    assert answer(broken).content == broken
    assert answer("№ 1".encode()).content == "№\u00a01".encode()
