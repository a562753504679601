"""What the booking service announces, and who listens (docs/architecture.md).

The booking service sits below the notifications and the waitlist: it never calls them,
it announces, and they connect their receivers in their app's ``ready()``. Two kinds:

In the writer's transaction — a receiver's rows commit or roll back with the booking
(the outbox's messages are written here, docs/notifications.md):

- `appointment_booking(patient)`, before a booking's write: a receiver answers with the
  rows to write WITH the appointment (unsaved instances whose ForeignKey ``appointment``
  the booking fills; `rows_asked`), which on PostgreSQL travel in the claim's own
  statement instead of a round trip each (docs/performance.md, «The outbox's event in the
  claim»);
- `appointment_booked(appointment, written)`: the booking is written, with those rows
  (``written``, their keys set);
- `appointments_booked(appointments)`: several bookings of one transaction (a fair-release
  draw's winners, `scheduling.draw_booking`), told at once so their rows are written at once;
- `appointment_cancelled(appointment, by_clinic, reason)`;
- `appointment_moved(old, new)`: one move, told as one event (not a cancel and a booking),
  so the patient hears «Запись перенесена с … на …» once (docs/notifications.md).

After the commit — the write stands whatever a receiver does; a receiver's failure is
logged and the others still run (the waitlist's offers, docs/waitlist.md):

- `cancellation_committed(appointment, slot_freed, by_clinic)`;
- `slots_opened(slot_ids)`: free times a schedule change created or reopened.
"""

import logging
from functools import partial
from typing import Any

from django.db import transaction
from django.dispatch import Signal

logger = logging.getLogger(__name__)

appointment_booking = Signal()
appointment_booked = Signal()
appointments_booked = Signal()
appointment_cancelled = Signal()
appointment_moved = Signal()
cancellation_committed = Signal()
slots_opened = Signal()


def announce(signal: Signal, **facts: Any) -> None:
    """Tell the receivers now, inside the transaction: an exception rolls it back."""
    signal.send(sender=signal, **facts)


def rows_asked(signal: Signal, **facts: Any) -> list[Any]:
    """Every row the receivers answer with (a list each, or None), in their order."""
    asked: list[Any] = []
    for _receiver, answer in signal.send(sender=signal, **facts):
        asked += answer or []
    return asked


def announce_after_commit(signal: Signal, **facts: Any) -> None:
    """Tell the receivers once the transaction has committed (never if it rolls back)."""
    transaction.on_commit(partial(_send_logged, signal, facts))


def _send_logged(signal: Signal, facts: dict[str, Any]) -> None:
    for receiver, result in signal.send_robust(sender=signal, **facts):
        if isinstance(result, Exception):
            logger.error("%s failed after the commit", receiver, exc_info=result)
