"""Every refusal of the referrals area, in one table (the booking's own referral refusals
are in `scheduling.errors`, where the booking rule names them)."""

from django.utils.translation import gettext_lazy as _

from portal.core.errors import Refused

ERRORS = {
    "patient_unknown": _(
        "Пациент не найден среди пациентов вашей поликлиники. Найдите его в регистре "
        "застрахованных и проверьте прикрепление."
    ),
    "specialty_direct": _(
        "К этому специалисту записываются без направления. Выберите специалиста, к которому "
        "нужна запись по направлению."
    ),
    "specialty_age": _("Направление к этому специалисту не подходит пациенту по возрасту."),
    "clinic_lacks_specialty": _(
        "В выбранной поликлинике нет такого специалиста. Выберите другую поликлинику или "
        "оставьте «любая поликлиника»."
    ),
    "doctor_foreign": _(
        "Выберите врача вашей поликлиники, от имени которого выдаётся направление."
    ),
    "issued_future": _("Дата выдачи направления не может быть позже сегодняшнего дня."),
    "valid_until_past": _("Срок действия не может закончиться раньше сегодняшнего дня."),
    "valid_until_far": _("Направление действует не больше года. Укажите более близкую дату."),
    "number_taken": _("Направление с таким номером уже есть. Проверьте номер."),
    "not_yours": _("Это направление выдала другая поликлиника: отменить его может только она."),
    "not_found": _("Направление не найдено."),
    "already_cancelled": _("Направление уже отменено."),
    "cancel_no_reason": _("Укажите причину отмены: её прочтёт пациент."),
}


class ReferralRefused(Refused):
    """A referral write refused with a code of ERRORS (a clear Russian text, a 4xx)."""

    @classmethod
    def text(cls, code: str) -> str:
        return str(ERRORS[code])
