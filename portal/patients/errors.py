"""The refusals about the patient themself (`patients.rules`), and the guardianship's.

A text may name the age from which a child books alone, ``%(age)s``: it is filled from
settings.CHILD_MAX_AGE, the same number the rule uses, so the two cannot disagree. The
booking service's table (`scheduling.errors`) includes these, so the cabinet and the
booking say the same.
"""

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from portal.core.errors import Refused

PATIENT_ERRORS = {
    "child_too_old": _(
        "Ребёнку уже исполнилось %(age)s лет: записаться к врачу от имени ребёнка больше "
        "нельзя. С %(age)s лет он записывается сам через свою учётную запись на Госуслугах. "
        "История записей остаётся доступной."
    ),
    "no_policy": _(
        "Не указан полис ОМС: без него записаться к врачу нельзя. Укажите номер полиса "
        "в разделе «Личные данные»."
    ),
}

GUARDIANSHIP_ERRORS = {
    "guardianship_not_yours": _(
        "Решать о доступе к кабинету ребёнка может только подтверждённый законный "
        "представитель этого ребёнка."
    ),
}


def patient_refusal_text(code: str) -> str:
    return str(PATIENT_ERRORS[code]) % {"age": settings.CHILD_MAX_AGE}


class GuardianshipRefused(Refused):
    """The actor may not confirm, approve or revoke this guardianship (pages answer 404:
    whose guardianship an id is reveals nothing)."""

    def __init__(self, code: str = "guardianship_not_yours") -> None:
        super().__init__(code)

    @classmethod
    def text(cls, code: str) -> str:
        return str(GUARDIANSHIP_ERRORS[code])
