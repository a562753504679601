"""Every refusal of a home visit, in one table (texts say what to do instead)."""

from django.utils.translation import gettext_lazy as _

from portal.core.errors import Refused

ERRORS = {
    "red_flag": _(
        "Эти признаки опасны для жизни: вызов врача на дом не подходит. Звоните сейчас "
        "в скорую помощь: 103 (с мобильного — 112)."
    ),
    "no_clinic": _(
        "Пациент не прикреплён к поликлинике, поэтому вызов некуда передать. Прикрепитесь к "
        "поликлинике по месту жительства или звоните в её регистратуру."
    ),
    "already_open": _(
        "У пациента уже есть действующий вызов врача на дом. Дождитесь врача или отмените "
        "тот вызов, прежде чем подавать новый."
    ),
    "not_open": _("Этот вызов уже завершён или отменён: изменить его нельзя."),
    "doctor_on_way": _(
        "Врач уже в пути: отменить вызов на портале нельзя. Позвоните в регистратуру поликлиники."
    ),
    "taken": _("Вызов уже принял(а) %(who)s."),
    "not_received": _("Вызов уже принят в работу: его нельзя принять ещё раз."),
    "not_accepted": _("Сначала примите вызов в работу, затем назначьте врача."),
    "not_assigned": _("Отметить посещение можно только после того, как назначен врач."),
    "doctor_unknown": _("Выберите врача этой поликлиники из списка."),
    "window_bad": _(
        "Укажите время ожидания врача: начало раньше конца, не больше 6 часов, с 8:00 до 21:00."
    ),
    "reason_required": _("Укажите причину отмены (до 300 символов)."),
    "symptoms_required": _("Отметьте хотя бы одну жалобу или опишите её своими словами."),
    "symptom_unknown": _("Выберите жалобы из списка."),
    "temperature_bad": _("Укажите температуру числом от 34 до 43, например 38,5."),
    "address_bad": _(
        "Укажите адрес: населённый пункт, улицу и дом (от 5 до 300 символов, без служебных "
        "символов)."
    ),
    "field_bad": _(
        "Квартира, подъезд, этаж и код домофона — до 10 символов (код — до 20): буквы, цифры, "
        "пробел, «-», «#», «*», «/»."
    ),
    "phone_bad": _("Укажите телефон для связи: 10 цифр после +7 или 8, например +7 914 123-45-67."),
    "details_bad": _("Опишите жалобы короче: не больше 1000 символов, без служебных символов."),
    "consent_required": _("Без согласия на посещение врач не сможет прийти: отметьте согласие."),
    "not_yours": _("Нельзя подать вызов от имени этого пациента."),
    "busy": _("Вызов сейчас меняет другой сотрудник. Повторите через несколько секунд."),
}


def home_visit_text(code: str, **facts: str) -> str:
    text = str(ERRORS[code])
    return text % facts if facts else text


class HomeVisitRefused(Refused):
    """A rule refused a home-visit action; ``code`` is a key of ERRORS, ``facts`` fill
    its text (who took a request)."""

    def __init__(self, code: str, **facts: str) -> None:
        super().__init__(code)
        self.facts = facts

    @property
    def message(self) -> str:
        return home_visit_text(self.code, **self.facts)

    @classmethod
    def text(cls, code: str) -> str:
        return home_visit_text(code)
