"""manage.py api_token USERNAME prints the user's API token (created once, rotated on demand)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("api_token", *args, stdout=out)
    return out.getvalue().strip()


def test_it_prints_the_same_token_until_rotated(user, anon, prices):
    key = run("analyst")
    assert len(key) == 40 and run("analyst") == key
    assert anon.get("/api/v1/prices/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200
    rotated = run("analyst", "--rotate")
    assert rotated != key
    assert anon.get("/api/v1/prices/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 401


def test_it_says_when_there_is_no_such_user(db):
    with pytest.raises(CommandError, match="no user 'ghost'"):
        run("ghost")
