from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditAction(models.TextChoices):
    """Every action the journal can hold, with the label a patient reads."""

    LOGIN = "login", _("Вход в личный кабинет через Госуслуги")
    LOGIN_REFUSED = "login_refused", _("Вход через Госуслуги отклонён")
    LOGOUT = "logout", _("Выход из личного кабинета")
    RELATIVE_ADDED = "relative.added", _("Добавлен(а) в список родственников")
    RELATIVE_REMOVED = "relative.removed", _("Удалён(а) из списка родственников")
    ACTING_STARTED = "acting.started", _("Вход в кабинет ребёнка")
    ACTING_ENDED = "acting.ended", _("Возврат из кабинета ребёнка")
    ACCESS_REFUSED = "patient.access_refused", _("Попытка доступа отклонена")
    POLICY_SET = "patient.policy_set", _("Указан полис ОМС")
    APPOINTMENT_BOOKED = "appointment.booked", _("Запись к врачу")
    APPOINTMENT_CANCELLED = "appointment.cancelled", _("Отмена записи к врачу")
    GUARDIANSHIP_CONFIRMED = (
        "guardianship.confirmed",
        _("Законный представитель подтверждён медицинской организацией"),
    )
    GUARDIANSHIP_APPROVED = (
        "guardianship.approved",
        _("Законный представитель подтверждён другим законным представителем"),
    )
    GUARDIANSHIP_REVOKED = (
        "guardianship.revoked",
        _("Доступ законного представителя отозван"),
    )
    APPOINTMENT_CANCELLED_BY_CLINIC = (
        "appointment.cancelled_by_clinic",
        _("Запись отменена медицинской организацией"),
    )
    # The clinic workspace (docs/workspace.md).
    STAFF_LOGIN = "staff.login", _("Вход сотрудника в рабочее место")
    APPOINTMENT_ATTENDED = "appointment.attended", _("Отмечено: приём состоялся")
    APPOINTMENT_NO_SHOW = "appointment.no_show", _("Отмечена неявка на приём")
    APPOINTMENT_ARRIVED = "appointment.arrived", _("Отмечен приход в регистратуру")
    DIRECTORY_CHANGED = "directory.changed", _("Изменён справочник медицинских организаций")
    # «Запись при открытии дня» (docs/fair-release.md).
    RELEASE_REQUESTED = "release.requested", _("Подана заявка на запись при открытии дня")
    RELEASE_WITHDRAWN = "release.withdrawn", _("Заявка на запись при открытии дня отозвана")
    RELEASE_DRAWN = "release.drawn", _("Проведена жеребьёвка записи при открытии дня")
    RELEASE_ALLOCATED = "release.allocated", _("Время приёма выделено по жеребьёвке")
    RELEASE_NOT_ALLOCATED = "release.not_allocated", _("По жеребьёвке время приёма не выпало")
    # The waitlist and offers of a held time (docs/waitlist.md).
    WAITLIST_JOINED = "waitlist.joined", _("Постановка в лист ожидания")
    WAITLIST_LEFT = "waitlist.left", _("Выход из листа ожидания")
    OFFER_MADE = "offer.made", _("Предложено время приёма")
    OFFER_TAKEN = "offer.taken", _("Предложенное время принято")
    OFFER_DECLINED = "offer.declined", _("Предложенное время отклонено")
    OFFER_EXPIRED = "offer.expired", _("Срок предложения времени истёк")
    # The registry of insured persons searched by a clerk (booking by phone).
    REGISTRY_SEARCHED = "registry.searched", _("Поиск в регистре застрахованных")
    # Referrals (docs/referrals.md).
    REFERRAL_ISSUED = "referral.issued", _("Выдано направление")
    REFERRAL_USED = "referral.used", _("Запись по направлению")
    REFERRAL_RETURNED = "referral.returned", _("Направление снова действует после отмены записи")
    REFERRAL_CANCELLED = "referral.cancelled", _("Направление отменено поликлиникой")
    # Home visits (docs/home-visits.md).
    HOME_VISIT_REQUESTED = "home_visit.requested", _("Вызов врача на дом")
    HOME_VISIT_ACCEPTED = "home_visit.accepted", _("Вызов врача на дом принят в работу")
    HOME_VISIT_ASSIGNED = "home_visit.assigned", _("На вызов врача на дом назначен врач")
    HOME_VISIT_VISITED = "home_visit.visited", _("Отмечено: врач посетил на дому")
    HOME_VISIT_CANCELLED = "home_visit.cancelled", _("Вызов врача на дом отменён")


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise PermissionError("Audit events are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("Audit events are append-only")


class AuditEvent(models.Model):
    """Who did what, for whom, when and from where. Append-only."""

    created_at = models.DateTimeField(_("когда"), auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("кто"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    patient = models.ForeignKey(
        "patients.Patient",
        verbose_name=_("для кого"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit_events",
    )
    action = models.CharField(
        _("действие"), max_length=60, choices=AuditAction.choices, db_index=True
    )
    details = models.JSONField(_("подробности"), default=dict, blank=True)
    ip = models.GenericIPAddressField(_("IP-адрес"), null=True, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("событие журнала")
        verbose_name_plural = _("журнал действий")
        indexes = [models.Index(fields=["patient", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionError("Audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("Audit events are append-only")
