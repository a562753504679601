"""The referral rule, in one place (docs/referrals.md): which of a patient's referrals
make a referral-only specialty bookable at a clinic, and which one a booking uses.

Pure functions over rows the caller has loaded (`selectors.referrals_held`, or the
booking service's `locks.referrals_lock`): they read nothing, so the wizard's list and the
booking under its locks give the same answer from the same facts.
"""

import datetime
from collections.abc import Iterable, Sequence
from typing import Protocol, TypeVar

from portal.referrals.models import Referral

ACTIVE = Referral.Status.ACTIVE
USED = Referral.Status.USED


class ReferralFacts(Protocol):
    @property
    def pk(self) -> int: ...

    @property
    def status(self) -> str: ...

    @property
    def specialty_id(self) -> int: ...

    @property
    def clinic_id(self) -> int | None: ...

    @property
    def valid_until(self) -> datetime.date: ...

    @property
    def appointment_id(self) -> int | None: ...


R = TypeVar("R", bound=ReferralFacts)


def referral_state(referral: ReferralFacts, today: datetime.date) -> str:
    """active, used, expired or cancelled: "expired" is an active one past its date."""
    if referral.status == ACTIVE and referral.valid_until < today:
        return "expired"
    return referral.status


def is_usable(
    referral: ReferralFacts, specialty_id: int, today: datetime.date, moving: int | None = None
) -> bool:
    """An active, unexpired referral to this specialty; or, for a move, the one that backs
    the appointment being moved (it moves with it, even past its date: it was valid when
    it was used)."""
    if referral.specialty_id != specialty_id:
        return False
    if moving is not None and referral.status == USED and referral.appointment_id == moving:
        return True
    return referral.status == ACTIVE and referral.valid_until >= today


def allows_clinic(referral: ReferralFacts, clinic_id: int | None) -> bool:
    """A referral names one clinic or none (then any clinic that receives the patient)."""
    return clinic_id is None or referral.clinic_id is None or referral.clinic_id == clinic_id


def referrals_fitting(
    referrals: Iterable[R],
    specialty_id: int,
    clinic_id: int | None,
    today: datetime.date,
    moving: int | None = None,
) -> list[R]:
    """The referrals a booking of this specialty at this clinic could use, soonest
    expiring first (the one the service takes when the patient has not picked)."""
    fitting = [
        r
        for r in referrals
        if is_usable(r, specialty_id, today, moving) and allows_clinic(r, clinic_id)
    ]
    return sorted(fitting, key=lambda r: (r.valid_until, r.pk))


def referral_refusal(
    referrals: Iterable[ReferralFacts],
    specialty_id: int,
    clinic_id: int | None,
    today: datetime.date,
    moving: int | None = None,
) -> str | None:
    """Why a referral-only specialty is not bookable here (a code of the booking's
    refusals), or None: no usable referral at all, or only referrals to another clinic."""
    usable = [r for r in referrals if is_usable(r, specialty_id, today, moving)]
    if not usable:
        return "referral_only"
    if not any(allows_clinic(r, clinic_id) for r in usable):
        return "referral_other_clinic"
    return None


def referral_choice(
    referrals: Sequence[R],
    specialty_id: int,
    clinic_id: int | None,
    today: datetime.date,
    wanted: int | None = None,
) -> R | None:
    """The referral a booking uses: the one the patient picked if it fits, else the
    soonest expiring that fits; None when ``wanted`` does not fit (a refusal)."""
    fitting = referrals_fitting(referrals, specialty_id, clinic_id, today)
    if wanted is None:
        return fitting[0] if fitting else None
    return next((r for r in fitting if r.pk == wanted), None)
