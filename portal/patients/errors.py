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

# Every message adding a relative or one's own policy can give (one rule, one text).
RELATIVE_ERRORS = {
    "busy": _(
        "Сервис сейчас перегружен: ребёнок не добавлен. Подождите несколько секунд и "
        "отправьте форму снова."
    ),
    "birth_future": _("Дата рождения не может быть в будущем. Проверьте дату."),
    "too_old": _(
        "Ребёнку уже исполнилось %(age)s лет. Добавить можно только ребёнка до %(age)s лет: "
        "с %(age)s лет он может сам зарегистрироваться на портале Госуслуг."
    ),
    "relation_sex": _(
        "Статус «%(relation)s» не совпадает с полом «%(sex)s». Проверьте пол или статус."
    ),
    "policy_format": _(
        "Номер полиса нового образца — 16 цифр, временного свидетельства — 9 цифр. "
        "Для полиса старого образца заполните и серию, и номер."
    ),
    "policy_digits": _("Номер полиса нового образца и временного свидетельства — только цифры."),
    "enp_control": _(
        "В номере полиса ошибка: не сходится контрольная (последняя) цифра. "
        "Сверьте все 16 цифр с полисом."
    ),
    "old_series": _("Серия полиса старого образца — не длиннее 10 символов."),
    # One message for "no such policy" and "the person does not match": a different
    # answer would tell someone guessing numbers which policies exist.
    "registry_mismatch": _(
        "Полис не найден в регистре застрахованных лиц или данные ребёнка не совпадают "
        "с ним. Введите фамилию, имя, отчество и дату рождения точно как в полисе и "
        "проверьте серию и номер. Если всё верно, обратитесь в страховую компанию."
    ),
    "sex_missing": _("Укажите пол и статус ребёнка."),
    "registry_sex": _("Пол не совпадает с данными полиса. Проверьте пол."),
    "own_policy": _("Это ваш собственный полис. Укажите полис ребёнка."),
    "duplicate": _("Этот ребёнок уже есть в вашем списке родственников."),
    "guardian_minor": _(
        "Добавить ребёнка может только совершеннолетний (с %(age)s лет), если в ваших "
        "Госуслугах этот ребёнок не указан среди детей. Обратитесь в поликлинику "
        "прикрепления ребёнка с документами, подтверждающими родство или опеку."
    ),
    "revoked": _(
        "Другой законный представитель этого ребёнка отозвал ваш доступ. Чтобы снова "
        "добавить ребёнка, обратитесь в поликлинику прикрепления ребёнка с документами, "
        "подтверждающими родство или опеку."
    ),
    "too_many_guardians": _(
        "У этого ребёнка на портале уже максимальное число законных представителей "
        "(%(max)s). Если кто-то из них добавлен по ошибке, обратитесь в поликлинику "
        "прикрепления ребёнка."
    ),
    "own_registry_mismatch": _(
        "Полис не найден в регистре застрахованных лиц или ваши фамилия, имя, отчество "
        "и дата рождения в Госуслугах не совпадают с ним. Проверьте серию и номер; если "
        "всё верно, обратитесь в страховую компанию."
    ),
    "own_policy_taken": _(
        "Этот полис уже указан в другой учётной записи. Обратитесь в службу поддержки портала."
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
