import logging
from typing import Any

from portal.patients.guardianships import guardianships_verify_from_esia
from portal.patients.models import Patient
from portal.patients.services import patient_attach_from_registry

logger = logging.getLogger(__name__)


def attach_from_registry_on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """After an ESIA login: insurer, clinic and area from the registry (docs/domain.md).

    A failure here must never block the login itself: the user can still enter
    the policy on «Личные данные», so it is logged, not raised.
    """
    patient = Patient.objects.filter(user=user).first()
    if patient is None:
        return
    try:
        patient_attach_from_registry(patient)
        # ESIA's `kids` were refreshed by this login: they may now verify a manual one.
        guardianships_verify_from_esia(patient)
    except Exception:
        logger.exception("Registry lookup failed for patient %s", patient.pk)
