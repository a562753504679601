"""Every word the portal sends, in one place (Russian; marked for translation).

An SMS says who, when, where, the room, the ticket number and a link: never the
specialty, a diagnosis, the SNILS or the policy (docs/notifications.md: an SMS is read by
anyone who holds the phone). An e-mail may name the doctor, as the printed ticket does.
"""

import datetime
import functools
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.urls import get_script_prefix, reverse
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


def portal_link(name: str, *args: int) -> str:
    """A link into the portal, whichever URLconf the caller runs under (the development
    page of the ESIA emulator's origin shows the reminders to come with their texts)."""
    return settings.NOTIFICATIONS_PORTAL_URL + _portal_path(get_script_prefix(), name, args)


@functools.lru_cache(maxsize=4096)
def _portal_path(prefix: str, name: str, args: tuple[int, ...]) -> str:
    """`reverse` is pure for a given prefix, name and arguments, and cost a draw's 450
    losers' messages a fifth of the draw (docs/performance.md): asked once per link."""
    return reverse(name, urlconf="portal.urls", args=args or None)


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


def _sms_visit(facts: dict[str, str], *, ticket: bool = True) -> str:
    """When and where, for an SMS. No street address: it is on the ticket behind the link,
    and the SMS stays within two parts; the clinic comes last, so if the SMS must be
    shortened its end goes first (`sms_fit`). A cancelled visit needs no ticket number."""
    if not ticket:
        return _("%(day)s %(time)s, каб. %(room)s, %(clinic)s") % facts
    return _("%(day)s %(time)s, талон %(ticket)s, каб. %(room)s, %(clinic)s") % facts


# Cyrillic goes as UCS-2: 70 characters in one SMS, 67 in each part of a longer one.
SMS_PART_ONE, SMS_PART_MANY, SMS_MAX_PARTS = 70, 67, 2


def sms_parts(text: str) -> int:
    """How many SMS parts ``text`` takes in UCS-2 (UTF-16 code units)."""
    units = len(text.encode("utf-16-le")) // 2
    return 1 if units <= SMS_PART_ONE else -(-units // SMS_PART_MANY)


def sms_first_fitting(*variants: str) -> str:
    """The most detailed variant that fits SMS_MAX_PARTS parts, else the last one fitted."""
    for text in variants:
        if sms_parts(text) <= SMS_MAX_PARTS:
            return text
    return sms_fit(variants[-1])


def sms_fit(text: str) -> str:
    """The SMS within SMS_MAX_PARTS parts: the words before its link are shortened
    (ending with «…») and the link, the one thing the reader must have whole, is kept."""
    if sms_parts(text) <= SMS_MAX_PARTS:
        return text
    budget = SMS_PART_MANY * SMS_MAX_PARTS
    head, sep, link = text.rpartition(" http")
    if not sep:
        head, link = text, ""
    tail = f" http{link}" if sep else ""
    room = budget - len(tail.encode("utf-16-le")) // 2 - 1
    return head[: max(0, room)].rstrip(" ,.") + "…" + tail


def appointment_content(
    kind: str, appointment: Appointment, recipient: Patient, reason: str = ""
) -> Content:
    """What one recipient is told about one event of one appointment."""
    patient = appointment.patient
    own = patient.pk == recipient.pk
    facts = _facts(appointment)
    # Said for a child only: «(Иванова М.И.)»; the patient themselves is «вы».
    whose = "" if own else f" ({patient.short_name})"
    # The ticket itself (it says «отменена» once cancelled), not the list of appointments.
    link = portal_link("scheduling:appointment_ticket", appointment.pk)
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
        sms = _("Поликлиника отменила запись%(whose)s: %(visit)s. %(link)s")
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
        sms = _("Напоминаем: приём%(whose)s %(visit)s. %(link)s")
        footer = _(
            "Если прийти не получится, отмените запись, чтобы время досталось другим: %(link)s"
        )
    if kind != Kind.BOOKED:
        cancelled = kind in (Kind.CANCELLED, Kind.CANCELLED_BY_CLINIC)
        told = {"whose": whose, "visit": _sms_visit(facts, ticket=not cancelled), "link": link}
        if kind == Kind.CANCELLED_BY_CLINIC and reason:
            # The reason if the SMS still fits two parts with it (without the child's
            # name if need be: the ticket behind the link names her), else without it.
            because = _("Приём%(whose)s отменён (%(reason)s): %(visit)s. %(link)s")
            sms = sms_first_fitting(
                because % {**told, "reason": reason},
                because % {**told, "reason": reason, "whose": ""},
                sms % told,
            )
        else:
            sms = sms % told
    lines = [_greeting(recipient), headline, *_visit_lines(facts)]
    if reason:
        # The clinic's reason is what the patient asks first; the staff write it for the
        # patient to read (docs/notifications.md), so the SMS carries it too, shortened
        # by `sms_fit` if it must be.
        lines.append(_("Причина: %(reason)s") % {"reason": reason})
    lines.append(footer % {"link": link})
    return Content(subject=subject, lines=lines, sms=sms)


def moved_content(old: Appointment, new: Appointment, recipient: Patient) -> Content:
    """One message for one move: the old time and the new one, the new ticket's link."""
    patient = new.patient
    before, after = _facts(old), _facts(new)
    whose = "" if patient.pk == recipient.pk else f" ({patient.short_name})"
    link = portal_link("scheduling:appointment_ticket", new.pk)
    moved = {"whose": whose, "from": _when(before), "to": _when(after)}
    headline = _("Запись к врачу%(whose)s перенесена с %(from)s на %(to)s.") % moved
    subject = _("Запись перенесена на %(day)s в %(time)s") % after
    # No address: the clinic and room are the same or told on the ticket, and the message
    # stays within two SMS parts (docs/notifications.md, «SMS length»).
    sms = _(
        "Запись%(whose)s перенесена с %(from)s на %(day)s %(time)s, "
        "каб. %(room)s, %(clinic)s. %(link)s"
    ) % {**after, "whose": whose, "from": f"{before['day']} {before['time']}", "link": link}
    lines = [
        _greeting(recipient),
        headline,
        *_visit_lines(after),
        _("Прежнее время отменено, напоминания придут о новом. Талон: %(link)s") % {"link": link},
    ]
    return Content(subject=subject, lines=lines, sms=sms)


def _when(facts: dict[str, str]) -> str:
    return _("%(date)s (%(weekday)s), %(time)s") % facts


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


def coming_of_age_own_content(child: Patient, age: int) -> Content:
    """The same news for a child who has an account of their own (a region may let
    Gosuslugi accounts in before CHILD_MAX_AGE: ESIA_MIN_AGE)."""
    birthday = formats.date_format(child.birth_date.replace(year=child.birth_date.year + age))
    facts = {"age": age, "date": birthday}
    return Content(
        subject=_("Вам скоро %(age)s лет: как записываться к врачу") % facts,
        lines=[
            _greeting(child),
            _(
                "%(date)s вам исполнится %(age)s лет. С этого дня вы записываетесь к врачу "
                "сами, через свою учётную запись Госуслуг; родители записывать вас из своего "
                "кабинета больше не смогут. Уже сделанные записи сохранятся."
            )
            % facts,
            portal_link("identity:cabinet"),
        ],
        sms=_("%(date)s вам %(age)s лет: дальше записывайтесь к врачу сами, через Госуслуги.")
        % facts,
    )


def ballot_lost_content(
    patient: Patient,
    recipient: Patient,
    clinic: str,
    day: str,
    waitlisted: bool,
    *,
    none_fit: bool = False,
) -> Content:
    """A fair-release draw gave this patient no time (docs/fair-release.md), and why. The
    winners hear of their booking as of any other (`appointment_content`, BOOKED)."""
    whose = "" if patient.pk == recipient.pk else f" ({patient.short_name})"
    facts = {"clinic": clinic, "day": day, "whose": whose}
    headline = (
        _(
            "Жеребьёвка записи на %(day)s в «%(clinic)s» прошла%(whose)s: на этот раз время "
            "приёма не выпало."
        )
        % facts
    )
    why = (
        _("В этот день у выбранных врачей не было приёма в выбранное время.")
        if none_fit
        else _("Всё подходящее время досталось заявкам, которые жеребьёвка поставила раньше.")
    )
    then = (
        _("Заявка перенесена в лист ожидания: если время освободится, мы предложим его.")
        if waitlisted
        else _("Свободное после жеребьёвки время можно найти в обычной записи к врачу.")
    )
    link = portal_link("release:home")
    return Content(
        subject=_("Жеребьёвка записи на %(day)s: время не выпало") % facts,
        lines=[
            _greeting(recipient),
            headline,
            why,
            then,
            _("Подробности: %(link)s") % {"link": link},
        ],
        sms=_("Жеребьёвка записи на %(day)s, %(clinic)s%(whose)s: время не выпало. %(link)s")
        % {**facts, "link": link},
    )


def offer_content(
    kind: str,
    patient: Patient,
    recipient: Patient,
    slot: Slot,
    expires_at: datetime.datetime,
    *,
    offer_id: int | None = None,
    cancelled: Appointment | None = None,
) -> Content:
    """A time held for the patient (docs/waitlist.md): what, until when, and where to take
    it. For a rebook, the clinic's cancellation and its reason are in the same message
    (issue 27: one message per event, not «отменена, запишитесь снова» and an offer)."""
    facts = _slot_facts(slot)
    until = expires_at.astimezone(ZoneInfo(settings.TIME_ZONE))
    facts["until"] = formats.date_format(until, "d.m H:i")
    whose = "" if patient.pk == recipient.pk else f" ({patient.short_name})"
    link = portal_link("waitlist:offer_list") + (f"#offer-{offer_id}" if offer_id else "")
    before: list[str] = []
    sms_variants: list[str] = []  # the cancellation's part of the SMS, most detailed first
    if kind == Kind.OFFER_REBOOK and cancelled is not None:
        old = _facts(cancelled)
        reason = cancelled.cancel_reason
        headline = _(
            "Поликлиника отменила запись к врачу%(whose)s на %(date)s, %(time)s. Взамен для "
            "вас придержано другое время."
        ) % {**old, "whose": whose}
        if reason:
            before.append(_("Причина отмены: %(reason)s") % {"reason": reason})
        # Short: the e-mail says it in full; the SMS must keep the reason and the deadline.
        # Short: the e-mail says it in full; the SMS keeps the reason and the deadline
        # before the child's name, and the clinic is the same one (a rebook never moves).
        by_clinic = _("Приём%(whose)s %(day)s %(time)s отменён поликлиникой. ")
        because = _("Приём%(whose)s %(day)s %(time)s отменён (%(reason)s). ")
        sms_variants = (
            [
                because % {**old, "whose": whose, "reason": reason},
                because % {**old, "whose": "", "reason": reason},
            ]
            if reason
            else []
        )
        sms_variants += [by_clinic % {**old, "whose": whose}, by_clinic % {**old, "whose": ""}]
        subject = _("Запись отменена, взамен предложено %(day)s в %(time)s") % facts
    elif kind == Kind.OFFER_REBOOK:
        headline = _(
            "Взамен отменённой поликлиникой записи%(whose)s для вас придержано другое время."
        ) % {"whose": whose}
        subject = _("Предложено время взамен отменённой записи: %(day)s в %(time)s") % facts
    else:
        headline = _("Освободилось время по листу ожидания%(whose)s, оно придержано для вас.") % {
            "whose": whose
        }
        subject = _("Лист ожидания: освободилось время %(day)s в %(time)s") % facts
    held = {**facts, "link": link}
    sms = (
        sms_first_fitting(
            *(
                sms_before
                + _("Взамен придержано %(day)s %(time)s, ответ до %(until)s: %(link)s") % held
                for sms_before in sms_variants
            ),
        )
        if sms_variants
        else _(
            "Для вас%(whose)s придержано время к врачу: %(day)s в %(time)s до %(until)s, "
            "%(clinic)s: %(link)s"
        )
        % {**held, "whose": whose}
    )
    lines = [
        _greeting(recipient),
        headline,
        *before,
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
