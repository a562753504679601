"""The home visit's row lock (docs/concurrency.md): every change of a request's state
takes it, so two clerks, or a clerk and the patient, never both act on one state."""

from portal.core.locking import require_transaction
from portal.home_visits.models import HomeVisit


def visit_lock(visit_id: int) -> HomeVisit:
    require_transaction()
    return (
        HomeVisit.objects.select_for_update(of=("self",))
        .select_related("patient", "clinic", "handled_by", "doctor")
        .get(pk=visit_id)
    )
