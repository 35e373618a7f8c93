import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.checks import run_checks
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_every_answer_carries_the_security_headers(client):
    response = client.get(reverse("admin:login"))
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "Strict-Transport-Security" not in response  # plain HTTP: no HSTS


@pytest.mark.django_db
def test_hsts_is_sent_over_tls(client, settings):
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    response = client.get(reverse("admin:login"), secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def _production_env() -> dict[str, str]:
    lines = (ROOT / ".env.production.example").read_text().splitlines()
    pairs = dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))
    return os.environ | pairs | {"LOOKOUT_READ_DOT_ENV": "0", "LOOKOUT_NO_BOOTSTRAP": "1"}


def _run(args, env, check=True):
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=check
    )


def test_production_example_passes_check_deploy_with_secure_cookies(tmp_path):
    env = _production_env() | {"LOOKOUT_DATA_DIR": str(tmp_path)}
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env, check=False)
    assert result.returncode == 0, result.stderr
    code = (
        "from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT)"
    )
    shown = _run(["-c", f"import django; django.setup(); {code}"], env | {"DJANGO_SETTINGS_MODULE": "config.settings"})
    assert shown.stdout.split() == ["True", "True", "True"]


def test_secret_key_is_required_when_debug_is_off(settings):
    settings.DEBUG = False
    settings.SECRET_KEY = django_settings.INSECURE_SECRET_KEY
    assert "lookout.E001" in [e.id for e in run_checks()]
    settings.SECRET_KEY = "a-real-secret-from-the-environment-0123456789abcdef"
    assert "lookout.E001" not in [e.id for e in run_checks()]
    settings.DEBUG = True
    settings.SECRET_KEY = django_settings.INSECURE_SECRET_KEY
    assert "lookout.E001" not in [e.id for e in run_checks()]


@pytest.mark.django_db
def test_admin_logins_are_throttled_after_repeated_failures(client, admin_user, settings):
    settings.AXES_FAILURE_LIMIT = 3
    url = reverse("admin:login")
    for _ in range(3):
        failed = client.post(url, {"username": "admin", "password": "wrong"})
    assert failed.status_code == 429
    # Locked out: even the right password is refused until the cool-off ends.
    right = client.post(url, {"username": "admin", "password": "correct-horse-battery"})
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_admin_needs_login(client):
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
