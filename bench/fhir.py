"""The FHIR API beside the HTML path (issue 15): slot search p95, Appointment create/s.

Same server, patients, slots and concurrency as the HTML phases; each bench patient
gets an access token of a bench app (bound to the server's FHIR base, like a real one).
The rows land in the table after the pages, as figures beside the framework floor: the
issue set no target for them (bench.report.API_NOTE).
"""

import datetime
import json
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from bench.stats import Run

SEARCH_REQUESTS = 600


@dataclass(frozen=True)
class FhirRequest:
    """Duck-types bench.loadgen.Request: a bearer token and an optional FHIR JSON body."""

    method: str
    path: str
    token: str
    body: bytes | None = None

    def encode(self, host: str, port: int) -> bytes:
        lines = [
            f"{self.method} {self.path} HTTP/1.1",
            f"Host: {host}:{port}",
            "Connection: close",
            "User-Agent: portal-bench",
            "X-Forwarded-Proto: https",
            f"Authorization: Bearer {self.token}",
            "Accept: application/fhir+json",
        ]
        if self.body is not None:
            lines.append("Content-Type: application/fhir+json")
            lines.append(f"X-Request-Id: {uuid.uuid4()}")
            lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + (self.body or b"")


def _tokens(user_ids: list[int], port: int) -> list[str]:
    from django.utils import timezone
    from oauth2_provider.models import AccessToken, Application

    from portal.api.services import client_register

    app = Application.objects.filter(name="bench").first() or client_register(
        name="bench", redirect_uris=["https://bench.invalid/cb"]
    )
    AccessToken.objects.filter(application=app).delete()
    expires = timezone.now() + datetime.timedelta(hours=2)
    rows = [
        AccessToken(
            user_id=user_id,
            application=app,
            token=secrets.token_urlsafe(30),
            scope="patient/Patient.r patient/Appointment.rs patient/Appointment.cu",
            expires=expires,
            resource=[f"https://127.0.0.1:{port}/fhir"],
        )
        for user_id in user_ids
    ]
    for row in rows:
        row.save()  # save() fills the checksum the lookup uses
    return [row.token for row in rows]


def run_fhir(
    load: Callable[[str, Any, int], Run],
    patients: list[Any],
    slot_ids: list[int],
    port: int,
) -> dict[str, Run]:
    """Both FHIR phases; frees the bench's bookings afterwards (bench.dataset.bench_reset)."""
    from bench import dataset

    tokens = _tokens([p.user_id for p in patients], port)
    query = urlencode(
        {
            "specialty": dataset.SUSTAINED_SPECIALTY,
            "district": dataset.RUSH_DISTRICT,
            "status": "free",
            "_count": "20",
        }
    )
    runs = {
        "FHIR GET /fhir/Slot?specialty&district&status=free": load(
            "FHIR slot search",
            lambda n: FhirRequest("GET", f"/fhir/Slot?{query}", tokens[n % len(tokens)]),
            SEARCH_REQUESTS,
        )
    }

    def create(n: int) -> FhirRequest:
        patient = patients[n % len(patients)]
        body = {
            "resourceType": "Appointment",
            "status": "booked",
            "slot": [{"reference": f"Slot/{slot_ids[n]}"}],
            "participant": [{"actor": {"reference": f"Patient/{patient.patient_id}"}}],
        }
        return FhirRequest(
            "POST", "/fhir/Appointment", tokens[n % len(tokens)], json.dumps(body).encode()
        )

    count = min(len(slot_ids), len(patients))
    runs["FHIR POST /fhir/Appointment (bookings/s)"] = load(
        "FHIR Appointment create", create, count
    )
    dataset.bench_reset()
    return runs
