import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.encoding import force_str
from django.utils.translation import gettext_lazy as _


class ScheduleRule(models.Model):
    """How a doctor receives: weekdays, hours, slot length, a break, when slots open."""

    doctor = models.ForeignKey(
        "directory.Doctor",
        verbose_name=_("врач"),
        on_delete=models.CASCADE,
        related_name="schedule_rules",
    )
    # ISO weekdays as digits, Monday = 1: "12345" is Monday to Friday.
    weekdays = models.CharField(_("дни недели"), max_length=7, default="12345")
    start_time = models.TimeField(_("начало приёма"), default=datetime.time(8, 0))
    end_time = models.TimeField(_("конец приёма"), default=datetime.time(14, 0))
    break_start = models.TimeField(_("начало перерыва"), null=True, blank=True)
    break_end = models.TimeField(_("конец перерыва"), null=True, blank=True)
    slot_minutes = models.PositiveSmallIntegerField(_("длительность приёма, мин"), default=20)
    days_ahead = models.PositiveSmallIntegerField(_("запись открывается за, дней"), default=14)
    opens_at = models.TimeField(_("время открытия записи"), default=datetime.time(7, 0))
    valid_from = models.DateField(_("действует с"), null=True, blank=True)
    valid_until = models.DateField(_("действует по"), null=True, blank=True)

    class Meta:
        verbose_name = _("правило расписания")
        verbose_name_plural = _("правила расписания")
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__gt=models.F("start_time")), name="schedule_rule_hours_order"
            ),
            models.CheckConstraint(condition=Q(slot_minutes__gte=5), name="schedule_rule_slot_min"),
        ]

    def __str__(self) -> str:
        return f"{self.doctor}: {self.weekdays} {self.start_time:%H:%M}–{self.end_time:%H:%M}"

    def applies_on(self, day: datetime.date) -> bool:
        if str(day.isoweekday()) not in self.weekdays:
            return False
        if self.valid_from and day < self.valid_from:
            return False
        return not (self.valid_until and day > self.valid_until)


class Absence(models.Model):
    """A doctor's vacation or sick leave: blocks the slots it covers."""

    class Kind(models.TextChoices):
        VACATION = "vacation", _("отпуск")
        SICK = "sick", _("больничный")
        TRAINING = "training", _("учёба")
        OTHER = "other", _("другое")

    doctor = models.ForeignKey(
        "directory.Doctor",
        verbose_name=_("врач"),
        on_delete=models.CASCADE,
        related_name="absences",
    )
    kind = models.CharField(_("причина"), max_length=10, choices=Kind.choices)
    starts_on = models.DateField(_("с"))
    ends_on = models.DateField(_("по (включительно)"))

    class Meta:
        verbose_name = _("отсутствие врача")
        verbose_name_plural = _("отсутствия врачей")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="absence_dates_order"
            )
        ]

    def __str__(self) -> str:
        return f"{self.doctor}: {self.get_kind_display()} {self.starts_on}–{self.ends_on}"


class Slot(models.Model):
    class Status(models.TextChoices):
        FREE = "free", _("свободно")
        BOOKED = "booked", _("занято")
        BLOCKED = "blocked", _("закрыто")

    doctor = models.ForeignKey(
        "directory.Doctor", verbose_name=_("врач"), on_delete=models.CASCADE, related_name="slots"
    )
    starts_at = models.DateTimeField(_("начало"))
    ends_at = models.DateTimeField(_("конец"))
    status = models.CharField(
        _("состояние"), max_length=8, choices=Status.choices, default=Status.FREE
    )
    # The moment the slot becomes bookable online (days_ahead before, at opens_at local).
    opens_at = models.DateTimeField(_("открывается для записи"))
    # A free slot offered to one patient (a rebook after an absence, a waitlist offer, a
    # fair-release draw): until ``held_until`` only ``held_for`` may book it and searches
    # do not show it. Written only by the booking service (docs/concurrency.md).
    held_for = models.ForeignKey(
        "patients.Patient",
        verbose_name=_("придержано для"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    held_until = models.DateTimeField(_("придержано до"), null=True, blank=True)

    class Meta:
        ordering = ["starts_at"]
        verbose_name = _("время приёма")
        verbose_name_plural = _("время приёма")
        constraints = [
            # Makes slot generation idempotent (INSERT … ON CONFLICT DO NOTHING).
            models.UniqueConstraint(
                fields=["doctor", "starts_at"], name="slot_doctor_start_unique"
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="slot_times_order"
            ),
        ]
        # No extra index: the unique (doctor, starts_at) index serves every read (a
        # doctor's slots in time order); fewer indexes keep a region's slot load fast.

    def __str__(self) -> str:
        return f"{self.doctor} {self.starts_at:%Y-%m-%d %H:%M}"


class Appointment(models.Model):
    class Status(models.TextChoices):
        BOOKED = "booked", _("записан")
        CANCELLED_PATIENT = "cancelled_patient", _("отменена пациентом")
        CANCELLED_CLINIC = "cancelled_clinic", _("отменена поликлиникой")
        ATTENDED = "attended", _("приём состоялся")
        NO_SHOW = "no_show", _("неявка")

    slot = models.ForeignKey(
        Slot, verbose_name=_("время приёма"), on_delete=models.PROTECT, related_name="appointments"
    )
    patient = models.ForeignKey(
        "patients.Patient",
        verbose_name=_("пациент"),
        on_delete=models.PROTECT,
        related_name="appointments",
    )
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("кто записал"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Copied from the slot so the patient's rules (one per specialty, no overlap)
    # are single-table queries.
    specialty = models.ForeignKey(
        "directory.Specialty", verbose_name=_("специальность"), on_delete=models.PROTECT
    )
    starts_at = models.DateTimeField(_("начало"))
    ends_at = models.DateTimeField(_("конец"))
    status = models.CharField(
        _("состояние"), max_length=20, choices=Status.choices, default=Status.BOOKED
    )
    ticket_number = models.CharField(_("номер талона"), max_length=12, unique=True)
    # The confirmation form's one-time key: a double click finds the first booking.
    idempotency_key = models.UUIDField(_("ключ идемпотентности"))
    created_at = models.DateTimeField(_("создана"), auto_now_add=True)
    cancelled_at = models.DateTimeField(_("отменена"), null=True, blank=True)
    # Why the clinic cancelled: shown to the patient on the ticket.
    # What the patient (or their app, Appointment.comment / reasonCode) said when booking:
    # kept and shown back, never sent by SMS or e-mail.
    # db_default: rows written by raw SQL (the benchmarks' database floor) need no value.
    comment = models.CharField(
        _("комментарий пациента"), max_length=500, blank=True, default="", db_default=""
    )
    reason = models.CharField(
        _("причина обращения"), max_length=300, blank=True, default="", db_default=""
    )
    cancel_reason = models.CharField(_("причина отмены"), max_length=300, blank=True)
    # When the patient checked in at the registry window on the day («Пришёл»); the
    # visit itself is then marked attended or no-show as before.
    arrived_at = models.DateTimeField(_("пришёл"), null=True, blank=True)

    class Meta:
        ordering = ["starts_at"]
        verbose_name = _("запись на приём")
        verbose_name_plural = _("записи на приём")
        constraints = [
            # The database, not only Python, guarantees one active appointment per slot.
            models.UniqueConstraint(
                fields=["slot"],
                condition=Q(status="booked"),
                name="appointment_active_slot_unique",
            ),
            models.UniqueConstraint(
                fields=["booked_by", "idempotency_key"], name="appointment_idempotency_unique"
            ),
        ]
        indexes = [models.Index(fields=["patient", "status", "starts_at"])]

    def __str__(self) -> str:
        return f"{self.ticket_number} {self.patient} {self.starts_at:%Y-%m-%d %H:%M}"

    def get_status_display(self) -> str:  # type: ignore[no-redef]  # django-stubs' own
        """Django's, by the status's own label: Django's rebuilds a dict of every choice on
        each call, 28 µs for each row of «Мои записи» (up to 50 of history)."""
        try:
            return str(self.Status(self.status).label)
        except ValueError:  # not a status (Django's shows the value as it is)
            return force_str(self.status, strings_only=True)

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.BOOKED

    @property
    def is_cancelled(self) -> bool:
        return self.status in (self.Status.CANCELLED_PATIENT, self.Status.CANCELLED_CLINIC)
