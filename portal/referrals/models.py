"""The referral («направление»): what makes a referral-only specialty bookable
(docs/referrals.md).

The link to the appointment lives here, on the referral, so the booking area keeps its
tables as they are: a referral names at most one appointment, and a unique constraint
keeps one appointment from being backed by two referrals. "Expired" is not stored: an
active referral whose ``valid_until`` has passed is expired (`rules.referral_state`), so
nothing has to run at midnight for the rule to hold.
"""

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Referral(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("действует")
        USED = "used", _("использовано")
        CANCELLED = "cancelled", _("отменено поликлиникой")

    number = models.CharField(_("номер"), max_length=40, unique=True)
    patient = models.ForeignKey(
        "patients.Patient",
        verbose_name=_("пациент"),
        on_delete=models.PROTECT,
        related_name="referrals",
    )
    specialty = models.ForeignKey(
        "directory.Specialty",
        verbose_name=_("к специалисту"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Empty: any clinic of the region that has the specialty and receives the patient.
    clinic = models.ForeignKey(
        "directory.Clinic",
        verbose_name=_("в поликлинику"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    issuer_clinic = models.ForeignKey(
        "directory.Clinic",
        verbose_name=_("выдала поликлиника"),
        on_delete=models.PROTECT,
        related_name="referrals_issued",
    )
    issuer_doctor = models.ForeignKey(
        "directory.Doctor",
        verbose_name=_("выдал врач"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The clerk who entered it in the workspace; empty for an import.
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("оформил(а)"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    issued_on = models.DateField(_("дата выдачи"))
    valid_until = models.DateField(_("действует по"))
    # For the specialist; never put into an SMS or an e-mail (docs/referrals.md).
    reason = models.CharField(_("причина направления"), max_length=300, blank=True)
    status = models.CharField(
        _("состояние"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    appointment = models.ForeignKey(
        "scheduling.Appointment",
        verbose_name=_("запись"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    used_at = models.DateTimeField(_("использовано"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("отменено"), null=True, blank=True)
    cancel_reason = models.CharField(_("причина отмены"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("создано"), auto_now_add=True)

    class Meta:
        verbose_name = _("направление")
        verbose_name_plural = _("направления")
        ordering = ["valid_until", "pk"]
        indexes = [models.Index(fields=["patient", "status"])]
        constraints = [
            # One appointment is backed by one referral at most; one referral names one
            # appointment at most by its shape, so it can never back two live ones.
            models.UniqueConstraint(
                fields=["appointment"],
                condition=Q(appointment__isnull=False),
                name="referral_one_per_appointment",
            ),
            # Used means "by this appointment"; an active referral backs none.
            models.CheckConstraint(
                condition=~Q(status="used") | Q(appointment__isnull=False),
                name="referral_used_has_appointment",
            ),
            models.CheckConstraint(
                condition=~Q(status="active") | Q(appointment__isnull=True),
                name="referral_active_has_no_appointment",
            ),
            models.CheckConstraint(
                condition=Q(valid_until__gte=models.F("issued_on")),
                name="referral_dates_order",
            ),
        ]

    def __str__(self) -> str:
        return f"№ {self.number}"

    def is_expired_on(self, day: datetime.date) -> bool:
        return self.status == self.Status.ACTIVE and self.valid_until < day
