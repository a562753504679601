"""Redis stopped under a logged-in user: every page still answers (docs/security.md).

A real redis-server, on a Unix socket in the test's temporary folder (no port to
collide with anyone's), is stopped in the middle of the test.
"""

import shutil
import subprocess
import time
from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from portal.core.views import server_error

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server"),
]


class Redis:
    def __init__(self, folder: Path) -> None:
        self.socket = folder / "redis.sock"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                "redis-server", "--port", "0", "--unixsocket", str(self.socket),
                "--save", "", "--appendonly", "no",
            ],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        for _ in range(100):
            if self.socket.exists():
                return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


@pytest.fixture
def redis(tmp_path, settings):
    server = Redis(tmp_path)
    server.start()
    settings.CACHES = {
        **settings.CACHES,  # the directory's fragments (a per-process cache) stay as they are
        "default": {
            "BACKEND": "portal.core.cache.FailSoftRedisCache",
            "LOCATION": f"unix://{server.socket}",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        },
    }
    settings.SESSION_ENGINE = "portal.core.sessions"  # as production with Redis
    settings.CACHE_RETRY_SECONDS = 0.2
    yield server
    server.stop()


def _pages(appointment_id: int) -> list[str]:
    return [
        reverse("core:home"),
        reverse("identity:cabinet"),
        reverse("patients:personal"),
        reverse("patients:relative_add"),
        reverse("scheduling:appointment_list"),
        reverse("scheduling:appointment_ticket", args=[appointment_id]),
        reverse("scheduling:appointment_ics", args=[appointment_id]),
        reverse("scheduling:booking_start"),
        reverse("directory:district_list"),
    ]


@pytest.fixture
def appointment(patient):
    from tests.factories import AppointmentFactory

    return AppointmentFactory(patient=patient.patient, booked_by=patient)


def test_with_redis_stopped_a_logged_in_user_keeps_every_page(redis, patient, appointment):
    browser = Client(raise_request_exception=False)
    browser.force_login(patient)
    assert [browser.get(url).status_code for url in _pages(appointment.pk)] == [200] * 9
    assert browser.get("/healthz").json()["cache"] == "ok"

    redis.stop()
    statuses = {url: browser.get(url).status_code for url in _pages(appointment.pk)}
    assert set(statuses.values()) == {200}, statuses
    # Rate-limited submissions fail open: the booking service still decides.
    cancel = browser.post(reverse("scheduling:appointment_cancel", args=[appointment.pk]))
    assert cancel.status_code == 302
    health = browser.get("/healthz")
    assert health.status_code == 200
    assert health.json() == {"status": "degraded", "database": "ok", "cache": "unavailable"}

    # A new login while Redis is down: the session lives in the database alone.
    newcomer = Client(raise_request_exception=False)
    newcomer.force_login(patient)
    assert newcomer.get(reverse("patients:personal")).status_code == 200

    redis.start()
    time.sleep(0.3)  # CACHE_RETRY_SECONDS
    assert browser.get("/healthz").json()["cache"] == "ok"
    assert browser.get(reverse("patients:personal")).status_code == 200
    cache.set("probe", 1)
    assert cache.get("probe") == 1


def test_the_500_page_renders_without_touching_the_session(rf):
    class Exploding:
        def __getattr__(self, name):
            raise ConnectionError("Redis is down")

    request = rf.get("/cabinet/")
    request.session = Exploding()
    request.user = Exploding()
    try:
        raise RuntimeError("the view failed")
    except RuntimeError:
        response = server_error(request)
    assert response.status_code == 500
    assert "Временная ошибка" in response.content.decode()
