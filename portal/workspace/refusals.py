"""The booking service's refusals as staff read them: the patient's texts send a patient to
«Мои записи», which a clerk does not have; the clerk is sent to the patient card."""

from django.utils.translation import gettext_lazy as _

from portal.scheduling.errors import BookingRefused

STAFF_TEXTS = {
    "same_specialty": _(
        "У пациента уже есть предстоящая запись к этому специалисту. Чтобы выбрать другое "
        "время, перенесите её: «Пациенты» → карточка пациента → «Перенести»."
    ),
    "overlap": _(
        "На это время у пациента уже есть другая запись. Выберите другое время или, если "
        "пациент просит, отмените ту запись в его карточке («Пациенты»)."
    ),
}


def staff_message(refusal: BookingRefused) -> str:
    text = STAFF_TEXTS.get(refusal.code)
    return str(text) if text is not None else refusal.message
