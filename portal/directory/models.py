from django.db import models
from django.utils.translation import gettext_lazy as _


class District(models.Model):
    """A municipality of the region: a city (городской округ) or a district (район)."""

    class Kind(models.TextChoices):
        CITY = "city", _("город")
        DISTRICT = "district", _("район")

    name = models.CharField(_("название"), max_length=120, unique=True)
    kind = models.CharField(_("вид"), max_length=10, choices=Kind.choices)
    # The instruction's Рис. 9 lists the big cities first; keep that order.
    position = models.PositiveIntegerField(_("порядок"), default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("район или город")
        verbose_name_plural = _("районы и города")

    def __str__(self) -> str:
        return self.name


class Clinic(models.Model):
    """A medical organisation (медицинская организация)."""

    class Kind(models.TextChoices):
        ADULT = "adult", _("взрослая")
        CHILDREN = "children", _("детская")
        MIXED = "mixed", _("смешанная")

    district = models.ForeignKey(
        District, verbose_name=_("район"), on_delete=models.PROTECT, related_name="clinics"
    )
    full_name = models.CharField(_("полное наименование"), max_length=300)
    short_name = models.CharField(_("краткое наименование"), max_length=120)
    address = models.CharField(_("адрес"), max_length=300)
    phone = models.CharField(_("телефон"), max_length=40, blank=True)
    # The registry's opening hours as people read them («пн–пт 8:00–20:00, сб 9:00–15:00»);
    # not the doctors' receiving hours, which the schedules hold.
    hours = models.CharField(_("часы работы"), max_length=200, blank=True)
    kind = models.CharField(_("тип"), max_length=10, choices=Kind.choices)

    class Meta:
        ordering = ["short_name"]
        verbose_name = _("медицинская организация")
        verbose_name_plural = _("медицинские организации")

    def __str__(self) -> str:
        return self.short_name


class Specialty(models.Model):
    class Access(models.TextChoices):
        DIRECT = "direct", _("самозапись")
        ATTACHMENT = "attachment", _("только в поликлинике прикрепления")
        REFERRAL = "referral", _("только по направлению")

    class AgeGroup(models.TextChoices):
        CHILDREN = "children", _("дети до 18 лет")
        ADULTS = "adults", _("взрослые")
        ALL = "all", _("все возрасты")

    code = models.SlugField(_("код"), max_length=60, unique=True)
    name = models.CharField(_("название"), max_length=120)
    access = models.CharField(_("порядок записи"), max_length=12, choices=Access.choices)
    age_group = models.CharField(_("возраст пациентов"), max_length=10, choices=AgeGroup.choices)

    class Meta:
        ordering = ["name"]
        verbose_name = _("специальность")
        verbose_name_plural = _("специальности")

    def __str__(self) -> str:
        return self.name


class Doctor(models.Model):
    """A doctor's position at one clinic in one specialty."""

    clinic = models.ForeignKey(
        Clinic, verbose_name=_("организация"), on_delete=models.PROTECT, related_name="doctors"
    )
    specialty = models.ForeignKey(
        Specialty, verbose_name=_("специальность"), on_delete=models.PROTECT, related_name="doctors"
    )
    last_name = models.CharField(_("фамилия"), max_length=80)
    first_name = models.CharField(_("имя"), max_length=80)
    middle_name = models.CharField(_("отчество"), max_length=80, blank=True)
    room = models.CharField(_("кабинет"), max_length=20, blank=True)
    area = models.CharField(_("участок"), max_length=20, blank=True)
    is_active = models.BooleanField(_("ведёт приём"), default=True)

    class Meta:
        ordering = ["last_name", "first_name", "middle_name"]
        verbose_name = _("врач")
        verbose_name_plural = _("врачи")
        indexes = [models.Index(fields=["clinic", "specialty"])]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.last_name, self.first_name, self.middle_name) if p)
