"""Behind the reverse proxy every citizen has their own per-IP budget (docs/security.md).

Before this, all requests came from the proxy's address: one budget for the region.
"""

import os
import subprocess
import sys

import pytest
from django.test import Client, RequestFactory

from portal.core.http import client_ip

PROXY = "10.0.0.5"


@pytest.fixture
def behind_proxy(settings):
    settings.BEHIND_TLS_PROXY = True
    settings.CLIENT_IP_HEADER = "X-Forwarded-For"
    settings.TRUSTED_PROXIES = ["10.0.0.0/24"]
    return settings


def _ip(remote: str, **headers: str) -> str | None:
    return client_ip(RequestFactory().get("/", REMOTE_ADDR=remote, **headers))  # type: ignore[arg-type]


def test_directly_exposed_the_address_is_the_socket_peer_whatever_the_headers():
    assert _ip("198.51.100.7", HTTP_X_FORWARDED_FOR="1.2.3.4") == "198.51.100.7"


def test_behind_the_proxy_the_last_untrusted_hop_is_the_client(behind_proxy):
    assert _ip(PROXY, HTTP_X_FORWARDED_FOR="198.51.100.7") == "198.51.100.7"
    # The client wrote the left part itself: it proves nothing.
    assert _ip(PROXY, HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.7") == "198.51.100.7"
    # Two of our proxies in a row are skipped.
    assert _ip(PROXY, HTTP_X_FORWARDED_FOR="198.51.100.7, 10.0.0.9") == "198.51.100.7"
    assert _ip(PROXY, HTTP_X_FORWARDED_FOR="2001:db8::1") == "2001:db8::1"


def test_a_header_from_outside_the_trusted_proxies_is_ignored(behind_proxy):
    assert _ip("198.51.100.66", HTTP_X_FORWARDED_FOR="1.2.3.4") == "198.51.100.66"


def test_a_malformed_or_missing_header_counts_against_the_proxy(behind_proxy):
    assert _ip(PROXY, HTTP_X_FORWARDED_FOR="not-an-ip") == PROXY
    assert _ip(PROXY, HTTP_X_FORWARDED_FOR="1.2.3.4, <script>") == PROXY
    assert _ip(PROXY) == PROXY


def test_x_real_ip_as_the_header(behind_proxy):
    behind_proxy.CLIENT_IP_HEADER = "X-Real-IP"
    assert _ip(PROXY, HTTP_X_REAL_IP="198.51.100.7") == "198.51.100.7"


@pytest.mark.parametrize("written", ["HTTP_X_REAL_IP", "http_x_real_ip", " x_real_ip "])
def test_the_header_named_as_django_names_it_works_too(behind_proxy, written):
    """The Makefile's own deploy check says HTTP_X_REAL_IP: that used to turn the per-client
    limits off without a word (issue 24, point 9)."""
    behind_proxy.CLIENT_IP_HEADER = written
    assert _ip(PROXY, HTTP_X_REAL_IP="198.51.100.7") == "198.51.100.7"


@pytest.mark.django_db
def test_per_ip_limits_count_each_citizen_not_the_proxy(behind_proxy, esia_setup):
    behind_proxy.RATE_LOGIN_START_IP = "2/m"
    first = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.1")
    second = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.2")
    assert [first.get("/login/esia/").status_code for _ in range(3)] == [302, 302, 429]
    assert second.get("/login/esia/").status_code == 302, "another citizen, another budget"
    # Changing the forged left part does not buy a new budget.
    forged = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="9.9.9.9, 198.51.100.1")
    assert forged.get("/login/esia/").status_code == 429


@pytest.mark.django_db
def test_the_journal_records_the_citizens_address(behind_proxy, client, patient):
    from portal.audit.models import AuditEvent

    client.force_login(patient)
    client.post("/logout/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.3")
    assert AuditEvent.objects.get(action="logout").ip == "198.51.100.3"


def _deploy_check(tmp_path, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "ERROR"],
        env=clean | {
            "DEBUG": "0", "SECRET_KEY": "z" * 60, "ALLOWED_HOSTS": "portal.example.ru",
            "REDIS_URL": "redis://127.0.0.1:6379/0", "PORTAL_DATA_DIR": str(tmp_path),
            "BEHIND_TLS_PROXY": "1",
        } | env,
        capture_output=True, text=True, check=False,
    )  # fmt: skip


def test_deploy_check_fails_behind_the_proxy_without_the_header_and_proxies(tmp_path):
    result = _deploy_check(tmp_path)
    assert result.returncode != 0
    assert "portal.E001" in result.stderr and "portal.E002" in result.stderr
    configured = _deploy_check(
        tmp_path, CLIENT_IP_HEADER="X-Forwarded-For", TRUSTED_PROXIES="10.0.0.0/24"
    )
    assert configured.returncode == 0, configured.stdout + configured.stderr
