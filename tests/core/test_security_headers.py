import os
import subprocess
import sys

import pytest
from django.test import Client


@pytest.mark.django_db
def test_pages_forbid_inline_scripts_and_framing(client: Client):
    response = client.get("/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.django_db
def test_no_page_carries_inline_script_or_style(client: Client, demo_region):
    for url in ["/", "/districts/", f"/districts/{demo_region.pk}/", "/cabinet/"]:
        html = client.get(url).content.decode()
        assert "<script>" not in html and " style=" not in html, url
        assert " onclick=" not in html, url


def _production_env(**overrides: str) -> dict[str, str]:
    # Browser tests set DJANGO_ALLOW_ASYNC_UNSAFE for this process; a server must not have it.
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return {**env, **overrides}


def test_deploy_check_is_clean_with_production_settings(tmp_path):
    env = {
        **_production_env(),
        "DEBUG": "0",
        "SECRET_KEY": "x" * 20 + "production-like-secret-key-for-the-check-0123456789",
        "ALLOWED_HOSTS": "portal.example.ru",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "PORTAL_DATA_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_deploy_check_warns_about_unshared_rate_limits(tmp_path):
    env = {
        **_production_env(),
        "DEBUG": "0",
        "SECRET_KEY": "y" * 60,
        "ALLOWED_HOSTS": "portal.example.ru",
        "PORTAL_DATA_DIR": str(tmp_path),
    }
    env.pop("REDIS_URL", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert "portal.W001" in result.stdout + result.stderr


@pytest.mark.django_db
def test_the_policy_built_once_is_django_csps_own_and_follows_the_settings(client, settings):
    """The header is built once per process (portal.core.middleware): the same text as
    django-csp's, and a changed setting is seen at once."""
    from csp.utils import build_policy

    assert client.get("/").headers["Content-Security-Policy"] == build_policy()
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"]}}
    assert client.get("/").headers["Content-Security-Policy"] == "default-src 'none'"
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": {"img-src": ["'self'"]}}
    answer = client.get("/")
    report_only = answer.headers["Content-Security-Policy-Report-Only"]
    assert report_only == build_policy(report_only=True) and "img-src 'self'" in report_only
