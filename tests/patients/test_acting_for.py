import pytest
from django.http import Http404
from django.test import RequestFactory

from portal.patients.selectors import (
    ACTING_SESSION_KEY,
    acting_patient,
    patient_get_for_user,
    patients_actable_by,
)


def _request(user, acting_id=None):
    request = RequestFactory().get("/")
    request.user = user
    request.session = {ACTING_SESSION_KEY: acting_id} if acting_id else {}  # type: ignore[assignment]
    return request


@pytest.mark.django_db
def test_guardian_may_act_for_own_child_only(guardian, child, stranger):
    assert set(patients_actable_by(guardian)) == {guardian.patient, child}
    assert set(patients_actable_by(stranger)) == {stranger.patient}
    assert patient_get_for_user(guardian, child.pk) == child
    with pytest.raises(Http404):
        patient_get_for_user(stranger, child.pk)


@pytest.mark.django_db
def test_acting_falls_back_to_self_when_guardianship_ends(guardian, child):
    assert acting_patient(_request(guardian, child.pk)) == child
    guardianship = child.guardians.get()
    from django.utils import timezone

    guardianship.ended_at = timezone.now()
    guardianship.save(update_fields=["ended_at"])
    assert acting_patient(_request(guardian, child.pk)) == guardian.patient


@pytest.mark.django_db
def test_stranger_cannot_switch_into_someone_elses_child(stranger, child):
    assert acting_patient(_request(stranger, child.pk)) == stranger.patient


@pytest.mark.django_db
def test_clerk_acts_for_nobody(clerk, other_clerk, child):
    assert acting_patient(_request(clerk, child.pk)) is None
    assert not patients_actable_by(other_clerk).exists()


@pytest.mark.django_db
def test_actable_ids_match_the_actable_patients(guardian, child, stranger, clerk):
    from portal.patients.selectors import patient_ids_actable_by

    for user in (guardian, stranger, clerk):
        assert set(patient_ids_actable_by(user)) == {p.pk for p in patients_actable_by(user)}


@pytest.mark.django_db
def test_a_refused_lookup_writes_nothing(stranger, child):
    from portal.audit.models import AuditEvent

    with pytest.raises(Http404):
        patient_get_for_user(stranger, child.pk)
    assert not AuditEvent.objects.exists()


def test_services_take_plain_values_never_a_request():
    from pathlib import Path

    import portal

    root = Path(portal.__file__).parent
    for module in ("patients/services.py", "patients/guardianships.py", "identity/services.py"):
        source = (root / module).read_text(encoding="utf-8")
        assert "HttpRequest" not in source and "request." not in source, module
