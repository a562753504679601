"""Reads about patients, and the one place that decides who may act for whom."""

import enum
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _

from portal.core.compiled import CompiledQuery, padded
from portal.directory.selectors import clinic_cached
from portal.patients.errors import patient_refusal_text
from portal.patients.models import Guardianship, InsuredPerson, Patient
from portal.patients.rules import child_refusal, is_over_child_age, policy_refusal, today_local

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from portal.identity.models import User

ACTING_SESSION_KEY = "acting_patient_id"


# What the session's one read (identity.backends) found, kept on the request's user object:
# a new one is read on every request, so these are facts of this request, never older.
_HAS_WARDS = "_portal_has_wards"
_ACTABLE = "_portal_actable"
_FAMILY = "_portal_family"


def _patient_relation() -> Any:
    """The user's side of Patient.user: where the ORM caches ``user.patient``."""
    return Patient._meta.get_field("user").remote_field


def user_facts_remember(user: "User", patient: Patient | None, *, has_wards: bool) -> None:
    """Keep what `identity.backends` read with the user: their patient record (or that
    there is none) and whether that patient acts for any child (an active guardianship)."""
    _patient_relation().set_cached_value(user, patient)
    if patient is not None:
        Patient._meta.get_field("user").set_cached_value(patient, user)
    setattr(user, _HAS_WARDS, has_wards)


def patient_of_user(user: "User | AnonymousUser") -> Patient | None:
    if not user.is_authenticated:
        return None
    relation = _patient_relation()
    if relation.is_cached(user):
        cached: Patient | None = relation.get_cached_value(user)
        return cached
    return Patient.objects.filter(user=user).select_related("insurer", "clinic").first()


def _family(user: "User | AnonymousUser", own: Patient) -> list[Guardianship]:
    """The own record's active guardianships with their children, youngest last: one read
    per request, and none for a user the session's read found without any."""
    family: list[Guardianship] | None = getattr(user, _FAMILY, None)
    if family is None:
        if getattr(user, _HAS_WARDS, True):
            family = list(
                Guardianship.objects.filter(guardian_id=own.pk, ended_at__isnull=True)
                .select_related("child__insurer")
                .order_by("child__birth_date", "child_id")
            )
        else:
            family = []
        if getattr(user, _HAS_WARDS, None) is not None:
            setattr(user, _FAMILY, family)
    return family


def children_acted_for(user: "User | AnonymousUser", own: Patient) -> list[Patient]:
    """`children_of` for the session's own record, read once per request."""
    if getattr(user, _HAS_WARDS, None) is None:
        return list(children_of(own))
    return [g.child for g in _family(user, own)]


@dataclass(frozen=True)
class Actable:
    """Who may act for whom, and how far: the one definition (docs/domain.md, «Relatives»).

    ``own`` is the user's own record; ``verified`` the children under a verified
    guardianship; ``unverified`` those under a guardianship nobody has confirmed yet,
    for whom the user sees and changes only what they did themselves.
    """

    own: int | None = None
    verified: tuple[int, ...] = ()
    unverified: tuple[int, ...] = ()

    @property
    def in_full(self) -> list[int]:
        """Patients whose whole history the user may see."""
        return [self.own, *self.verified] if self.own is not None else []

    @property
    def all(self) -> list[int]:
        return [*self.in_full, *self.unverified]


def actable_by(user: "User | AnonymousUser") -> Actable:
    """The user's own record, then its active guardianships: for the session's user, from
    what its one read found (once per request; no read for a user without children),
    otherwise two index lookups."""
    if not user.is_authenticated:
        return Actable()
    if getattr(user, _HAS_WARDS, None) is not None:
        memo: Actable | None = getattr(user, _ACTABLE, None)
        if memo is None:
            memo = _actable_of_session_user(user)
            setattr(user, _ACTABLE, memo)
        return memo
    own = Patient.objects.filter(user=user).values_list("pk", flat=True).first()
    if own is None:
        return Actable()
    rows = Guardianship.objects.filter(guardian_id=own, ended_at__isnull=True).values_list(
        "child_id", "verified_at"
    )
    return _actable(own, rows)


def _actable_of_session_user(user: "User | AnonymousUser") -> Actable:
    own = patient_of_user(user)
    if own is None:
        return Actable()
    rows = [(g.child_id, g.verified_at) for g in _family(user, own)]
    return _actable(own.pk, rows)


def _actable(own: int, children: Iterable[tuple[int, Any]]) -> Actable:
    """The user's own record and their active guardianships' (child, verified_at) rows."""
    verified: list[int] = []
    unverified: list[int] = []
    for child_id, verified_at in children:
        (verified if verified_at is not None else unverified).append(child_id)
    return Actable(own=own, verified=tuple(verified), unverified=tuple(unverified))


def patients_seen_by_user(user: "User | AnonymousUser", actable: Actable) -> dict[int, Patient]:
    """The patients of ``actable`` by id: for the session's user from what the request has
    read already (their own record and children), otherwise one read."""
    own = patient_of_user(user) if getattr(user, _HAS_WARDS, None) is not None else None
    if own is None:
        return Patient.objects.in_bulk(actable.all)
    known = {own.pk: own, **{c.pk: c for c in children_acted_for(user, own)}}
    return {pk: known[pk] for pk in actable.all if pk in known}


def actables_by(user_ids: Collection[int]) -> dict[int, Actable]:
    """`actable_by` for many users at once, in the same two look-ups (a fair-release draw
    acts for everyone who asked, docs/fair-release.md). A user without a patient record
    may act for nobody."""
    owns = dict(Patient.objects.filter(user_id__in=set(user_ids)).values_list("user_id", "pk"))
    children: dict[int, list[tuple[int, Any]]] = {own: [] for own in owns.values()}
    rows = Guardianship.objects.filter(guardian_id__in=children, ended_at__isnull=True)
    for guardian_id, child_id, verified_at in rows.values_list(
        "guardian_id", "child_id", "verified_at"
    ):
        children[guardian_id].append((child_id, verified_at))
    return {
        user_id: _actable(owns[user_id], children[owns[user_id]]) if user_id in owns else Actable()
        for user_id in user_ids
    }


def patient_ids_actable_by(user: "User | AnonymousUser") -> list[int]:
    """Every patient the user may act for (book, switch into), verified or not."""
    return actable_by(user).all


def patients_actable_by(user: "User | AnonymousUser") -> QuerySet[Patient]:
    """The patients of ``patient_ids_actable_by`` as a queryset."""
    return Patient.objects.filter(pk__in=patient_ids_actable_by(user))


class Sight(enum.Enum):
    """How much of one patient a user may see."""

    NONE = "none"  # may not act for them: every look-up is a 404
    OWN_DOINGS = "own_doings"  # an unverified guardian: only what the user did
    FULL = "full"  # the user's own record, a child under a verified guardianship


@dataclass(frozen=True)
class Visibility:
    """What one user may see: **the one rule of visibility** (docs/security.md, «IDOR»).

    Every read path asks it — «Мои записи», the ticket, the `.ics`, cancelling and moving
    (`scheduling.selectors.appointments_visible`), the journal
    (`audit.selectors.audit_events_visible_to`), the waitlist's entries and offers,
    «Направления» and the API's ServiceRequest (`referrals.selectors.referrals_visible`),
    the FHIR API's reads and every search parameter (`api.patient`) — so no path can show
    an unverified guardian the parents' bookings that another path hides.
    """

    user_id: int | None
    actable: Actable

    def of_patient(self, patient_id: int) -> Sight:
        if patient_id in self.actable.in_full:
            return Sight.FULL
        if patient_id in self.actable.unverified:
            return Sight.OWN_DOINGS
        return Sight.NONE

    def records(self, *, author: str | tuple[str, ...], patient: str = "patient_id") -> Q:
        """A filter on rows about patients (appointments, waitlist entries, offers, …):
        every row of the patients seen in full; of a child seen only in part, the rows
        whose ``author`` field (any of them, when several) is this user."""
        if not self.actable.all:
            return Q(pk__in=[])
        visible = Q(**{f"{patient}__in": self.actable.in_full})
        if self.actable.unverified:
            authors = (author,) if isinstance(author, str) else author
            by_user = Q()
            for field in authors:
                by_user |= Q(**{field: self.user_id})
            visible |= Q(**{f"{patient}__in": self.actable.unverified}) & by_user
        return visible


def visibility_for(user: "User | AnonymousUser") -> Visibility:
    """The user's `Visibility` (two index look-ups, as `actable_by`)."""
    return Visibility(user_id=user.pk if user.is_authenticated else None, actable=actable_by(user))


class VisibleRows:
    """One read of rows a user may see, under `Visibility.records`, compiled once
    (`core.compiled`) instead of built by the ORM on every request (docs/performance.md).

    ``build(seen, *args)`` returns a ``values_list`` queryset filtered by ``seen`` (a
    `Visibility`). The rule is applied to this user's ids inside the SQL, so the compiled
    statement takes them as values: their own and their verified children's ids, and,
    for an unverified guardian, the user's id and those children's. Without an unverified
    guardianship the rule names neither (a statement of its own: every value of a compiled
    statement must reach its SQL).
    """

    def __init__(self, build: Callable[..., "QuerySet[Any, tuple[Any, ...]]"]) -> None:
        def full(in_full: tuple[int, ...], *args: Any) -> "QuerySet[Any, tuple[Any, ...]]":
            return build(_seen(0, in_full, ()), *args)

        def partly(
            user_id: int, in_full: tuple[int, ...], unverified: tuple[int, ...], *args: Any
        ) -> "QuerySet[Any, tuple[Any, ...]]":
            return build(_seen(user_id, in_full, unverified), *args)

        for variant in (full, partly):  # named after the read in queries_falling_back()
            variant.__module__ = build.__module__
            variant.__qualname__ = f"{build.__qualname__} ({variant.__name__})"
        self._full = CompiledQuery(full)
        self._partly = CompiledQuery(partly)

    def rows(self, user: "User | AnonymousUser", *args: Any) -> list[tuple[Any, ...]]:
        actable = actable_by(user)
        if actable.own is None:
            return []
        in_full = padded(actable.in_full)  # the own record stays first
        if actable.unverified:
            assert isinstance(user.pk, int)  # a guardian: a user with an account
            return self._partly.rows(user.pk, in_full, padded(actable.unverified), *args)
        return self._full.rows(in_full, *args)


def _seen(user_id: int, in_full: tuple[int, ...], unverified: tuple[int, ...]) -> Visibility:
    """A `Visibility` from its parts (``in_full``: the own record first)."""
    return Visibility(
        user_id=user_id,
        actable=Actable(own=in_full[0], verified=in_full[1:], unverified=unverified),
    )


def appointments_visible_to(user: "User | AnonymousUser") -> Q:
    """Which appointments the user may see, open and cancel, as a filter on Appointment.

    All of their own and their verified children's; of a child under an unverified
    guardianship only those the user booked, so a stranger who guessed a child's data
    cannot read or cancel the parents' bookings.
    """
    return visibility_for(user).records(author="booked_by_id")


def patient_seen_in_full_by(user: "User | AnonymousUser", patient_id: int) -> bool:
    """False for a child under an unverified guardianship: only the user's own doings."""
    return visibility_for(user).of_patient(patient_id) is Sight.FULL


def patient_get_for_user(user: "User | AnonymousUser", patient_id: int) -> Patient:
    """Fetch a patient the user may act for, or 404 (never reveal that it exists).

    A read only: the views that refuse record the attempt with
    ``services.patient_access_refused_record``.
    """
    patient = (
        patients_actable_by(user).select_related("insurer", "clinic").filter(pk=patient_id).first()
    )
    if patient is None:
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
        cached = _with_clinic(patient_of_user(request.user))
        request._own_patient = cached  # type: ignore[attr-defined]
    return cached  # type: ignore[return-value]


def _with_clinic(patient: Patient | None) -> Patient | None:
    """The attached clinic from the directory's cache, where the session's read left it out
    (the pages name it, the booking rules compare it)."""
    if patient is None or patient.clinic_id is None:
        return patient
    field = Patient._meta.get_field("clinic")
    if not field.is_cached(patient):
        field.set_cached_value(patient, clinic_cached(patient.clinic_id))
    return patient


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
        child = _actable_child(request.user, own, chosen)
        if child is not None:
            return _with_clinic(child)
        request.session.pop(ACTING_SESSION_KEY, None)
    return own


def _actable_child(user: "User | AnonymousUser", own: Patient, child_id: Any) -> Patient | None:
    """The chosen child, if the user may still act for them (`actable_by`)."""
    if getattr(user, _HAS_WARDS, None) is not None:
        return next((c for c in children_acted_for(user, own) if c.pk == child_id), None)
    return patients_actable_by(user).select_related("insurer", "clinic").filter(pk=child_id).first()


def patient_booking_refusal(user_patient: Patient | None, acting: Patient | None) -> str | None:
    """Why the cabinet may not book for ``acting`` now, or None if it may.

    The rules and their texts are the ones the booking service asks (`patients.rules`,
    `patients.errors`), so the cabinet says exactly what the booking would answer.
    """
    if user_patient is None or acting is None:
        return _("Войдите в личный кабинет, чтобы записаться к врачу.")
    code = child_refusal(acting, user_patient.user_id) or policy_refusal(acting)
    return patient_refusal_text(code) if code else None


@dataclass(frozen=True)
class CoGuardian:
    """Another guardian of one of the user's children, as the user may see them."""

    guardianship: Guardianship
    # Only a verified guardian learns who the others are.
    name: str | None
    verified: bool
    # A verified guardian approves or revokes an unverified newcomer.
    can_decide: bool


def _co_guardians(guardian: Patient, mine: list[Guardianship]) -> dict[int, list[CoGuardian]]:
    verified_children = {g.child_id for g in mine if g.is_verified}
    others = (
        Guardianship.objects.filter(child_id__in=[g.child_id for g in mine], ended_at__isnull=True)
        .exclude(guardian=guardian)
        .select_related("guardian")
        .order_by("created_at")
    )
    result: dict[int, list[CoGuardian]] = {}
    for other in others:
        sees = other.child_id in verified_children
        result.setdefault(other.child_id, []).append(
            CoGuardian(
                guardianship=other,
                name=other.guardian.short_name if sees else None,
                verified=other.is_verified,
                can_decide=sees and not other.is_verified,
            )
        )
    return result


def relatives_of(guardian: Patient) -> list[dict[str, Any]]:
    """The relatives list of Рис. 8: each child with the «turned 14» flag, whether this
    guardianship is verified, and the child's other guardians."""
    today = today_local()
    mine = list(active_guardianships(guardian).select_related("child__insurer", "child__clinic"))
    others = _co_guardians(guardian, mine)
    return [
        {
            "guardianship": g,
            "child": g.child,
            "over_age": is_over_child_age(g.child, today),
            "verified": g.is_verified,
            "others": others.get(g.child_id, []),
            "pending": [o for o in others.get(g.child_id, []) if not o.verified],
        }
        for g in mine
    ]


def guardian_notices_count(guardian: Patient) -> int:
    """Unverified newcomers to the user's children: the cabinet says so (one query)."""
    return (
        Guardianship.objects.filter(
            ended_at__isnull=True,
            verified_at__isnull=True,
            child__guardians__guardian=guardian,
            child__guardians__ended_at__isnull=True,
        )
        .exclude(guardian=guardian)
        .distinct()
        .count()
    )


def guardians_verified_by_user(child_id: int) -> dict[int, bool]:
    """Every account that has held this child (ended guardianships too, for history):
    user id → whether its latest guardianship was verified."""
    rows = (
        Guardianship.objects.filter(child_id=child_id)
        .order_by("created_at")
        .values_list("guardian__user_id", "verified_at")
    )
    return {user_id: verified_at is not None for user_id, verified_at in rows if user_id}


def esia_kids_offer(guardian: Patient) -> list[dict[str, Any]]:
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
