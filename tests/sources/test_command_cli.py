"""The ingest command as a user runs it: exit status and no traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import REPO, get_source

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_exits_non_zero_with_one_line_on_a_broken_file(tmp_path, settings):
    get_source("litellm")
    bad = tmp_path / "prices.json"
    bad.write_bytes(b'{"gpt-4o": {"litellm_provider": "openai", "input_cost_per')
    env_db = settings.DATABASES["default"]
    if env_db["ENGINE"].endswith("sqlite3"):
        url = f"sqlite:///{env_db['NAME']}"
    else:
        url = f"postgres://{env_db['USER']}@{env_db['HOST']}:{env_db['PORT']}/{env_db['NAME']}"
    proc = subprocess.run(
        [sys.executable, "manage.py", "ingest", "litellm", "--file", str(bad), "--observed-at", "2026-01-01"],
        cwd=REPO, capture_output=True, text=True, env={"DATABASE_URL": url, "PATH": "/usr/bin:/bin"}, timeout=120,
    )
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert "prices.json" in lines[0] and "not valid JSON" in lines[0]
