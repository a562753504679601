"""A newly opened day given out by a draw, not by the fastest click (docs/fair-release.md).

A `Ballot` collects `BallotRequest`s for one clinic, specialty and day until the day's
slots open; at that moment one `Draw` (one per ballot, guaranteed by the database) orders
the requests by a secret seed and gives each in turn the earliest acceptable free slot.
The seed, a snapshot of the inputs and every refusal met are kept, so the draw can be
replayed and compared (`release.allocation`).
"""

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Ballot(models.Model):
    class Status(models.TextChoices):
        COLLECTING = "collecting", _("приём заявок")
        DRAWING = "drawing", _("идёт жеребьёвка")
        DRAWN = "drawn", _("жеребьёвка проведена")
        CANCELLED = "cancelled", _("отменена")

    clinic = models.ForeignKey(
        "directory.Clinic", verbose_name=_("медицинская организация"), on_delete=models.PROTECT
    )
    specialty = models.ForeignKey(
        "directory.Specialty", verbose_name=_("специальность"), on_delete=models.PROTECT
    )
    day = models.DateField(_("день приёма"))
    # The moment the day's slots open: requests are taken until then, the draw runs then.
    opens_at = models.DateTimeField(_("открытие записи и жеребьёвка"))
    status = models.CharField(
        _("состояние"), max_length=12, choices=Status.choices, default=Status.COLLECTING
    )
    created_at = models.DateTimeField(_("создана"), auto_now_add=True)

    class Meta:
        ordering = ["opens_at", "pk"]
        verbose_name = _("запись при открытии дня")
        verbose_name_plural = _("записи при открытии дня")
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "specialty", "day"], name="release_ballot_place_day_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.clinic} / {self.specialty} / {self.day}"


class Times(models.TextChoices):
    """When in the day the patient can come (local time; the boundary is noon)."""

    ANY = "any", _("в любое время")
    MORNING = "morning", _("утром, до 12:00")
    AFTERNOON = "afternoon", _("днём, с 12:00")


class BallotRequest(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("ждёт жеребьёвки")
        WITHDRAWN = "withdrawn", _("отозвана")
        WON = "won", _("выпало время, вы записаны")
        LOST = "lost", _("не выпало")
        REFUSED = "refused", _("записать не удалось")

    ballot = models.ForeignKey(
        Ballot, verbose_name=_("жеребьёвка"), on_delete=models.PROTECT, related_name="requests"
    )
    patient = models.ForeignKey(
        "patients.Patient",
        verbose_name=_("пациент"),
        on_delete=models.PROTECT,
        related_name="ballot_requests",
    )
    # Copied from the ballot so "one request per specialty" is a constraint of this table.
    specialty = models.ForeignKey(
        "directory.Specialty", verbose_name=_("специальность"), on_delete=models.PROTECT
    )
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("кто подал"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Empty: any doctor of the ballot's clinic and specialty.
    doctors = models.ManyToManyField(
        "directory.Doctor", verbose_name=_("подходящие врачи"), blank=True, related_name="+"
    )
    times = models.CharField(
        _("подходящее время"), max_length=10, choices=Times.choices, default=Times.ANY
    )
    status = models.CharField(
        _("состояние"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    # 1-based place in the draw's order; set by the draw.
    position = models.PositiveIntegerField(_("место в порядке жеребьёвки"), null=True, blank=True)
    appointment = models.ForeignKey(
        "scheduling.Appointment",
        verbose_name=_("запись на приём"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    refusal = models.CharField(_("причина отказа"), max_length=40, blank=True)
    # How many of the draw's times this request would take (`allocation.fitting`), set by
    # the draw: the result page explains a loss from it instead of parsing the draw's whole
    # inputs on every poll (docs/performance.md). Null for requests decided before it.
    fitting = models.PositiveSmallIntegerField(
        _("подходящих времён в жеребьёвке"), null=True, blank=True
    )
    created_at = models.DateTimeField(_("подана"), auto_now_add=True)
    decided_at = models.DateTimeField(_("решена"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("заявка на запись при открытии дня")
        verbose_name_plural = _("заявки на запись при открытии дня")
        constraints = [
            # One waiting request per patient per specialty, whoever asks and however often.
            models.UniqueConstraint(
                fields=["patient", "specialty"],
                condition=Q(status="pending"),
                name="release_request_one_per_specialty",
            )
        ]

    def __str__(self) -> str:
        return f"{self.patient} → {self.ballot}"


class Draw(models.Model):
    """The one draw of a ballot: its seed, its inputs, its result, kept for replay."""

    # One-to-one: the database refuses a second draw (a second seed) for the same ballot.
    ballot = models.OneToOneField(
        Ballot, verbose_name=_("жеребьёвка"), on_delete=models.PROTECT, related_name="draw"
    )
    seed = models.CharField(_("зерно"), max_length=64)
    inputs = models.JSONField(_("входные данные"))
    # What the draw met while booking, request → slot → refusal code: part of the replay.
    refusals = models.JSONField(_("отказы при записи"), default=list, blank=True)
    # request id → {"position", "slot" | null, "outcome"}: the allocation as made.
    allocation = models.JSONField(_("распределение"), default=dict, blank=True)
    started_at = models.DateTimeField(_("начата"))
    finished_at = models.DateTimeField(_("завершена"), null=True, blank=True)
    # When the losers were put on the waitlist and told (`release.follow_up`, a task the
    # results' commit asks for): until then the result page says the entry is on its way.
    followed_up_at = models.DateTimeField(_("проигравшие обработаны"), null=True, blank=True)
    ran_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("кто запустил"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("проведённая жеребьёвка")
        verbose_name_plural = _("проведённые жеребьёвки")

    def __str__(self) -> str:
        return f"{self.ballot} ({self.fingerprint})"

    @property
    def fingerprint(self) -> str:
        """What a patient is shown: a short digest of the seed, to compare with the
        operator's replay; the seed itself stays with the operator."""
        digest = hashlib.sha256(self.seed.encode()).hexdigest()[:16]  # allocation.seed_digest
        return " ".join(digest[i : i + 4] for i in range(0, 16, 4))
