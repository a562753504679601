"""Every refusal the booking area can give, in one table.

Each text says what happened and what to do instead. A text may name the age from which a
child books alone, ``%(age)s``: it is filled from settings.CHILD_MAX_AGE, the same number
the rule uses (`patients.rules.child_refusal`), so the two cannot disagree.
"""

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from portal.core.errors import Refused
from portal.patients.errors import PATIENT_ERRORS

ERRORS = {
    **PATIENT_ERRORS,
    "slot_taken": _(
        "Это время уже занято другим пациентом. Выберите другое время — свободные часы "
        "показаны на странице врача."
    ),
    "slot_not_open": _(
        "Запись на это время ещё не открыта. Запись открывается заранее в 07:00 — "
        "вернитесь позже или выберите более близкую дату."
    ),
    "slot_past": _("Это время уже прошло. Выберите другое время."),
    "slot_held": _(
        "Это время сейчас предложено другому пациенту из листа ожидания. Выберите другое "
        "время или вернитесь позже: если предложение не примут, время снова станет свободным."
    ),
    "slot_in_draw": _(
        "Это время распределяется жеребьёвкой «Запись при открытии дня»: кто подал заявку "
        "до открытия, получит время в случайном порядке. Оставшееся время появится в "
        "записи сразу после жеребьёвки."
    ),
    "slot_blocked": _(
        "Врач не ведёт приём в это время (отпуск или болезнь). Выберите другого врача или дату."
    ),
    # The referral rule (`referrals.rules`, docs/referrals.md): the text says where a
    # referral comes from and where the patient will find it.
    "referral_only": _(
        "Запись только по направлению. Направление выдаёт участковый врач (терапевт или "
        "педиатр) в поликлинике прикрепления: запишитесь к нему. Выданное направление "
        "появится в разделе «Направления», и по нему можно будет записаться здесь."
    ),
    "referral_other_clinic": _(
        "Ваше направление к этому специалисту выдано в другую поликлинику. Выберите "
        "поликлинику, указанную в направлении (раздел «Направления»)."
    ),
    "referral_not_usable": _(
        "Выбранное направление уже использовано, отменено или истекло, либо не подходит "
        "к этому врачу. Откройте раздел «Направления» и выберите действующее."
    ),
    "attachment_only": _(
        "Только в поликлинике прикрепления. Запишитесь к врачу своей поликлиники "
        "или прикрепитесь к этой."
    ),
    # The same refusal when the patient's clinic is known: it names where to go instead.
    "attachment_only_named": _(
        "Только в поликлинике прикрепления. Ваша поликлиника — %(clinic)s: запишитесь к "
        "врачу там или прикрепитесь к этой."
    ),
    "no_attachment": _(
        "Вы не прикреплены к поликлинике. Обратитесь в страховую компанию или поликлинику, "
        "чтобы прикрепиться."
    ),
    "children_only": _("Для детей до 18 лет. Выберите специалиста для взрослых."),
    "adults_only": _("Для взрослых (с 18 лет). Выберите детского специалиста."),
    "clinic_children": _("Детская поликлиника принимает только детей до 18 лет."),
    "clinic_adults": _("Поликлиника принимает только взрослых (с 18 лет)."),
    "same_specialty": _(
        "У пациента уже есть предстоящая запись к этому специалисту. Чтобы выбрать другое "
        "время, перенесите её («Перенести» в разделе «Мои записи»)."
    ),
    "overlap": _(
        "На это время у пациента уже есть другая запись. Выберите другое время или отмените "
        "ту запись в разделе «Мои записи»."
    ),
    # What an unverified guardian hears of a conflict with an appointment they may not see
    # (`selectors.refusal_told`): neither its specialty nor its time (docs/security.md).
    "conflict_unseen": _(
        "Записать ребёнка сюда сейчас нельзя: этому мешает запись, которую сделал другой "
        "законный представитель. Свяжитесь с ним или с регистратурой поликлиники ребёнка."
    ),
    "busy": _("Сервис записи сейчас перегружен. Подождите несколько секунд и попробуйте снова."),
    "cancel_too_late": _(
        "Приём уже начался или прошёл — отменить запись нельзя. Позвоните в регистратуру."
    ),
    "cancel_not_active": _("Эта запись уже отменена или закрыта."),
    "reschedule_not_active": _(
        "Эту запись уже нельзя перенести: она отменена или закрыта. Запишитесь заново."
    ),
    "reschedule_too_late": _(
        "Приём уже начался или прошёл — перенести запись нельзя. Позвоните в регистратуру."
    ),
    "reschedule_other_specialty": _(
        "Перенести запись можно только к врачу той же специальности. К другому специалисту "
        "запишитесь отдельно."
    ),
    "reschedule_same_slot": _("Вы уже записаны на это время. Выберите другое время."),
    "attendance_too_early": _(
        "Приём ещё не начался: отметить явку или неявку можно с его начала. "
        "Вернитесь к списку дня после начала приёма."
    ),
    "attendance_not_active": _(
        "Запись отменена: отметить по ней явку нельзя. Если пациент пришёл, запишите его "
        "на свободное время."
    ),
    "clinic_cancel_past": _(
        "Приём уже начался или прошёл — отменить его нельзя. Отметьте, состоялся ли приём."
    ),
    "clinic_cancel_no_reason": _("Укажите причину отмены: её увидит пациент."),
    "clinic_cancel_foreign": _(
        "Это запись в другую медицинскую организацию. Отменить её может только её регистратура."
    ),
    # Check-in at the window (the workspace, docs/workspace.md «The window»).
    "arrival_not_today": _("Отметить приход можно только в день приёма. Проверьте дату в талоне."),
    "arrival_not_active": _(
        "Эта запись отменена или приём уже отмечен — отмечать приход не нужно."
    ),
    # Schedule changes (the workspace, docs/workspace.md «Schedules»).
    "schedule_invalid": _(
        "Правило расписания заполнено неверно. Откройте его снова и исправьте отмеченные поля."
    ),
    "schedule_rule_unknown": _(
        "Такого правила у этого врача нет. Откройте расписание врача и выберите правило снова."
    ),
    "schedule_stale": _(
        "Пока вы смотрели изменения, пациенты записались на время, которое уберёт это "
        "изменение. Посмотрите изменения ещё раз: список отменяемых записей обновлён."
    ),
}


# The refusals that tell of the patient's other appointments (its specialty, its time).
CONFLICT_CODES = frozenset({"same_specialty", "overlap"})


def refusal_text(code: str, *, own_clinic: str = "") -> str:
    """The Russian text of a refusal code, with the age rule's number filled in, and
    the patient's own clinic named where the text sends them there."""
    if code == "attachment_only" and own_clinic:
        return str(ERRORS["attachment_only_named"]) % {"clinic": own_clinic}
    return str(ERRORS[code]) % {"age": settings.CHILD_MAX_AGE}


class BookingRefused(Refused):
    """A booking rule refused the action; ``code`` is a key of ERRORS."""

    @classmethod
    def text(cls, code: str) -> str:
        return refusal_text(code)


def busy() -> BookingRefused:
    """The refusal of a writer whose locks stayed taken (`core.locking`): try again."""
    return BookingRefused("busy")
