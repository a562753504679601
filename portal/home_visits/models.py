"""Home visits («Вызов врача на дом», docs/home-visits.md): one request per sick patient,
from «received» to «visited» or «cancelled»."""

import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ClinicHomeVisitSettings(models.Model):
    """A clinic's own cut-off hour and working days; no row means the defaults
    (12:00 local, Monday to Friday), see `rules.clinic_settings`."""

    clinic = models.OneToOneField(
        "directory.Clinic",
        verbose_name=_("медицинская организация"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    cutoff_hour = models.PositiveSmallIntegerField(
        _("приём вызовов на сегодня до (час)"), default=12, validators=[MaxValueValidator(23)]
    )
    # ISO weekdays (1 = Monday) on which the clinic's doctors go out, e.g. "123456".
    working_weekdays = models.CharField(
        _("дни выхода на дом"),
        max_length=7,
        default="12345",
        help_text=_("Номера дней недели: 1 — понедельник … 7 — воскресенье, например 123456."),
        validators=[RegexValidator(r"^[1-7]{1,7}$", _("Только цифры от 1 до 7, например 12345."))],
    )

    class Meta:
        verbose_name = _("настройки вызова врача на дом")
        verbose_name_plural = _("настройки вызова врача на дом")

    def __str__(self) -> str:
        return f"{self.clinic_id}: {self.cutoff_hour}:00, {self.working_weekdays}"


class HomeVisit(models.Model):
    class State(models.TextChoices):
        RECEIVED = "received", _("принята")
        ACCEPTED = "accepted", _("принята в работу")
        ASSIGNED = "assigned", _("назначен врач")
        VISITED = "visited", _("врач посетил")
        CANCELLED = "cancelled", _("отменена")

    class CancelledBy(models.TextChoices):
        APPLICANT = "applicant", _("заявителем")
        CLINIC = "clinic", _("поликлиникой")

    OPEN_STATES = (State.RECEIVED, State.ACCEPTED, State.ASSIGNED)

    patient = models.ForeignKey(
        "patients.Patient",
        verbose_name=_("пациент"),
        on_delete=models.PROTECT,
        related_name="home_visits",
    )
    # Who asked: the patient, a guardian, or the clerk who took the call.
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("заявитель"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    by_phone = models.BooleanField(_("принята по телефону"), default=False)
    clinic = models.ForeignKey(
        "directory.Clinic",
        verbose_name=_("медицинская организация"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    area = models.CharField(_("участок"), max_length=20, blank=True)
    day = models.DateField(_("на дату"))
    address = models.CharField(_("адрес"), max_length=300)
    apartment = models.CharField(_("квартира"), max_length=10, blank=True)
    entrance = models.CharField(_("подъезд"), max_length=10, blank=True)
    floor = models.CharField(_("этаж"), max_length=10, blank=True)
    intercom = models.CharField(_("код домофона"), max_length=20, blank=True)
    phone = models.CharField(_("телефон"), max_length=20)
    symptoms = models.JSONField(_("жалобы"), default=list, blank=True)
    temperature = models.DecimalField(
        _("температура"), max_digits=3, decimal_places=1, null=True, blank=True
    )
    details = models.TextField(_("подробности"), max_length=1000, blank=True)
    consent = models.BooleanField(_("согласие на посещение"))
    state = models.CharField(
        _("состояние"), max_length=10, choices=State.choices, default=State.RECEIVED
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("принял(а)"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    doctor = models.ForeignKey(
        "directory.Doctor",
        verbose_name=_("врач"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    window_start = models.TimeField(_("ожидайте с"), null=True, blank=True)
    window_end = models.TimeField(_("ожидайте до"), null=True, blank=True)
    cancelled_by = models.CharField(
        _("кем отменена"), max_length=10, choices=CancelledBy.choices, blank=True
    )
    cancel_reason = models.CharField(_("причина отмены"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("подана"), auto_now_add=True)
    accepted_at = models.DateTimeField(_("принята в работу"), null=True, blank=True)
    assigned_at = models.DateTimeField(_("врач назначен"), null=True, blank=True)
    closed_at = models.DateTimeField(_("закрыта"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("вызов врача на дом")
        verbose_name_plural = _("вызовы врача на дом")
        indexes = [models.Index(fields=["clinic", "day", "state"], name="home_visit_queue")]
        constraints = [
            # The rule «one open request per patient» (rules.open_request_refusal) held by
            # the database too: two tabs submitting at once cannot both write.
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(state__in=["received", "accepted", "assigned"]),
                name="home_visit_one_open_per_patient",
            ),
            models.CheckConstraint(condition=Q(consent=True), name="home_visit_consent_given"),
            models.CheckConstraint(
                condition=~Q(state="assigned")
                | (
                    Q(doctor__isnull=False)
                    & Q(window_start__isnull=False)
                    & Q(window_end__isnull=False)
                ),
                name="home_visit_assigned_has_doctor",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pk}: {self.patient_id} {self.day} {self.state}"

    @property
    def is_open(self) -> bool:
        return self.state in self.OPEN_STATES

    @property
    def window(self) -> tuple[datetime.time, datetime.time] | None:
        if self.window_start is None or self.window_end is None:
            return None
        return (self.window_start, self.window_end)


class EsiaAddresses(models.Model):
    """The registration and actual addresses ESIA gave at the person's last login, to
    offer on the form (docs/home-visits.md). Replaced at every login."""

    patient = models.OneToOneField(
        "patients.Patient",
        verbose_name=_("пациент"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    # [{"kind": "registration" | "actual", "text": str, "flat": str}]
    addresses = models.JSONField(_("адреса из ЕСИА"), default=list, blank=True)
    updated_at = models.DateTimeField(_("обновлено"), auto_now=True)

    class Meta:
        verbose_name = _("адреса из ЕСИА")
        verbose_name_plural = _("адреса из ЕСИА")

    def __str__(self) -> str:
        return f"{self.patient_id}: {len(self.addresses)}"
