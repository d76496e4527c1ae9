"""Settings: production refuses to start without a secret and passes check --deploy."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import REPO


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DJANGO_SETTINGS_MODULE"}}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, capture_output=True, text=True,
                          env={**base, **env}, timeout=120)


def test_it_refuses_to_start_production_without_a_secret_key():
    proc = run_manage("check", DJANGO_SETTINGS_MODULE="tokenwatch.settings.production")
    assert proc.returncode != 0
    assert "SECRET_KEY must be set" in proc.stderr


def test_it_refuses_a_short_or_repetitive_secret_key():
    """Issue 12, finding 7: SECRET_KEY=x used to start production (only check --deploy warned)."""
    for weak in ("x", "x" * 60, "short-but-not-50-characters-long-0123456789"):
        proc = run_manage("check", DJANGO_SETTINGS_MODULE="tokenwatch.settings.production", SECRET_KEY=weak,
                          ALLOWED_HOSTS="tokenwatch.example.com")
        assert proc.returncode != 0, weak
        assert "SECRET_KEY is too weak" in proc.stderr


def test_production_passes_check_deploy():
    proc = run_manage("check", "--deploy", "--fail-level", "WARNING",
                      DJANGO_SETTINGS_MODULE="tokenwatch.settings.production",
                      SECRET_KEY="x" * 20 + "-a-long-random-production-secret-0123456789",
                      ALLOWED_HOSTS="tokenwatch.example.com")
    assert proc.returncode == 0, proc.stderr + proc.stdout


def test_a_malformed_boolean_setting_is_a_clear_error():
    proc = run_manage("check", DEBUG="maybe")
    assert proc.returncode != 0
    assert "DEBUG must be a boolean" in proc.stderr


def test_persistent_connections_are_checked_before_use():
    """A worker's connection kept across a database restart is replaced, not used for a 500 (issue 12)."""
    from django.conf import settings

    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True
