"""manage.py identity_report: the newest snapshot of each source, chat separately, the unresolved tail."""

from __future__ import annotations

import datetime as dt
import io
import json
import re

from django.core.management import call_command

from apps.catalog.models import Offering

OLDER = "openrouter/openrouter_models_2025-12-06_ia-uyhcire.json"
NEWEST = "openrouter/openrouter_models_2026-08-01_token-tariff-90407eb.json"


def _report(*args: str) -> str:
    out = io.StringIO()
    call_command("identity_report", *args, stdout=out)
    return out.getvalue()


def _row(text: str, mode: str) -> tuple[int, int]:
    m = re.search(rf"^openrouter\s+{mode}\s+(\d+)\s+(\d+)\s", text, re.M)
    assert m, text
    return int(m[1]), int(m[2])


def test_it_reports_the_newest_snapshot_not_every_offering_ever_seen(ingest_file, shared_data):
    # The newest first, then an older file that arrives late (ingesting them in time order would
    # hold the newest for review: it ends most of the older file's prices).
    ingest_file("openrouter", NEWEST, observed_at=dt.datetime(2026, 8, 1, tzinfo=dt.UTC))
    ingest_file("openrouter", OLDER, observed_at=dt.datetime(2025, 12, 6, tzinfo=dt.UTC))
    newest_ids = {m["id"] for m in json.loads((shared_data / NEWEST).read_text())["data"]}
    ever = Offering.objects.filter(source__key="openrouter").count()
    in_newest = Offering.objects.filter(source__key="openrouter", source_model_id__in=newest_ids).count()
    assert ever > in_newest  # the older file had models the newest one dropped

    text = _report("--tail", "5")
    resolved, total = _row(text, "all")
    assert total == in_newest
    chat_resolved, chat_total = _row(text, "chat")
    assert chat_total <= total and chat_resolved <= resolved
    assert "2026-08-01" in text
    assert chat_resolved / chat_total >= 0.8

    tail = text.split("unresolved chat tail of openrouter: ", 1)[1]
    assert tail.startswith(f"{chat_total - chat_resolved} offerings")
    listed = re.findall(r"^\s+(\d+)\s+(\S+)$", tail, re.M)
    assert 0 < len(listed) <= 5
    counts = [int(n) for n, _ in listed]
    assert counts == sorted(counts, reverse=True)
    assert all(raw in newest_ids for _, raw in listed)

    _, every_total = _row(_report("--every-offering", "--tail", "0"), "all")
    assert every_total == ever
