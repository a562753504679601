from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


def age_on(birth: date, day: date) -> int:
    """Full years on ``day`` (a birthday counts from the day itself)."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


class Sex(models.TextChoices):
    MALE = "M", _("Мужской")
    FEMALE = "F", _("Женский")


class PolicyKind(models.TextChoices):
    # Classifier F008 of the federal OMS fund.
    OLD = "1", _("полис старого образца")
    TEMPORARY = "2", _("временное свидетельство")
    UNIFIED = "3", _("единый номер полиса (ЕНП)")


class InsuranceCompany(models.Model):
    """A health insurance company (страховая медицинская организация, СМО)."""

    code = models.CharField(_("код"), max_length=20, unique=True)
    name = models.CharField(_("наименование"), max_length=200)

    class Meta:
        ordering = ["name"]
        verbose_name = _("страховая медицинская организация")
        verbose_name_plural = _("страховые медицинские организации")

    def __str__(self) -> str:
        return self.name


class InsuredPerson(models.Model):
    """One row of the registry of insured persons (local mirror of the ЕРЗ)."""

    policy_kind = models.CharField(_("вид полиса"), max_length=1, choices=PolicyKind.choices)
    policy_series = models.CharField(_("серия полиса"), max_length=10, blank=True)
    policy_number = models.CharField(_("номер полиса"), max_length=16)
    last_name = models.CharField(_("фамилия"), max_length=80)
    first_name = models.CharField(_("имя"), max_length=80)
    middle_name = models.CharField(_("отчество"), max_length=80, blank=True)
    birth_date = models.DateField(_("дата рождения"))
    sex = models.CharField(_("пол"), max_length=1, choices=Sex.choices)
    insurer = models.ForeignKey(
        InsuranceCompany, verbose_name=_("СМО"), on_delete=models.PROTECT, related_name="+"
    )
    clinic = models.ForeignKey(
        "directory.Clinic",
        verbose_name=_("поликлиника прикрепления"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    area = models.CharField(_("участок"), max_length=20, blank=True)
    updated_at = models.DateTimeField(_("обновлено"), auto_now=True)

    class Meta:
        verbose_name = _("застрахованное лицо")
        verbose_name_plural = _("регистр застрахованных лиц")
        constraints = [
            models.UniqueConstraint(
                fields=["policy_series", "policy_number"], name="insured_policy_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.last_name} {self.first_name} {self.middle_name}".strip()


class Patient(models.Model):
    """A person the portal books for: an ESIA account holder or a child of one."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("учётная запись"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="patient",
    )
    esia_oid = models.CharField(_("OID в ЕСИА"), max_length=32, unique=True, null=True, blank=True)
    last_name = models.CharField(_("фамилия"), max_length=80)
    first_name = models.CharField(_("имя"), max_length=80)
    middle_name = models.CharField(_("отчество"), max_length=80, blank=True)
    birth_date = models.DateField(_("дата рождения"))
    sex = models.CharField(_("пол"), max_length=1, choices=Sex.choices)
    snils = models.CharField(_("СНИЛС"), max_length=14, blank=True)
    email = models.EmailField(_("электронная почта"), blank=True)
    phone = models.CharField(_("мобильный телефон"), max_length=20, blank=True)
    policy_kind = models.CharField(
        _("вид полиса"), max_length=1, choices=PolicyKind.choices, blank=True
    )
    policy_series = models.CharField(_("серия полиса"), max_length=10, blank=True)
    policy_number = models.CharField(_("номер полиса"), max_length=16, blank=True)
    insurer = models.ForeignKey(
        InsuranceCompany,
        verbose_name=_("СМО"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    clinic = models.ForeignKey(
        "directory.Clinic",
        verbose_name=_("поликлиника прикрепления"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="attached_patients",
    )
    area = models.CharField(_("участок"), max_length=20, blank=True)
    # The children ESIA lists for this account holder, as of the last login, for
    # one-click adding. A list of dicts: id, last_name, first_name, middle_name,
    # birth_date (ISO), sex (M/F), snils, policy_kind, policy_series, policy_number.
    esia_kids = models.JSONField(_("дети в ЕСИА"), default=list, blank=True)
    created_at = models.DateTimeField(_("создан"), auto_now_add=True)
    updated_at = models.DateTimeField(_("изменён"), auto_now=True)

    class Meta:
        verbose_name = _("пациент")
        verbose_name_plural = _("пациенты")
        indexes = [models.Index(fields=["policy_series", "policy_number"])]
        constraints = [
            # Both parents hold the same child record: one account-less patient per policy.
            models.UniqueConstraint(
                fields=["policy_series", "policy_number"],
                condition=Q(user__isnull=True) & ~Q(policy_number=""),
                name="patient_child_policy_unique",
            )
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.last_name, self.first_name, self.middle_name) if p)

    def age_on(self, day: date) -> int:
        return age_on(self.birth_date, day)

    @property
    def short_name(self) -> str:
        """«Иванова М.И.» as in the instruction's Рис. 9."""
        initials = "".join(f"{p[0]}." for p in (self.first_name, self.middle_name) if p)
        return f"{self.last_name} {initials}".strip()


class Guardianship(models.Model):
    """A guardian (an account holder) may act for a child patient."""

    class Relation(models.TextChoices):
        SON = "son", _("Сын")
        DAUGHTER = "daughter", _("Дочь")

    class Source(models.TextChoices):
        MANUAL = "manual", _("добавлен вручную")
        ESIA = "esia", _("из Госуслуг")

    class Verification(models.TextChoices):
        # docs/domain.md, «Relatives»: how a guardianship became trusted.
        ESIA = "esia", _("ребёнок указан в Госуслугах законного представителя")
        CLINIC = "clinic", _("подтверждено медицинской организацией")
        GUARDIAN = "guardian", _("подтверждено другим законным представителем")

    class EndReason(models.TextChoices):
        REMOVED = "removed", _("удалён самим законным представителем")
        REVOKED = "revoked", _("доступ отозван другим законным представителем")

    guardian = models.ForeignKey(
        Patient,
        verbose_name=_("законный представитель"),
        on_delete=models.PROTECT,
        related_name="wards",
    )
    child = models.ForeignKey(
        Patient, verbose_name=_("ребёнок"), on_delete=models.PROTECT, related_name="guardians"
    )
    relation = models.CharField(_("вид родства"), max_length=10, choices=Relation.choices)
    source = models.CharField(_("источник"), max_length=10, choices=Source.choices)
    created_at = models.DateTimeField(_("добавлен"), auto_now_add=True)
    # Unverified (verified_at empty) until ESIA lists the child for this guardian, a
    # clinic confirms it or a verified guardian approves it; until then the guardian
    # sees and changes only what they did themselves (patients.selectors.actable_by).
    verified_at = models.DateTimeField(_("подтверждено"), null=True, blank=True)
    verified_how = models.CharField(
        _("как подтверждено"), max_length=10, choices=Verification.choices, blank=True
    )
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("кем подтверждено"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Removing a relative ends the guardianship; the row stays for history.
    ended_at = models.DateTimeField(_("прекращено"), null=True, blank=True)
    end_reason = models.CharField(
        _("причина прекращения"), max_length=10, choices=EndReason.choices, blank=True
    )
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("кем прекращено"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("родственная связь")
        verbose_name_plural = _("родственные связи")
        constraints = [
            models.UniqueConstraint(
                fields=["guardian", "child"],
                condition=Q(ended_at__isnull=True),
                name="guardianship_active_unique",
            ),
            models.CheckConstraint(
                condition=~Q(guardian=models.F("child")), name="guardianship_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.guardian} → {self.child} ({self.get_relation_display()})"

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None
