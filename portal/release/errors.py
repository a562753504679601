"""Every refusal of «Запись при открытии дня», in one table (docs/fair-release.md).

A booking rule's refusal (age, policy, attachment, one per specialty…) is the booking
area's own text (`scheduling.errors`), so the request form says what booking would say.
"""

from django.utils.translation import gettext_lazy as _

from portal.core.errors import Refused
from portal.scheduling.errors import ERRORS as BOOKING_ERRORS
from portal.scheduling.errors import refusal_text as booking_refusal_text

ERRORS = {
    "release_closed": _(
        "Приём заявок на этот день закончился: жеребьёвка уже прошла или идёт. Свободное "
        "после жеребьёвки время можно найти в обычной записи к врачу."
    ),
    "release_one_per_specialty": _(
        "У пациента уже есть заявка к врачу этой специальности на другой день. Отзовите её "
        "на странице «Запись при открытии дня», чтобы подать новую."
    ),
    # What an unverified guardian hears of another guardian's request (selectors.refusal_told).
    "release_conflict_unseen": _(
        "Подать заявку сейчас нельзя: этому мешает заявка, которую подал другой законный "
        "представитель ребёнка. Свяжитесь с ним или с регистратурой поликлиники."
    ),
    "release_bad_doctor": _(
        "Выберите врачей из списка на этой странице: другие врачи в этой жеребьёвке не участвуют."
    ),
    "release_bad_times": _("Выберите подходящее время: утром, днём или в любое время."),
    "release_times_absent": _(
        "В этот день нет приёма в выбранное время. Выберите время из предложенных на этой странице."
    ),
    "release_not_pending": _(
        "Эту заявку уже нельзя отозвать: жеребьёвка прошла или заявка отозвана раньше."
    ),
    "release_no_slots": _(
        "На этот день нет времени, которое ещё не открыто для записи: жеребьёвку не из чего "
        "проводить."
    ),
    "release_not_actable": _(
        "Заявку подал представитель, который больше не может записывать этого пациента."
    ),
    "busy": BOOKING_ERRORS["busy"],
}


class ReleaseRefused(Refused):
    """A rule of the fair release refused; ``code`` is a key of ERRORS or of the booking
    service's errors."""

    @classmethod
    def text(cls, code: str) -> str:
        return refusal_text(code)


def refusal_text(code: str) -> str:
    if code in ERRORS:
        return str(ERRORS[code])
    return booking_refusal_text(code)
