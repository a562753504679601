"""The outbox: one row per message to one address, written in the event's transaction.

A row is the promise that the message goes out; the task queue only says *when* to try.
The states and who moves them are in docs/notifications.md.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    EMAIL = "email", _("электронная почта")
    SMS = "sms", _("SMS")


class Kind(models.TextChoices):
    BOOKED = "booked", _("запись к врачу")
    CANCELLED = "cancelled", _("отмена записи")
    CANCELLED_BY_CLINIC = "cancelled_clinic", _("отмена записи поликлиникой")
    MOVED = "moved", _("перенос записи")
    REMINDER_EVENING = "reminder_evening", _("напоминание накануне")
    REMINDER_SOON = "reminder_soon", _("напоминание в день приёма")
    COMING_OF_AGE = "coming_of_age", _("ребёнку скоро 14 лет")
    BALLOT_LOST = "ballot_lost", _("время по жеребьёвке не выпало")
    # Offers of a held time (docs/waitlist.md).
    OFFER_REBOOK = "offer_rebook", _("предложено время взамен отменённого")
    OFFER_WAITLIST = "offer_waitlist", _("предложено время из листа ожидания")
    # Referrals (docs/referrals.md).
    REFERRAL_CANCELLED = "referral_cancelled", _("направление отменено поликлиникой")
    REFERRAL_EXPIRING = "referral_expiring", _("срок направления скоро истечёт")
    # Home visits (docs/home-visits.md): one kind per state a request reaches.
    HOME_VISIT_RECEIVED = "home_visit_received", _("вызов врача на дом принят")
    HOME_VISIT_ACCEPTED = "home_visit_accepted", _("вызов врача на дом в работе")
    HOME_VISIT_ASSIGNED = "home_visit_assigned", _("на вызов назначен врач")
    HOME_VISIT_VISITED = "home_visit_visited", _("врач посетил на дому")
    HOME_VISIT_CANCELLED = "home_visit_cancelled", _("вызов врача на дом отменён")


REMINDER_KINDS = (Kind.REMINDER_EVENING, Kind.REMINDER_SOON)


class Status(models.TextChoices):
    QUEUED = "queued", _("в очереди")
    SENDING = "sending", _("отправляется")
    SENT = "sent", _("отправлено")
    DELIVERED = "delivered", _("доставлено")
    FAILED = "failed", _("не доставлено")
    SKIPPED = "skipped", _("не отправлено")


class Message(models.Model):
    patient = models.ForeignKey(
        "patients.Patient",
        verbose_name=_("о ком"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    # No index of its own (nor the appointment's): the composite indexes below begin
    # with them, and every index is paid again by each booking's INSERT (issue 25).
    recipient = models.ForeignKey(
        "patients.Patient",
        verbose_name=_("получатель"),
        on_delete=models.PROTECT,
        related_name="notifications_received",
        db_index=False,
    )
    appointment = models.ForeignKey(
        "scheduling.Appointment",
        verbose_name=_("запись на приём"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    channel = models.CharField(_("канал"), max_length=8, choices=Channel.choices)
    kind = models.CharField(_("событие"), max_length=20, choices=Kind.choices)
    # The address as it was when the event happened: a later change of contacts does
    # not redirect a message already promised.
    address = models.CharField(_("адрес"), max_length=254)
    subject = models.CharField(_("тема"), max_length=200, blank=True)
    text = models.TextField(_("текст"))
    status = models.CharField(
        _("состояние"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("попыток"), default=0)
    next_attempt_at = models.DateTimeField(_("следующая попытка"))
    # When the task queue was last asked to run it (None: never, e.g. a reminder that is
    # not due yet). The sweep re-enqueues a due row whose task never came.
    enqueued_for = models.DateTimeField(_("поставлено в очередь на"), null=True, blank=True)
    # On a confirmation (booked, moved): when the appointment's next reminder falls due.
    # The reminder's own rows are written then, not with the booking (issue 25,
    # `reminders.reminders_write`); None once no reminder is left to write.
    reminder_due_at = models.DateTimeField(_("следующее напоминание"), null=True, blank=True)
    # Set while a worker holds it; a worker that died leaves it to expire.
    lease_until = models.DateTimeField(_("занято до"), null=True, blank=True)
    # One row per event, recipient and channel: the same event never becomes two messages
    # (the constraint in Meta: unique=True would add a second, LIKE-only index).
    dedupe_key = models.CharField(_("ключ дедупликации"), max_length=120)
    # SMTP Message-ID or the SMPP message_id of the first part: what the gateway accepted.
    gateway_id = models.CharField(_("идентификатор у шлюза"), max_length=200, blank=True)
    error = models.TextField(_("ошибка"), blank=True)
    created_at = models.DateTimeField(_("создано"), auto_now_add=True)
    sent_at = models.DateTimeField(_("отправлено"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("доставлено"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("уведомление")
        verbose_name_plural = _("уведомления")
        constraints = [
            models.UniqueConstraint(fields=["dedupe_key"], name="notif_message_dedupe_key")
        ]
        indexes = [
            models.Index(
                fields=["status", "next_attempt_at"],
                name="notif_message_due",
                condition=Q(status__in=["queued", "sending"]),
            ),
            models.Index(fields=["recipient", "created_at"], name="notif_message_recipient"),
            models.Index(fields=["appointment", "status"], name="notif_message_appointment"),
            # The reminder job's one read: the few confirmations whose reminder is due.
            models.Index(
                fields=["reminder_due_at"],
                name="notif_message_reminder_due",
                condition=Q(reminder_due_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.address} ({self.get_status_display()})"


class Event(models.Model):
    """An event told to the outbox in its own transaction, turned into messages by the
    first worker that polls (`polling.events_fan_out`): a booking writes this one small
    row instead of a message per recipient and channel (issue 25, docs/notifications.md).
    Deleted once its messages are written."""

    kind = models.CharField(_("событие"), max_length=20, choices=Kind.choices)
    # An event of an appointment that no longer exists has nothing left to tell. No
    # index and no database constraint: the row lives for a moment, is read a handful at a
    # time, and one the worker finds without its appointment is dropped; a constraint's
    # check at commit would be paid by every booking.
    appointment = models.ForeignKey(
        "scheduling.Appointment",
        verbose_name=_("запись на приём"),
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    created_at = models.DateTimeField(_("когда произошло"))

    class Meta:
        verbose_name = _("событие для уведомлений")
        verbose_name_plural = _("события для уведомлений")

    def __str__(self) -> str:
        return f"{self.kind} {self.appointment_id}"


class MessagePart(models.Model):
    """One SMPP message_id: a long SMS is several parts, each with its own receipt.

    A receipt may arrive before the worker has recorded the ids it was given (the SMSC
    answers fast): then the part exists without its message and is linked on record.
    """

    gateway_id = models.CharField(_("message_id SMSC"), max_length=100, unique=True)
    message = models.ForeignKey(
        Message,
        verbose_name=_("уведомление"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="parts",
    )
    state = models.CharField(_("состояние по квитанции"), max_length=20, blank=True)
    updated_at = models.DateTimeField(_("изменено"), auto_now=True)

    class Meta:
        verbose_name = _("часть SMS")
        verbose_name_plural = _("части SMS")

    def __str__(self) -> str:
        return f"{self.gateway_id} {self.state}"


class Preference(models.Model):
    """What a recipient wants; no row means everything on."""

    patient = models.OneToOneField(
        "patients.Patient",
        verbose_name=_("пациент"),
        on_delete=models.CASCADE,
        related_name="notification_preference",
    )
    email_enabled = models.BooleanField(_("по электронной почте"), default=True)
    sms_enabled = models.BooleanField(_("по SMS"), default=True)
    reminders_enabled = models.BooleanField(_("напоминания о приёме"), default=True)
    # When the recipient last opened «Уведомления»: what came later is «новое» in the cabinet.
    seen_until = models.DateTimeField(_("уведомления просмотрены до"), null=True, blank=True)
    updated_at = models.DateTimeField(_("изменено"), auto_now=True)

    class Meta:
        verbose_name = _("настройки уведомлений")
        verbose_name_plural = _("настройки уведомлений")

    def __str__(self) -> str:
        return str(self.patient_id)

    def allows(self, channel: str) -> bool:
        return self.email_enabled if channel == Channel.EMAIL else self.sms_enabled
