"""Every word the portal sends, in one place (Russian; marked for translation).

An SMS says who, when, where, the room, the ticket number and a link: never the
specialty, a diagnosis, the SNILS or the policy (docs/notifications.md: an SMS is read by
anyone who holds the phone). An e-mail may name the doctor, as the printed ticket does.
"""

import datetime
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from portal.notifications.models import Kind
from portal.patients.models import Patient, Sex
from portal.scheduling.models import Appointment, Slot


@dataclass(frozen=True)
class Content:
    subject: str
    lines: list[str]  # the e-mail, paragraph by paragraph (plain text and HTML alike)
    sms: str

    @property
    def text(self) -> str:
        return "\n\n".join(self.lines)


def portal_link(name: str) -> str:
    return settings.NOTIFICATIONS_PORTAL_URL + reverse(name)


def _who(patient: Patient, recipient: Patient) -> str:
    return _("Вы") if patient.pk == recipient.pk else patient.short_name


def _verb(patient: Patient, recipient: Patient, male: str, female: str, you: str) -> str:
    if patient.pk == recipient.pk:
        return you
    return female if patient.sex == Sex.FEMALE else male


def _greeting(recipient: Patient) -> str:
    name = " ".join(p for p in (recipient.first_name, recipient.middle_name) if p)
    return _("Здравствуйте, %(name)s!") % {"name": name}


def _facts(appointment: Appointment) -> dict[str, str]:
    return {**_slot_facts(appointment.slot), "ticket": appointment.ticket_number}


def _slot_facts(slot: Slot) -> dict[str, str]:
    doctor = slot.doctor
    start = slot.starts_at.astimezone(ZoneInfo(settings.TIME_ZONE))
    return {
        "date": formats.date_format(start, "d.m.Y"),
        "day": formats.date_format(start, "d.m"),
        "weekday": formats.date_format(start, "l").lower(),
        "time": formats.time_format(start, "H:i"),
        "clinic": doctor.clinic.short_name,
        "address": doctor.clinic.address,
        "room": doctor.room or "—",
        "doctor": doctor.full_name,
        "specialty": doctor.specialty.name,
    }


def _visit_lines(facts: dict[str, str]) -> list[str]:
    return [
        _("Когда: %(date)s (%(weekday)s), %(time)s") % facts,
        _("Где: %(clinic)s, %(address)s, кабинет %(room)s") % facts,
        _("Врач: %(specialty)s — %(doctor)s") % facts,
        _("Талон № %(ticket)s") % facts,
    ]


def _sms_visit(facts: dict[str, str]) -> str:
    return _("%(day)s в %(time)s, %(clinic)s, %(address)s, каб. %(room)s, талон %(ticket)s") % facts


def appointment_content(
    kind: str, appointment: Appointment, recipient: Patient, reason: str = ""
) -> Content:
    """What one recipient is told about one event of one appointment."""
    patient = appointment.patient
    own = patient.pk == recipient.pk
    facts = _facts(appointment)
    # Said for a child only: «(Иванова М.И.)»; the patient themselves is «вы».
    whose = "" if own else f" ({patient.short_name})"
    link = portal_link("scheduling:appointment_list")
    if kind == Kind.BOOKED:
        verb = _verb(patient, recipient, _("записан"), _("записана"), _("записаны"))
        who = _who(patient, recipient)
        headline = _("%(who)s %(verb)s к врачу.") % {"who": who, "verb": verb}
        subject = _("Запись к врачу %(day)s в %(time)s") % facts
        sms = _("%(who)s %(verb)s к врачу: %(visit)s. %(link)s") % {
            "who": who,
            "verb": verb,
            "visit": _sms_visit(facts),
            "link": link,
        }
        footer = _("Календарный файл приложен. Отменить запись или распечатать талон: %(link)s")
    elif kind == Kind.CANCELLED_BY_CLINIC:
        headline = _("Поликлиника отменила запись к врачу%(whose)s.") % {"whose": whose}
        subject = _("Поликлиника отменила запись %(day)s в %(time)s") % facts
        sms = _("Поликлиника отменила запись%(whose)s: %(visit)s. Запишитесь снова: %(link)s")
        footer = _("Записаться на другое время: %(link)s")
    elif kind == Kind.CANCELLED:
        headline = _("Запись к врачу отменена%(whose)s.") % {"whose": whose}
        subject = _("Запись %(day)s в %(time)s отменена") % facts
        sms = _("Запись к врачу отменена%(whose)s: %(visit)s. %(link)s")
        footer = _("Время освободилось. Записаться снова: %(link)s")
    else:
        hours = settings.NOTIFICATIONS_SOON_REMINDER_HOURS
        if kind == Kind.REMINDER_EVENING:
            when = _("завтра")
        else:
            when = ngettext("через %(n)s час", "через %(n)s часа", hours) % {"n": hours}
        headline = _("Напоминаем: приём у врача %(when)s%(whose)s.") % {
            "when": when,
            "whose": whose,
        }
        subject = _("Напоминание: приём %(day)s в %(time)s") % facts
        sms = _("Напоминание: приём у врача%(whose)s %(visit)s. Отменить: %(link)s")
        footer = _(
            "Если прийти не получится, отмените запись, чтобы время досталось другим: %(link)s"
        )
    if kind != Kind.BOOKED:
        sms = sms % {"whose": whose, "visit": _sms_visit(facts), "link": link}
    lines = [_greeting(recipient), headline, *_visit_lines(facts)]
    if reason:
        # The clinic's reason goes by e-mail only: free text may say more than an SMS should.
        lines.append(_("Причина: %(reason)s") % {"reason": reason})
    lines.append(footer % {"link": link})
    return Content(subject=subject, lines=lines, sms=sms)


def coming_of_age_content(child: Patient, recipient: Patient, age: int) -> Content:
    birthday = formats.date_format(child.birth_date.replace(year=child.birth_date.year + age))
    facts = {"name": child.short_name, "age": age, "date": birthday}
    headline = (
        _(
            "%(date)s %(name)s исполнится %(age)s лет. С этого дня записаться к врачу "
            "из вашего кабинета будет нельзя: ребёнок регистрируется на портале Госуслуг "
            "и записывается сам. Уже сделанные записи и их история сохранятся."
        )
        % facts
    )
    return Content(
        subject=_("%(name)s скоро %(age)s лет: как записываться к врачу") % facts,
        lines=[_greeting(recipient), headline, portal_link("identity:cabinet")],
        sms=_(
            "%(date)s %(name)s исполнится %(age)s лет: дальше запись к врачу через "
            "свою учётную запись Госуслуг."
        )
        % facts,
    )


def ballot_lost_content(
    patient: Patient, recipient: Patient, clinic: str, day: str, waitlisted: bool
) -> Content:
    """A fair-release draw gave this patient no time (docs/fair-release.md). The winners
    hear of their booking as of any other (`appointment_content`, BOOKED)."""
    whose = "" if patient.pk == recipient.pk else f" ({patient.short_name})"
    facts = {"clinic": clinic, "day": day, "whose": whose}
    headline = (
        _(
            "Жеребьёвка записи на %(day)s в «%(clinic)s» прошла%(whose)s: на этот раз время "
            "приёма не выпало."
        )
        % facts
    )
    then = (
        _("Заявка перенесена в лист ожидания: если время освободится, мы предложим его.")
        if waitlisted
        else _("Свободное после жеребьёвки время можно найти в обычной записи к врачу.")
    )
    link = portal_link("release:home")
    return Content(
        subject=_("Жеребьёвка записи на %(day)s: время не выпало") % facts,
        lines=[_greeting(recipient), headline, then, _("Подробности: %(link)s") % {"link": link}],
        sms=_("Жеребьёвка записи на %(day)s, %(clinic)s%(whose)s: время не выпало. %(link)s")
        % {**facts, "link": link},
    )


def offer_content(
    kind: str, patient: Patient, recipient: Patient, slot: Slot, expires_at: datetime.datetime
) -> Content:
    """A time held for the patient (docs/waitlist.md): what, until when, and where to take it."""
    facts = _slot_facts(slot)
    until = expires_at.astimezone(ZoneInfo(settings.TIME_ZONE))
    facts["until"] = formats.date_format(until, "d.m H:i")
    whose = "" if patient.pk == recipient.pk else f" ({patient.short_name})"
    link = portal_link("waitlist:offer_list")
    if kind == Kind.OFFER_REBOOK:
        headline = _(
            "Взамен отменённой поликлиникой записи%(whose)s для вас придержано другое время."
        ) % {"whose": whose}
        subject = _("Предложено время взамен отменённой записи: %(day)s в %(time)s") % facts
    else:
        headline = _("Освободилось время по листу ожидания%(whose)s, оно придержано для вас.") % {
            "whose": whose
        }
        subject = _("Лист ожидания: освободилось время %(day)s в %(time)s") % facts
    sms = _(
        "Для вас%(whose)s придержано время к врачу: %(day)s в %(time)s, %(clinic)s. "
        "Записаться до %(until)s: %(link)s"
    ) % {**facts, "whose": whose, "link": link}
    lines = [
        _greeting(recipient),
        headline,
        _("Когда: %(date)s (%(weekday)s), %(time)s") % facts,
        _("Где: %(clinic)s, %(address)s, кабинет %(room)s") % facts,
        _("Врач: %(specialty)s — %(doctor)s") % facts,
        _("Время придержано до %(until)s. Записаться одним нажатием или отказаться: %(link)s")
        % {**facts, "link": link},
    ]
    return Content(subject=subject, lines=lines, sms=sms)


# --- referrals (docs/referrals.md) ---------------------------------------------------
# Neither the specialty nor the referral's reason: the number and a link only (an SMS is
# read by whoever holds the phone, and the reason is for the specialist).


def referral_cancelled_content(patient: Patient, number: str, recipient: Patient) -> Content:
    whose = "" if patient.pk == recipient.pk else f" ({patient.short_name})"
    facts = {"number": number, "whose": whose, "link": portal_link("referrals:list")}
    return Content(
        subject=_("Направление № %(number)s отменено") % facts,
        lines=[
            _greeting(recipient),
            _(
                "Поликлиника отменила направление № %(number)s%(whose)s как выданное по "
                "ошибке. Причину и что делать дальше смотрите в разделе «Направления»."
            )
            % facts,
            _("Если по этому направлению уже есть запись, регистратура свяжется с вами."),
            _("Подробности: %(link)s") % facts,
        ],
        sms=_("Направление № %(number)s%(whose)s отменено поликлиникой. %(link)s") % facts,
    )


def referral_expiring_content(
    patient: Patient, number: str, until: datetime.date, recipient: Patient
) -> Content:
    whose = "" if patient.pk == recipient.pk else f" ({patient.short_name})"
    facts = {
        "number": number,
        "whose": whose,
        "date": formats.date_format(until, "d.m.Y"),
        "link": portal_link("referrals:list"),
    }
    return Content(
        subject=_("Направление № %(number)s действует до %(date)s") % facts,
        lines=[
            _greeting(recipient),
            _(
                "Направление № %(number)s%(whose)s действует по %(date)s, и по нему ещё нет "
                "записи. Запишитесь по нему в разделе «Направления»; если свободного "
                "времени нет, встаньте в лист ожидания по направлению."
            )
            % facts,
            facts["link"],
        ],
        sms=_("Направление № %(number)s%(whose)s действует по %(date)s. Записаться: %(link)s")
        % facts,
    )
