"""Every refusal of the waitlist and the offers, in one table (texts say what to do).

A booking rule's refusal (age group, attachment, referral, …) keeps the booking
service's own code and text (`scheduling.errors`), so the waitlist says exactly what the
booking would.
"""

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from portal.core.errors import Refused
from portal.scheduling.errors import ERRORS as BOOKING_ERRORS
from portal.scheduling.errors import refusal_text

ERRORS = {
    "already_waiting": _(
        "Пациент уже стоит в листе ожидания к этому специалисту. Измените даты, выйдя из "
        "листа ожидания и встав в него снова, или дождитесь предложения."
    ),
    "waiting_unseen": _(
        "Поставить ребёнка в этот лист ожидания сейчас нельзя: этому мешает запись или лист "
        "ожидания, оформленные другим законным представителем. Свяжитесь с ним или с "
        "регистратурой поликлиники ребёнка."
    ),
    "dates_order": _("Дата «по» раньше даты «с». Укажите даты по порядку."),
    "dates_past": _("Дата «с» уже прошла. Укажите даты начиная с сегодняшнего дня."),
    "dates_too_far": _(
        "Лист ожидания ведётся не дальше чем на %(days)s дней вперёд. Укажите более близкую "
        "дату «по»."
    ),
    "times_unknown": _("Выберите время дня из списка или оставьте все флажки пустыми."),
    "place_unknown": _(
        "В этой медицинской организации нет врачей этой специальности. Выберите другую "
        "специальность или поликлинику."
    ),
    "doctor_unknown": _(
        "Этот врач не ведёт приём по выбранной специальности в этой поликлинике. Выберите "
        "врача из списка или оставьте «любой врач»."
    ),
    "not_yours": _("Нельзя действовать от имени этого пациента."),
    "entry_not_live": _("Эта запись в листе ожидания уже завершена."),
    "offer_expired": _(
        "Срок предложения истёк, и время могли предложить следующему пациенту. Выберите "
        "другое время в разделе «Записаться к врачу»."
    ),
    "offer_not_live": _("На это предложение уже ответили: оно принято или отклонено."),
}


def waitlist_text(code: str) -> str:
    if code in ERRORS:
        return str(ERRORS[code]) % {"days": settings.WAITLIST_MAX_DAYS}
    return refusal_text(code)


class WaitlistRefused(Refused):
    """A rule refused a waitlist or offer action; ``code`` is a key of ERRORS or of the
    booking service's errors (then the booking rule refused)."""

    def __init__(self, code: str) -> None:
        assert code in ERRORS or code in BOOKING_ERRORS, code
        super().__init__(code)

    @classmethod
    def text(cls, code: str) -> str:
        return waitlist_text(code)
