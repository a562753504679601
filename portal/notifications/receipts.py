"""SMS delivery receipts: the SMSC's word on each part, and the message's state from its
parts (docs/notifications.md). Called by the SMS client's thread and the worker."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from portal.notifications.models import Message, MessagePart, Status

# SMPP 3.4 delivery receipt `stat` values (Appendix B), and the message_state numbers.
RECEIPT_DELIVERED = {"DELIVRD", "DELIVERED", "2"}
RECEIPT_FAILED = {"UNDELIV", "UNDELIVERABLE", "EXPIRED", "REJECTD", "REJECTED", "DELETED"}
RECEIPT_FAILED |= {"3", "4", "5", "8"}


def receipt_apply(message_id: str, state: str) -> None:
    """A delivery receipt (`deliver_sm`) for one SMPP message_id: the SMS client calls this.

    Safe to call before the worker has recorded the ids (the part waits for its
    message) and more than once (the last word of each part counts).
    """
    state = state.strip().upper()
    with transaction.atomic():
        if not MessagePart.objects.filter(gateway_id=message_id).update(state=state):
            try:
                with transaction.atomic():
                    MessagePart.objects.create(gateway_id=message_id, state=state)
            except IntegrityError:
                MessagePart.objects.filter(gateway_id=message_id).update(state=state)
        owner = (
            MessagePart.objects.filter(gateway_id=message_id)
            .values_list("message_id", flat=True)
            .first()
        )
        if owner is not None:
            message_status_from_parts(owner)


def parts_record(message_id: int, gateway_ids: list[str]) -> None:
    """Link the SMSC's ids to the message (receipts may already wait for them)."""
    for gateway_id in gateway_ids:
        if not MessagePart.objects.filter(gateway_id=gateway_id).update(message_id=message_id):
            try:
                with transaction.atomic():
                    MessagePart.objects.create(gateway_id=gateway_id, message_id=message_id)
            except IntegrityError:
                MessagePart.objects.filter(gateway_id=gateway_id).update(message_id=message_id)
    message_status_from_parts(message_id)


def message_status_from_parts(message_id: int) -> None:
    """Delivered when every part is; failed as soon as one part is."""
    states = list(MessagePart.objects.filter(message_id=message_id).values_list("state", flat=True))
    if not states:
        return
    sent = Message.objects.filter(pk=message_id, status__in=[Status.SENT, Status.DELIVERED])
    failed = [s for s in states if s in RECEIPT_FAILED]
    if failed:
        sent.update(status=Status.FAILED, error=f"SMSC: {failed[0]}")
    elif all(s in RECEIPT_DELIVERED for s in states):
        sent.filter(status=Status.SENT).update(status=Status.DELIVERED, delivered_at=timezone.now())
