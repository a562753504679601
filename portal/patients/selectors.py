"""Reads about patients, and the one place that decides who may act for whom."""

from datetime import date

from django.conf import settings
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from portal.patients.models import Guardianship, InsuredPerson, Patient

ACTING_SESSION_KEY = "acting_patient_id"


def patient_of_user(user) -> Patient | None:
    if not user.is_authenticated:
        return None
    return Patient.objects.filter(user=user).select_related("insurer", "clinic").first()


def patients_actable_by(user) -> QuerySet[Patient]:
    """The user's own patient record and every child under an active guardianship."""
    if not user.is_authenticated:
        return Patient.objects.none()
    return Patient.objects.filter(
        Q(user=user) | Q(guardians__guardian__user=user, guardians__ended_at__isnull=True)
    ).distinct()


def patient_ids_actable_by(user) -> list[int]:
    """Ids of the same patients as ``patients_actable_by``, in two index lookups.

    List pages filter by these ids: cheaper to plan and compile than the OR-join.
    """
    if not user.is_authenticated:
        return []
    own = Patient.objects.filter(user=user).values_list("pk", flat=True).first()
    if own is None:
        return []
    children = Guardianship.objects.filter(guardian_id=own, ended_at__isnull=True)
    return [own, *children.values_list("child_id", flat=True)]


def patient_get_for_user(user, patient_id: int, *, request: HttpRequest | None = None) -> Patient:
    """Fetch a patient the user may act for, or 404 (never reveal that it exists).

    A refusal is written to the audit journal: a guessed id in a URL is exactly
    what the journal is for. The event names the patient only if the id exists,
    so the patient's guardians see the attempt in «Кто действовал от моего имени».
    """
    patient = (
        patients_actable_by(user).select_related("insurer", "clinic").filter(pk=patient_id).first()
    )
    if patient is None:
        # Imported here: audit depends on patients, not the other way round.
        from portal.audit.models import AuditAction
        from portal.audit.services import audit_record
        from portal.core.http import client_ip
        from portal.core.ratelimits import refusal_already_recorded

        target = Patient.objects.filter(pk=patient_id).first()
        if target is not None and refusal_already_recorded(user.pk, target.pk):
            raise Http404  # one row per prober and patient per hour (docs/security.md)
        audit_record(
            AuditAction.ACCESS_REFUSED,
            actor=user,
            ip=client_ip(request),
            patient=target,
            patient_id=patient_id,
            path=request.path if request is not None else "",
        )
        raise Http404
    return patient


def children_of(guardian: Patient) -> QuerySet[Patient]:
    return Patient.objects.filter(
        guardians__guardian=guardian, guardians__ended_at__isnull=True
    ).order_by("birth_date")


def active_guardianships(guardian: Patient) -> QuerySet[Guardianship]:
    return (
        Guardianship.objects.filter(guardian=guardian, ended_at__isnull=True)
        .select_related("child")
        .order_by("child__birth_date")
    )


_UNSET = object()


def own_patient(request: HttpRequest) -> Patient | None:
    """The logged-in user's own record, fetched once per request."""
    cached = getattr(request, "_own_patient", _UNSET)
    if cached is _UNSET:
        cached = patient_of_user(request.user)
        request._own_patient = cached  # type: ignore[attr-defined]
    return cached  # type: ignore[return-value]


def acting_patient(request: HttpRequest) -> Patient | None:
    """The patient the cabinet currently acts for: a chosen child, else the user.

    Re-checked on every request (and only once per request: the decorator, the
    context processor and the view all ask): a guardianship that has ended since
    the child was chosen silently falls back to the user's own record.
    """
    cached = getattr(request, "_acting_patient", _UNSET)
    if cached is _UNSET:
        cached = _resolve_acting_patient(request)
        request._acting_patient = cached  # type: ignore[attr-defined]
    return cached  # type: ignore[return-value]


def forget_acting_patient(request: HttpRequest) -> None:
    """Drop the per-request memo after the session's choice has changed."""
    request.__dict__.pop("_acting_patient", None)


def _resolve_acting_patient(request: HttpRequest) -> Patient | None:
    own = own_patient(request)
    if own is None:
        return None
    chosen = request.session.get(ACTING_SESSION_KEY)
    if chosen and chosen != own.pk:
        child = (
            patients_actable_by(request.user)
            .select_related("insurer", "clinic")
            .filter(pk=chosen)
            .first()
        )
        if child is not None:
            return child
        request.session.pop(ACTING_SESSION_KEY, None)
    return own


def today_local() -> date:
    return timezone.localdate()


def is_over_child_age(patient: Patient, today: date | None = None) -> bool:
    """True once the patient has turned settings.CHILD_MAX_AGE (14 by default)."""
    return patient.age_on(today or today_local()) >= settings.CHILD_MAX_AGE


def patient_booking_refusal(user_patient: Patient | None, acting: Patient | None) -> str | None:
    """Why the cabinet may not book for ``acting`` now, or None if it may.

    A guardian books for a child only while the child is under 14: from 14 the
    child registers on Gosuslugi and books for themselves (DESIGN §4). A patient
    booking for themselves is never refused here.
    """
    if user_patient is None or acting is None:
        return _("Войдите в личный кабинет, чтобы записаться к врачу.")
    if acting.pk == user_patient.pk:
        return None
    if is_over_child_age(acting):
        return _(
            "%(name)s уже исполнилось %(age)s лет: записаться к врачу от имени ребёнка "
            "больше нельзя. С %(age)s лет можно зарегистрироваться на портале Госуслуг "
            "и записываться самостоятельно. История записей остаётся доступной."
        ) % {"name": acting.short_name, "age": settings.CHILD_MAX_AGE}
    return None


def relatives_of(guardian: Patient) -> list[dict]:
    """The relatives list of Рис. 8, with the «turned 14» flag for each child."""
    today = today_local()
    return [
        {
            "guardianship": g,
            "child": g.child,
            "over_age": is_over_child_age(g.child, today),
        }
        for g in active_guardianships(guardian).select_related("child__insurer", "child__clinic")
    ]


def esia_kids_offer(guardian: Patient) -> list[dict]:
    """The children ESIA listed at the last login and not yet in the relatives list."""
    held = {(c.policy_series, c.policy_number) for c in children_of(guardian) if c.policy_number}
    offer = []
    for kid in guardian.esia_kids or []:
        if not isinstance(kid, dict) or not kid.get("id"):
            continue
        key = (kid.get("policy_series") or "", kid.get("policy_number") or "")
        if key in held:
            continue
        offer.append(kid)
    return offer


def registry_person_by_policy(series: str, number: str) -> InsuredPerson | None:
    return (
        InsuredPerson.objects.select_related("insurer", "clinic")
        .filter(policy_series=series, policy_number=number)
        .first()
    )


# What the journal says for each action; unknown actions are shown by their code.
JOURNAL_ACTIONS = {
    "relative.added": _lazy("Добавлен(а) в список родственников"),
    "relative.removed": _lazy("Удалён(а) из списка родственников"),
    "acting.started": _lazy("Вход в кабинет ребёнка"),
    "acting.ended": _lazy("Возврат из кабинета ребёнка"),
    "patient.access_refused": _lazy("Попытка доступа отклонена"),
    "patient.policy_set": _lazy("Указан полис ОМС"),
    "appointment.booked": _lazy("Запись к врачу"),
    "appointment.cancelled": _lazy("Отмена записи к врачу"),
}


def journal_rows(events, viewer) -> list[dict]:
    """The journal as a patient or guardian reads it.

    A refused attempt does not name who tried: the journal must not turn into
    a way to learn about strangers.
    """
    rows = []
    for event in events:
        if event.user_id is None:
            who = _("Портал")
        elif event.user_id == viewer.pk:
            who = _("Вы")
        elif event.action == "patient.access_refused":
            who = _("Другой пользователь")
        else:
            actor = getattr(event.user, "patient", None)
            who = actor.short_name if actor else _("Сотрудник медицинской организации")
        what = JOURNAL_ACTIONS.get(event.action, event.action)
        rows.append({"when": event.created_at, "who": who, "what": what})
    return rows
