"""Fictional ESIA test persons: one source for the ESIA emulator and the demo registry.

The emulator renders ``personas`` and ``kids`` as ESIA REST data (accounts, documents,
the parents' ``kids`` collection); the demo registry of insured persons takes every person
with a ``registry`` entry (policy → insurer, attached clinic, area). ``registry_kids`` are
in the registry only: a parent adds them by typing their data into «Добавить
родственника», which is how the old-format policy, the temporary certificate and the
child about to turn 14 can be tried. Birth and document dates are counted back from the
current week (`portal.demo.dates`), so ages in the titles stay true. No real people.
"""

from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from portal.demo.dates import born, demo_anchor, esia_date, years_after, years_phrase
from portal.patients.models import age_on

INSURERS = [
    {"code": "38001", "name": "АО «Страховая компания «СОГАЗ-Мед»"},
    {"code": "38002", "name": "ООО «Капитал Медицинское Страхование»"},
    {"code": "38003", "name": "ООО «СМК «Ингосстрах-М»"},
]


def _passport(series: str, number: str, issued: date, by: str) -> dict[str, Any]:
    return {
        "type": "RF_PASSPORT",
        "series": series,
        "number": number,
        "issueDate": esia_date(issued),
        "issuedBy": by,
        "vrfStu": "VERIFIED",
    }


def _policy(number: str, series: str = "", vrf: str | None = "NOT_VERIFIED") -> dict[str, Any]:
    doc: dict[str, Any] = {"type": "MDCL_PLCY"}
    if series:
        doc["series"] = series
    doc["number"] = number
    if vrf:
        doc["vrfStu"] = vrf
    return doc


def _birth_certificate(series: str, number: str, issued: date) -> dict[str, Any]:
    return {"type": "BRTH_CERT", "series": series, "number": number, "issueDate": esia_date(issued)}


def _personas(anchor: date) -> list[dict[str, Any]]:
    anna = born(38, 262, anchor)
    ivan = born(41, 90, anchor)
    petrov = born(47, 234, anchor)
    artem = born(15, 205, anchor)
    smirnova = born(54, 305, anchor)
    sokolov = born(62, 26, anchor)
    sonya = born(13, 77, anchor)
    return [
        {
            "key": "anna",
            "oid": "1000320001",
            "title": f"Подтверждённая, {years_phrase(age_on(anna, anchor))}, мама двоих детей",
            "level": "confirmed",
            "lastName": "Иванова",
            "firstName": "Анна",
            "middleName": "Петровна",
            "birthDate": esia_date(anna),
            "gender": "F",
            "birthPlace": "г. Иркутск",
            "snils": "156-301-789 58",
            "inn": "380100000014",
            "contacts": [
                {"type": "EML", "value": "anna.ivanova@example.ru", "vrfStu": "VERIFIED"},
                {"type": "MBT", "value": "+7(914)0000001", "vrfStu": "VERIFIED"},
            ],
            # Registration and actual addresses (ESIA's /addrs): the home-visit form
            # offers both (docs/home-visits.md).
            "addresses": [
                {
                    "type": "PLV",
                    "addressStr": "Иркутская обл., г. Иркутск, ул. Карла Маркса, д. 14",
                    "zipCode": "664003",
                    "house": "14",
                    "flat": "27",
                },
                {
                    "type": "PRG",
                    "addressStr": "Иркутская обл., г. Иркутск, мкр. Юбилейный, д. 9",
                    "zipCode": "664043",
                    "house": "9",
                    "flat": "112",
                },
            ],
            "documents": [
                _passport(
                    "2510", "000001", years_after(anna, 20), "ОУФМС России по Иркутской обл."
                ),
                _policy("3801010101010126"),
            ],
            "kids": ["maria", "petr"],
            "registry": {"insurer": "38001", "clinic": "Городская поликлиника № 1", "area": "5"},
        },
        {
            "key": "ivan",
            "oid": "1000320002",
            "title": "Подтверждённый, отец тех же детей",
            "level": "confirmed",
            "lastName": "Иванов",
            "firstName": "Иван",
            "middleName": "Сергеевич",
            "birthDate": esia_date(ivan),
            "gender": "M",
            "birthPlace": "г. Иркутск",
            "snils": "156-301-790 51",
            "inn": "380100000022",
            "contacts": [
                {"type": "EML", "value": "ivan.ivanov@example.ru", "vrfStu": "VERIFIED"},
                {"type": "MBT", "value": "+7(914)0000002", "vrfStu": "VERIFIED"},
            ],
            "documents": [
                _passport(
                    "2505", "000002", years_after(ivan, 20), "ОВД Кировского р-на г. Иркутска"
                ),
                _policy("3804040404040410"),
            ],
            "kids": ["maria", "petr"],
            "registry": {"insurer": "38002", "clinic": "Городская поликлиника № 1", "area": "5"},
        },
        {
            "key": "petrov",
            "oid": "1000320003",
            "title": "Стандартная учётная запись (вход не разрешён)",
            "level": "standard",
            "lastName": "Петров",
            "firstName": "Сергей",
            "middleName": "Николаевич",
            "birthDate": esia_date(petrov),
            "gender": "M",
            "birthPlace": "г. Ангарск",
            "snils": "156-301-791 52",
            "contacts": [{"type": "EML", "value": "s.petrov@example.ru", "vrfStu": "VERIFIED"}],
            "documents": [
                _passport("2503", "000003", years_after(petrov, 24), "УВД г. Ангарска"),
            ],
            "kids": [],
        },
        {
            "key": "sidorova",
            "oid": "1000320004",
            "title": "Упрощённая учётная запись (вход не разрешён)",
            "level": "simplified",
            "lastName": "Сидорова",
            "firstName": "Ольга",
            "middleName": "",
            "birthDate": "",
            "gender": "F",
            "contacts": [{"type": "MBT", "value": "+7(914)0000004", "vrfStu": "VERIFIED"}],
            "documents": [],
            "kids": [],
        },
        {
            "key": "artem",
            "oid": "1000320005",
            "title": f"Подтверждённый подросток, {years_phrase(age_on(artem, anchor))}",
            "level": "confirmed",
            "lastName": "Кузнецов",
            "firstName": "Артём",
            "middleName": "Дмитриевич",
            "birthDate": esia_date(artem),
            "gender": "M",
            "birthPlace": "г. Иркутск",
            "snils": "156-301-792 53",
            "contacts": [{"type": "MBT", "value": "+7(914)0000005", "vrfStu": "VERIFIED"}],
            "documents": [
                _passport(
                    "2525", "000005", years_after(artem, 14), "ГУ МВД России по Иркутской обл."
                ),
                _policy("3805050505050514"),
            ],
            "kids": [],
            "registry": {"insurer": "38001", "clinic": "Детская поликлиника № 1", "area": "3"},
        },
        {
            "key": "smirnova",
            "oid": "1000320006",
            "title": "Подтверждённая, полиса в Госуслугах нет",
            "level": "confirmed",
            "lastName": "Смирнова",
            "firstName": "Елена",
            "middleName": "Викторовна",
            "birthDate": esia_date(smirnova),
            "gender": "F",
            "birthPlace": "г. Братск",
            "snils": "156-301-793 54",
            "contacts": [
                {"type": "EML", "value": "e.smirnova@example.ru", "vrfStu": "NOT_VERIFIED"}
            ],
            "documents": [
                _passport(
                    "2517", "000006", years_after(smirnova, 45), "ГУ МВД России по Иркутской обл."
                ),
            ],
            "kids": [],
            "registry_policy": {"kind": "3", "series": "", "number": "3806060606060618"},
            "registry": {"insurer": "38003", "clinic": "Городская поликлиника № 2", "area": "11"},
        },
        {
            "key": "sokolov",
            "oid": "1000320007",
            "title": "Подтверждённый, полис старого образца",
            "level": "confirmed",
            "lastName": "Соколов",
            "firstName": "Николай",
            "middleName": "Андреевич",
            "birthDate": esia_date(sokolov),
            "gender": "M",
            "birthPlace": "г. Шелехов",
            "snils": "156-301-794 55",
            "contacts": [{"type": "MBT", "value": "+7(914)0000007", "vrfStu": "VERIFIED"}],
            "documents": [
                _passport(
                    "2509",
                    "000007",
                    years_after(sokolov, 45),
                    "ОУФМС России по Иркутской обл. в г. Шелехове",
                ),
                _policy("123456", series="3805"),
            ],
            "kids": [],
            "registry": {
                "insurer": "38002",
                "clinic": "Шелеховская районная больница",
                "area": "2",
            },
        },
        {
            "key": "sonya",
            "oid": "1000320008",
            "title": (
                f"Детская учётная запись, {years_phrase(age_on(sonya, anchor))} (вход не разрешён)"
            ),
            "level": "child",
            "lastName": "Орлова",
            "firstName": "Софья",
            "middleName": "Игоревна",
            "birthDate": esia_date(sonya),
            "gender": "F",
            "birthPlace": "г. Иркутск",
            "snils": "156-301-797 58",
            "contacts": [{"type": "EML", "value": "sonya.orlova@example.ru", "vrfStu": "VERIFIED"}],
            "documents": [_policy("3807070707070712")],
            "kids": [],
        },
    ]


def _kids(anchor: date) -> list[dict[str, Any]]:
    maria = born(11, 30, anchor)
    petr = born(7, 164, anchor)
    return [
        {
            "key": "maria",
            "id": "7001",
            "lastName": "Иванова",
            "firstName": "Мария",
            "middleName": "Ивановна",
            "birthDate": esia_date(maria),
            "gender": "F",
            "snils": "156-301-795 56",
            "documents": [
                _birth_certificate("II-СТ", "123401", maria + timedelta(days=9)),
                _policy("3802020202020212", vrf=None),
            ],
            "registry": {"insurer": "38001", "clinic": "Детская поликлиника № 1", "area": "7"},
        },
        {
            "key": "petr",
            "id": "7002",
            "lastName": "Иванов",
            "firstName": "Пётр",
            "middleName": "Иванович",
            "birthDate": esia_date(petr),
            "gender": "M",
            "snils": "156-301-796 57",
            "documents": [
                _birth_certificate("III-СТ", "567802", petr + timedelta(days=11)),
                _policy("3803030303030316", vrf=None),
            ],
            "registry": {"insurer": "38001", "clinic": "Детская поликлиника № 1", "area": "7"},
        },
    ]


def _registry_kids(anchor: date) -> list[dict[str, Any]]:
    # Turns 14 in two to three weeks: booking works now and is refused from that day.
    daniil = born(14, -20, anchor)
    return [
        {
            "key": "alisa",
            "title": "полис старого образца (серия и номер)",
            "lastName": "Соколова",
            "firstName": "Алиса",
            "middleName": "Николаевна",
            "birthDate": esia_date(born(6, 120, anchor)),
            "gender": "F",
            "documents": [_policy("654321", series="3805", vrf=None)],
            "registry": {"insurer": "38002", "clinic": "Детская поликлиника № 2", "area": "4"},
        },
        {
            "key": "egor",
            "title": "временное свидетельство (9 цифр)",
            "lastName": "Смирнов",
            "firstName": "Егор",
            "middleName": "Алексеевич",
            "birthDate": esia_date(born(4, 45, anchor)),
            "gender": "M",
            "documents": [_policy("380123456", vrf=None)],
            "registry": {"insurer": "38003", "clinic": "Детская поликлиника № 1", "area": "2"},
        },
        {
            "key": "daniil",
            "title": f"14 лет исполнится {esia_date(years_after(daniil, 14))}",
            "lastName": "Орлов",
            "firstName": "Даниил",
            "middleName": "Игоревич",
            "birthDate": esia_date(daniil),
            "gender": "M",
            "documents": [_policy("3808080808080808", vrf=None)],
            "registry": {"insurer": "38001", "clinic": "Детская поликлиника № 1", "area": "3"},
        },
    ]


@lru_cache(maxsize=2)
def _people(anchor: date) -> dict[str, list[dict[str, Any]]]:
    return {
        "insurers": INSURERS,
        "personas": _personas(anchor),
        "kids": _kids(anchor),
        "registry_kids": _registry_kids(anchor),
    }


def load_personas() -> dict[str, list[dict[str, Any]]]:
    """Insurers, ESIA personas, their kids and the registry-only kids, as of this week."""
    return _people(demo_anchor())


def persona_by_key(key: str) -> dict[str, Any]:
    for persona in load_personas()["personas"]:
        if persona["key"] == key:
            return dict(persona)
    raise KeyError(key)


def kid_by_key(key: str) -> dict[str, Any]:
    for kid in [*load_personas()["kids"], *load_personas()["registry_kids"]]:
        if kid["key"] == key:
            return dict(kid)
    raise KeyError(key)


def birth_date(person: dict[str, Any]) -> date:
    """A person's ``birthDate`` (ESIA's dd.MM.yyyy) as a date."""
    day, month, year = (int(part) for part in person["birthDate"].split("."))
    return date(year, month, day)
