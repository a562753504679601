"""Personal data: never in logs during the main flows; the audit trail is append-only."""

import logging

import pytest
from django.urls import reverse

from portal.audit.models import AuditEvent
from portal.patients.models import Patient
from tests.factories import SlotFactory
from tests.identity.test_login_flow import ANNA, login_as_persona
from tests.patients.test_relatives import MARIA_ENP, children_clinic, maria_form, registry

pytestmark = pytest.mark.django_db
__all__ = ["children_clinic", "registry"]  # fixtures used below


def test_logs_of_login_add_child_book_and_cancel_hold_no_personal_data(
    client, esia_setup, registry, caplog
):
    with caplog.at_level(logging.DEBUG):
        assert login_as_persona(client, ANNA).status_code == 302
        assert client.post(reverse("patients:relative_add"), maria_form()).status_code == 302
        child = Patient.objects.get(policy_number=MARIA_ENP)
        client.post(reverse("patients:acting_switch"), {"patient": child.pk})
        slot = SlotFactory()
        page = client.get(reverse("scheduling:booking_confirm", args=[slot.pk]))
        key = page.context["form"]["key"].value()
        booked = client.post(reverse("scheduling:booking_confirm", args=[slot.pk]), {"key": key})
        assert booked.status_code == 302
        appointment_id = int(booked["Location"].rstrip("/").split("/")[-1])
        cancel = reverse("scheduling:appointment_cancel", args=[appointment_id])
        assert client.post(cancel).status_code == 302
        client.get("/login/esia/callback/", {"state": "forged", "code": "x"})  # a failure too

    anna = Patient.objects.get(esia_oid=ANNA)
    secrets = {
        anna.snils,
        anna.snils.replace("-", "").replace(" ", ""),
        anna.policy_number,
        MARIA_ENP,
        anna.full_name,
        child.full_name,
        f"{anna.last_name} {anna.first_name}",
        f"{child.last_name} {child.first_name}",
    } - {""}
    logged = caplog.text + "".join(
        str(record.args) + (record.exc_text or "") for record in caplog.records
    )
    assert caplog.records, "the flows log something (the check is not vacuous)"
    leaked = [secret for secret in secrets if secret in logged]
    assert not leaked


def test_audit_events_cannot_be_changed_or_deleted_by_the_application(guardian):
    event = AuditEvent.objects.create(action="relative.added", user=guardian)
    event.action = "nothing happened"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(action="nothing happened")
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "relative.added"
    with pytest.raises(PermissionError):  # last: it leaves the transaction unusable
        AuditEvent.objects.bulk_update([event], ["action"])


def test_the_admin_shows_the_audit_trail_read_only_even_to_a_superuser(client, guardian):
    from tests.factories import UserFactory
    from tests.workspace.conftest import verified_client

    admin = UserFactory(username="root", esia_oid=None, is_staff=True, is_superuser=True)
    event = AuditEvent.objects.create(action="relative.added", user=guardian)
    client = verified_client(admin)
    base = "/staff-admin/audit/auditevent/"
    assert client.get(base).status_code == 200
    change = client.get(f"{base}{event.pk}/change/")
    assert change.status_code == 200 and 'name="_save"' not in change.content.decode()
    assert client.post(f"{base}{event.pk}/change/", {"action": "x"}).status_code == 403
    assert client.get(f"{base}add/").status_code == 403
    assert client.post(f"{base}{event.pk}/delete/", {"post": "yes"}).status_code == 403
    bulk = client.post(base, {"action": "delete_selected", "_selected_action": [event.pk]})
    assert bulk.status_code in {200, 302}
    assert AuditEvent.objects.get(pk=event.pk).action == "relative.added"
