"""Reads of the outbox: who receives what, and what a patient sees of it."""

import datetime
import functools

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from portal.core.compiled import CompiledQuery
from portal.identity.models import User
from portal.notifications.models import Channel, Message, Preference
from portal.patients.models import Patient
from portal.scheduling.models import Appointment


def recipients_for(patient: Patient, booked_by_id: int | None = None) -> list[Patient]:
    """Who hears about ``patient``'s appointments: the patient if they hold an account,
    otherwise every verified active guardian and the guardian who booked.

    An unverified guardian sees only what they did themselves (docs/domain.md,
    «Relatives»), so they hear of their own bookings and not of the other parents'.
    The patient themselves costs no query (the booking has the row); guardians come in
    one query with their preferences.
    """
    if patient.user_id is not None:
        return [patient]
    # One filter() call, so all three conditions apply to the same guardianship row.
    rows = Patient.objects.filter(
        Q(wards__verified_at__isnull=False) | Q(user_id=booked_by_id),
        wards__child_id=patient.pk,
        wards__ended_at__isnull=True,
    )
    return list(rows.select_related("notification_preference").distinct().order_by("pk"))


def preference_known(patient: Patient) -> Preference:
    """The preferences if they were loaded with the patient, else "everything on".

    Used while writing inside the booking, where a query per booking counts: rows for
    a channel the patient turned off are written and then skipped at send time, where
    `delivery.send_time_check` reads the preferences again (they may change meanwhile).
    """
    if Patient.notification_preference.is_cached(patient):
        return preference_of(patient)
    return _everything_on()


@functools.cache
def _everything_on() -> Preference:
    """The defaults, one unsaved instance shared by every caller of `preference_known`
    (read, never saved): building one per booking cost a tenth of the outbox's share of
    it (docs/performance.md)."""
    return Preference()


def preference_of(patient: Patient) -> Preference:
    """The saved preferences, or the defaults (everything on) for someone who never chose."""
    try:
        return patient.notification_preference
    except Preference.DoesNotExist:
        return Preference(patient=patient)


def sms_number(phone: str) -> str:
    """ESIA's «+7(999)1234567» as the digits an SMSC takes; "" if it is not a mobile number."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    if len(digits) == 11 and digits[0] == "8":
        digits = "7" + digits[1:]
    return digits if len(digits) == 11 and digits.startswith("79") else ""


def addresses_of(
    patient: Patient, preference: Preference, sms_enabled: bool
) -> list[tuple[str, str]]:
    """(channel, address) pairs a message to ``patient`` goes to, preferences applied."""
    pairs = []
    if patient.email and preference.email_enabled:
        pairs.append((Channel.EMAIL.value, patient.email))
    number = sms_number(patient.phone)
    if sms_enabled and number and preference.sms_enabled:
        pairs.append((Channel.SMS.value, number))
    return pairs


def messages_for_user(user: User) -> QuerySet[Message]:
    """What the «Уведомления» page lists: every message addressed to the user's own
    record, which covers their own appointments and those of the children they act for."""
    return (
        Message.objects.filter(recipient__user=user)
        .select_related("patient", "appointment")
        .order_by("-next_attempt_at", "-pk")
    )


def confirmations_with_reminders(rows: QuerySet[Message]) -> QuerySet[Message]:
    """The confirmations among ``rows`` whose appointment, still booked, has reminders to
    come: their rows are written when due (`reminders`), so a page that lists what is
    planned builds them from these (`reminders.reminders_planned`)."""
    return rows.filter(
        reminder_due_at__isnull=False, appointment__status=Appointment.Status.BOOKED
    ).select_related(
        "recipient",
        "patient",
        "appointment__patient",
        "appointment__slot__doctor__clinic",
        "appointment__slot__doctor__specialty",
    )


_SEEN_UNTIL = "recipient__notification_preference__seen_until"


def messages_unread(own_id: int, about_id: int, now: datetime.datetime) -> QuerySet[Message]:
    """**What is new** in «Уведомления»: messages to the user's own record (``own_id``,
    as `messages_for_user`) about ``about_id``, due by ``now`` (a reminder counts once it
    is due) and created after the user last opened the list (no preference row, or none
    seen yet: all). Counted below; the cabinet looks whether there are any."""
    return Message.objects.filter(
        Q(**{f"{_SEEN_UNTIL}__isnull": True}) | Q(created_at__gt=F(_SEEN_UNTIL)),
        recipient_id=own_id,
        patient_id=about_id,
        next_attempt_at__lte=now,
    )


def _unread_keys(
    own_id: int, about_id: int, now: datetime.datetime
) -> QuerySet[Message, tuple[str]]:
    rows = messages_unread(own_id, about_id, now).order_by("-next_attempt_at", "-pk")
    return rows.values_list("dedupe_key")[:200]


_UNREAD_KEYS = CompiledQuery(_unread_keys)


def unread_count(own: Patient, about: Patient) -> int:
    """Events about ``about`` told to ``own``'s user since they last opened «Уведомления»
    (the same event by e-mail and SMS counts once)."""
    keys = _UNREAD_KEYS.rows(own.pk, about.pk, timezone.now())
    return len({key.rsplit(":", 1)[0] for (key,) in keys})


def dev_messages(limit: int = 200) -> QuerySet[Message]:
    """The development page's list: the newest rows of the whole outbox."""
    return Message.objects.select_related("patient", "recipient").order_by("-pk")[:limit]


def dev_confirmations_with_reminders(limit: int = 200) -> QuerySet[Message]:
    """The development page's reminders to come: the newest confirmations that lead to
    some (`reminders.reminders_planned` turns them into the rows to be written)."""
    return confirmations_with_reminders(Message.objects.order_by("-pk"))[:limit]
