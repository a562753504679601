"""What home visits keep of the ESIA login (`identity.signals.esia_person_received`)."""

from typing import Any

from django.dispatch import receiver

from portal.home_visits.models import EsiaAddresses
from portal.identity.signals import esia_person_received


@receiver(esia_person_received)
def addresses_keep(sender: object, *, patient_id: int, addresses: list[Any], **_: Any) -> None:
    """Store what this login gave; a login with none forgets the old ones."""
    EsiaAddresses.objects.update_or_create(
        patient_id=patient_id, defaults={"addresses": list(addresses)}
    )
