"""The waitlist and the offers of a held time (docs/waitlist.md).

An offer's slot is held through the booking service (`scheduling.services.slot_hold`):
these rows say *why* a slot is held and for whom; `Slot.held_for/held_until` is what the
booking rules read.
"""

import datetime
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class TimeOfDay(models.TextChoices):
    """Parts of the day a patient can come, by the slot's local start time."""

    MORNING = "morning", _("утром (до 12:00)")
    AFTERNOON = "afternoon", _("днём (12:00–16:00)")
    EVENING = "evening", _("вечером (после 16:00)")


# Local hours [from, to) of each part of the day.
TIME_BANDS: dict[str, tuple[int, int]] = {
    TimeOfDay.MORNING: (0, 12),
    TimeOfDay.AFTERNOON: (12, 16),
    TimeOfDay.EVENING: (16, 24),
}


def band_of(local: datetime.datetime) -> str:
    return next(band for band, (lo, hi) in TIME_BANDS.items() if lo <= local.hour < hi)


class WaitlistEntry(models.Model):
    class Status(models.TextChoices):
        WAITING = "waiting", _("в очереди")
        OFFERED = "offered", _("время предложено")
        BOOKED = "booked", _("записан")
        LEFT = "left", _("вышел из листа ожидания")
        ENDED = "ended", _("срок ожидания истёк")

    LIVE = (Status.WAITING, Status.OFFERED)

    patient = models.ForeignKey(
        "patients.Patient",
        verbose_name=_("пациент"),
        on_delete=models.PROTECT,
        related_name="waitlist_entries",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("кто поставил в лист ожидания"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    clinic = models.ForeignKey(
        "directory.Clinic", verbose_name=_("медицинская организация"), on_delete=models.PROTECT
    )
    specialty = models.ForeignKey(
        "directory.Specialty", verbose_name=_("специальность"), on_delete=models.PROTECT
    )
    # None: any doctor of the specialty at the clinic.
    doctor = models.ForeignKey(
        "directory.Doctor",
        verbose_name=_("врач"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    date_from = models.DateField(_("с"))
    date_to = models.DateField(_("по (включительно)"))
    # Comma-separated TimeOfDay values; "" means any time.
    times = models.CharField(_("время дня"), max_length=40, blank=True)
    status = models.CharField(
        _("состояние"), max_length=10, choices=Status.choices, default=Status.WAITING
    )
    created_at = models.DateTimeField(_("поставлен в очередь"), auto_now_add=True)
    ended_at = models.DateTimeField(_("завершено"), null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("запись в листе ожидания")
        verbose_name_plural = _("лист ожидания")
        constraints = [
            # One live entry per patient per specialty: the database guarantees it.
            models.UniqueConstraint(
                fields=["patient", "specialty"],
                condition=Q(status__in=["waiting", "offered"]),
                name="waitlist_entry_live_unique",
            ),
            models.CheckConstraint(
                condition=Q(date_to__gte=models.F("date_from")), name="waitlist_entry_dates_order"
            ),
        ]
        indexes = [
            # The matching of a freed slot (docs/waitlist.md): the waiting entries of one
            # clinic and specialty in the order they joined.
            models.Index(
                fields=["clinic", "specialty", "created_at", "id"],
                name="waitlist_entry_queue",
                condition=Q(status__in=["waiting", "offered"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient_id} {self.specialty_id}@{self.clinic_id} {self.status}"

    @property
    def time_bands(self) -> list[str]:
        return [t for t in self.times.split(",") if t]

    @property
    def is_live(self) -> bool:
        return self.status in self.LIVE


class Offer(models.Model):
    class Kind(models.TextChoices):
        REBOOK = "rebook", _("взамен отменённой записи")
        WAITLIST = "waitlist", _("из листа ожидания")
        BALLOT = "ballot", _("по жребию")

    class Status(models.TextChoices):
        OFFERED = "offered", _("предложено")
        TAKEN = "taken", _("принято")
        DECLINED = "declined", _("отклонено")
        EXPIRED = "expired", _("срок истёк")
        WITHDRAWN = "withdrawn", _("отозвано")

    patient = models.ForeignKey(
        "patients.Patient", verbose_name=_("пациент"), on_delete=models.PROTECT, related_name="+"
    )
    slot = models.ForeignKey(
        "scheduling.Slot",
        verbose_name=_("время приёма"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    kind = models.CharField(_("вид"), max_length=10, choices=Kind.choices)
    status = models.CharField(
        _("состояние"), max_length=10, choices=Status.choices, default=Status.OFFERED
    )
    expires_at = models.DateTimeField(_("действует до"))
    entry = models.ForeignKey(
        WaitlistEntry,
        verbose_name=_("запись в листе ожидания"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="offers",
    )
    # A rebook offer replaces this appointment, which the clinic cancelled.
    cancelled = models.ForeignKey(
        "scheduling.Appointment",
        verbose_name=_("отменённая запись"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # The appointment the offer became when taken.
    appointment = models.ForeignKey(
        "scheduling.Appointment",
        verbose_name=_("запись по предложению"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # The booking's idempotency key: a double click on «Записаться» books once.
    key = models.UUIDField(_("ключ идемпотентности"), default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(_("предложено"), auto_now_add=True)
    decided_at = models.DateTimeField(_("решение"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("предложение времени")
        verbose_name_plural = _("предложения времени")
        constraints = [
            # A held slot is offered to one patient at a time (docs/waitlist.md).
            models.UniqueConstraint(
                fields=["slot"], condition=Q(status="offered"), name="offer_live_slot_unique"
            ),
            # An entry has at most one offer out.
            models.UniqueConstraint(
                fields=["entry"], condition=Q(status="offered"), name="offer_live_entry_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["patient", "status"], name="offer_patient_status"),
            models.Index(
                fields=["expires_at"], name="offer_live_expiry", condition=Q(status="offered")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.slot_id} → {self.patient_id} ({self.status})"

    def is_live(self, now: datetime.datetime) -> bool:
        """Offered and not yet expired: readers never wait for the sweep."""
        return self.status == self.Status.OFFERED and self.expires_at > now

    def shown_status(self, now: datetime.datetime) -> str:
        if self.status == self.Status.OFFERED and self.expires_at <= now:
            return str(self.Status.EXPIRED.label)
        return str(self.get_status_display())
