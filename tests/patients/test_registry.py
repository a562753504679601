"""The registry of insured persons: CSV import and the demo loader."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from portal.demo import registry as demo
from portal.demo.personas import birth_date, load_personas
from portal.patients.models import InsuranceCompany, InsuredPerson, PolicyKind, age_on
from tests.factories import born

pytestmark = pytest.mark.django_db

HEADER = (
    "policy_kind;policy_series;policy_number;last_name;first_name;middle_name;"
    "birth_date;sex;insurer_code;insurer_name;clinic;area\n"
)
ANNA_BORN = born(38, 262)
GOOD = f"3;;3801010101010126;Иванова;Анна;Петровна;{ANNA_BORN};F;38001;СОГАЗ-Мед;{{clinic}};5\n"


def _import(tmp_path, body, capsys=None):
    path = tmp_path / "registry.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    call_command("import_insured", str(path))


def test_import_then_reimport_updates_the_same_people(tmp_path, home_clinic):
    _import(tmp_path, GOOD.format(clinic=home_clinic.short_name))
    person = InsuredPerson.objects.get()
    assert (person.clinic, person.area, person.birth_date) == (
        home_clinic,
        "5",
        ANNA_BORN,
    )
    moved = GOOD.format(clinic="").replace(";5\n", ";9\n")
    sokolov = f";3805;123456;Соколов;Николай;;{born(62, 26):%d.%m.%Y};М;38001;;;2\n"
    _import(tmp_path, moved + sokolov)
    assert InsuredPerson.objects.count() == 2
    person.refresh_from_db()
    assert (person.clinic, person.area) == (None, "9")
    assert InsuredPerson.objects.get(policy_series="3805").policy_kind == "1"


def test_every_bad_row_is_reported_by_line_and_nothing_is_imported(tmp_path, capsys, home_clinic):
    rows = (
        GOOD.format(clinic=home_clinic.short_name)
        + f";;3801010101010127;Петров;Пётр;;{born(26)};M;38001;;;\n"  # line 3: control digit
        + f";;123456789;Сидоров;;;{born(-1)};X;38009;;Нет такой;\n"  # line 4: many reasons
        + f";;3801010101010126;Иванова;Анна;;{ANNA_BORN};F;38001;;;\n"  # line 5: repeats line 2
        + f";;987654321;Новый;Пациент;;{born(25)};M;38077;Новая СМО;;\n"  # fine, but not kept
    )
    with pytest.raises(CommandError, match="Регистр не изменён: ошибок — 7"):
        _import(tmp_path, rows)
    errors = capsys.readouterr().err.splitlines()
    assert errors[0].startswith("строка 3: полис: В номере полиса ошибка")
    assert {e.split(":")[0] for e in errors} == {"строка 3", "строка 4", "строка 5"}
    line4 = " ".join(e for e in errors if e.startswith("строка 4"))
    for reason in ("не заполнено поле first_name", "в будущем", "пол должен быть", "«38009»"):
        assert reason in line4
    assert "неизвестная медицинская организация «Нет такой»" in line4
    assert "строка 5: этот полис уже был в строке 2" in errors
    assert not InsuredPerson.objects.exists()
    assert not InsuranceCompany.objects.filter(code="38077").exists()


def test_a_file_with_wrong_columns_is_refused(tmp_path, capsys):
    path = tmp_path / "registry.csv"
    path.write_text("number,surname\n1,2\n", encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("import_insured", str(path))
    assert "строка 1: заголовок: нет столбцов" in capsys.readouterr().err


def test_demo_registry_holds_the_personas_and_is_idempotent(demo_region):
    anna = InsuredPerson.objects.get(policy_number="3801010101010126")
    assert anna.clinic.short_name == "Городская поликлиника № 1" and anna.area == "5"
    assert InsuredPerson.objects.get(policy_number="3806060606060618").area == "11"
    assert InsuredPerson.objects.get(policy_series="3805", policy_number="123456")
    maria = InsuredPerson.objects.get(policy_number="3802020202020212")
    assert maria.clinic.short_name == "Детская поликлиника № 1"
    generated = InsuredPerson.objects.filter(policy_number__startswith=demo.GENERATED_PREFIX)
    assert generated.count() == demo.generated_target(1) == 2000
    before = InsuredPerson.objects.count()
    demo.load(scale=1, log=lambda _: None)
    assert InsuredPerson.objects.count() == before
    assert demo.generated_target(3) == 200_000


def test_demo_registry_holds_the_rare_policies_and_a_child_about_to_turn_14(demo_region):
    today = timezone.localdate()
    kids = {k["key"]: k for k in load_personas()["registry_kids"]}
    old = InsuredPerson.objects.get(policy_series="3805", policy_number="654321")
    temporary = InsuredPerson.objects.get(policy_number="380123456")
    daniil = InsuredPerson.objects.get(policy_number="3808080808080808")
    assert (old.policy_kind, temporary.policy_kind) == (PolicyKind.OLD, PolicyKind.TEMPORARY)
    for person, key in ((old, "alisa"), (temporary, "egor")):
        assert person.birth_date == birth_date(kids[key]) and age_on(person.birth_date, today) < 14
    fourteenth = daniil.birth_date.replace(year=daniil.birth_date.year + 14)
    assert age_on(daniil.birth_date, today) == 13 and 0 < (fourteenth - today).days <= 30


def test_make_run_lists_the_personas_and_the_children_to_type_in():
    out = io.StringIO()
    call_command("demo_personas", stdout=out)
    text = out.getvalue()
    assert "Иванова Анна — Подтверждённая, 38 лет, мама двоих детей" in text
    assert "Кузнецов Артём — Подтверждённый подросток, 15 лет" in text
    assert "серия 3805, номер 654321" in text and "номер 380123456" in text
    assert "Орлов Даниил Игоревич" in text
