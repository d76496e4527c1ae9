"""The Quality page shows identity_report's numbers: chat offerings resolved on each source's newest snapshot,
and the unresolved tail ranked by offering count, from one computation (apps.quality.selectors)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db
OLDER = "openrouter/openrouter_models_2025-12-06_ia-uyhcire.json"
NEWEST = "openrouter/openrouter_models_2026-08-01_token-tariff-90407eb.json"


def _csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_the_page_and_identity_report_give_the_same_numbers(ingest_file, client, settings):
    settings.TOKENWATCH_PUBLIC_API = True
    ingest_file("openrouter", NEWEST, observed_at=dt.datetime(2026, 8, 1, tzinfo=dt.UTC))
    ingest_file("openrouter", OLDER, observed_at=dt.datetime(2025, 12, 6, tzinfo=dt.UTC))
    out = io.StringIO()
    call_command("identity_report", "--tail", "10", stdout=out)
    report = out.getvalue()
    chat = re.search(r"^openrouter\s+chat\s+(\d+)\s+(\d+)\s+([\d.]+)%\s+#\d+ 2026-08-01$", report, re.M)
    every = re.search(r"^openrouter\s+all\s+(\d+)\s+(\d+)\s", report, re.M)
    assert chat and every, report

    [row] = _csv(client.get("/quality/?download=csv&table=coverage"))
    assert row["Source"] == "openrouter" and row["Newest snapshot (UTC)"] == "2026-08-01"
    assert (row["Chat resolved"], row["Chat offerings"], row["Chat share resolved (%)"]) == (chat[1], chat[2], chat[3])
    assert (row["All resolved"], row["All offerings"]) == (every[1], every[2])

    listed = re.findall(r"^\s+(\d+)\s+(\S+)$", report.split("unresolved chat tail of openrouter: ", 1)[1], re.M)
    tail = _csv(client.get("/quality/?download=csv&table=tail"))
    assert [(r["Offerings"], r["Raw id"]) for r in tail] == listed
    assert [int(r["#"]) for r in tail] == list(range(1, len(listed) + 1))

    html = client.get("/quality/").content.decode()
    assert f"{int(chat[1]) * 100 / int(chat[2]):.1f} %" in html  # the summary card
